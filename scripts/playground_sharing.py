"""Two tabs training at once against one alone: epochs per second, measured on a real server process.

Each round trains one session alone for ``--seconds``, then two sessions at once for as long, and reports
the two rates; the summary is the median over rounds of the within-round ratio (two tabs' total / one tab),
so a machine that is busier in one round than another does not decide it.

    PYTHONPATH=src python3 scripts/playground_sharing.py --rounds 5 --seconds 4
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
from load_playground import running_server  # noqa: E402  (the same way of starting the server)

SETTINGS = {"dataset": "xor", "hidden": [4], "batch_size": 4}


def new_session(client: httpx.Client, url: str) -> tuple[str, dict]:
    created = client.post(f"{url}/api/sessions", json=SETTINGS).json()
    return f"{url}/api/sessions/{created['id']}", {"X-Glassnet-Token": created.get("token", "")}


def epochs_per_second(client: httpx.Client, sessions: list, seconds: float) -> list[float]:
    """Start every session, let them train ``seconds``, pause them; each one's epochs per second."""
    before = [client.get(one).json()["epoch"] for one, _ in sessions]
    began = time.perf_counter()
    for one, token in sessions:
        client.post(f"{one}/start", headers=token)
    time.sleep(seconds)
    after = [client.post(f"{one}/pause", headers=token).json()["epoch"] for one, token in sessions]
    elapsed = time.perf_counter() - began
    return [(a - b) / elapsed for a, b in zip(after, before)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4)
    args = parser.parse_args(argv)
    with running_server() as (_, url):
        with httpx.Client(timeout=60) as client:
            sessions = [new_session(client, url) for _ in range(2)]
            rounds = []
            for _ in range(args.rounds):
                alone = epochs_per_second(client, sessions[:1], args.seconds)[0]
                together = epochs_per_second(client, sessions, args.seconds)
                rounds.append({"one_tab": round(alone, 1), "two_tabs": [round(r, 1) for r in together],
                               "total_over_one": round(sum(together) / alone, 3)})
        print(json.dumps({"settings": SETTINGS, "rounds": rounds, "median_total_over_one":
                          statistics.median(r["total_over_one"] for r in rounds)}, indent=2))
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
