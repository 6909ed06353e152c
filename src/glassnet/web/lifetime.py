"""How long playground sessions live, and the one thread that trains them (faces floor).

A session lives while its page does. The page releases it on ``pagehide`` (a beacon) and claims it back on
reload, so a reload never costs a new session; a released session nobody claims within ``RELEASE_GRACE``
seconds is deleted. When the store nears its cap, released sessions and sessions no page has looked at for
``EARLY_IDLE_SECONDS`` are reclaimed first; one client address may hold at most ``per_client`` sessions.

Training: one :class:`TrainingWorker` thread serves every running session in turn, a chunk of a few
milliseconds each (``Session.train_chunk``). Python runs one thread at a time anyway (the GIL), so two
training threads only add switching; one worker keeps the total rate of two tabs at the rate of one, and a
session can never be trained by two threads at once. The worker waits before a chunk while the server is
answering requests (at most YIELD_SECONDS), so answers do not share the interpreter with training. A session
at a set speed (steps per second) takes only the steps due at its turn, and while no running session has a
step due the worker sleeps instead of spinning.
"""
from __future__ import annotations

import threading
import time

from ..errors import GlassnetError
from .sessions import LIMITS, Session

IDLE_SECONDS = 20 * 60       # a session nobody has touched for this long is deleted
EARLY_IDLE_SECONDS = 60      # ... or for this long, once the store is three quarters full
RELEASE_GRACE = 15           # a released session is kept this long for a reload to claim it
PER_CLIENT = 32              # sessions one client address may hold
CHUNK_SECONDS = 0.02         # training time a session gets per turn
YIELD_SECONDS = 0.05         # the longest the worker waits for answers before its next chunk
ROUND_GAP = 0.001            # pause after each round of chunks (a lock is not fair: without it, a request
                             # waiting for a session's lock could wait for as long as the session trains)
MAX_REST = 0.25              # the longest the worker sleeps between rounds while sessions run at a set speed


class SessionNotFound(LookupError):
    """No live session has this id (it was closed or expired)."""


class TooManySessions(GlassnetError):
    """The store, or this client's share of it, is full."""


class TrainingWorker:
    """One daemon thread training every running session in turn, ``chunk_seconds`` each."""

    def __init__(self, running_sessions, chunk_seconds: float = CHUNK_SECONDS):
        self.running_sessions, self.chunk_seconds = running_sessions, chunk_seconds
        self.condition = threading.Condition()
        self.woken = self.stopped = False
        self.answering = 0  # requests the server is answering now (it counts them; the worker makes way)
        self.thread: threading.Thread | None = None

    def wake(self) -> None:
        """A session started: make sure the worker runs and is not asleep."""
        with self.condition:
            if self.stopped:
                return
            if self.thread is None:
                self.thread = threading.Thread(target=self.run, name="glassnet-training", daemon=True)
                self.thread.start()
            self.woken = True
            self.condition.notify()

    def make_way(self) -> None:
        """While the server is answering requests, wait (up to YIELD_SECONDS): answers come before training,
        which otherwise takes half the interpreter's time from them."""
        waited = 0.0
        while self.answering > 0 and waited < YIELD_SECONDS and not self.stopped:
            time.sleep(0.001)
            waited += 0.001

    def stop(self) -> None:
        with self.condition:
            self.stopped = True
            self.condition.notify()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout=5)

    def run(self) -> None:
        while not self.stopped:
            sessions = self.running_sessions()
            if not sessions:
                with self.condition:
                    if not self.woken and not self.stopped:
                        self.condition.wait(timeout=5)
                    self.woken = False
                continue
            waits = [self.turn(session) for session in sessions]
            # the session locks stay free a moment (requests waiting for one get it); when every session runs
            # at a set speed with no step due yet, the worker sleeps until the first is due (a start wakes it)
            self.rest(max(ROUND_GAP, min(waits)))

    def turn(self, session) -> float:
        """One session's chunk; returns how long until it has work again (0: at once)."""
        self.make_way()
        try:
            return session.train_chunk(self.chunk_seconds) or 0.0
        except Exception as exc:  # a bug in one session must not stop every other session's training
            session.error = f"training stopped by an internal error ({type(exc).__name__}: {exc})"
            session.running = False
            return 0.0

    def rest(self, seconds: float) -> None:
        if seconds <= ROUND_GAP:
            time.sleep(seconds)
            return
        with self.condition:
            if not self.woken and not self.stopped:
                self.condition.wait(timeout=min(seconds, MAX_REST))
            self.woken = False


class SessionStore:
    """All live sessions: a global cap, a per-client cap, idle timeouts and release on page exit."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS, limit: int = LIMITS["sessions"],
                 per_client: int = PER_CLIENT, release_grace: float = RELEASE_GRACE,
                 early_idle_seconds: float = EARLY_IDLE_SECONDS):
        self.sessions: dict[str, Session] = {}
        self.idle_seconds, self.limit, self.per_client = idle_seconds, limit, per_client
        self.release_grace, self.early_idle_seconds = release_grace, early_idle_seconds
        self.lock = threading.Lock()
        self.worker = TrainingWorker(self.running)

    # ---- the sessions' lives ---------------------------------------------------------------------------
    def create(self, config, client: str = "local") -> Session:
        """A new session for ``client`` (its address); TooManySessions when the store or its share is full."""
        session = Session(config, wake=self.worker.wake)  # built outside the lock: loading data takes a moment
        session.client = client
        with self.lock:
            self._reclaim(client)
            if len(self.sessions) >= self.limit:
                raise TooManySessions(f"too many playground sessions ({self.limit}); close a tab or try later")
            if sum(s.client == client for s in self.sessions.values()) >= self.per_client:
                raise TooManySessions(f"this address already has {self.per_client} playground sessions; "
                                      f"close a tab or try later")
            self.sessions[session.id] = session
        return session

    def _reclaim(self, client: str) -> None:
        """With the lock held: drop expired sessions; near a cap, also released and long-unwatched ones."""
        now = time.monotonic()
        near_cap = len(self.sessions) >= 0.75 * self.limit
        own = [s for s in self.sessions.values() if s.client == client]
        for session in list(self.sessions.values()):
            idle = now - session.touched
            released = session.released_at is not None
            crowded = near_cap or (session.client == client and len(own) >= self.per_client)
            if idle > self.idle_seconds or (released and now - session.released_at > self.release_grace) or (
                    crowded and (released or idle > self.early_idle_seconds)):
                self._drop(session.id)
                if session in own:
                    own.remove(session)

    def _drop(self, session_id: str) -> Session | None:
        session = self.sessions.pop(session_id, None)
        if session is not None:
            session.pause()
        return session

    def get(self, session_id: str) -> Session:
        """The session (marked as looked at), or SessionNotFound."""
        session = self.sessions.get(session_id)
        if session is None:
            raise SessionNotFound(f"no session {session_id[:64]!r} (it may have expired)")
        session.touched = time.monotonic()
        return session

    def release(self, session_id: str) -> None:
        """The page went away (pagehide): pause, and delete unless a reload claims it within the grace time."""
        session = self.get(session_id)
        session.pause()
        session.released_at = time.monotonic()

    def claim(self, session_id: str) -> Session:
        """A reloaded page takes its session back."""
        session = self.get(session_id)
        session.released_at = None
        return session

    def remove(self, session_id: str) -> bool:
        with self.lock:
            return self._drop(session_id) is not None

    def clean(self) -> int:
        """Drop sessions idle too long and released ones nobody claimed; returns how many."""
        with self.lock:
            before = len(self.sessions)
            self._reclaim(client="")
            return before - len(self.sessions)

    def running(self) -> list:
        return [s for s in list(self.sessions.values()) if s.running]

    def close(self) -> None:
        with self.lock:
            for session_id in list(self.sessions):
                self._drop(session_id)
        self.worker.stop()
