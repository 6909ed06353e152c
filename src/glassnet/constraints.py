"""The one table of parameter constraints (ground floor), like scikit-learn's ``_parameter_constraints``.

Every entry point — ``Network``, ``Dense``, the optimizers, schedules and callbacks, the trainer, the
scikit-learn estimators, the command line and the web playground — checks a scalar parameter by looking its
name up here, so the learning rate (say) has the same bounds and the same error message everywhere.

>>> check("learning_rate", 0.1)
0.1
>>> check("momentum", 1.0)
Traceback (most recent call last):
...
glassnet.errors.ConfigError: momentum must be a number in [0, 1), got 1.0
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError

INF = math.inf


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (int or float) between ``low`` and ``high``; ``closed`` says which ends count."""

    kind: type
    low: float = -INF
    high: float = INF
    closed: str = "both"          # "both", "left", "right" or "neither"
    allow_none: bool = False

    def accepts(self, value) -> bool:
        """True when ``value`` is a finite number of the right kind inside the interval (``None`` only with
        ``allow_none``; booleans never)."""
        if isinstance(value, (bool, np.bool_)):
            return False
        if self.kind is int and not isinstance(value, (int, np.integer)):
            return False
        if not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
            return False
        low_ok = value >= self.low if self.closed in ("both", "left") else value > self.low
        high_ok = value <= self.high if self.closed in ("both", "right") else value < self.high
        return low_ok and high_ok

    def describe(self) -> str:
        """The interval in words for error messages, e.g. ``"a finite number > 0"``."""
        noun = "an integer" if self.kind is int else "a finite number"
        if self.kind is int and self.low == 1 and self.high == INF:
            text = "a positive integer (>= 1)"
        elif self.high == INF:
            text = f"{noun} {'>=' if self.closed in ('both', 'left') else '>'} {_num(self.low)}"
        elif self.low == -INF:
            text = f"{noun} {'<=' if self.closed in ('both', 'right') else '<'} {_num(self.high)}"
        else:
            left = "[" if self.closed in ("both", "left") else "("
            right = "]" if self.closed in ("both", "right") else ")"
            text = f"{'an integer' if self.kind is int else 'a number'} in {left}{_num(self.low)}, {_num(self.high)}{right}"
        return text + (" or None" if self.allow_none else "")


def _num(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


POSITIVE_INT = Interval(int, 1)
POSITIVE = Interval(float, 0.0, closed="right")       # > 0
NON_NEGATIVE = Interval(float, 0.0)                    # >= 0
UNIT_OPEN = Interval(float, 0.0, 1.0, closed="left")  # [0, 1)
OPTIONAL_POSITIVE = Interval(float, 0.0, closed="right", allow_none=True)

#: name -> constraint; the web page and the CLI add caps of their own only for resources (units, samples)
CONSTRAINTS: dict[str, Interval] = {
    # model
    "n_in": POSITIVE_INT,
    "n_out": POSITIVE_INT,
    "l2": NON_NEGATIVE,
    "seed": Interval(int, 0, 2 ** 63 - 1, allow_none=True),
    "leaky_relu_alpha": UNIT_OPEN,
    # training
    "learning_rate": POSITIVE,
    "epochs": POSITIVE_INT,
    "batch_size": Interval(int, 1, allow_none=True),
    "max_steps": Interval(int, 1, allow_none=True),
    "max_epochs": Interval(int, 1, allow_none=True),
    "clip_norm": OPTIONAL_POSITIVE,
    "clip_value": OPTIONAL_POSITIVE,
    "explode_threshold": OPTIONAL_POSITIVE,
    "patience": POSITIVE_INT,
    "min_delta": NON_NEGATIVE,
    "target_loss": Interval(float, 0.0, allow_none=True),
    "target_accuracy": Interval(float, 0.0, 1.0, allow_none=True),
    "checkpoint_every": Interval(int, 1, allow_none=True),
    # optimizers
    "momentum": UNIT_OPEN,
    "beta_1": UNIT_OPEN,
    "beta_2": UNIT_OPEN,
    "epsilon": POSITIVE,
    "weight_decay": NON_NEGATIVE,
    # schedules
    "step_every": POSITIVE_INT,
    "step_factor": Interval(float, 0.0, 1.0, closed="right"),
    "gamma": Interval(float, 0.0, 1.0, closed="right"),
    "period": POSITIVE_INT,
    "min_learning_rate": NON_NEGATIVE,
    "power_t": NON_NEGATIVE,
    "samples_per_epoch": POSITIVE_INT,
    # trace and gradient check
    "gradcheck_epsilon": POSITIVE,
    "max_checks": Interval(int, 1, allow_none=True),
}


def check(name: str, value, label: str | None = None):
    """``value`` checked against ``CONSTRAINTS[name]``: an int or float (as the constraint's kind) or None.
    ``label`` names the parameter in the error when it differs from the table's key."""
    constraint = CONSTRAINTS[name]
    if value is None and constraint.allow_none:
        return None
    if not constraint.accepts(value):
        raise ConfigError(f"{label or name} must be {constraint.describe()}, got {value!r}")
    return int(value) if constraint.kind is int else float(value)
