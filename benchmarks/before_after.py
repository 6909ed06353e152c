"""Training speed of two versions of glassnet, paired in rounds: ``python benchmarks/before_after.py REF``.

REF (a git commit) is checked out into a temporary worktree; each round times one epoch of
784-256-128-10 ReLU / softmax + cross-entropy, SGD, float32, in a fresh subprocess of each version (order
alternating between rounds), at every batch size. The table gives the median over rounds of the within-round
ratio after/before: the machine's drift between rounds cancels out, its noise within a round does not.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

TIMER = r"""
import json, sys, time
import numpy as np
import glassnet as gn
batch, rows = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
x = rng.standard_normal((rows, 784), dtype=np.float32)
y = rng.integers(0, 10, rows)
net = gn.Network([784, 256, 128, 10], activation="relu", output="softmax", seed=0, dtype="float32")
net.fit(x[:batch * 4], y[:batch * 4], epochs=1, batch_size=batch, learning_rate=0.01)  # warm-up
best = float("inf")
for _ in range(3):
    start = time.perf_counter()
    net.fit(x, y, epochs=1, batch_size=batch, learning_rate=0.01)
    best = min(best, time.perf_counter() - start)
print(json.dumps({"samples_per_s": rows / best}))
"""

BATCHES = {1: 600, 10: 3000, 32: 6400, 128: 12800, 512: 16384, 2048: 16384}


def measure(src: str, batch: int, rows: int, threads: str) -> float:
    env = {**os.environ, "PYTHONPATH": src, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
    out = subprocess.run([sys.executable, "-c", TIMER, str(batch), str(rows)], env=env, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["samples_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ref", help="the 'before' commit")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", default="1", help="BLAS threads (1: less noise on a shared machine)")
    parser.add_argument("--out", help="write the table (Markdown) here")
    args = parser.parse_args()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as folder:
        before = os.path.join(folder, "before")
        subprocess.run(["git", "-C", here, "worktree", "add", "--detach", "-q", before, args.ref], check=True)
        try:
            rows = table(os.path.join(before, "src"), os.path.join(here, "src"), args.rounds, args.threads)
        finally:
            subprocess.run(["git", "-C", here, "worktree", "remove", "--force", before], check=True)
    text = "\n".join(["| batch | before samples/s | after samples/s | after/before (median of paired rounds) | "
                      "min | max |", "|---|---|---|---|---|---|"] + rows)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(f"before = {args.ref}, after = working tree; {args.rounds} rounds; "
                         f"BLAS threads {args.threads}\n\n{text}\n")


def table(before_src: str, after_src: str, rounds: int, threads: str) -> list[str]:
    rows = []
    for batch, n_rows in BATCHES.items():
        ratios, speeds = [], {"before": [], "after": []}
        for round_index in range(rounds):
            order = [("before", before_src), ("after", after_src)]
            if round_index % 2:
                order.reverse()
            got = {name: measure(src, batch, n_rows, threads) for name, src in order}
            for name in got:
                speeds[name].append(got[name])
            ratios.append(got["after"] / got["before"])
        rows.append(f"| {batch} | {statistics.median(speeds['before']):,.0f} | {statistics.median(speeds['after']):,.0f}"
                    f" | {statistics.median(ratios):.3f} | {min(ratios):.3f} | {max(ratios):.3f} |")
        print(rows[-1], flush=True)
    return rows


if __name__ == "__main__":
    main()
