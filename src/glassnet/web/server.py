"""The playground's HTTP server (starlette + uvicorn, the ``web`` extra). Thin: parse, call, answer.

JSON API (errors are ``{"error": message}`` with a 4xx status):

    GET    /api/options                      what the page may choose (from the registries)
    POST   /api/sessions                     new session from settings -> snapshot
    GET    /api/sessions/{id}                snapshot
    GET    /api/sessions/{id}/events         server-sent events: a snapshot whenever it changes, <= 8 per second
    POST   /api/sessions/{id}/start|pause|reset
    POST   /api/sessions/{id}/step           one traced optimizer step -> every number of it
    POST   /api/sessions/{id}/settings       change learning rate, optimizer, batch size, L2, L1, speed; same network
    POST   /api/sessions/{id}/dial           {layer, kind, index, delta}: turn one weight or bias by hand
    GET    /api/sessions/{id}/model          the network as a glassnet model file
    POST   /api/sessions/{id}/model          load a model file (the request body)
    DELETE /api/sessions/{id}
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import GlassnetError
from .sessions import SessionStore, options

STATIC = os.path.join(os.path.dirname(__file__), "static")
MAX_BODY = 64 * 2 ** 20
EVENT_INTERVAL = 0.125


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def guarded(handler):
    """Turn the library's errors into 4xx answers; the server itself never falls over on bad input."""

    async def wrapped(request: Request):
        try:
            return await handler(request)
        except LookupError as exc:
            return _error(404, str(exc).strip("'\""))
        except OverflowError as exc:
            return _error(429, str(exc))
        except (GlassnetError, ValueError, TypeError) as exc:
            return _error(400, str(exc))

    return wrapped


async def read_json(request: Request):
    body = await request.body()
    if len(body) > 1_000_000:
        raise ValueError("request body too large")
    try:
        return json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed JSON: {exc}") from None


class PlaygroundAPI:
    """The request handlers: each parses, calls a session, and answers with JSON."""

    def __init__(self, store: SessionStore):
        self.store = store

    def session_of(self, request: Request):
        session = self.store.get(request.path_params["session_id"])
        if session is None:
            raise LookupError(f"no session {request.path_params['session_id']!r} (it may have expired)")
        return session

    async def index(self, request):
        return FileResponse(os.path.join(STATIC, "index.html"))

    async def options(self, request):
        return JSONResponse(options())

    async def create(self, request):
        session = await asyncio.to_thread(self.store.create, await read_json(request))
        return JSONResponse(await asyncio.to_thread(session.snapshot), status_code=201)

    async def snapshot(self, request):
        return JSONResponse(await asyncio.to_thread(self.session_of(request).snapshot))

    async def action(self, request):
        session, name = self.session_of(request), request.path_params["action"]
        if name not in ("start", "pause", "reset"):
            raise LookupError(f"unknown action {name!r}")
        await asyncio.to_thread(getattr(session, name))
        return JSONResponse(await asyncio.to_thread(session.snapshot))

    async def step(self, request):
        return JSONResponse(await asyncio.to_thread(self.session_of(request).step))

    async def settings(self, request):
        session = self.session_of(request)
        await asyncio.to_thread(session.change, await read_json(request))
        return JSONResponse(await asyncio.to_thread(session.snapshot))

    async def dial(self, request):
        session = self.session_of(request)
        return JSONResponse(await asyncio.to_thread(session.turn_dial, await read_json(request)))

    async def favicon(self, request):
        return FileResponse(os.path.join(STATIC, "favicon.svg"), media_type="image/svg+xml")

    async def get_model(self, request):
        content = await asyncio.to_thread(self.session_of(request).model_bytes)
        return Response(content, media_type="application/octet-stream",
                        headers={"Content-Disposition": 'attachment; filename="glassnet-model.npz"'})

    async def put_model(self, request):
        session = self.session_of(request)
        body = await request.body()
        if len(body) > MAX_BODY:
            raise ValueError("model file too large")
        await asyncio.to_thread(session.load_bytes, body)
        return JSONResponse(await asyncio.to_thread(session.snapshot))

    async def delete(self, request):
        if not self.store.remove(request.path_params["session_id"]):
            raise LookupError("no such session")
        return JSONResponse({"deleted": True})

    async def events(self, request):
        session = self.session_of(request)

        async def stream():
            sent = -1
            while not await request.is_disconnected():
                if self.store.get(session.id) is None:  # also marks the session as watched
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
            Route(one + "/{action}", guarded(self.action), methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]


def create_app(store: SessionStore | None = None) -> Starlette:
    store = store or SessionStore()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async def cleaner():
            while True:
                await asyncio.sleep(30)
                await asyncio.to_thread(store.clean)

        task = asyncio.create_task(cleaner())
        try:
            yield
        finally:
            task.cancel()
            store.close()

    app = Starlette(routes=PlaygroundAPI(store).routes(), lifespan=lifespan)
    app.state.store = store
    return app


def serve(host: str = "127.0.0.1", port: int = 8765, log_level: str = "warning") -> None:
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level=log_level)
