"""Initial values for weights and biases (math floor): pure functions of ``(shape, rng, dtype)``.

Weights have shape ``(n_in, n_out)``, so fan_in = shape[0] and fan_out = shape[1]; a bias vector
``(n_out,)`` has fan_in = fan_out = n_out. All randomness comes from the ``numpy.random.Generator`` passed
in, so one seed gives one set of weights, bit for bit.
"""
from __future__ import annotations

import math
import numpy as np

from .errors import ConfigError
from .registry import Registry

INITIALIZERS = Registry("initializer")


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[1]


class Initializer:
    """Base class: ``init(shape, rng, dtype) -> array``; ``config`` names it for model files."""

    name = "initializer"

    def __call__(self, shape, rng, dtype):
        return self.sample(shape, rng).astype(dtype, copy=False)

    def sample(self, shape, rng):
        """Draw an array of ``shape`` from ``rng`` (a ``numpy.random.Generator``), in float64."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """``{"name": ...}`` plus the initializer's parameters, for model files."""
        return {"name": self.name, **vars(self)}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        """The initializer a :meth:`get_config` dict describes (through ``INITIALIZERS``)."""
        return INITIALIZERS.get(config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


class Constant(Initializer):
    """Every entry equals ``value`` (seed 003's network starts with every weight at 1)."""

    name = "constant"

    def __init__(self, value: float = 1.0):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"constant initializer needs a finite number, got {value!r}")
        self.value = float(value)

    def __call__(self, shape, rng, dtype):
        return np.full(shape, self.value, dtype=dtype)


class Uniform(Initializer):
    """U(low, high)."""

    name = "uniform"

    def __init__(self, low: float = -0.05, high: float = 0.05):
        if not low < high:
            raise ConfigError(f"uniform initializer needs low < high, got low={low!r}, high={high!r}")
        self.low, self.high = float(low), float(high)

    def sample(self, shape, rng):
        """Values from U(low, high)."""
        return rng.uniform(self.low, self.high, shape)


class Normal(Initializer):
    """N(mean, std²)."""

    name = "normal"

    def __init__(self, mean: float = 0.0, std: float = 0.05):
        if not std > 0:
            raise ConfigError(f"normal initializer needs std > 0, got {std!r}")
        self.mean, self.std = float(mean), float(std)

    def sample(self, shape, rng):
        """Values from N(mean, std²)."""
        return rng.normal(self.mean, self.std, shape)


class VarianceScaling(Initializer):
    """Glorot (Xavier): Var(w) = 2 / (fan_in + fan_out);  He (Kaiming): Var(w) = 2 / fan_in.
    ``distribution`` "uniform" draws U(−l, l) with l = sqrt(3 Var); "normal" draws N(0, Var)."""

    def __init__(self, rule: str, distribution: str):
        self.rule, self.distribution = rule, distribution

    @property
    def name(self) -> str:
        """``"glorot_uniform"``, ``"glorot_normal"``, ``"he_uniform"`` or ``"he_normal"``."""
        return f"{self.rule}_{self.distribution}"

    def get_config(self) -> dict:
        """``{"name": ...}``: the rule and distribution are in the name."""
        return {"name": self.name}

    def sample(self, shape, rng):
        """Variance 2/(fan_in + fan_out) for Glorot, 2/fan_in for He; uniform draws use U(−l, l) with
        l = √(3·variance), normal draws N(0, variance). ``shape`` is ``(fan_in, fan_out)``.
        """
        fan_in, fan_out = _fans(shape)
        variance = 2.0 / (fan_in + fan_out) if self.rule == "glorot" else 2.0 / fan_in
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)  # U(-l, l) has variance l²/3
            return rng.uniform(-limit, limit, shape)
        return rng.normal(0.0, math.sqrt(variance), shape)


INITIALIZERS.register("constant", Constant)
INITIALIZERS.register("ones", lambda: Constant(1.0))
INITIALIZERS.register("zeros", lambda: Constant(0.0))
INITIALIZERS.register("uniform", Uniform)
INITIALIZERS.register("normal", Normal)
for _rule in ("glorot", "he"):
    for _distribution in ("uniform", "normal"):
        INITIALIZERS.register(f"{_rule}_{_distribution}",
                              lambda r=_rule, d=_distribution: VarianceScaling(r, d))


def get_initializer(spec):
    """An initializer from a name, a number (constant), a config dict, or a callable ``(shape, rng, dtype)``."""
    if isinstance(spec, bool):
        raise ConfigError(f"initializer must be a name, a number or a callable, got {spec!r}")
    if isinstance(spec, (int, float)):
        return Constant(float(spec))
    if callable(spec):
        return spec
    return INITIALIZERS.get(spec)


def initializer_config(init) -> dict:
    """The JSON config of an initializer instance; a bare callable without ``get_config`` is a ConfigError (it could not
    be saved)."""
    get_config = getattr(init, "get_config", None)
    if get_config is None:
        raise ConfigError(f"initializer {init!r} has no config; only registered initializers can be saved")
    return dict(get_config())
