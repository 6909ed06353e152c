"""glassnet's GlassnetClassifier vs scikit-learn's MLPClassifier on digits (run by hand).

One seeded 75/25 split, standardised; one hidden layer of 100 ReLU units; the same solver and iteration
count; 3 seeds. python benchmarks/sklearn_digits.py
"""
import os
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
from glassnet.sklearn import GlassnetClassifier  # noqa: E402

SETTINGS = {"sgd": dict(solver="sgd", learning_rate_init=0.01, max_iter=200),
            "adam": dict(solver="adam", learning_rate_init=0.001, max_iter=200),
            "lbfgs": dict(solver="lbfgs", max_iter=200)}


def main():
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    lines = ["| solver | glassnet accuracy | scikit-learn accuracy | difference (points) | glassnet fit s | "
             "scikit-learn fit s |", "|---|---|---|---|---|---|"]
    for solver, params in SETTINGS.items():
        scores = {"g": [], "s": []}
        times = {"g": [], "s": []}
        for seed in range(3):
            for key, cls in (("g", GlassnetClassifier), ("s", MLPClassifier)):
                model = cls(hidden_layer_sizes=(100,), random_state=seed, **params)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    model.fit(Xtr, ytr)
                    times[key].append(time.perf_counter() - start)
                scores[key].append(model.score(Xte, yte))
        g, s = np.mean(scores["g"]), np.mean(scores["s"])
        lines.append(f"| {solver} | {g:.2%} | {s:.2%} | {100 * (g - s):+.2f} | {np.median(times['g']):.2f} | "
                     f"{np.median(times['s']):.2f} |")
    text = ("digits, 75/25 split (random_state=0), standardised, (100,) ReLU, mean of 3 seeds, "
            "median fit time\n\n" + "\n".join(lines) + "\n")
    print(text)
    with open(os.path.join(os.path.dirname(__file__), "results", "sklearn_digits.md"), "w") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
