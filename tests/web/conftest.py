import os
import socket
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("starlette", reason="the playground is the web extra")
uvicorn = pytest.importorskip("uvicorn", reason="the playground is the web extra")

from glassnet.web.server import create_app  # noqa: E402

ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "artifacts")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """A real uvicorn server on a free loopback port, in a thread of this process."""
    app = create_app()
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not instance.started:
        assert time.time() < deadline, "the playground server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def server_process():
    """The playground as `glassnet playground` runs it: its own process (so its memory can be measured)."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-c", f"from glassnet.web.server import serve; serve('127.0.0.1', {port})"])
    deadline = time.time() + 60
    while True:
        assert process.poll() is None and time.time() < deadline, "the playground server did not start"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}", process.pid
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def memory_kib():
    """memory_kib(pid) -> {'VmRSS': ..., 'VmHWM': ...} in KiB."""
    return read_memory_kib


def read_memory_kib(pid: int) -> dict:
    """{'VmRSS': resident now, 'VmHWM': the most it has ever been resident} of a process, in KiB (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.split(":", 1) for line in status if line.startswith(("VmRSS", "VmHWM")))
    return {name: int(value.split()[0]) for name, value in fields.items()}
