"""Learning-rate schedules: the learning rate for each epoch (0-based) from the initial rate lr_0."""
from __future__ import annotations

import math

from .errors import ConfigError
from .registry import Registry


class Schedule:
    name = "schedule"

    def __call__(self, learning_rate: float, epoch: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, **{k: v for k, v in vars(self).items()}}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


SCHEDULES = Registry("schedule", Schedule)


@SCHEDULES.register("constant")
class Constant(Schedule):
    """lr = lr_0."""

    name = "constant"

    def __call__(self, learning_rate, epoch):
        return learning_rate


@SCHEDULES.register("step")
class Step(Schedule):
    """lr = lr_0 · factor^floor(epoch / every)."""

    name = "step"

    def __init__(self, every: int = 10, factor: float = 0.5):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ConfigError(f"step schedule 'every' must be a positive integer, got {every!r}")
        if not 0 < factor <= 1:
            raise ConfigError(f"step schedule 'factor' must be in (0, 1], got {factor!r}")
        self.every, self.factor = every, float(factor)

    def __call__(self, learning_rate, epoch):
        return learning_rate * self.factor ** (epoch // self.every)


@SCHEDULES.register("exponential")
class Exponential(Schedule):
    """lr = lr_0 · gamma^epoch."""

    name = "exponential"

    def __init__(self, gamma: float = 0.95):
        if not 0 < gamma <= 1:
            raise ConfigError(f"exponential schedule 'gamma' must be in (0, 1], got {gamma!r}")
        self.gamma = float(gamma)

    def __call__(self, learning_rate, epoch):
        return learning_rate * self.gamma ** epoch


@SCHEDULES.register("cosine")
class Cosine(Schedule):
    """lr = min_lr + ½ (lr_0 − min_lr)(1 + cos(π · min(epoch, period) / period))."""

    name = "cosine"

    def __init__(self, period: int = 100, min_lr: float = 0.0):
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise ConfigError(f"cosine schedule 'period' must be a positive integer, got {period!r}")
        if min_lr < 0:
            raise ConfigError(f"cosine schedule 'min_lr' must be >= 0, got {min_lr!r}")
        self.period, self.min_lr = period, float(min_lr)

    def __call__(self, learning_rate, epoch):
        progress = min(epoch, self.period) / self.period
        return self.min_lr + 0.5 * (learning_rate - self.min_lr) * (1.0 + math.cos(math.pi * progress))


def get_schedule(spec, **params) -> Schedule:
    return SCHEDULES.get(spec, **params)
