"""Inference throughput at batch 10,000 (run by hand): glassnet vs PyTorch vs onnxruntime on the exported model.

python benchmarks/predict_speed.py
"""
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import glassnet as gn  # noqa: E402
from glassnet.modelfile import Model  # noqa: E402

N = 10_000


def best_of(function, repeats=7):
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    X = np.random.default_rng(0).standard_normal((N, 784), dtype=np.float32)
    net = gn.Network([784, 256, 128, 10], activation="relu", output="softmax", seed=0, dtype="float32")
    results = {"glassnet predict_proba": N / best_of(lambda: net.predict_proba(X))}
    try:
        import torch

        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                    torch.nn.ReLU(), torch.nn.Linear(128, 10), torch.nn.Softmax(dim=1))
        with torch.no_grad():
            for layer, (W, b) in zip([model[0], model[2], model[4]], zip(*[iter(net.get_weights())] * 2)):
                layer.weight.copy_(torch.from_numpy(W.T.copy()))
                layer.bias.copy_(torch.from_numpy(b))
            Xt = torch.from_numpy(X)
            results["pytorch (no_grad)"] = N / best_of(lambda: model(Xt))
            assert np.abs(model(Xt).numpy() - net.predict_proba(X)).max() < 1e-5
    except ImportError:
        pass
    try:
        import onnxruntime as ort
        from glassnet.onnx_export import export_onnx

        path = os.path.join(tempfile.mkdtemp(), "m.onnx")
        export_onnx(Model(net), path)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        results["onnxruntime"] = N / best_of(lambda: session.run(None, {"x": X}))
    except ImportError:
        pass
    base = results["glassnet predict_proba"]
    lines = ["| system | samples/s | glassnet / system |", "|---|---|---|"]
    lines += [f"| {name} | {speed:,.0f} | {base / speed:.2f} |" for name, speed in results.items()]
    text = f"784-256-128-10 ReLU/softmax, float32, batch {N:,}\n\n" + "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(os.path.dirname(__file__), "results", "predict_speed.md"), "w") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
