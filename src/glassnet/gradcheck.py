"""Gradient checking: backpropagation against central differences, parameter by parameter.

    dC/dθ ≈ (C(θ + ε) − C(θ − ε)) / 2ε,     relative error = |g_bp − g_fd| / max(|g_bp| + |g_fd|, tiny)

Run it in float64: in float32 the differences themselves carry errors near 1e-3.
"""
from __future__ import annotations

import numpy as np

from .backend import to_numpy


def relative_error(a, b, floor: float = 1e-12) -> np.ndarray:
    """|a − b| / max(|a| + |b|, floor), element-wise (``floor`` keeps 0-vs-0 from dividing by zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)


def numerical_gradients(network, x, y, epsilon: float = 1e-6, max_checks: int | None = None,
                        seed: int = 0) -> list[dict]:
    """Central-difference estimates ``[{"W": (index, value) ...}]`` for every (or a seeded sample of)
    parameter entries; returns per layer a dict name -> (flat indices, estimates)."""
    x, y = network.check_xy(x, y)
    rng = np.random.default_rng(seed)

    def cost() -> float:
        network._forward(x)
        return network._cost_value(y)

    estimates = []
    for layer in network.layers:
        per_layer = {}
        for name, param in (("W", layer.W), ("b", layer.b)):
            flat = param.reshape(-1)
            indices = np.arange(flat.size)
            if max_checks is not None and flat.size > max_checks:
                indices = np.sort(rng.choice(flat.size, max_checks, replace=False))
            values = np.empty(indices.size)
            for k, i in enumerate(indices):
                original = flat[i].copy()
                flat[i] = original + epsilon
                plus = cost()
                flat[i] = original - epsilon
                minus = cost()
                flat[i] = original
                values[k] = (plus - minus) / (2.0 * epsilon)
            per_layer[name] = (indices, values)
        estimates.append(per_layer)
    return estimates


def gradient_check(network, x, y, epsilon: float = 1e-6, max_checks: int | None = 200, seed: int = 0) -> list[dict]:
    """Compare backprop with central differences. Returns, per layer, ``{"W": max relative error,
    "b": max relative error}``. ``max_checks`` caps the entries checked per array (a seeded sample)."""
    analytic = [(to_numpy(gw).copy(), to_numpy(gb).copy()) for gw, gb in network.gradients(x, y)]
    numeric = numerical_gradients(network, x, y, epsilon, max_checks, seed)
    report = []
    for (grad_w, grad_b), per_layer in zip(analytic, numeric):
        errors = {}
        for name, grad in (("W", grad_w), ("b", grad_b)):
            indices, values = per_layer[name]
            errors[name] = float(relative_error(grad.reshape(-1)[indices], values).max())
        report.append(errors)
    return report
