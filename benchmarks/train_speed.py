"""Training speed: glassnet (numpy path and compiled engine) vs PyTorch eager, torch.compile, JAX jit,
JAX jit + lax.scan (a whole epoch compiled), scikit-learn's MLPClassifier, a plain numpy loop, and the floor.

Run by hand (never in the test suite):   python benchmarks/train_speed.py [--quick] [--out PATH]
Run it both ways for the BLAS setting, e.g. ``OPENBLAS_CORETYPE=Haswell python ...`` and
``env -u OPENBLAS_CORETYPE python ...``: numpy's OpenBLAS reads the variable when it loads and then uses that
CPU's kernels instead of the ones it would detect; every result file records the value and the BLAS in use.

Network 784-256-128-10, ReLU, softmax + cross-entropy, plain SGD (no momentum, no L2), float32, synthetic
data of 30,000 rows (each run trains on the first 1,000 to 10,240 of them); every run trains a whole number of batches. Every system trains on the same data in this
one process, one after the other in each of ``--repeats`` rounds, the order rotated from round to round, so a
noisy neighbour hurts them alike. Peers that are not installed (torch, jax, numba, scikit-learn) are skipped
with a note; none of them is a dependency of glassnet (numba is its optional ``fast`` extra).

The floor is the step's floating-point operations divided by the best float32 matmul rate (n = 2048) that any
library in this process reaches (numpy's BLAS, PyTorch, JAX/XLA, and the BLAS numba calls), measured in every
round. Samples/s are each system's best round; every ratio is the median over the rounds of the ratio within
one round (this machine is shared and noisy).
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
    """How many samples one timed run trains on (fewer for the slow small batches): whole batches only."""
    n = {1: 1_000, 10: 3_000, 32: 6_400}.get(batch_size, 10_240)
    n = max(batch_size, n // (5 if quick else 1))
    return n - n % batch_size


def step_flops(sizes=SIZES) -> int:
    """Multiply-adds x 2 per sample: forward x@W, backward z.T@delta, and delta@W.T for every layer but the first."""
    forward = sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    input_grads = sum(2 * a * b for a, b in zip(sizes[1:-1], sizes[2:]))
    return 2 * forward + input_grads


def matmul_rates(n: int = 2048, repeats: int = 3) -> dict:
    """{library: float32 matmul FLOP/s at n x n} for every library at hand: the floor takes the best."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    out = np.empty_like(a)
    products = {"numpy": lambda: np.matmul(a, b, out=out)}
    try:
        import torch

        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        tout = torch.empty_like(ta)
        products["pytorch"] = lambda: torch.matmul(ta, tb, out=tout)
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp

        ja, jb = jnp.asarray(a), jnp.asarray(b)
        jmatmul = jax.jit(jnp.matmul)
        products["jax"] = lambda: jmatmul(ja, jb).block_until_ready()
    except ImportError:
        pass
    try:
        from scipy.linalg.blas import sgemm  # the BLAS numba's np.dot calls

        fa, fb = np.asfortranarray(a), np.asfortranarray(b)
        products["scipy blas (numba)"] = lambda: sgemm(1.0, fa, fb)
    except ImportError:
        pass
    rates = {}
    for name, product in products.items():
        product()
        rates[name] = 2 * n ** 3 / min(_timed(product) for _ in range(repeats))
        cpu, wall = time.process_time(), time.perf_counter()
        product()
        CORES_USED.setdefault(name, []).append((time.process_time() - cpu) / (time.perf_counter() - wall))
    return rates


# {library: [CPU seconds / wall seconds of one n=2048 matmul, per round]}: how many cores each one really used
# (XLA ignores its thread flags and runs on every core it may use: only the CPU affinity bounds it)
CORES_USED: dict = {}


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


def run_glassnet_compiled(X, y, batch_size, n):
    net = gn.Network(SIZES, activation="relu", output="softmax", seed=0, dtype="float32")
    return _timed(lambda: net.fit(X[:n], y[:n], epochs=1, batch_size=batch_size, optimizer="sgd",
                                  learning_rate=LEARNING_RATE, engine="compiled"))


_TORCH_COMPILED = {}


def run_torch_compile(X, y, batch_size, n):
    """torch.compile of the model (forward and, through AOTAutograd, backward); one model per process, its
    weights reset every run, so compilation (per new batch shape) happens in the untimed warm-up."""
    import torch

    if "model" not in _TORCH_COMPILED:
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                    torch.nn.ReLU(), torch.nn.Linear(128, 10))
        _TORCH_COMPILED.update(model=model, initial={k: v.clone() for k, v in model.state_dict().items()},
                               compiled=torch.compile(model))
    model, compiled = _TORCH_COMPILED["model"], _TORCH_COMPILED["compiled"]
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_function = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X[:n]), torch.from_numpy(y[:n])

    def steps(order):
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(compiled(Xt[rows]), yt[rows])
            loss.backward()
            optimizer.step()

    steps(torch.arange(2 * batch_size))  # warm-up: compiles this batch shape once
    with torch.no_grad():
        model.load_state_dict(_TORCH_COMPILED["initial"])
    return _timed(lambda: steps(torch.randperm(n)))


_JAX = {}


def jax_functions():
    """The JAX step (jit) and the whole epoch (jit of lax.scan over the steps), built once per process."""
    if _JAX:
        return _JAX
    import jax
    import jax.numpy as jnp

    def loss(params, x, labels):
        h = x
        for W, b in params[:-1]:
            h = jax.nn.relu(h @ W + b)
        W, b = params[-1]
        log_p = jax.nn.log_softmax(h @ W + b)
        return -jnp.mean(jnp.take_along_axis(log_p, labels[:, None], axis=1))

    def update(params, x, labels):
        grads = jax.grad(loss)(params, x, labels)
        return jax.tree_util.tree_map(lambda p, g: p - LEARNING_RATE * g, params, grads)

    def epoch(params, X, Y, batches):  # batches: (n_batches, batch_size) row indices
        def body(params, rows):
            return update(params, X[rows], Y[rows]), None

        return jax.lax.scan(body, params, batches)[0]

    def init(seed=0):
        rng = np.random.default_rng(seed)
        return [(jnp.asarray((rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32)),
                 jnp.zeros(b, jnp.float32)) for a, b in zip(SIZES[:-1], SIZES[1:])]

    _JAX.update(step=jax.jit(update), epoch=jax.jit(epoch), init=init, jnp=jnp, jax=jax)
    return _JAX


def run_jax_jit(X, y, batch_size, n):
    """A Python loop over batches, each step one jitted call (what a JAX user writes first)."""
    f = jax_functions()
    params = f["init"]()
    labels = y[:n].astype(np.int32)
    rng = np.random.default_rng(0)
    params = f["step"](params, X[:batch_size], labels[:batch_size])  # warm-up: compiles this batch shape

    def epoch():
        nonlocal params
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            params = f["step"](params, X[rows], labels[rows])
        f["jax"].block_until_ready(params)

    return _timed(epoch)


def run_jax_scan(X, y, batch_size, n):
    """The whole epoch as one compiled call: lax.scan over the steps, data already on the device."""
    f = jax_functions()
    jnp = f["jnp"]
    params = f["init"]()
    Xj, Yj = jnp.asarray(X[:n]), jnp.asarray(y[:n].astype(np.int32))
    rng = np.random.default_rng(0)
    batches = rng.permutation(n).reshape(-1, batch_size)
    f["jax"].block_until_ready(f["epoch"](params, Xj, Yj, batches))  # warm-up: compiles for this shape
    batches = rng.permutation(n).reshape(-1, batch_size)
    return _timed(lambda: f["jax"].block_until_ready(f["epoch"](params, Xj, Yj, batches)))


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


def blas_in_use() -> list[dict]:
    """Every BLAS loaded in this process (threadpoolctl): library, version, kernel architecture, threads."""
    try:
        import threadpoolctl
    except ImportError:
        return [{"note": "threadpoolctl not installed: BLAS unknown"}]
    return [{key: info.get(key) for key in ("internal_api", "prefix", "version", "architecture", "num_threads",
                                            "threading_layer")}
            for info in threadpoolctl.threadpool_info()]


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    flags = set()
    try:
        with open("/proc/cpuinfo") as handle:
            lines = handle.read().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
        flags = set(next(line.split(":", 1)[1].split() for line in lines if line.startswith("flags")))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "avx2": "avx2" in flags, "avx512f": "avx512f" in flags,
            "python": platform.python_version(), "numpy": np.__version__,
            "cpus this process may use": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
            "XLA_FLAGS": os.environ.get("XLA_FLAGS", "(unset)")}


def available_systems(no_sklearn: bool) -> tuple[dict, dict]:
    """{name: run function} for every system that can run here, and {peer: version or the note why not}."""
    systems = {"glassnet": run_glassnet, "numpy loop": plain_numpy_loop, "matmuls only": matmuls_only}
    versions = {}
    checks = [("glassnet compiled", "numba", {"glassnet compiled": run_glassnet_compiled}),
              ("pytorch", "torch", {"pytorch": run_torch, "torch.compile": run_torch_compile}),
              ("jax", "jax", {"jax jit": run_jax_jit, "jax jit + scan": run_jax_scan})]
    if not no_sklearn:
        checks.append(("sklearn", "sklearn", {"sklearn": run_sklearn}))
    for label, module, runs in checks:
        try:
            versions[label] = __import__(module).__version__
            systems.update(runs)
        except ImportError:
            versions[label] = f"skipped: {module} is not installed"
            print(f"note: {module} is not installed; skipping {', '.join(runs)}", file=sys.stderr)
    return systems, versions


def warm_up(systems: dict, X, y) -> dict:
    """One small untimed run of each (numba loads or compiles its kernels here); drops a system that fails."""
    working = {}
    for name, run in systems.items():
        try:
            run(X, y, 8, 64)
            working[name] = run
        except Exception as error:  # a peer that cannot run here (e.g. torch.compile without a compiler)
            print(f"note: {name} skipped: {type(error).__name__}: {str(error)[:200]}", file=sys.stderr)
    return working


def limit_threads(n: int) -> None:
    """The same cores and thread count for every library: the process may run on its first n CPUs only
    (os.sched_setaffinity: XLA's thread pool ignored the flags below and ran a matmul on 2 cores, 165 against
    numpy's 93 GFLOP/s on this 2-core machine, until the affinity bounded it), and numpy's and scipy's BLAS
    and OpenMP (threadpoolctl, for the rest of the process), PyTorch and XLA are told n threads (XLA's flags are
    read when jax is first imported, which is later)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:n])
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + f" --xla_cpu_multi_thread_eigen={n > 1} "
                               f"intra_op_parallelism_threads={n}").strip()
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS now, so the limit below covers it too)
    import threadpoolctl

    limit_threads.keep = threadpoolctl.threadpool_limits(limits=n)
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples per run (for a smoke test)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-sizes", default=",".join(map(str, BATCH_SIZES)))
    parser.add_argument("--no-sklearn", action="store_true")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "train_speed"))
    parser.add_argument("--threads", type=int, default=None,
                        help="limit every library to this many threads (BLAS, OpenMP, PyTorch, XLA)")
    args = parser.parse_args()
    if args.threads is not None:
        limit_threads(args.threads)
    X, y = data()
    systems, versions = available_systems(args.no_sklearn)
    systems = warm_up(systems, X, y)
    rates, rows = [], []
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        n = samples_for(batch_size, args.quick)
        rounds = []  # seconds per sample of every system, and the floor's, measured in the same round
        for round_index in range(args.repeats):
            rates.append(matmul_rates())
            times = {"floor": step_flops() / max(rates[-1].values())}
            names = list(systems)
            shift = round_index % len(names)  # rotate the order: no system always runs first or last
            for name in names[shift:] + names[:shift]:
                n_run = n // 3 if name == "sklearn" and batch_size == 1 and not args.quick else n
                times[name] = systems[name](X, y, batch_size, n_run) / n_run
            rounds.append(times)
        rows.append(table_row(batch_size, n, rounds))
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()}),
              file=sys.stderr)
    libraries = sorted({name for r in rates for name in r})
    report = {"machine": machine(), "blas": blas_in_use(), "versions": versions,
              "matmul_gflops": {name: float(np.median([r[name] for r in rates if name in r])) / 1e9
                                for name in libraries},
              "matmul_cores_used": {name: float(np.median(used)) for name, used in CORES_USED.items()},
              "step_flops_per_sample": step_flops(), "repeats": args.repeats, "rows": rows}
    write(report, args.out)


OURS = ("glassnet", "glassnet compiled")


def table_row(batch_size: int, n: int, rounds: list[dict]) -> dict:
    """Samples per second: the best round of each system. Ratios (speed of ours / speed of the other): the
    median over rounds of the ratio within a round, so a noisy moment that slows both systems cancels out;
    with the spread of those ratios (min-max) as the noise."""
    names = list(rounds[0])
    row = {"batch_size": batch_size, "samples": n}
    for name in names:
        row[f"{name} samples/s"] = max(1.0 / r[name] for r in rounds)
    for ours in OURS:
        for other in names:
            if ours in names and other not in OURS:
                ratios = [r[other] / r[ours] for r in rounds]
                row[f"{ours}/{other}"] = float(np.median(ratios))
                row[f"{ours}/{other} range"] = [float(min(ratios)), float(max(ratios))]
    if "glassnet compiled" in names:
        ratios = [r["glassnet"] / r["glassnet compiled"] for r in rounds]
        row["glassnet compiled/glassnet"] = float(np.median(ratios))
        row["glassnet compiled/glassnet range"] = [float(min(ratios)), float(max(ratios))]
    return row


SPEED_COLUMNS = ["glassnet", "glassnet compiled", "pytorch", "torch.compile", "jax jit", "jax jit + scan",
                 "sklearn", "numpy loop", "matmuls only", "floor"]
RATIO_COLUMNS = ["glassnet/pytorch", "glassnet/torch.compile", "glassnet/jax jit", "glassnet/jax jit + scan",
                 "glassnet/sklearn", "glassnet/floor", "glassnet/numpy loop", "glassnet/matmuls only",
                 "glassnet compiled/glassnet", "glassnet compiled/pytorch", "glassnet compiled/torch.compile",
                 "glassnet compiled/jax jit", "glassnet compiled/jax jit + scan", "glassnet compiled/floor",
                 "glassnet compiled/numpy loop"]


def header(report: dict) -> list[str]:
    m = report["machine"]
    blas = "; ".join(f"{b.get('internal_api')} {b.get('version')} ({b.get('prefix')}), kernels "
                     f"{b.get('architecture')}, {b.get('num_threads')} threads" for b in report["blas"])
    rates = ", ".join(f"{name} {rate:.0f}" for name, rate in report["matmul_gflops"].items())
    best = max(report["matmul_gflops"].values())
    cores = ", ".join(f"{name} {used:.2f}" for name, used in report.get("matmul_cores_used", {}).items())
    return [f"Machine: {m['cpu']}, {m['cores']} cores, AVX2 {m['avx2']}, AVX-512 {m['avx512f']}; "
            f"Python {m['python']}, numpy {m['numpy']}",
            f"CPUs this process may use (affinity): {m.get('cpus this process may use')}; cores each library's "
            f"n=2048 matmul used (CPU time / wall time): {cores}",
            f"OPENBLAS_CORETYPE: {m['OPENBLAS_CORETYPE']}; XLA_FLAGS: {m['XLA_FLAGS']}",
            f"BLAS in use (threadpoolctl): {blas}",
            "Peers: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()),
            f"float32 matmul GFLOP/s at n=2048 (median of the rounds): {rates}; the floor uses the best, "
            f"{best:.0f} ({best * 1e9 / report['step_flops_per_sample']:,.0f} samples/s); step cost "
            f"{report['step_flops_per_sample']:,} FLOP/sample",
            f"Ratios are speed of the first / speed of the second: medians of {report['repeats']} within-round "
            f"ratios; `spread` is the widest min-max range of those ratios in the row (the noise)."]


def write(report: dict, out: str) -> None:
    rows = report["rows"]
    speeds = [c for c in SPEED_COLUMNS if f"{c} samples/s" in rows[0]]
    ratios = [c for c in RATIO_COLUMNS if c in rows[0]]
    lines = header(report) + ["", "Samples per second (best round):", "",
                              "| batch | " + " | ".join(speeds) + " |", "|---" * (len(speeds) + 1) + "|"]
    for row in rows:
        lines.append(f"| {row['batch_size']} | " + " | ".join(f"{row[c + ' samples/s']:,.0f}" for c in speeds) + " |")
    lines += ["", "Ratios (>1: the first is faster):", "",
              "| batch | " + " | ".join(ratios) + " | spread |", "|---" * (len(ratios) + 2) + "|"]
    for row in rows:
        spread = max(row[c + " range"][1] / row[c + " range"][0] for c in ratios)
        lines.append(f"| {row['batch_size']} | " + " | ".join(f"{row[c]:.2f}" for c in ratios) +
                     f" | x{spread:.2f} |")
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    for suffix, content in ((".md", text), (".json", json.dumps(report, indent=2))):
        temporary = out + suffix + ".tmp"
        with open(temporary, "w") as handle:
            handle.write(content)
        os.replace(temporary, out + suffix)
    print(text)


if __name__ == "__main__":
    main()
