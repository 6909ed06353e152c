"""How fast start, pause and step answer while a long epoch runs (digits, 6 x 64 units, batch 1: seconds an
epoch), measured on a real server process over ``--rounds`` rounds; prints median and max per action (ms).

    PYTHONPATH=src python3 scripts/playground_latency.py --rounds 15
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import httpx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load_playground import running_server  # noqa: E402

SETTINGS = {"dataset": "digits", "hidden": [64] * 6, "batch_size": 1}


def timed(client: httpx.Client, url: str, times: list) -> dict:
    began = time.perf_counter()
    response = client.post(url)
    times.append(time.perf_counter() - began)
    response.raise_for_status()
    return response.json()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    with running_server() as (_, url):
        with httpx.Client(timeout=120) as client:
            created = client.post(f"{url}/api/sessions", json=SETTINGS).json()
            one = f"{url}/api/sessions/{created['id']}"
            client.headers["X-Glassnet-Token"] = created["token"]
            times = {"start": [], "pause": [], "step": []}
            for _ in range(args.rounds):
                timed(client, f"{one}/start", times["start"])
                time.sleep(0.3)
                epoch = timed(client, f"{one}/pause", times["pause"])["epoch"]
                timed(client, f"{one}/start", times["start"])
                time.sleep(0.3)
                timed(client, f"{one}/step", times["step"])  # a step pauses first
            ms = lambda t: round(1000 * t, 1)  # noqa: E731
            print(json.dumps({"settings": SETTINGS, "epoch_at_last_pause": epoch,
                              **{action: {"median_ms": ms(statistics.median(t)), "max_ms": ms(max(t)), "n": len(t)}
                                 for action, t in times.items()}}, indent=2))
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
