"""Per-step time of tiny networks, where Python's per-step overhead decides (run by hand).

python benchmarks/tiny_speed.py [--repeats 5] [--out PATH]

- XOR 2-3-1 (tanh, sigmoid + binary cross-entropy), the 4 rows as one batch: one step per epoch;
- moons 2-16-16-2 (ReLU, softmax + cross-entropy), 1,024 rows in batches of 32: 32 steps per epoch.

Plain SGD, float64 (the playground's precision). Systems: glassnet's numpy path and compiled engine through
``fit`` (so each epoch's bookkeeping is counted), a plain numpy loop doing the same step (no loss, accuracy
or checks), and JAX jit (one jitted step per batch). Every system runs in each round, the order rotated;
ratios are medians of within-round ratios, with their min-max range as the noise.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import glassnet as gn  # noqa: E402
from glassnet.datasets import moons  # noqa: E402
from train_speed import blas_in_use, limit_threads, machine  # noqa: E402

LEARNING_RATE = 0.5


def problems():
    xor = (np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float), np.array([[0], [1], [1], [0]], float))
    moons_x, moons_y = moons(1024, noise=0.1, seed=0)
    return {"xor 2-3-1, batch 4": dict(sizes=[2, 3, 1], hidden="tanh", output="sigmoid", x=xor[0], y=xor[1],
                                       batch=4, epochs=2000),
            "moons 2-16-16-2, batch 32": dict(sizes=[2, 16, 16, 2], hidden="relu", output="softmax", x=moons_x,
                                              y=np.eye(2)[moons_y], batch=32, epochs=60)}


def glassnet_fit(engine):
    def run(p):
        net = gn.Network(p["sizes"], activation=p["hidden"], output=p["output"], seed=0)
        start = time.perf_counter()
        net.fit(p["x"], p["y"], epochs=p["epochs"], batch_size=p["batch"], learning_rate=LEARNING_RATE,
                engine=engine)
        return time.perf_counter() - start
    return run


def numpy_loop(p):
    """The plain loop: forward, the matched-pair delta (ŷ − y)/n, backward, W −= lr·g; nothing else."""
    rng = np.random.default_rng(0)
    sizes = p["sizes"]
    Ws = [rng.standard_normal((a, b)) * np.sqrt(1 / a) for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(b) for b in sizes[1:]]
    hidden = np.tanh if p["hidden"] == "tanh" else (lambda a: np.maximum(a, 0))
    x_all, y_all, batch = p["x"], p["y"], p["batch"]
    n = x_all.shape[0]
    start = time.perf_counter()
    for _ in range(p["epochs"]):
        order = rng.permutation(n)
        for first in range(0, n, batch):
            rows = order[first:first + batch]
            x, y = x_all[rows], y_all[rows]
            zs = [x]
            for W, b in zip(Ws[:-1], bs[:-1]):
                zs.append(hidden(zs[-1] @ W + b))
            a = zs[-1] @ Ws[-1] + bs[-1]
            if p["output"] == "sigmoid":
                out = 1 / (1 + np.exp(-a))
            else:
                e = np.exp(a - a.max(axis=1, keepdims=True))
                out = e / e.sum(axis=1, keepdims=True)
            delta = (out - y) / len(rows)
            for layer in range(len(Ws) - 1, -1, -1):
                grad_W, grad_b = zs[layer].T @ delta, delta.sum(axis=0)
                if layer:
                    below = delta @ Ws[layer].T
                    delta = below * (1 - zs[layer] ** 2) if p["hidden"] == "tanh" else below * (zs[layer] > 0)
                Ws[layer] -= LEARNING_RATE * grad_W
                bs[layer] -= LEARNING_RATE * grad_b
    return time.perf_counter() - start


def jax_jit(p):
    import jax
    import jax.numpy as jnp

    hidden = jnp.tanh if p["hidden"] == "tanh" else jax.nn.relu

    def loss(params, x, y):
        h = x
        for W, b in params[:-1]:
            h = hidden(h @ W + b)
        W, b = params[-1]
        a = h @ W + b
        if p["output"] == "sigmoid":
            return jnp.mean(jnp.sum(jax.nn.softplus(a) - y * a, axis=1))
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(a), axis=1))

    @jax.jit
    def step(params, x, y):
        grads = jax.grad(loss)(params, x, y)
        return jax.tree_util.tree_map(lambda q, g: q - LEARNING_RATE * g, params, grads)

    rng = np.random.default_rng(0)
    sizes = p["sizes"]
    params = [(jnp.asarray(rng.standard_normal((a, b)) * np.sqrt(1 / a)), jnp.zeros(b))
              for a, b in zip(sizes[:-1], sizes[1:])]
    x_all, y_all, batch = p["x"], p["y"], p["batch"]
    n = x_all.shape[0]
    params = step(params, x_all[:batch], y_all[:batch])  # compile
    start = time.perf_counter()
    for _ in range(p["epochs"]):
        order = rng.permutation(n)
        for first in range(0, n, batch):
            rows = order[first:first + batch]
            params = step(params, x_all[rows], y_all[rows])
    jax.block_until_ready(params)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "tiny_speed"))
    args = parser.parse_args()
    if args.threads is not None:
        limit_threads(args.threads)
    os.environ.setdefault("JAX_ENABLE_X64", "1")  # float64 like the others
    systems = {"glassnet": glassnet_fit("numpy"), "glassnet compiled": glassnet_fit("compiled"),
               "numpy loop": numpy_loop}
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        systems["jax jit"] = jax_jit
    except ImportError:
        print("note: jax is not installed; skipping jax jit", file=sys.stderr)
    results = {}
    for name, p in problems().items():
        steps = p["epochs"] * -(-p["x"].shape[0] // p["batch"])
        small = dict(p, epochs=2)
        for run in systems.values():
            run(small)  # warm-up (numba's cache, JAX's compilation)
        rounds = []
        for index in range(args.repeats):
            names = list(systems)[index % len(systems):] + list(systems)[:index % len(systems)]
            rounds.append({system: systems[system](p) / steps for system in names})
        row = {f"{s} us/step": 1e6 * min(r[s] for r in rounds) for s in systems}
        for ours in ("glassnet", "glassnet compiled"):
            for other in systems:
                if other not in ("glassnet", "glassnet compiled"):
                    ratios = [r[other] / r[ours] for r in rounds]
                    row[f"{ours}/{other}"] = float(np.median(ratios))
                    row[f"{ours}/{other} range"] = [float(min(ratios)), float(max(ratios))]
        ratios = [r["glassnet"] / r["glassnet compiled"] for r in rounds]
        row["glassnet compiled/glassnet"] = float(np.median(ratios))
        row["glassnet compiled/glassnet range"] = [float(min(ratios)), float(max(ratios))]
        results[name] = row
        print(name, json.dumps({k: v for k, v in row.items() if "range" not in k}), file=sys.stderr)
    write(results, args)


def write(results: dict, args) -> None:
    m = machine()
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores; OPENBLAS_CORETYPE: {m['OPENBLAS_CORETYPE']}; "
             f"threads: {args.threads or 'library defaults'}",
             "BLAS in use: " + "; ".join(f"{b.get('internal_api')} {b.get('version')}, kernels "
                                         f"{b.get('architecture')}, {b.get('num_threads')} threads"
                                         for b in blas_in_use()),
             f"Per-step times (best of {args.repeats} rounds); ratios: speed of the first / speed of the second, "
             f"median of within-round ratios [min-max].", ""]
    for name, row in results.items():
        lines += [f"### {name}", "", "| measure | value |", "|---|---|"]
        lines += [f"| {k} | {v:.1f} |" for k, v in row.items() if k.endswith("us/step")]
        lines += [f"| {k} | {v:.2f} [{row[k + ' range'][0]:.2f}-{row[k + ' range'][1]:.2f}] |"
                  for k, v in row.items() if "/" in k and "range" not in k and "us/step" not in k]
        lines.append("")
    text = "\n".join(lines)
    for suffix, content in ((".md", text), (".json", json.dumps({"machine": m, "blas": blas_in_use(),
                                                                 "results": results}, indent=2))):
        with open(args.out + suffix + ".tmp", "w") as handle:
            handle.write(content)
        os.replace(args.out + suffix + ".tmp", args.out + suffix)
    print(text)


if __name__ == "__main__":
    main()
