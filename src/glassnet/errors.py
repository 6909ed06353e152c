"""One exception hierarchy for everything glassnet refuses to do (ground floor).

Every error glassnet raises on purpose is a :class:`GlassnetError`. The subclasses also derive from the
built-in exception a Python user would expect (``ValueError``, ``TypeError``, ``ArithmeticError``), so
``except ValueError`` keeps working in code that does not know about glassnet.
"""
from __future__ import annotations

import sys
import warnings

__all__ = [
    "GlassnetError",
    "ConfigError",
    "UnknownNameError",
    "DataError",
    "ShapeError",
    "LabelError",
    "NonFiniteError",
    "TrainingDivergedError",
    "TrainingInterrupted",
    "NotFittedError",
    "ModelFileError",
]


class GlassnetError(Exception):
    """Root of every error glassnet raises on purpose."""


class ConfigError(GlassnetError, ValueError):
    """A setting (learning rate, batch size, layer size, ...) is outside what it can be."""


class UnknownNameError(ConfigError):
    """A name (activation, cost, initializer, optimizer, schedule) is not in its registry."""


class DataError(GlassnetError, ValueError):
    """Input data is empty, non-numeric, non-finite or otherwise unusable."""


class ShapeError(DataError):
    """Input data has the wrong shape: rows of X and y differ, or a width does not match a layer."""


class LabelError(DataError):
    """Class labels are not integers, or fall outside the network's output width."""


class NonFiniteError(GlassnetError, ArithmeticError):
    """A value that must be finite (a loss, a gradient) is NaN or infinite."""


class TrainingDivergedError(NonFiniteError):
    """Training produced a non-finite loss or gradient; the network keeps its last finite weights.

    Attributes ``epoch`` and ``batch`` (both 1-based) say where it happened.
    """

    def __init__(self, message: str, epoch: int, batch: int):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch


class TrainingInterrupted(GlassnetError):
    """Training was asked to stop (Ctrl-C, SIGTERM) and stopped after finishing a batch.

    Attributes ``epoch`` and ``batch`` say where; a checkpoint callback saves the run before this propagates.
    """

    def __init__(self, message: str, epoch: int, batch: int):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch


class NotFittedError(GlassnetError, AttributeError):
    """Something that needs a trained or forwarded network was asked of one that is not."""


class ModelFileError(GlassnetError, ValueError):
    """A model or checkpoint file is corrupt, truncated, foreign, or from a newer glassnet."""


class TrainingWarning(UserWarning):
    """Training finished but went wrong without failing: the loss ended far above where it started."""


def warn(message: str, category=RuntimeWarning) -> None:
    """``warnings.warn`` pointed at the first caller outside glassnet (the user's ``fit`` line, not a line of
    the library), however deep in glassnet the warning is raised."""
    frame, level = sys._getframe(1), 2  # stacklevel 2: warn's caller
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "glassnet":
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
