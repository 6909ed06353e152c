"""Callbacks and the run's history (learning floor): hooks the trainer calls, and what a fit records.

A callback sees the trainer and may stop it (``trainer.stop(reason)``) or change its public settings
(``trainer.learning_rate``); it never reaches into the trainer's insides. Every callback with state between
epochs (early stopping's best score, a plateau counter) returns it from :meth:`Callback.get_state` and takes
it back in :meth:`Callback.set_state`, so a checkpoint can hold it and a resumed run goes on bit for bit.
State is a dict of JSON values; numpy arrays are allowed as values (a checkpoint stores those as arrays).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .constraints import check
from .errors import ConfigError


@dataclass
class History:
    """Per-epoch record of a fit. ``loss``/``accuracy`` are the means over the epoch's batches, each taken
    before that batch's update; ``val_*`` are measured on the validation data after the epoch."""

    epochs: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    learning_rate: list = field(default_factory=list)
    stop_reason: str = ""
    best_epoch: int | None = None
    warnings: list = field(default_factory=list)  # what went wrong without stopping the run (see Trainer)

    def record(self, logs: dict) -> None:
        """Append one epoch's logs (``epoch``, ``loss``, ``accuracy``, ``val_*``, ``learning_rate``) to the lists
        (other keys are not kept)."""
        for name, value in logs.items():
            field_name = _RECORDED.get(name)
            if field_name is not None:
                getattr(self, field_name).append(value)

    def as_dict(self) -> dict:
        """Every field as a plain dict of lists (JSON-ready)."""
        return {k: v for k, v in vars(self).items()}

    def __len__(self) -> int:
        return len(self.epochs)


#: the logs History.record keeps: log key -> field
_RECORDED = {"epoch": "epochs", "loss": "loss", "accuracy": "accuracy", "val_loss": "val_loss",
             "val_accuracy": "val_accuracy", "learning_rate": "learning_rate"}


class Callback:
    """Hooks called by the trainer. Set ``trainer.stop_training = True`` (with a reason) to stop after the epoch."""

    def on_train_begin(self, trainer: "Trainer") -> None:
        """Called once when a run begins (or resumes), before the first batch."""

    def on_epoch_begin(self, trainer: "Trainer", epoch: int) -> None:
        """Called before the first batch of epoch ``epoch`` (1-based)."""

    def on_batch_end(self, trainer: "Trainer", epoch: int, batch: int, loss: float) -> None:
        """Called after each optimizer step with the batch's loss (measured before the step); ``batch`` is 1-based."""

    def on_epoch_end(self, trainer: "Trainer", epoch: int, logs: dict) -> None:
        """Called after each epoch with its ``logs`` (``loss``, ``accuracy``, ``val_*``, ``learning_rate``)."""

    def on_train_end(self, trainer: "Trainer") -> None:
        """Called once when the run ends, also when it stops early or by an error."""

    def on_interrupt(self, trainer: "Trainer") -> None:
        """Called when the run is interrupted (Ctrl-C, SIGTERM or ``Trainer.request_interrupt``), before it raises
        ``TrainingInterrupted``."""

    def get_state(self) -> dict:
        """What this callback carries between epochs (for checkpoints); {} when nothing."""
        return {}

    def set_state(self, state: dict) -> None:
        """Take back what :meth:`get_state` returned."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the network ends with the weights of its best epoch.
    ``monitor="auto"`` watches ``val_loss`` when there is validation data, else ``loss``.
    """

    def __init__(self, patience: int = 10, monitor: str = "auto", min_delta: float = 0.0,
                 restore_best_weights: bool = True):
        patience = check("patience", patience)
        if monitor not in ("auto", "loss", "val_loss", "accuracy", "val_accuracy"):
            raise ConfigError(f"monitor must be one of auto, loss, val_loss, accuracy, val_accuracy; got {monitor!r}")
        self.patience, self.monitor, self.min_delta = patience, monitor, check("min_delta", min_delta)
        self.restore_best_weights = restore_best_weights
        self.set_state({})

    def on_train_begin(self, trainer):
        """Forget the best value, best weights and patience count of an earlier run (a resumed run keeps the
        state its checkpoint restored)."""
        if trainer.epoch == 0:  # a fresh run (a resumed one keeps the state its checkpoint restored)
            self.set_state({})

    def get_state(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_weights": self.best_weights}

    def set_state(self, state: dict) -> None:
        self.best, self.best_epoch = state.get("best"), state.get("best_epoch")
        self.wait, self.best_weights = state.get("wait", 0), state.get("best_weights")

    def on_epoch_end(self, trainer, epoch, logs):
        """Keep the best weights so far; stop once ``patience`` epochs pass without an improvement of ``min_delta``."""
        key = self.monitor
        if key == "auto":
            key = "val_loss" if "val_loss" in logs else "loss"
        if key not in logs:
            raise ConfigError(f"early stopping monitors {key!r}, which this fit does not measure")
        sign = -1.0 if "accuracy" in key else 1.0  # lower is better for losses
        score = sign * logs[key]
        if self.best is None or score < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = score, epoch, 0
            if self.restore_best_weights:
                self.best_weights = trainer.network.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.stop(f"early stopping: {key} did not improve for {self.patience} epochs "
                         f"(best {sign * self.best:.6g} at epoch {self.best_epoch})")

    def on_train_end(self, trainer):
        """Record the best epoch in the history and, with ``restore_best_weights``, put its weights back."""
        trainer.history.best_epoch = self.best_epoch
        if self.restore_best_weights and self.best_weights is not None:
            trainer.network.set_weights(self.best_weights)


class TargetReached(Callback):
    """Stop once the training loss is at most ``loss`` or the training accuracy at least ``accuracy``
    ("until the network answers with the desired certainty")."""

    def __init__(self, loss: float | None = None, accuracy: float | None = None):
        self.loss, self.accuracy = check("target_loss", loss), check("target_accuracy", accuracy)

    def on_epoch_end(self, trainer, epoch, logs):
        """Stop the run once the epoch's loss is at most the target loss or its accuracy at least the target accuracy."""
        if self.loss is not None and logs["loss"] <= self.loss:
            trainer.stop(f"target loss {self.loss:g} reached at epoch {epoch}")
        elif self.accuracy is not None and logs.get("accuracy", -1.0) >= self.accuracy:
            trainer.stop(f"target accuracy {self.accuracy:g} reached at epoch {epoch}")
