"""Initial values for weights and biases: pure functions of ``(shape, rng, dtype)``.

Weights have shape ``(n_in, n_out)``, so fan_in = shape[0] and fan_out = shape[1]; a bias vector
``(n_out,)`` has fan_in = fan_out = n_out. All randomness comes from the ``numpy.random.Generator`` passed
in, so one seed gives one set of weights, bit for bit.
"""
from __future__ import annotations

import math
from functools import partial

import numpy as np

from .errors import ConfigError
from .registry import Registry

INITIALIZERS = Registry("initializer")


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[1]


@INITIALIZERS.register("constant")
def constant(value: float = 1.0):
    """Every entry equals ``value`` (seed 003's network starts with every weight at 1)."""
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"constant initializer needs a finite number, got {value!r}")

    def init(shape, rng, dtype):
        return np.full(shape, value, dtype=dtype)

    init.config = {"name": "constant", "value": float(value)}
    return init


INITIALIZERS.register("ones", partial(constant, 1.0))
INITIALIZERS.register("zeros", partial(constant, 0.0))


def _random(name, sample, **params):
    """Wrap ``sample(shape, rng) -> float64 array`` as an initializer that casts once to ``dtype``."""

    def init(shape, rng, dtype):
        return sample(shape, rng).astype(dtype, copy=False)

    init.config = {"name": name, **params}
    return init


@INITIALIZERS.register("uniform")
def uniform(low: float = -0.05, high: float = 0.05):
    """U(low, high)."""
    if not low < high:
        raise ConfigError(f"uniform initializer needs low < high, got low={low!r}, high={high!r}")
    return _random("uniform", lambda s, rng: rng.uniform(low, high, s), low=low, high=high)


@INITIALIZERS.register("normal")
def normal(mean: float = 0.0, std: float = 0.05):
    """N(mean, std²)."""
    if not std > 0:
        raise ConfigError(f"normal initializer needs std > 0, got {std!r}")
    return _random("normal", lambda s, rng: rng.normal(mean, std, s), mean=mean, std=std)


def _scaled(name: str, kind: str, rule: str):
    def sample(shape, rng):
        fan_in, fan_out = _fans(shape)
        # Glorot (Xavier): Var(w) = 2 / (fan_in + fan_out);  He (Kaiming): Var(w) = 2 / fan_in
        variance = 2.0 / (fan_in + fan_out) if rule == "glorot" else 2.0 / fan_in
        if kind == "uniform":
            limit = math.sqrt(3.0 * variance)  # U(-l, l) has variance l²/3
            return rng.uniform(-limit, limit, shape)
        return rng.normal(0.0, math.sqrt(variance), shape)

    return lambda: _random(name, sample)


for _rule in ("glorot", "he"):
    for _kind in ("uniform", "normal"):
        INITIALIZERS.register(f"{_rule}_{_kind}", _scaled(f"{_rule}_{_kind}", _kind, _rule))


def get_initializer(spec):
    """An initializer from a name, a number (constant), a config dict, or a callable ``(shape, rng, dtype)``."""
    if isinstance(spec, bool):
        raise ConfigError(f"initializer must be a name, a number or a callable, got {spec!r}")
    if isinstance(spec, (int, float)):
        return constant(float(spec))
    if callable(spec):
        return spec
    return INITIALIZERS.get(spec)


def initializer_config(init) -> dict:
    config = getattr(init, "config", None)
    if config is None:
        raise ConfigError(f"initializer {init!r} has no config; only registered initializers can be saved")
    return dict(config)
