"""Checkpoints (files floor): everything a run needs to continue bit for bit, in the model-file format (no pickle, atomic).

A checkpoint holds the weights, the optimizer's state (momentum, Adam moments, step count), the schedule's
position (the epoch), the random generator's state, a part-run epoch's position and running sums, and the
history. ``restore_trainer`` rebuilds a :class:`~glassnet.training.Trainer` that continues the same run:
resumed after an interruption, it ends with the same weights as a run that was never interrupted.
"""
from __future__ import annotations

import os
import signal
from contextlib import contextmanager

import numpy as np

from .backend import to_numpy
from .errors import ModelFileError
from .modelfile import Model, load_model, save_model
from .optimizers import get_optimizer
from .schedules import get_schedule
from .callbacks import Callback, History
from .training import EpochProgress, Trainer


def save_checkpoint(path: str, trainer: Trainer, model: Model | None = None, settings: dict | None = None,
                    total_epochs: int | None = None) -> None:
    """Write ``trainer``'s whole state to ``path`` atomically. ``model`` adds preprocessing and labels;
    ``settings`` (JSON) is stored for the command line to rebuild the data on resume."""
    arrays = {}
    for index, state in enumerate(trainer.optimizer.state):
        for key, value in state.items():
            if key != "scratch":  # scratch arrays hold no state between steps
                arrays[f"opt.{index}.{key}"] = to_numpy(value)
    progress = None
    if trainer.progress is not None:
        p = trainer.progress
        progress = p.as_dict()
    state = {
        "optimizer": trainer.optimizer.get_config(), "optimizer_t": trainer.optimizer.t,
        "optimizer_slots": len(trainer.optimizer.state),
        "learning_rate": trainer.learning_rate, "batch_size": trainer.batch_size,
        "schedule": trainer.schedule.get_config(), "shuffle": trainer.shuffle,
        "clip_norm": trainer.clip_norm, "clip_value": trainer.clip_value,
        "explode_threshold": trainer.explode_threshold,
        "epoch": trainer.epoch, "progress": progress, "total_epochs": total_epochs,
        "rng_state": trainer.network.rng.bit_generator.state,
        "history": trainer.history.as_dict(), "settings": settings or {},
    }
    base = model or Model(trainer.network)
    checkpoint = Model(trainer.network, base.standardizer, base.class_labels, base.feature_names, base.training,
                       arrays, {"trainer": state})
    save_model(path, checkpoint, kind="checkpoint")


def load_checkpoint(path: str) -> tuple[Model, dict]:
    """The checkpoint's model and trainer state; raises ModelFileError for anything else."""
    model = load_model(path, expect_kind="checkpoint")
    state = model.extra_meta.get("trainer")
    if not isinstance(state, dict):
        raise ModelFileError(f"{path}: checkpoint has no trainer state")
    return model, state


def restore_trainer(path: str, callbacks=()) -> tuple[Trainer, Model, dict]:
    """A trainer that continues the run saved in ``path``; returns (trainer, model, state)."""
    model, state = load_checkpoint(path)
    network = model.network
    try:
        trainer = Trainer(network, get_optimizer(state["optimizer"]), state["learning_rate"], state["batch_size"],
                          get_schedule(state["schedule"]), state["shuffle"], callbacks, state.get("clip_norm"),
                          state.get("clip_value"), state.get("explode_threshold"))
        trainer.optimizer.t = int(state["optimizer_t"])
        slots = int(state["optimizer_slots"])
        if slots:
            trainer.optimizer.ensure_state(network.params.groups)
            saved = _optimizer_arrays(model.extra_arrays, slots, len(network.layers))
            for index, slot in enumerate(trainer.optimizer.state):
                for key in slot:
                    if key != "scratch":
                        slot[key][...] = network.xp.asarray(saved(index, key))
        trainer.epoch = int(state["epoch"])
        network.rng.bit_generator.state = state["rng_state"]
        if state["progress"] is not None:
            trainer.progress = EpochProgress(**state["progress"])
        trainer.history = History(**state["history"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: the checkpoint's trainer state is incomplete or invalid ({exc})") from None
    return trainer, model, state


def _optimizer_arrays(arrays: dict, slots: int, n_layers: int):
    """``(group, key) -> array`` for the optimizer state in a checkpoint: group 0 holds every weight's
    state, group 1 every bias's. Checkpoints written before the flat layout kept one slot per W and b
    ([W_1, b_1, W_2, ...]); those are joined into the two groups."""
    if slots == 2:
        return lambda index, key: arrays[f"opt.{index}.{key}"]
    if slots != 2 * n_layers:
        raise ValueError(f"{slots} optimizer slots for a network of {n_layers} layers")
    return lambda index, key: np.concatenate([arrays[f"opt.{slot}.{key}"].ravel()
                                              for slot in range(index, slots, 2)])


class Checkpoint(Callback):
    """Save the run every ``every`` epochs (None: only when interrupted) and whenever it is interrupted."""

    def __init__(self, path: str, every: int | None = 1, model: Model | None = None, settings: dict | None = None,
                 total_epochs: int | None = None):
        self.path, self.every = path, None if every is None else max(1, int(every))
        self.model, self.settings, self.total_epochs = model, settings, total_epochs

    def save(self, trainer) -> None:
        save_checkpoint(self.path, trainer, self.model, self.settings, self.total_epochs)

    def on_epoch_end(self, trainer, epoch, logs):
        if self.every is not None and epoch % self.every == 0:
            self.save(trainer)

    def on_interrupt(self, trainer):
        self.save(trainer)


@contextmanager
def graceful_interrupts(trainer: Trainer, on_first=None):
    """While inside: the first SIGINT or SIGTERM asks ``trainer`` to stop after its current batch; a second
    one exits at once (files are written atomically, so none is left half-written)."""

    def handler(signum, frame):
        if trainer.interrupt_requested:
            _exit_now(signum, frame)
        trainer.request_interrupt()
        if on_first is not None:
            on_first(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            # once interrupted, any further signal (while the checkpoint is written or the process winds
            # down) exits at once, as a second Ctrl-C should
            signal.signal(sig, _exit_now if trainer.interrupt_requested else old)


def _exit_now(signum, frame):
    os._exit(130 if signum == signal.SIGINT else 143)
