"""Issue 19's targets as ratios, from train_speed result files of one or more BLAS settings (run by hand).

python benchmarks/targets.py results/train_speed_coretype_unset.json results/train_speed_coretype_haswell.json

Writes benchmarks/results/targets.md: for every file (one BLAS setting, its own process), each target ratio
per batch size with the min-max range of its within-round ratios, and whether the target is met (the
median against the target; ranges that straddle it are marked "?").
"""
from __future__ import annotations

import json
import os
import sys

# (ratio in the result file, target, the batch sizes it applies to, what it means)
TARGETS = [
    ("glassnet compiled/jax jit + scan", 1.0, (1, 10, 32), "compiled >= JAX jit + scan"),
    ("glassnet compiled/jax jit", 1.0, (1, 10, 32, 128, 512, 2048), "compiled >= JAX jit"),
    ("glassnet/pytorch", 1.5, (1, 10, 32, 128, 512, 2048), "numpy path >= 1.5x PyTorch eager"),
    ("glassnet/jax jit", 0.9, (128, 512, 2048), "numpy path >= 0.9x JAX jit"),
]


def verdict(value: float, low: float, high: float, target: float) -> str:
    if low >= target:
        return "met"
    if high < target:
        return "missed"
    return "met?" if value >= target else "missed?"


def section(path: str) -> list[str]:
    with open(path) as handle:
        report = json.load(handle)
    machine = report["machine"]
    rows = {row["batch_size"]: row for row in report["rows"]}
    lines = [f"### {os.path.basename(path)}: OPENBLAS_CORETYPE {machine['OPENBLAS_CORETYPE']}, "
             f"CPUs the process could use: {machine.get('cpus this process may use', '(not recorded)')}", "",
             "BLAS: " + "; ".join(f"{b.get('internal_api')} {b.get('version')} kernels {b.get('architecture')}, "
                                  f"{b.get('num_threads')} threads" for b in report["blas"]
                                  if b.get("internal_api") != "openmp"), "",
             "| target | batch | ratio | range | verdict |", "|---|---|---|---|---|"]
    for name, target, batches, meaning in TARGETS:
        for batch in batches:
            if batch in rows and name in rows[batch]:
                value, (low, high) = rows[batch][name], rows[batch][name + " range"]
                lines.append(f"| {meaning} | {batch} | {value:.2f} | {low:.2f}-{high:.2f} | "
                             f"{verdict(value, low, high, target)} |")
    return lines + [""]


def main() -> None:
    lines = ["# Issue 19's targets, measured", "",
             "Ratios are speed of glassnet / speed of the peer: medians of the within-round ratios of one process "
             "(order rotated every round); range: their min and max. A verdict with ? has a range on both sides "
             "of the target.", ""]
    for path in sys.argv[1:]:
        lines += section(path)
    out = os.path.join(os.path.dirname(__file__), "results", "targets.md")
    with open(out + ".tmp", "w") as handle:
        handle.write("\n".join(lines))
    os.replace(out + ".tmp", out)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
