"""Datasets that need no download (files floor): generated ones here (seeded), shipped ones in
:mod:`glassnet.data`; both kinds are listed in one registry, :data:`DATASETS`, which the CLI
(``glassnet datasets``, ``--dataset``) and the web playground read.

Every generator returns ``(X, y)`` with ``X: (n_samples, n_features)`` float64 and ``y: (n_samples,)`` int64
class labels (float64 targets for ``regression``). The same seed always gives the same data.
"""
from __future__ import annotations

import numpy as np

from .errors import ConfigError
from .registry import Registry


def _rng(seed):
    return np.random.default_rng(seed)


def _count(n_samples, minimum=1) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < minimum:
        raise ConfigError(f"n_samples must be an integer >= {minimum}, got {n_samples!r}")
    return int(n_samples)


def _truth_table(outputs):
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array(outputs, dtype=np.int64)


def xor():
    """The XOR truth table of seed 003: (0,0)->0, (0,1)->1, (1,0)->1, (1,1)->0."""
    return _truth_table([0, 1, 1, 0])


def and_gate():
    """The AND truth table."""
    return _truth_table([0, 0, 0, 1])


def or_gate():
    """The OR truth table."""
    return _truth_table([0, 1, 1, 1])


def moons(n_samples: int = 400, noise: float = 0.1, seed: int | None = 0):
    """Two interleaving half circles, ``n_samples // 2`` per class, Gaussian noise of std ``noise``."""
    n = _count(n_samples, 2)
    rng = _rng(seed)
    n_upper = n // 2
    t_upper = rng.uniform(0, np.pi, n_upper)
    t_lower = rng.uniform(0, np.pi, n - n_upper)
    upper = np.c_[np.cos(t_upper), np.sin(t_upper)]
    lower = np.c_[1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)]
    X = np.r_[upper, lower] + rng.normal(0, noise, (n, 2))
    return X, np.r_[np.zeros(n_upper, np.int64), np.ones(n - n_upper, np.int64)]


def circles(n_samples: int = 400, noise: float = 0.05, factor: float = 0.5, seed: int | None = 0):
    """A small circle (class 1, radius ``factor``) inside a large one (class 0, radius 1)."""
    n = _count(n_samples, 2)
    rng = _rng(seed)
    n_outer = n // 2
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.r_[np.ones(n_outer), np.full(n - n_outer, factor)]
    X = np.c_[radius * np.cos(angle), radius * np.sin(angle)] + rng.normal(0, noise, (n, 2))
    return X, np.r_[np.zeros(n_outer, np.int64), np.ones(n - n_outer, np.int64)]


def spirals(n_samples: int = 400, n_classes: int = 2, noise: float = 0.05, turns: float = 1.5,
            seed: int | None = 0):
    """``n_classes`` interleaved spiral arms in the plane (the classic hard 2-D set)."""
    n = _count(n_samples, n_classes)
    rng = _rng(seed)
    labels = np.arange(n) % n_classes
    t = rng.uniform(0.05, 1.0, n)
    angle = 2 * np.pi * turns * t + 2 * np.pi * labels / n_classes
    X = np.c_[t * np.cos(angle), t * np.sin(angle)] + rng.normal(0, noise, (n, 2))
    return X, labels.astype(np.int64)


def blobs(n_samples: int = 300, n_classes: int = 3, n_features: int = 2, spread: float = 1.0,
          seed: int | None = 0):
    """Gaussian clusters around centres drawn uniformly from [-5, 5]^n_features."""
    n = _count(n_samples, n_classes)
    rng = _rng(seed)
    centres = rng.uniform(-5, 5, (n_classes, n_features))
    labels = np.arange(n) % n_classes
    return centres[labels] + rng.normal(0, spread, (n, n_features)), labels.astype(np.int64)


def regression(n_samples: int = 300, noise: float = 0.1, seed: int | None = 0):
    """A 1-D regression set: y = sin(2x) + x/2 + noise for x in [-3, 3]; ``y`` is float64 ``(n_samples,)``."""
    n = _count(n_samples)
    rng = _rng(seed)
    x = rng.uniform(-3, 3, (n, 1))
    y = np.sin(2 * x[:, 0]) + 0.5 * x[:, 0] + rng.normal(0, noise, n)
    return x, y


#: every built-in dataset by name: ``DATASETS.get(name, seed=0, n_samples=None)`` -> ``data.Dataset``;
#: ``DATASETS.info(name)`` -> ``{"description", "kind" ("generated"/"shipped"), "task", "n_features",
#: "tiny" (a truth table: trained and reported on all its rows)}``. Shipped sets register from glassnet.data.
DATASETS = Registry("dataset")

GENERATORS = {  # name: (generator, description, task, takes seed and n_samples)
    "xor": (xor, "the XOR truth table (seed 003)", "classification", False),
    "and": (and_gate, "the AND truth table", "classification", False),
    "or": (or_gate, "the OR truth table", "classification", False),
    "moons": (moons, "two interleaving half circles (2-D)", "classification", True),
    "circles": (circles, "a circle inside a circle (2-D)", "classification", True),
    "spirals": (spirals, "two interleaved spirals (2-D)", "classification", True),
    "blobs": (blobs, "three Gaussian clusters (2-D)", "classification", True),
    "regression": (regression, "y = sin(2x) + x/2 + noise (1-D regression)", "regression", True),
}


def generated(name: str, seed: int = 0, n_samples: int | None = None):
    """``(X, y)`` of generated dataset ``name`` (truth tables ignore ``seed`` and ``n_samples``)."""
    make, _, _, takes_options = GENERATORS[name]
    if not takes_options:
        return make()
    return make(seed=seed) if n_samples is None else make(n_samples=n_samples, seed=seed)


def train_test_split(X, y, test_fraction: float = 0.25, seed: int | None = 0):
    """A seeded shuffle split: ``X_train, X_test, y_train, y_test``."""
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    n = len(X)
    n_test = int(round(n * test_fraction))
    if n_test < 1 or n_test >= n:
        raise ConfigError(f"cannot split {n} samples with test_fraction={test_fraction}")
    order = _rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
