"""Gradient checking (glass-box floor): backpropagation against central differences, parameter by parameter.

    order 2:  dC/dθ ≈ (C(θ + ε) − C(θ − ε)) / 2ε                                     error O(ε²)
    order 4:  dC/dθ ≈ (−C(θ + 2ε) + 8 C(θ + ε) − 8 C(θ − ε) + C(θ − 2ε)) / 12ε          error O(ε⁴)

The measure :func:`gradient_check` reports, per entry of a layer's W or b:

    error = max(|g_bp − g_fd| − R, 0) / max(|g_bp| + |g_fd|, G)

    G = the largest |g_bp| over the layer's W and b (the scale of that layer's gradients)
    R = (Σ|stencil weights| / denominator) · 16 u |C| / ε   (the rounding the stencil can amplify:
        1.5 · 16 u |C| / ε for order 4; u is the machine epsilon of the network's dtype)

So a difference that the cost's rounding explains counts as no error, and a small entry is judged against
its layer's gradients instead of against itself: a correct zero gradient (a dead ReLU unit, an output whose
target weight is 0) reports 0 instead of the stencil's rounding divided by a tiny floor. Above the rounding,
large entries keep their relative error. Measured on 40 random ReLU networks with dead units, the stencil
never returned more than 0.23 u|C|/ε for an exactly-zero gradient, so 16 leaves a margin of about 70.

With ε = 1e-4 the fourth-order truncation error (~ε⁴) is far below the rounding (~1e-16 / ε), so a
correct gradient reports errors near 1e-10 or less and a wrong one (a wrong derivative, a dropped term)
reports 1e-2 or more. A step that crosses a kink (ReLU at 0) is not differentiable there and shows up as a
large error. Run it in float64: in float32 the rounding term R is about 1e-3 · |C| and hides small mistakes.
"""
from __future__ import annotations

import numpy as np

from .backend import to_numpy


def relative_error(a, b, floor: float = 1e-12) -> np.ndarray:
    """|a − b| / max(|a| + |b|, floor), element-wise (``floor`` keeps 0-vs-0 from dividing by zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)


def gradient_error(analytic, numeric, layer_scale: float, rounding: float) -> np.ndarray:
    """max(|a − n| − rounding, 0) / max(|a| + |n|, layer_scale), element-wise (see the module docstring).

    ``layer_scale``: the largest |backprop gradient| of the layer; ``rounding``: what the stencil's rounding
    can contribute to a finite difference. 0 where both are 0.
    """
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    beyond_rounding = np.maximum(np.abs(a - n) - rounding, 0.0)
    return beyond_rounding / np.maximum(np.maximum(np.abs(a) + np.abs(n), layer_scale), np.finfo(np.float64).tiny)


STENCILS = {2: ((1, 1.0), (-1, -1.0)), 4: ((2, -1.0), (1, 8.0), (-1, -8.0), (-2, 1.0))}
DENOMINATORS = {2: 2.0, 4: 12.0}
#: how many units of rounding (machine epsilon times |C|) one evaluation of the cost is allowed
COST_ROUNDING_UNITS = 16


def stencil_rounding(cost: float, epsilon: float, order: int, dtype) -> float:
    """R: how far the cost's rounding (COST_ROUNDING_UNITS · u · |C|) can move a finite difference."""
    amplification = sum(abs(weight) for _, weight in STENCILS[order]) / DENOMINATORS[order]
    return amplification * COST_ROUNDING_UNITS * float(np.finfo(dtype).eps) * abs(cost) / epsilon


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
    """Compare backprop with central differences. Returns, per layer, ``{"W": max error, "b": max error}``
    in the measure of the module docstring (0 when they agree to rounding; a wrong gradient gives ~1e-2 or
    more). ``max_checks`` caps the entries checked per array (a seeded sample)."""
    analytic = [(to_numpy(gw).copy(), to_numpy(gb).copy()) for gw, gb in network.gradients(x, y)]
    rounding = stencil_rounding(network.loss(x, y), epsilon, order, network.dtype)
    numeric = numerical_gradients(network, x, y, epsilon, max_checks, seed, order)
    report = []
    for (grad_w, grad_b), per_layer in zip(analytic, numeric):
        layer_scale = float(max(np.abs(grad_w).max(), np.abs(grad_b).max()))
        errors = {}
        for name, grad in (("W", grad_w), ("b", grad_b)):
            indices, values = per_layer[name]
            errors[name] = float(gradient_error(grad.reshape(-1)[indices], values, layer_scale, rounding).max())
        report.append(errors)
    return report
