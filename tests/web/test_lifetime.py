"""Sessions live as long as their page: released on pagehide, claimed back on reload, reclaimed early when
the store fills up, capped per client; a pause answers quickly even in the middle of a long epoch."""
import socket
import statistics
import threading
import time

import httpx
import pytest
import uvicorn

from glassnet.web.lifetime import SessionNotFound, SessionStore, TooManySessions
from glassnet.web.server import create_app


def test_a_released_session_is_kept_for_a_reload_then_deleted():
    store = SessionStore(release_grace=0.2)
    kept, dropped = store.create({"dataset": "xor"}), store.create({"dataset": "xor"})
    kept.start()
    store.release(kept.id)
    store.release(dropped.id)
    assert not kept.running  # released pauses
    assert store.claim(kept.id) is kept
    time.sleep(0.3)
    assert store.clean() == 1 and store.get(kept.id) is kept
    with pytest.raises(SessionNotFound):
        store.get(dropped.id)
    store.close()


def test_one_client_cannot_take_every_session():
    store = SessionStore(limit=10, per_client=2)
    for _ in range(2):
        store.create({"dataset": "xor"}, client="10.0.0.7")
    with pytest.raises(TooManySessions, match="this address already has 2"):
        store.create({"dataset": "xor"}, client="10.0.0.7")
    store.create({"dataset": "xor"}, client="10.0.0.8")  # another client still gets one
    assert len(store.sessions) == 3
    store.close()


def test_released_and_unwatched_sessions_make_room_only_near_the_cap():
    store = SessionStore(limit=4, early_idle_seconds=0.2)
    first = store.create({"dataset": "xor"})
    released = store.create({"dataset": "xor"})
    store.release(released.id)
    store.create({"dataset": "xor"})  # 2 of 4: far from the cap, the released one stays for its reload
    assert released.id in store.sessions
    store.create({"dataset": "xor"})  # 3 of 4 before this one: near the cap, the released one goes
    assert released.id not in store.sessions and len(store.sessions) == 3
    time.sleep(0.3)  # nobody has looked at the others for longer than early_idle_seconds
    store.get(first.id)  # ... except this one
    store.create({"dataset": "xor"})
    assert first.id in store.sessions and len(store.sessions) == 2
    store.close()


def test_the_store_is_still_capped():
    store = SessionStore(limit=2)
    store.create({"dataset": "xor"})
    store.create({"dataset": "xor"})
    with pytest.raises(TooManySessions, match="too many playground sessions"):
        store.create({"dataset": "xor"})
    store.close()


def test_release_and_claim_over_http(server_process):
    url, _ = server_process
    created = httpx.post(f"{url}/api/sessions", json={"dataset": "xor"}, timeout=60).json()
    one = f"{url}/api/sessions/{created['id']}"
    assert httpx.post(f"{one}/release", content=b"not the token").status_code == 403
    # what navigator.sendBeacon sends: a text/plain body, from the page's own origin
    beacon = httpx.post(f"{one}/release", content=created["token"].encode(),
                        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": url})
    assert beacon.status_code == 200
    assert httpx.post(f"{one}/claim").status_code == 403
    claimed = httpx.post(f"{one}/claim", headers={"X-Glassnet-Token": created["token"]})
    assert claimed.status_code == 200 and claimed.json()["id"] == created["id"]


def test_pause_answers_within_100_ms_during_a_batch_1_digits_epoch(server_process):
    """The issue's acceptance bound. Each pause lands inside the first epoch (6 x 64 units, batch 1: several
    seconds an epoch); the median of 7 is compared, so one moment of a busy machine does not decide it."""
    url, _ = server_process
    created = httpx.post(f"{url}/api/sessions", json={"dataset": "digits", "hidden": [64] * 6, "batch_size": 1},
                         timeout=120).json()
    one, token = f"{url}/api/sessions/{created['id']}", {"X-Glassnet-Token": created["token"]}
    times, epochs = [], []
    with httpx.Client(timeout=30, headers=token) as client:
        for _ in range(7):
            assert client.post(f"{one}/start").json()["running"]
            time.sleep(0.2)
            began = time.perf_counter()
            paused = client.post(f"{one}/pause")
            times.append(time.perf_counter() - began)
            assert paused.status_code == 200 and not paused.json()["running"]
            epochs.append(paused.json()["epoch"])
    assert epochs[0] == 1 and not paused.json()["history"]["epochs"]  # every pause fell inside epoch 1
    assert statistics.median(times) < 0.1, times


@pytest.fixture
def small_server():
    """A real server whose store holds only 3 sessions, so a leak shows within a few page loads."""
    app = create_app(SessionStore(limit=3))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        assert time.time() < deadline
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app.state.store
    server.should_exit = True
    thread.join(timeout=10)


def test_100_reloads_and_20_new_tabs_never_hit_the_cap(small_server, browser):
    url, store = small_server
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function("document.body.dataset.session !== undefined")
    first = page.evaluate("document.body.dataset.session")
    for _ in range(100):
        page.reload()
        page.wait_for_function("document.body.dataset.session !== undefined")
        assert page.evaluate("document.body.dataset.session") == first  # the reload took its session back
        assert page.text_content("#error") == "" and len(store.sessions) == 1
    page.close()
    for _ in range(20):  # each new tab gets a new session; closing it releases that session (cap: 3)
        tab = browser.new_page()
        tab.goto(url)
        tab.wait_for_function("document.body.dataset.session !== undefined")
        assert tab.text_content("#error") == ""
        tab.close(run_before_unload=True)
    assert len(store.sessions) <= 3 and errors == []


def test_a_failing_session_does_not_stop_the_others():
    store = SessionStore()
    broken, healthy = store.create({"dataset": "xor"}), store.create({"dataset": "xor"})

    def fail(seconds):
        raise RuntimeError("boom")

    broken.train_chunk = fail
    broken.start()
    healthy.start()
    deadline = time.monotonic() + 30
    while healthy.trainer.epoch < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert healthy.running and healthy.trainer.epoch >= 5
    assert not broken.running and "internal error (RuntimeError: boom)" in broken.error
    store.close()
