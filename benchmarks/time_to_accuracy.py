"""Seconds to reach >= 97 % test accuracy on digits (run by hand): glassnet vs scikit-learn vs PyTorch.

Same architecture (64-100-10, ReLU, softmax + cross-entropy), same optimizer (Adam, lr 1e-3, batch 32),
same standardised 75/25 split; each system trains one epoch at a time and is timed until its test
accuracy first reaches the target (evaluation time included). python benchmarks/time_to_accuracy.py
"""
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import glassnet as gn  # noqa: E402
from glassnet import data  # noqa: E402

TARGET, MAX_EPOCHS = 0.97, 200


def split():
    digits = data.load("digits")
    (Xtr, ytr), _, (Xte, yte) = data.split(digits.X, digits.y, test=0.25, seed=0)
    scaler = data.Standardizer().fit(Xtr)
    return [a.astype(np.float32) for a in (scaler.transform(Xtr), scaler.transform(Xte))] + [ytr, yte]


def until_target(epoch, accuracy):
    start = time.perf_counter()
    for n in range(1, MAX_EPOCHS + 1):
        epoch()
        if accuracy() >= TARGET:
            return time.perf_counter() - start, n
    return float("nan"), MAX_EPOCHS


def run_glassnet(Xtr, Xte, ytr, yte, seed):
    net = gn.Network([64, 100, 10], activation="relu", output="softmax", seed=seed, dtype="float32")
    trainer = gn.Trainer(net, optimizer={"name": "adam"}, learning_rate=1e-3, batch_size=32)
    return until_target(lambda: trainer.fit(Xtr, ytr, epochs=1), lambda: (net.predict(Xte) == yte).mean())


def run_sklearn(Xtr, Xte, ytr, yte, seed):
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier((100,), solver="adam", learning_rate_init=1e-3, batch_size=32, alpha=0.0, random_state=seed)
    classes = np.arange(10)
    return until_target(lambda: model.partial_fit(Xtr, ytr, classes=classes), lambda: (model.predict(Xte) == yte).mean())


def run_torch(Xtr, Xte, ytr, yte, seed):
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = torch.nn.CrossEntropyLoss()
    Xt, yt, Xv = torch.from_numpy(Xtr), torch.from_numpy(ytr), torch.from_numpy(Xte)

    def epoch():
        order = torch.randperm(len(Xt))
        for start in range(0, len(Xt), 32):
            rows = order[start:start + 32]
            optimizer.zero_grad(set_to_none=True)
            loss(model(Xt[rows]), yt[rows]).backward()
            optimizer.step()

    def accuracy():
        with torch.no_grad():
            return (model(Xv).argmax(1).numpy() == yte).mean()

    return until_target(epoch, accuracy)


def main():
    arrays = split()
    systems = {"glassnet": run_glassnet, "scikit-learn": run_sklearn}
    try:
        import torch  # noqa: F401

        systems["pytorch"] = run_torch
    except ImportError:
        pass
    results = {name: [] for name in systems}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(3):
            for name, run in systems.items():
                results[name].append(run(*arrays, seed))
    lines = ["| system | median seconds to 97 % | epochs (per seed) |", "|---|---|---|"]
    medians = {n: float(np.median([s for s, _ in r])) for n, r in results.items()}
    for name, runs in results.items():
        lines.append(f"| {name} | {medians[name]:.3f} | {', '.join(str(e) for _, e in runs)} |")
    ratios = ", ".join(f"{name}/glassnet = {medians[name] / medians['glassnet']:.2f}" for name in medians if name != "glassnet")
    text = "digits, 64-100-10 ReLU, Adam lr 1e-3, batch 32, 3 seeds\n\n" + "\n".join(lines) + f"\n\n{ratios}\n"
    print(text)
    with open(os.path.join(os.path.dirname(__file__), "results", "time_to_accuracy.md"), "w") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
