"""Learning-rate schedules (learning floor): the learning rate for each epoch (0-based) from the base rate lr_0."""
from __future__ import annotations

import math

from .constraints import check
from .registry import Registry


class Schedule:
    """Base class: ``schedule(learning_rate, epoch) -> float`` gives the rate for a 0-based epoch from the
    initial rate. Subclasses state their rule in their docstring.
    """
    name = "schedule"

    def __call__(self, learning_rate: float, epoch: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        """``{"name": ...}`` plus the schedule's parameters."""
        return {"name": self.name, **{k: v for k, v in vars(self).items()}}

    @classmethod
    def from_config(cls, config: dict) -> "Schedule":
        """The schedule a :meth:`get_config` dict describes (through ``SCHEDULES``)."""
        return SCHEDULES.get(config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


SCHEDULES = Registry("schedule", Schedule)


@SCHEDULES.register("constant")
class ConstantRate(Schedule):
    """lr = lr_0."""

    name = "constant"

    def __call__(self, learning_rate, epoch):
        return learning_rate


@SCHEDULES.register("step")
class Step(Schedule):
    """lr = lr_0 · factor^floor(epoch / every)."""

    name = "step"

    def __init__(self, every: int = 10, factor: float = 0.5):
        self.every = check("step_every", every, "step schedule 'every'")
        self.factor = check("step_factor", factor, "step schedule 'factor'")

    def __call__(self, learning_rate, epoch):
        return learning_rate * self.factor ** (epoch // self.every)


@SCHEDULES.register("exponential")
class Exponential(Schedule):
    """lr = lr_0 · gamma^epoch."""

    name = "exponential"

    def __init__(self, gamma: float = 0.95):
        self.gamma = check("gamma", gamma, "exponential schedule 'gamma'")

    def __call__(self, learning_rate, epoch):
        return learning_rate * self.gamma ** epoch


@SCHEDULES.register("cosine")
class Cosine(Schedule):
    """lr = min_lr + ½ (lr_0 − min_lr)(1 + cos(π · min(epoch, period) / period))."""

    name = "cosine"

    def __init__(self, period: int = 100, min_lr: float = 0.0):
        self.period = check("period", period, "cosine schedule 'period'")
        self.min_lr = check("min_learning_rate", min_lr, "cosine schedule 'min_lr'")

    def __call__(self, learning_rate, epoch):
        progress = min(epoch, self.period) / self.period
        return self.min_lr + 0.5 * (learning_rate - self.min_lr) * (1.0 + math.cos(math.pi * progress))


@SCHEDULES.register("invscaling")
class InvScaling(Schedule):
    """scikit-learn's inverse scaling: lr = lr_0 / (t + 1)^power_t, where t = epoch · samples_per_epoch is
    the number of samples seen before the epoch (the rate changes once per epoch, as in scikit-learn)."""

    name = "invscaling"

    def __init__(self, power_t: float = 0.5, samples_per_epoch: int = 1):
        self.power_t = check("power_t", power_t)
        self.samples_per_epoch = check("samples_per_epoch", samples_per_epoch)

    def __call__(self, learning_rate, epoch):
        return learning_rate / (epoch * self.samples_per_epoch + 1) ** self.power_t


def get_schedule(spec, **params) -> Schedule:
    """A :class:`Schedule` from a name (``"constant"``, ``"step"``, ``"exponential"``, ``"cosine"``), a config dict or
    an instance; ``params`` go to its constructor."""
    return SCHEDULES.get(spec, **params)
