"""The playground's HTTP server (faces floor; starlette + uvicorn, the ``web`` extra). Thin: parse, call, answer.

JSON API (errors are ``{"error": message}`` with a 4xx status):

    GET    /api/options                      what the page may choose (from the registries)
    POST   /api/sessions                     new session from settings -> snapshot + its token
    GET    /api/sessions/{id}                snapshot
    GET    /api/sessions/{id}/events         server-sent events: a snapshot whenever it changes, <= 8 per second
    POST   /api/sessions/{id}/start|pause|reset
    POST   /api/sessions/{id}/step           one traced optimizer step -> its numbers
    POST   /api/sessions/{id}/settings       change learning rate, optimizer, batch size, L2, L1, speed; same network
    POST   /api/sessions/{id}/dial           {layer, kind, index, delta}: turn one weight or bias by hand
    GET    /api/sessions/{id}/model          the network as a glassnet model file
    POST   /api/sessions/{id}/model          load a model file (the request body, 4 MB at most)
    POST   /api/sessions/{id}/release        the page is going away (sendBeacon; the token is the body)
    POST   /api/sessions/{id}/claim          a reloaded page takes its session back
    DELETE /api/sessions/{id}

Who may ask (:class:`RequestGuard`, in front of everything): only requests addressed to 127.0.0.1,
localhost or the host the server was started on (no DNS rebinding); requests that change something must come
from the page's own origin (``Origin`` / ``Sec-Fetch-Site``), and those on a session must carry its token in
the ``X-Glassnet-Token`` header (a cross-site page can neither read the token nor send the header without
permission it never gets). Bodies are capped while they stream in and must arrive in time.
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import GlassnetError
from ..threads import limit_threads
from .lifetime import SessionNotFound, SessionStore, TooManySessions
from .sessions import MAX_UPLOAD_BYTES, options

STATIC = os.path.join(os.path.dirname(__file__), "static")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_JSON_BYTES = 64 * 1024      # settings and beacons are a few hundred bytes
MAX_JSON_DEPTH = 8              # settings are an object holding a list
BODY_SECONDS = 20               # a whole request body must arrive within this
BODY_PAUSE_SECONDS = 5          # ... and no gap between its pieces may be longer
EVENT_INTERVAL = 0.125
CLEAN_INTERVAL = 5
TOKEN_HEADER = "x-glassnet-token"
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class Refused(Exception):
    """A request the server will not serve: ``status`` (4xx) and a plain message for the page."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


# ---- who may ask, and how much ----------------------------------------------------------------------
def host_name(netloc: str) -> str:
    """'127.0.0.1:8765' -> '127.0.0.1'; '[::1]:80' -> '::1'; lower case."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[1:netloc.find("]")] if "]" in netloc else ""
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def check_origin(headers: Headers) -> None:
    """A state-changing request must come from the page itself: same origin as the Host it was sent to.

    Browsers send ``Origin`` with every POST/DELETE and ``Sec-Fetch-Site`` with every request; clients that
    are not browsers (curl, the load test) send neither and cannot be steered by another web page.
    """
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise Refused(403, f"refused: a request from another site ({site}) may not change the playground")
    origin = headers.get("origin")
    if origin is not None:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != headers.get("host", "").lower():
            raise Refused(403, "refused: requests that change the playground must come from its own page")


def body_limit(method: str, path: str) -> int:
    return MAX_UPLOAD_BYTES if method == "POST" and path.endswith("/model") else MAX_JSON_BYTES


class RequestGuard:
    """ASGI middleware: trusted Host, same-origin changes, and request bodies capped and timed as they stream.

    A refusal is a 4xx JSON answer with a plain message; an oversized body is refused from its declared
    length before any of it is read, or as soon as the bytes read pass the cap.
    """

    def __init__(self, app, hosts=LOCAL_HOSTS):
        self.app, self.hosts = app, {h.lower() for h in hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            limit = self.admit(scope)
            await self.app(scope, BoundedBody(receive, limit), tracked_send)
        except Refused as refusal:
            if started:  # too late for an answer: the connection is simply dropped
                raise
            await _error(refusal.status, str(refusal))(scope, receive, send)

    def admit(self, scope) -> int:
        """Check Host, origin and declared length; returns the body cap for this request."""
        headers = Headers(scope=scope)
        if host_name(headers.get("host", "")) not in self.hosts:
            raise Refused(400, "refused: unknown Host (open the playground at the address it printed)")
        if scope["method"] in UNSAFE_METHODS:
            check_origin(headers)
        limit = body_limit(scope["method"], scope["path"])
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise Refused(413, f"request body too large ({limit // 1024} KB at most here)")
        return limit


class BoundedBody:
    """A ``receive`` that counts body bytes against a cap and times out a body that stalls."""

    def __init__(self, receive, limit: int):
        self.receive, self.limit = receive, limit
        self.received, self.done, self.deadline = 0, False, None

    async def __call__(self):
        if self.done:  # body complete: only a disconnect can come (server-sent events wait for it)
            return await self.receive()
        loop = asyncio.get_running_loop()
        self.deadline = self.deadline or loop.time() + BODY_SECONDS
        wait = min(BODY_PAUSE_SECONDS, self.deadline - loop.time())
        try:
            message = await asyncio.wait_for(self.receive(), max(wait, 0.001))
        except asyncio.TimeoutError:
            raise Refused(408, "the request body arrived too slowly") from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise Refused(413, f"request body too large ({self.limit // 1024} KB at most here)")
            self.done = not message.get("more_body", False)
        else:
            self.done = True
        return message


def guarded(handler):
    """Turn the library's errors into 4xx answers; the server itself never falls over on bad input."""

    async def wrapped(request: Request):
        worker = request.app.state.store.worker
        worker.answering += 1  # the training worker makes way while this is answered
        try:
            return await handler(request)
        except SessionNotFound as exc:
            return _error(404, str(exc).strip("'\""))
        except TooManySessions as exc:
            return _error(429, str(exc))
        except Refused as exc:
            return _error(exc.status, str(exc))
        except (GlassnetError, ValueError, TypeError) as exc:
            return _error(400, str(exc))
        finally:
            worker.answering -= 1

    return wrapped


def json_depth(value) -> int:
    """How deeply lists and objects nest in ``value`` (0 for a plain number or string)."""
    depth, level = 0, [value]
    while True:
        containers = [item for item in level if isinstance(item, (list, dict))]
        if not containers:
            return depth
        depth += 1
        level = [child for item in containers for child in (item.values() if isinstance(item, dict) else item)]


async def read_json(request: Request):
    body = await request.body()  # capped by RequestGuard
    too_deep = ValueError(f"JSON nested too deeply ({MAX_JSON_DEPTH} levels at most)")
    try:
        value = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed JSON: {exc}") from None
    except RecursionError:
        raise too_deep from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise too_deep
    return value


class PlaygroundAPI:
    """The request handlers: each parses, calls the store or a session, and answers with JSON."""

    def __init__(self, store: SessionStore):
        self.store = store

    def session_of(self, request: Request):
        return self.store.get(request.path_params["session_id"])

    def owned_session(self, request: Request, token: str | None = None):
        """The session a state-changing request names, once its token matches (else 403)."""
        session = self.session_of(request)
        token = token if token is not None else request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode(), session.token.encode()):
            raise Refused(403, "refused: this request does not carry the session's token")
        return session

    async def index(self, request):
        return FileResponse(os.path.join(STATIC, "index.html"))

    async def options(self, request):
        return JSONResponse(options())

    async def create(self, request):
        config = await read_json(request)
        client = request.client.host if request.client else "local"
        session = await asyncio.to_thread(self.store.create, config, client)
        return JSONResponse({**await asyncio.to_thread(session.snapshot), "token": session.token}, status_code=201)

    async def snapshot(self, request):
        return JSONResponse(await asyncio.to_thread(self.session_of(request).snapshot))

    async def action(self, request):
        session, name = self.owned_session(request), request.path_params["action"]
        if name not in ("start", "pause", "reset"):
            raise SessionNotFound(f"unknown action {name[:40]!r}")
        await asyncio.to_thread(getattr(session, name))
        return JSONResponse(await asyncio.to_thread(session.snapshot))

    async def step(self, request):
        return JSONResponse(await asyncio.to_thread(self.owned_session(request).step))

    async def settings(self, request):
        session = self.owned_session(request)
        await asyncio.to_thread(session.change, await read_json(request))
        return JSONResponse(await asyncio.to_thread(session.snapshot))

    async def dial(self, request):
        session = self.owned_session(request)
        return JSONResponse(await asyncio.to_thread(session.turn_dial, await read_json(request)))

    async def favicon(self, request):
        return FileResponse(os.path.join(STATIC, "favicon.svg"), media_type="image/svg+xml")

    async def get_model(self, request):
        content = await asyncio.to_thread(self.session_of(request).model_bytes)
        return Response(content, media_type="application/octet-stream",
                        headers={"Content-Disposition": 'attachment; filename="glassnet-model.npz"'})

    async def put_model(self, request):
        session = self.owned_session(request)
        body = await request.body()  # capped by RequestGuard
        await asyncio.to_thread(session.load_bytes, body)
        return JSONResponse(await asyncio.to_thread(session.snapshot))

    async def release(self, request):
        token = (await request.body()).decode("utf-8", "replace").strip() or None
        session = self.owned_session(request, token)
        await asyncio.to_thread(self.store.release, session.id)
        return JSONResponse({"released": True})

    async def claim(self, request):
        session = self.owned_session(request)
        self.store.claim(session.id)
        return JSONResponse(await asyncio.to_thread(session.snapshot))

    async def delete(self, request):
        session = self.owned_session(request)
        await asyncio.to_thread(self.store.remove, session.id)
        return JSONResponse({"deleted": True})

    async def events(self, request):
        session = self.session_of(request)

        async def stream():
            sent = -1
            while not await request.is_disconnected():
                try:
                    self.store.get(session.id)  # also marks the session as watched
                except SessionNotFound:
                    yield "event: closed\ndata: {}\n\n"
                    return
                if session.version != sent:
                    sent = session.version
                    yield f"data: {json.dumps(await asyncio.to_thread(session.snapshot))}\n\n"
                await asyncio.sleep(EVENT_INTERVAL)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    def routes(self) -> list:
        one = "/api/sessions/{session_id}"
        return [
            Route("/", self.index),
            Route("/favicon.ico", self.favicon),
            Route("/api/options", guarded(self.options)),
            Route("/api/sessions", guarded(self.create), methods=["POST"]),
            Route(one, guarded(self.snapshot), methods=["GET"]),
            Route(one, guarded(self.delete), methods=["DELETE"]),
            Route(one + "/events", guarded(self.events)),
            Route(one + "/step", guarded(self.step), methods=["POST"]),
            Route(one + "/settings", guarded(self.settings), methods=["POST"]),
            Route(one + "/dial", guarded(self.dial), methods=["POST"]),
            Route(one + "/model", guarded(self.get_model), methods=["GET"]),
            Route(one + "/model", guarded(self.put_model), methods=["POST"]),
            Route(one + "/release", guarded(self.release), methods=["POST"]),
            Route(one + "/claim", guarded(self.claim), methods=["POST"]),
            Route(one + "/{action}", guarded(self.action), methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]


def create_app(store: SessionStore | None = None, hosts=LOCAL_HOSTS) -> Starlette:
    """The playground app; ``hosts``: the names it answers to (127.0.0.1, localhost and ::1 by default)."""
    store = store or SessionStore()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async def cleaner():
            while True:
                await asyncio.sleep(CLEAN_INTERVAL)
                await asyncio.to_thread(store.clean)

        task = asyncio.create_task(cleaner())
        try:
            yield
        finally:
            task.cancel()
            await asyncio.to_thread(store.close)

    app = Starlette(routes=PlaygroundAPI(store).routes(), lifespan=lifespan,
                    middleware=[Middleware(RequestGuard, hosts=tuple(hosts))])
    app.state.store = store
    return app


def serve(host: str = "127.0.0.1", port: int = 8765, log_level: str = "warning") -> None:
    """Serve the playground on ``host:port``; it answers to that host name and to this machine's own names.

    BLAS runs on one thread here: the playground's matrices are small (64 units at most), and BLAS threads
    waiting for each other on a busy machine made a step on 6 x 64 units and 1,000 rows 4.6x slower
    (0.75 s against 0.16 s, median of 5, on the 2-core test machine under load).
    """
    import uvicorn

    with limit_threads(1):
        uvicorn.run(create_app(hosts=(*LOCAL_HOSTS, host)), host=host, port=port, log_level=log_level)
