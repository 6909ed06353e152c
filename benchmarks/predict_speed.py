"""Inference (run by hand): glassnet vs PyTorch vs onnxruntime on the exported model.

python benchmarks/predict_speed.py [--threads N] [--rounds 7] [--out PATH]

Throughput at batch 10,000, and the latency of ``predict_proba`` calls of one row and of ten rows, each
measured in paired rounds whose order rotates; ratios are medians of the within-round ratios, with their
min-max range. glassnet runs twice: ``Network.predict_proba`` (numpy) and ``glassnet.compiled.Predictor``
(numba, when installed).
The result file records OPENBLAS_CORETYPE and the BLAS in use.
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import glassnet as gn  # noqa: E402
from glassnet.modelfile import Model  # noqa: E402
from train_speed import blas_in_use, limit_threads, machine  # noqa: E402

N = 10_000
LATENCY_CALLS = 2_000


def best_of(function, repeats=7):
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def systems(net, X):
    """{name: function of a batch}: glassnet, PyTorch (no_grad) and onnxruntime, each that is installed."""
    found = {"glassnet predict_proba": net.predict_proba}
    try:
        import numba  # noqa: F401
        from glassnet.compiled import Predictor

        predictor = Predictor(net)
        assert np.abs(predictor.predict_proba(X[:1]) - net.predict_proba(X[:1])).max() < 1e-6
        found["glassnet compiled Predictor"] = predictor.predict_proba
    except ImportError:
        print("note: numba is not installed; skipping the compiled predictor", file=sys.stderr)
    try:
        import torch

        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                    torch.nn.ReLU(), torch.nn.Linear(128, 10), torch.nn.Softmax(dim=1))
        with torch.no_grad():
            for layer, (W, b) in zip([model[0], model[2], model[4]], zip(*[iter(net.get_weights())] * 2)):
                layer.weight.copy_(torch.from_numpy(W.T.copy()))
                layer.bias.copy_(torch.from_numpy(b))

        def torch_predict(x):
            with torch.no_grad():
                return model(torch.from_numpy(x)).numpy()

        assert np.abs(torch_predict(X) - net.predict_proba(X)).max() < 1e-5
        found["pytorch (no_grad)"] = torch_predict
    except ImportError:
        print("note: torch is not installed; skipping it", file=sys.stderr)
    try:
        import onnxruntime as ort
        from glassnet.onnx_export import export_onnx

        path = os.path.join(tempfile.mkdtemp(), "m.onnx")
        export_onnx(Model(net), path)
        options = ort.SessionOptions()
        threads = os.environ.get("BENCH_THREADS")
        if threads:
            options.intra_op_num_threads = int(threads)
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        found["onnxruntime"] = lambda x: session.run(None, {"x": x})[0]
        assert np.abs(found["onnxruntime"](X) - net.predict_proba(X)).max() < 1e-5
    except ImportError:
        print("note: onnxruntime is not installed; skipping it", file=sys.stderr)
    return found


def paired(functions: dict, rounds: int, measure) -> dict:
    """{name: [seconds per round]} with the order rotated every round."""
    times = {name: [] for name in functions}
    names = list(functions)
    for index in range(rounds):
        for name in names[index % len(names):] + names[:index % len(names)]:
            times[name].append(measure(functions[name]))
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "predict_speed"))
    args = parser.parse_args()
    if args.threads is not None:
        limit_threads(args.threads)
        os.environ["BENCH_THREADS"] = str(args.threads)
    X = np.random.default_rng(0).standard_normal((N, 784), dtype=np.float32)
    one, ten = X[:1].copy(), X[:10].copy()
    net = gn.Network([784, 256, 128, 10], activation="relu", output="softmax", seed=0, dtype="float32")
    found = systems(net, X)

    def batch(function):
        return best_of(lambda: function(X), repeats=3)

    def latency(rows):
        def measure(function):
            function(rows)
            start = time.perf_counter()
            for _ in range(LATENCY_CALLS):
                function(rows)
            return (time.perf_counter() - start) / LATENCY_CALLS
        return measure

    base = "glassnet predict_proba"
    m = machine()
    lines = [f"784-256-128-10 ReLU/softmax, float32. {m['cpu']}, {m['cores']} cores; OPENBLAS_CORETYPE: "
             f"{m['OPENBLAS_CORETYPE']}; threads: {args.threads or 'library defaults'}",
             "BLAS in use: " + "; ".join(f"{b.get('internal_api')} {b.get('version')}, kernels {b.get('architecture')}, "
                                         f"{b.get('num_threads')} threads" for b in blas_in_use()),
             f"Ratios: medians of {args.rounds} within-round ratios (speed of glassnet / speed of the system), "
             f"[min-max] the noise.", ""]
    bases = [name for name in (base, "glassnet compiled Predictor") if name in found]
    for title, measure, unit in ((f"batch {N:,} (throughput)", batch, "samples/s"),
                                 ("batch 1 (latency of one predict_proba call)", latency(one), "µs per call"),
                                 ("batch 10 (latency of one predict_proba call)", latency(ten), "µs per call")):
        times = paired(found, args.rounds, measure)
        lines += [f"### {title}", "", f"| system | {unit} (best round) | "
                  + " | ".join(f"{name} / system" for name in bases) + " |", "|---|---|" + "---|" * len(bases)]
        for name, series in times.items():
            value = N / min(series) if unit == "samples/s" else 1e6 * min(series)
            cells = []
            for ours in bases:
                ratios = [other / mine for other, mine in zip(series, times[ours])]
                cells.append(f"{np.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]")
            lines.append(f"| {name} | {value:,.1f} | " + " | ".join(cells) + " |")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    with open(args.out + ".md.tmp", "w") as handle:
        handle.write(text)
    os.replace(args.out + ".md.tmp", args.out + ".md")


if __name__ == "__main__":
    main()
