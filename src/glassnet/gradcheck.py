"""Gradient checking (glass-box floor): backpropagation against central differences, parameter by parameter.

    order 2:  dC/dθ ≈ (C(θ + ε) − C(θ − ε)) / 2ε                                     error O(ε²)
    order 4:  dC/dθ ≈ (−C(θ + 2ε) + 8 C(θ + ε) − 8 C(θ − ε) + C(θ − 2ε)) / 12ε          error O(ε⁴)

    relative error = |g_bp − g_fd| / max(|g_bp| + |g_fd|, floor)

The fourth-order stencil is the default: with ε = 1e-4 its truncation error (~ε⁴) is far below the
rounding error of the cost (~1e-16 / ε), so gradients as small as 1e-6 are still checked to 1e-6.
A step that crosses a kink (ReLU at 0) is not differentiable there and shows up as a large error.
Run it in float64: in float32 the differences themselves carry errors near 1e-3.
"""
from __future__ import annotations

import numpy as np

from .backend import to_numpy


def relative_error(a, b, floor: float = 1e-12) -> np.ndarray:
    """|a − b| / max(|a| + |b|, floor), element-wise (``floor`` keeps 0-vs-0 from dividing by zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)


STENCILS = {2: ((1, 1.0), (-1, -1.0)), 4: ((2, -1.0), (1, 8.0), (-1, -8.0), (-2, 1.0))}
DENOMINATORS = {2: 2.0, 4: 12.0}


def numerical_gradients(network, x, y, epsilon: float = 1e-4, max_checks: int | None = None,
                        seed: int = 0, order: int = 4) -> list[dict]:
    """Central-difference estimates for every parameter entry (or a seeded sample of ``max_checks`` per
    array); returns per layer ``{"W": (flat indices, estimates), "b": (...)}``."""
    if order not in STENCILS:
        raise ValueError(f"order must be 2 or 4, got {order!r}")
    x, y = network.check_xy(x, y)
    rng = np.random.default_rng(seed)

    def cost() -> float:
        network.forward(x, checked=True)
        return network.cost_of_last_forward(y)

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
                total = 0.0
                for shift, weight in STENCILS[order]:
                    flat[i] = original + shift * epsilon
                    total += weight * cost()
                flat[i] = original
                values[k] = total / (DENOMINATORS[order] * epsilon)
            per_layer[name] = (indices, values)
        estimates.append(per_layer)
    return estimates


def gradient_check(network, x, y, epsilon: float = 1e-4, max_checks: int | None = 200, seed: int = 0,
                   order: int = 4) -> list[dict]:
    """Compare backprop with central differences. Returns, per layer, ``{"W": max relative error,
    "b": max relative error}``. ``max_checks`` caps the entries checked per array (a seeded sample)."""
    analytic = [(to_numpy(gw).copy(), to_numpy(gb).copy()) for gw, gb in network.gradients(x, y)]
    numeric = numerical_gradients(network, x, y, epsilon, max_checks, seed, order)
    report = []
    for (grad_w, grad_b), per_layer in zip(analytic, numeric):
        errors = {}
        for name, grad in (("W", grad_w), ("b", grad_b)):
            indices, values = per_layer[name]
            errors[name] = float(relative_error(grad.reshape(-1)[indices], values).max())
        report.append(errors)
    return report
