"""Training speed: glassnet vs PyTorch (CPU) vs scikit-learn's MLPClassifier, and the matmul floor.

Run by hand (never in the test suite):   python benchmarks/train_speed.py [--quick]

Network 784-256-128-10, ReLU, softmax + cross-entropy, plain SGD (no momentum, no L2), float32, synthetic
data of 30,000 rows. Every system trains on the same data in this one process, one after the other in
each of ``--repeats`` rounds, so a noisy neighbour hurts them alike. The floor is the step's floating-point operations divided by this machine's float32 matmul rate, measured
(n = 2048) right before glassnet's run in every round. Samples/s are each system's best round; every
ratio is the median over the rounds of the ratio within one round (this machine is shared and noisy).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import glassnet as gn  # noqa: E402

SIZES = [784, 256, 128, 10]
N_ROWS = 30_000
BATCH_SIZES = [1, 10, 32, 128, 512, 2048]
LEARNING_RATE = 0.01


def samples_for(batch_size: int, quick: bool) -> int:
    """How many samples one timed run trains on (fewer for the slow small batches)."""
    n = {1: 3_000, 10: 10_000}.get(batch_size, N_ROWS)
    return max(batch_size, n // (5 if quick else 1))


def step_flops(sizes=SIZES) -> int:
    """Multiply-adds x 2 per sample: forward x@W, backward z.T@delta, and delta@W.T for every layer but the first."""
    forward = sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    input_grads = sum(2 * a * b for a, b in zip(sizes[1:-1], sizes[2:]))
    return 2 * forward + input_grads


def matmul_rate(n: int = 2048, repeats: int = 5) -> float:
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    out = np.empty_like(a)
    np.matmul(a, b, out=out)
    best = min(_timed(lambda: np.matmul(a, b, out=out)) for _ in range(repeats))
    return 2 * n ** 3 / best


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_ROWS, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], N_ROWS)
    return X, y


def run_glassnet(X, y, batch_size, n):
    net = gn.Network(SIZES, activation="relu", output="softmax", seed=0, dtype="float32")
    return _timed(lambda: net.fit(X[:n], y[:n], epochs=1, batch_size=batch_size, optimizer="sgd",
                                  learning_rate=LEARNING_RATE))


def run_torch(X, y, batch_size, n):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                torch.nn.ReLU(), torch.nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_function = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X[:n]), torch.from_numpy(y[:n])

    def epoch():
        order = torch.randperm(n)
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(model(Xt[rows]), yt[rows])
            loss.backward()
            optimizer.step()

    return _timed(epoch)


def run_sklearn(X, y, batch_size, n):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(256, 128), activation="relu", solver="sgd", alpha=0.0,
                          batch_size=batch_size, learning_rate_init=LEARNING_RATE, momentum=0.0,
                          nesterovs_momentum=False, max_iter=1, shuffle=True, random_state=0, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _timed(lambda: model.fit(X[:n], y[:n]))


def plain_numpy_loop(X, y, batch_size, n):
    """The 30-line numpy loop the issue mentions, as a reference point."""
    rng = np.random.default_rng(0)
    Ws = [(rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32) for a, b in zip(SIZES[:-1], SIZES[1:])]
    bs = [np.zeros(b, np.float32) for b in SIZES[1:]]
    onehot = np.eye(10, dtype=np.float32)[y[:n]]

    def epoch():
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            x, t = X[rows], onehot[rows]
            h1 = np.maximum(x @ Ws[0] + bs[0], 0)
            h2 = np.maximum(h1 @ Ws[1] + bs[1], 0)
            a3 = h2 @ Ws[2] + bs[2]
            e = np.exp(a3 - a3.max(axis=1, keepdims=True))
            d3 = (e / e.sum(axis=1, keepdims=True) - t) / len(rows)
            d2 = (d3 @ Ws[2].T) * (h2 > 0)
            d1 = (d2 @ Ws[1].T) * (h1 > 0)
            for W, b, inp, d in ((Ws[2], bs[2], h2, d3), (Ws[1], bs[1], h1, d2), (Ws[0], bs[0], x, d1)):
                W -= LEARNING_RATE * (inp.T @ d)
                b -= LEARNING_RATE * d.sum(axis=0)

    return _timed(epoch)


def matmuls_only(X, y, batch_size, n):
    """Only the step's eight matrix products, on arrays already in place (no gather, no element-wise work):
    what the step's shapes allow this BLAS, the ceiling any implementation of the step works under."""
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((a, b), dtype=np.float32) for a, b in zip(SIZES[:-1], SIZES[1:])]
    x = X[:batch_size].copy()
    z = [np.empty((batch_size, s), np.float32) for s in SIZES[1:]]
    d = [np.empty((batch_size, s), np.float32) for s in SIZES[1:-1]]
    grads = [np.empty_like(W) for W in Ws]

    def epoch():
        for _ in range(0, n, batch_size):
            np.matmul(x, Ws[0], out=z[0])
            np.matmul(z[0], Ws[1], out=z[1])
            np.matmul(z[1], Ws[2], out=z[2])
            np.matmul(z[1].T, z[2], out=grads[2])
            np.matmul(z[2], Ws[2].T, out=d[1])
            np.matmul(z[0].T, d[1], out=grads[1])
            np.matmul(d[1], Ws[1].T, out=d[0])
            np.matmul(x.T, d[0], out=grads[0])

    return _timed(epoch)


def machine() -> str:
    try:
        import threadpoolctl

        blas = [f"{p['internal_api']} ({p['num_threads']} threads)" for p in threadpoolctl.threadpool_info()
                if p.get("user_api") == "blas"]
    except ImportError:
        blas = []
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}; {os.cpu_count()} cores; numpy {np.__version__}; BLAS {', '.join(blas) or '?'}; Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples per run (for a smoke test)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-sizes", default=",".join(map(str, BATCH_SIZES)))
    parser.add_argument("--no-sklearn", action="store_true")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "train_speed"))
    args = parser.parse_args()
    X, y = data()
    systems = {"glassnet": run_glassnet, "numpy loop": plain_numpy_loop, "matmuls only": matmuls_only}
    try:
        import torch

        systems["pytorch"] = run_torch
        torch_version = torch.__version__
        print(f"pytorch {torch_version}, {torch.get_num_threads()} threads", file=sys.stderr)
    except ImportError:
        torch_version = None
    if not args.no_sklearn:
        systems["sklearn"] = run_sklearn
    rates, rows = [], []
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        n = samples_for(batch_size, args.quick)
        rounds = []  # seconds per sample of every system, and the floor's, measured in the same round
        for _ in range(args.repeats):
            times = {}
            for name, run in systems.items():
                if name == "glassnet":  # the floor is measured next to the run it is compared with
                    rates.append(matmul_rate(repeats=3))
                    times["floor"] = step_flops() / rates[-1]
                n_run = n // 3 if name == "sklearn" and batch_size == 1 and not args.quick else n
                times[name] = run(X, y, batch_size, n_run) / n_run
            rounds.append(times)
        rows.append(table_row(batch_size, n, rounds))
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()}),
              file=sys.stderr)
    rate = float(np.median(rates))
    report = {"machine": machine(), "pytorch": torch_version, "matmul_gflops": rate / 1e9,
              "step_flops_per_sample": step_flops(), "rows": rows}
    write(report, args.out)


def table_row(batch_size: int, n: int, rounds: list[dict]) -> dict:
    """Samples per second: the best round of each system. Ratios: the median over rounds of the ratio
    within a round, so a noisy moment that slows both systems of a round cancels out."""
    names = list(rounds[0])
    row = {"batch_size": batch_size, "samples": n}
    for name in names:
        row[f"{name} samples/s"] = max(1.0 / r[name] for r in rounds)
    for other in ("pytorch", "sklearn", "floor", "numpy loop", "matmuls only"):
        if other in names:
            row[f"glassnet/{other}"] = float(np.median([r[other] / r["glassnet"] for r in rounds]))
    if "matmuls only" in names:
        row["matmuls only/floor"] = float(np.median([r["floor"] / r["matmuls only"] for r in rounds]))
    return row


def write(report: dict, out: str) -> None:
    columns = [c for c in ["batch_size", "glassnet samples/s", "pytorch samples/s", "sklearn samples/s",
                           "numpy loop samples/s", "glassnet/pytorch", "glassnet/sklearn",
                           "glassnet/floor", "glassnet/numpy loop", "glassnet/matmuls only", "matmuls only/floor"]
               if c in report["rows"][0]]
    lines = [f"Machine: {report['machine']}", f"PyTorch: {report['pytorch']}",
             f"float32 matmul rate (n=2048, median of the rounds): {report['matmul_gflops']:.1f} GFLOP/s "
             f"(floor {report['matmul_gflops'] * 1e9 / report['step_flops_per_sample']:,.0f} samples/s); "
             f"step cost {report['step_flops_per_sample']:,} FLOP/sample", "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in report["rows"]:
        cells = [f"{row[c]:,.0f}" if "samples/s" in c else (f"{row[c]:.2f}" if "/" in c else str(row[c]))
                 for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out + ".md", "w") as handle:
        handle.write(text)
    with open(out + ".json", "w") as handle:
        json.dump(report, handle, indent=2)
    print(text)


if __name__ == "__main__":
    main()
