"""Who may talk to the playground server, and how much: checked against the real server on 127.0.0.1
(its own process, so its memory can be read), with raw sockets where a client library would tidy things up."""
import io
import json
import socket
import threading
import time
import zipfile
from hashlib import sha256
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest

MIB = 2 ** 20


def raw_request(url: str, head: str, body=()) -> tuple[int, dict]:
    """Send ``head`` (request line and headers) and the pieces of ``body`` from another thread while this one
    reads the answer, as a browser would; returns (status, JSON answer). The sender stops quietly when the
    server stops listening."""
    parts = urlsplit(url)
    connection = socket.create_connection((parts.hostname, parts.port), timeout=60)

    def send():
        try:
            connection.sendall(head.encode("latin-1"))
            for piece in body:
                connection.sendall(piece)
        except OSError:  # the server refused and closed: exactly what is being tested
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answer = b""
    try:
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            piece = connection.recv(65536)
            if not piece:
                break
            answer += piece
    finally:
        connection.close()
        sender.join(timeout=30)
    status = int(answer.split(b" ", 2)[1])
    return status, json.loads(answer.split(b"\r\n\r\n", 1)[1] or b"{}")


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _create(url: str, **settings) -> dict:
    response = httpx.post(f"{url}/api/sessions", json=settings, timeout=120)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("host", ["rebind.evil.example", "rebind.evil.example:8765", "127.0.0.1.evil.example",
                                  "", "[::2]:80"])
def test_a_forged_host_is_refused(server_process, host):
    url, _ = server_process
    head = f"POST /api/sessions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
    status, answer = raw_request(url, head, [b"{}"])
    assert status == 400 and "unknown Host" in answer["error"]
    page = httpx.get(f"{url}/", headers={"Host": "rebind.evil.example"})
    assert page.status_code == 400 and "glassnet playground" not in page.text


def test_loopback_names_answer(server_process):
    url, _ = server_process
    port = urlsplit(url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "LOCALHOST"):
        assert httpx.get(f"{url}/api/options", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example", "Content-Type": "text/plain"},
    {"Origin": "null", "Content-Type": "text/plain"},
    {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "http://localhost:1"},  # another port on this machine is another origin
])
def test_a_cross_origin_post_is_refused(server_process, headers):
    url, _ = server_process
    response = httpx.post(f"{url}/api/sessions", content=b"{}", headers=headers)
    assert response.status_code == 403 and "refused" in response.json()["error"]
    session = _create(url)
    start = httpx.post(f"{url}/api/sessions/{session['id']}/start", headers={**headers, "X-Glassnet-Token": session["token"]})
    assert start.status_code == 403
    assert httpx.get(f"{url}/api/sessions/{session['id']}").json()["running"] is False


def test_the_pages_own_origin_is_served(server_process):
    url, _ = server_process
    same = {"Origin": url, "Sec-Fetch-Site": "same-origin"}
    created = httpx.post(f"{url}/api/sessions", json={"dataset": "xor"}, headers=same)
    assert created.status_code == 201
    session = created.json()
    pause = httpx.post(f"{url}/api/sessions/{session['id']}/pause", headers={**same, "X-Glassnet-Token": session["token"]})
    assert pause.status_code == 200


def test_changes_need_the_sessions_token(server_process):
    url, _ = server_process
    session, other = _create(url), _create(url)
    one = f"{url}/api/sessions/{session['id']}"
    for method, path in (("POST", "/start"), ("POST", "/step"), ("POST", "/reset"), ("POST", "/model"), ("DELETE", "")):
        for headers in ({}, {"X-Glassnet-Token": "guess"}, {"X-Glassnet-Token": other["token"]}):
            response = httpx.request(method, one + path, headers=headers)
            assert response.status_code == 403 and "token" in response.json()["error"], (method, path)
    assert httpx.get(one).status_code == 200  # still there
    assert httpx.delete(one, headers={"X-Glassnet-Token": session["token"]}).status_code == 200
    assert httpx.get(one).status_code == 404


def _grows_less_than(memory_kib, pid: int, mib: int, send):
    """Run ``send()``; assert the server's resident memory never rose ``mib`` MiB above where it started
    (sampled every 5 ms, and its kernel-kept peak when that peak was set meanwhile)."""
    before, highest, done = memory_kib(pid), [0], threading.Event()

    def sample():
        while not done.is_set():
            highest[0] = max(highest[0], memory_kib(pid)["VmRSS"])
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = send()
    finally:
        done.set()
        sampler.join()
    after = memory_kib(pid)
    peak = max(highest[0], after["VmHWM"] if after["VmHWM"] > before["VmHWM"] else 0)
    assert peak - before["VmRSS"] < mib * 1024, (before, after, highest)
    return result


@pytest.mark.parametrize("path", ["/api/sessions", "/api/sessions/{id}/model"])
def test_a_500_mb_body_is_refused_before_memory_grows(server_process, memory_kib, path):
    url, pid = server_process
    session = _create(url)
    target = path.format(id=session["id"])
    megabyte = b"x" * MIB
    declared = (f"POST {target} HTTP/1.1\r\nHost: {_host(url)}\r\nX-Glassnet-Token: {session['token']}\r\n"
                f"Content-Length: {500 * MIB}\r\n\r\n")
    status, answer = _grows_less_than(memory_kib, pid, 50, lambda: raw_request(url, declared, (megabyte for _ in range(500))))
    assert status == 413 and "too large" in answer["error"]
    # the same without a declared length (chunked): refused as the bytes arrive
    chunk = b"%x\r\n" % len(megabyte) + megabyte + b"\r\n"
    streamed = (f"POST {target} HTTP/1.1\r\nHost: {_host(url)}\r\nX-Glassnet-Token: {session['token']}\r\n"
                f"Transfer-Encoding: chunked\r\n\r\n")
    status, answer = _grows_less_than(memory_kib, pid, 50, lambda: raw_request(url, streamed, (chunk for _ in range(500))))
    assert status == 413 and "too large" in answer["error"]
    assert httpx.get(f"{url}/api/options").status_code == 200  # and the server goes on serving


def test_a_body_that_stalls_is_timed_out(server_process):
    url, _ = server_process
    head = (f"POST /api/sessions HTTP/1.1\r\nHost: {_host(url)}\r\nContent-Type: application/json\r\n"
            f"Content-Length: 100\r\n\r\n")
    status, answer = raw_request(url, head, [b'{"dataset": '])  # then nothing
    assert status == 408 and "too slowly" in answer["error"]


def test_json_nested_too_deeply_is_a_400(server_process):
    url, _ = server_process
    for body in (b"[" * 30_000 + b"]" * 30_000, json.dumps({"hidden": [[[[[[[[[[4]]]]]]]]]]}).encode()):
        response = httpx.post(f"{url}/api/sessions", content=body)
        assert response.status_code == 400 and "nested too deeply" in response.json()["error"]


# ---- hostile model uploads: each a clear 400 naming no server path ----------------------------------
def _model_file(edit_meta=None, drop=(), nested_header: int = 0) -> bytes:
    """A model file built by hand after the format's description (a zip of .npy arrays, a JSON header and
    the SHA-256 of the header and arrays, in name order), with one thing made wrong."""
    arrays = {"W1": np.zeros((2, 2)), "b1": np.zeros(2), "mean": np.zeros(2), "std": np.ones(2)}
    meta = {"format": "glassnet-model", "format_version": 1, "kind": "model", "standardize": True,
            "network": {"layers": [{"n_in": 2, "n_out": 2, "activation": "softmax"}]},
            "arrays": {name: {"shape": list(a.shape), "dtype": a.dtype.str} for name, a in arrays.items()}}
    for name in drop:
        del arrays[name], meta["arrays"][name]
    if edit_meta:
        edit_meta(meta)
    meta_bytes = json.dumps(meta).encode()
    if nested_header:
        meta_bytes = meta_bytes[:-1] + b', "deep": ' + b"[" * nested_header + b"]" * nested_header + b"}"
    digest = sha256(meta_bytes)
    for name in sorted(arrays):
        digest.update(name.encode() + arrays[name].dtype.str.encode() + str(arrays[name].shape).encode())
        digest.update(arrays[name].tobytes())
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.frombuffer(meta_bytes, np.uint8),
             meta_sha256=np.frombuffer(digest.hexdigest().encode(), np.uint8), **arrays)
    return buffer.getvalue()


def _infinite_shape(meta):
    meta["arrays"]["W1"]["shape"] = [float("inf"), 2]


@pytest.mark.parametrize("content", [
    _model_file(_infinite_shape), _model_file(drop=["std"]), _model_file(nested_header=200_000),
    b"PK\x03\x04 not a model", b"",
], ids=["infinite shape", "no std", "deep header", "not a zip", "empty"])
def test_a_hostile_model_upload_is_a_plain_400(server_process, content):
    url, _ = server_process
    session = _create(url, dataset="xor")
    response = httpx.post(f"{url}/api/sessions/{session['id']}/model", content=content,
                          headers={"X-Glassnet-Token": session["token"]})
    message = response.json()["error"]
    assert response.status_code == 400 and "/tmp" not in message and "glassnet-upload" not in message
    assert message.startswith("the uploaded model file")


def test_a_zip_bomb_upload_is_refused_before_it_is_unpacked(server_process, memory_kib):
    """1 MB on the wire, a well-formed header declaring W1 as 1 GiB of float64 zeros, and a .npy entry
    that really unpacks to that: refused from the archive's directory, without unpacking."""
    url, pid = server_process
    session = _create(url, dataset="xor")
    n = 2 ** 27  # float64 numbers: 1 GiB
    meta = json.dumps({"format": "glassnet-model", "format_version": 1, "kind": "model",
                       "arrays": {"W1": {"shape": [n], "dtype": "<f8"}}}).encode()
    buffer, zeros = io.BytesIO(), bytes(MIB)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in (("meta", np.frombuffer(meta, np.uint8)), ("meta_sha256", np.zeros(64, np.uint8))):
            with archive.open(f"{name}.npy", "w") as entry:
                np.lib.format.write_array(entry, array)
        with archive.open("W1.npy", "w", force_zip64=True) as bomb:
            np.lib.format.write_array_header_1_0(bomb, {"descr": "<f8", "fortran_order": False, "shape": (n,)})
            for _ in range(1024):
                bomb.write(zeros)
    content = buffer.getvalue()
    assert len(content) < 2 * MIB
    response = _grows_less_than(memory_kib, pid, 50, lambda: httpx.post(
        f"{url}/api/sessions/{session['id']}/model", content=content, headers={"X-Glassnet-Token": session["token"]},
        timeout=60))
    assert response.status_code == 400 and "would unpack to 1,073,74" in response.json()["error"]


def test_one_training_thread_whatever_the_races(server):
    """Start, pause, step and reset from many clients at once: every chunk of training runs on the store's
    one worker thread, no two chunks of the session ever run at once, and every request is answered."""
    url, app = server
    session = _create(url, dataset="digits", hidden=[64] * 3, batch_size=1)
    one, token = f"{url}/api/sessions/{session['id']}", {"X-Glassnet-Token": session["token"]}
    live = app.state.store.get(session["id"])
    inside, overlaps, chunks, trainers = [0], [], [0], set()
    plain_chunk = live.train_chunk

    def counted_chunk(seconds):
        inside[0] += 1
        overlaps.append(inside[0])
        trainers.add(threading.get_ident())
        try:
            plain_chunk(seconds)
            chunks[0] += 1
        finally:
            inside[0] -= 1

    live.train_chunk = counted_chunk
    stop, failures = time.monotonic() + 4, []

    def hammer(actions):
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < stop:
                for action in actions:
                    status = client.post(f"{one}/{action}", headers=token).status_code
                    if status != 200:
                        failures.append((action, status))

    threads = [threading.Thread(target=hammer, args=(order,)) for order in
               (["start", "pause"], ["start", "step"], ["pause", "start", "reset"], ["start"] * 3, ["step", "start"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    httpx.post(f"{one}/pause", headers=token)
    assert failures == [] and max(overlaps) == 1 and chunks[0] > 0, (failures[:5], max(overlaps), chunks)
    assert trainers == {app.state.store.worker.thread.ident}  # every chunk ran on the store's one worker


def test_a_step_answer_stays_small_for_the_largest_network_and_batch(server_process):
    url, _ = server_process
    session = _create(url, dataset="digits", hidden=[64] * 6, batch_size=10_000)
    response = httpx.post(f"{url}/api/sessions/{session['id']}/step", headers={"X-Glassnet-Token": session["token"]},
                          timeout=120)
    step = response.json()
    assert response.status_code == 200 and len(response.content) < 512 * 1024
    assert step["rows_shown"] == 8 and step["batch_rows"] > 1000 and len(step["layers"][0]["z"]) == 8
    assert np.array(step["layers"][0]["W"]).shape == (16, 16) and step["weights_shown"].startswith("the first 16")
    assert all(layer["norms"]["grad_W"] > 0 for layer in step["layers"])
