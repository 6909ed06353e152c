"""A bounded load test of the playground server on 127.0.0.1 (stops by itself).

It starts the server in its own process (so its memory can be read), then runs ``--clients`` clients for
``--seconds`` seconds. Each client repeats one page's life: create a session, start it, poll it, step through
a step, pause, download the model, close it. Every answer that is not 2xx, and every failed connection, is an
error. At the end it prints one JSON summary: requests, errors, latency percentiles (ms) per kind of request
and overall, and the server's resident memory at start, after a warm-up cycle, at the peak and after every
session has been closed.

    PYTHONPATH=src python3 scripts/load_playground.py --clients 20 --seconds 60
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time

import httpx

SETTINGS = [{"dataset": "xor", "hidden": [4]}, {"dataset": "moons", "hidden": [8, 8], "batch_size": 16},
            {"dataset": "circles", "hidden": [6]}, {"dataset": "spirals", "hidden": [16, 16], "batch_size": 8}]


def resident_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS line (this script reads Linux's /proc)")


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def running_server():
    """The playground server in its own process on a free loopback port: yields (process, url)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-c", f"from glassnet.web.server import serve; serve('127.0.0.1', {port})"])
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the playground server did not start within 60 s")
            time.sleep(0.1)
        yield process, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


class Recorder:
    """Latencies per kind of request, and errors, from every client thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list] = {}
        self.errors: list[str] = []

    def call(self, client: httpx.Client, kind: str, method: str, url: str, **kwargs):
        began = time.perf_counter()
        try:
            response = client.request(method, url, **kwargs)
            failed = None if response.is_success else f"{kind}: {response.status_code} {response.text[:120]}"
        except httpx.HTTPError as exc:
            response, failed = None, f"{kind}: {type(exc).__name__} {exc}"
        with self.lock:
            self.latencies.setdefault(kind, []).append(time.perf_counter() - began)
            if failed:
                self.errors.append(failed)
        return response if failed is None else None


def one_cycle(client: httpx.Client, url: str, record: Recorder, rng: random.Random, settings=None) -> None:
    """One page's life: create, start, poll, step, pause, download, close."""
    created = record.call(client, "create", "POST", f"{url}/api/sessions", json=settings or rng.choice(SETTINGS))
    if created is None:
        return
    session = created.json()
    one, token = f"{url}/api/sessions/{session['id']}", {"X-Glassnet-Token": session.get("token", "")}
    record.call(client, "start", "POST", f"{one}/start", headers=token)
    for _ in range(3):
        time.sleep(0.1)
        record.call(client, "poll", "GET", one)
    record.call(client, "step", "POST", f"{one}/step", headers=token)
    record.call(client, "pause", "POST", f"{one}/pause", headers=token)
    record.call(client, "download", "GET", f"{one}/model")
    record.call(client, "close", "DELETE", one, headers=token)


def run_clients(url: str, clients: int, seconds: float, record: Recorder) -> None:
    stop = time.monotonic() + seconds

    def client_loop(index: int):
        rng = random.Random(index)
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < stop:
                one_cycle(client, url, record, rng)

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def percentile(values: list, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(record: Recorder) -> dict:
    every = [t for times in record.latencies.values() for t in times]
    ms = lambda t: round(1000 * t, 1)  # noqa: E731
    return {"requests": len(every), "errors": len(record.errors), "first_errors": record.errors[:5],
            "latency_ms": {"p50": ms(statistics.median(every)), "p99": ms(percentile(every, 0.99)),
                           "max": ms(max(every))},
            "latency_ms_by_kind": {kind: {"n": len(times), "p50": ms(statistics.median(times)),
                                          "p99": ms(percentile(times, 0.99))}
                                   for kind, times in sorted(record.latencies.items())}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args(argv)
    with running_server() as (process, url):
        memory = {"start": resident_mib(process.pid)}
        with httpx.Client(timeout=60) as client:  # one warm-up cycle per kind of settings: code loaded once
            for settings in SETTINGS:
                one_cycle(client, url, Recorder(), random.Random(0), settings)
        memory["after_warm_up"] = resident_mib(process.pid)
        record, peak = Recorder(), [memory["after_warm_up"]]
        sampler_stop = threading.Event()

        def sample():
            while not sampler_stop.wait(0.2):
                peak.append(resident_mib(process.pid))

        sampler = threading.Thread(target=sample)
        sampler.start()
        run_clients(url, args.clients, args.seconds, record)
        sampler_stop.set()
        sampler.join()
        time.sleep(2)
        memory["peak"] = max(peak)
        memory["after_close"] = resident_mib(process.pid)
        live = httpx.get(f"{url}/api/options").status_code
        result = {"clients": args.clients, "seconds": args.seconds, "server_answers_after": live,
                  **summary(record), "server_rss_mib": {k: round(v, 1) for k, v in memory.items()},
                  "after_close_over_warm_up": round(memory["after_close"] / memory["after_warm_up"], 3)}
        print(json.dumps(result, indent=2))
        return 0 if not record.errors and live == 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
