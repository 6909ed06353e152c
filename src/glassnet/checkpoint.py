"""Checkpoints (files floor): everything a run needs to continue bit for bit, in the model-file format (no pickle, atomic).

A checkpoint holds the weights, the optimizer's state (momentum, Adam moments, step count), the schedule's
position (the epoch), the random generator's state, a part-run epoch's position and running sums, the
history, the callbacks' state (early stopping's best score, patience count and best weights), the engine it
ran on (numpy or compiled: a run resumes on it, so it ends bit for bit where it would have) and a
fingerprint of the training data. Its trainer state is checked against :data:`TRAINER_STATE` (every field
typed and bounded) before anything is rebuilt. ``restore_trainer`` rebuilds a
:class:`~glassnet.training.Trainer` that continues the same run: resumed after an interruption, it ends
with the same weights as a run that was never interrupted.
"""
from __future__ import annotations

import hashlib
import os
import signal
from contextlib import contextmanager

import numpy as np

from .backend import to_numpy
from .errors import ModelFileError
from .modelfile import (CONFIG, MAX_LAYERS, MAX_TEXT, TRAINING, AnyOf, Flag, Info, Int, ListOf, MapOf, Model,
                        Number, Record, Text, load_model, save_model)
from .callbacks import Callback, History
from .compiled import ENGINES
from .optimizers import get_optimizer
from .schedules import get_schedule
from .training import EpochProgress, Trainer

# ---- the trainer state's schema ------------------------------------------------------------------------
# To add a field: add it to TRAINER_STATE (and to ``required`` if every checkpoint must have it).
MAX_COUNT = 2 ** 40
MAX_EPOCH_RECORDS = 1_000_000
UINT128 = Int(0, 2 ** 128 - 1)
RNG_STATE = Record({"bit_generator": Text(32, choices=("PCG64",)),
                    "state": Record({"state": UINT128, "inc": UINT128}, required=("state", "inc")),
                    "has_uint32": Int(0, 1), "uinteger": Int(0, 2 ** 32 - 1)},
                   required=("bit_generator", "state", "has_uint32", "uinteger"))
PROGRESS = Record({"rng_state": RNG_STATE, "next_batch": Int(1, MAX_COUNT), "total_loss": Number(),
                   "total_weight": Number(0.0), "n_correct": Int(0, MAX_COUNT)},
                  required=("rng_state", "next_batch", "total_loss", "total_weight", "n_correct"), optional=True)
RECORDS = ListOf(Number(), MAX_EPOCH_RECORDS)
HISTORY = Record({"epochs": ListOf(Int(0, MAX_COUNT), MAX_EPOCH_RECORDS), "loss": RECORDS, "accuracy": RECORDS,
                  "val_loss": RECORDS, "val_accuracy": RECORDS, "learning_rate": RECORDS,
                  "stop_reason": Text(MAX_TEXT), "best_epoch": Int(0, MAX_COUNT, optional=True),
                  "warnings": ListOf(Text(MAX_TEXT), 64)})
CALLBACK = Record({"type": Text(64), "state": MapOf(Number(optional=True), max_len=16),
                   "arrays": MapOf(Int(0, 2 * MAX_LAYERS), max_len=8)}, required=("type", "state", "arrays"))
OPTIONAL_POSITIVE = Number(0.0, 1e300, optional=True)
TRAINER_STATE = Record({
    "optimizer": CONFIG, "optimizer_t": Int(0, 2 ** 62), "optimizer_slots": Int(0, 2 * MAX_LAYERS),
    "learning_rate": Number(0.0, 1e6), "batch_size": Int(1, MAX_COUNT, optional=True), "schedule": CONFIG,
    "shuffle": AnyOf((Flag(), Text(8, choices=("blocks",)))), "clip_norm": OPTIONAL_POSITIVE, "clip_value": OPTIONAL_POSITIVE,
    "explode_threshold": OPTIONAL_POSITIVE, "epoch": Int(0, MAX_COUNT), "progress": PROGRESS,
    "engine": Text(16, choices=ENGINES, optional=True),
    "total_epochs": Int(1, MAX_COUNT, optional=True), "rng_state": RNG_STATE, "history": HISTORY,
    "settings": TRAINING, "callbacks": ListOf(CALLBACK, 64), "data_fingerprint": TRAINING.fields["data_fingerprint"],
}, required=("optimizer", "optimizer_t", "optimizer_slots", "learning_rate", "schedule", "shuffle", "epoch",
             "progress", "rng_state", "history"))
CHECKPOINT_EXTRA = Record({"trainer": TRAINER_STATE, "info": Info()}, required=("trainer",))


def data_fingerprint(*arrays) -> str:
    """SHA-256 of arrays' shapes, dtypes and bytes: a resumed run checks it trains on the same data."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.data if array.size else b"")
    return digest.hexdigest()


# ---- writing -------------------------------------------------------------------------------------------
def save_checkpoint(path: str, trainer: Trainer, model: Model | None = None, settings: dict | None = None,
                    total_epochs: int | None = None, fingerprint: str | None = None, on_complete=None) -> None:
    """Write ``trainer``'s whole state to ``path`` atomically. ``model`` adds preprocessing and labels;
    ``settings`` (JSON) is stored for the command line to rebuild the data on resume; ``fingerprint``
    (:func:`data_fingerprint` of the training data) lets a resume refuse changed data; ``on_complete()``
    runs once the file is complete, before any signal held during the write is delivered."""
    arrays = {}
    for index, state in enumerate(trainer.optimizer.state):
        for key, value in state.items():
            if key != "scratch":  # scratch arrays hold no state between steps
                arrays[f"opt.{index}.{key}"] = to_numpy(value)
    callbacks = _callback_states(trainer, arrays)
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
        "explode_threshold": trainer.explode_threshold, "engine": trainer.engine,
        "epoch": trainer.epoch, "progress": progress, "total_epochs": total_epochs,
        "rng_state": trainer.network.rng.bit_generator.state,
        "history": trainer.history.as_dict(), "settings": settings or {}, "callbacks": callbacks,
        "data_fingerprint": fingerprint,
    }
    base = model or Model(trainer.network)
    checkpoint = Model(trainer.network, base.standardizer, base.class_labels, base.feature_names, base.training,
                       arrays, {"trainer": state})
    save_model(path, checkpoint, kind="checkpoint", extra_schema=CHECKPOINT_EXTRA, on_complete=on_complete)


def _callback_states(trainer: Trainer, arrays: dict) -> list:
    """The state of every callback that has one (:meth:`Callback.get_state`); values that are lists of
    arrays (early stopping's best weights) go into ``arrays`` as ``callback.I.KEY.N``, the rest is JSON."""
    states = []
    for index, callback in enumerate(_stateful(trainer.callbacks)):
        plain, counts = {}, {}
        for key, value in callback.get_state().items():
            if isinstance(value, (list, tuple)) and value and all(isinstance(v, np.ndarray) for v in value):
                counts[key] = len(value)
                for number, array in enumerate(value):
                    arrays[f"callback.{index}.{key}.{number}"] = to_numpy(array)
            else:
                plain[key] = value
        states.append({"type": type(callback).__name__, "state": plain, "arrays": counts})
    return states


def _stateful(callbacks) -> list:
    """The callbacks whose state a checkpoint holds: those with any (a checkpoint holds no state of its own)."""
    return [c for c in callbacks if not isinstance(c, Checkpoint) and c.get_state()]


# ---- reading -------------------------------------------------------------------------------------------
def load_checkpoint(path: str) -> tuple[Model, dict]:
    """The checkpoint's model and trainer state (checked against :data:`TRAINER_STATE`); raises
    ModelFileError for anything else."""
    model = load_model(path, expect_kind="checkpoint", extra_schema=CHECKPOINT_EXTRA)
    return model, model.extra_meta["trainer"]


def restore_trainer(path: str, callbacks=()) -> tuple[Trainer, Model, dict]:
    """A trainer that continues the run saved in ``path``; returns (trainer, model, state). The state of
    ``callbacks`` (early stopping ...) is restored from the checkpoint as well."""
    model, state = load_checkpoint(path)
    network = model.network
    try:
        trainer = Trainer(network, get_optimizer(state["optimizer"]), state["learning_rate"], state["batch_size"],
                          get_schedule(state["schedule"]), state["shuffle"], callbacks, state.get("clip_norm"),
                          state.get("clip_value"), state.get("explode_threshold"), state.get("engine") or "numpy")
        trainer.optimizer.t = state["optimizer_t"]
        _restore_optimizer(trainer, model.extra_arrays, state["optimizer_slots"])
        trainer.epoch = state["epoch"]
        network.rng.bit_generator.state = state["rng_state"]
        if state["progress"] is not None:
            trainer.progress = EpochProgress(**state["progress"])
        trainer.history = History(**state["history"])
        restore_callbacks(trainer, model, state)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: the checkpoint's trainer state is incomplete or invalid ({exc})") from None
    return trainer, model, state


def _restore_optimizer(trainer: Trainer, arrays: dict, slots: int) -> None:
    if not slots:
        return
    network = trainer.network
    trainer.optimizer.ensure_state(network.params.groups)
    saved = _optimizer_arrays(arrays, slots, len(network.layers))
    for index, slot in enumerate(trainer.optimizer.state):
        for key in slot:
            if key != "scratch":
                value = saved(index, key)
                if value.size != slot[key].size:
                    raise ValueError(f"optimizer state {index}.{key} holds {value.size} values, not {slot[key].size}")
                slot[key][...] = network.xp.asarray(value.reshape(slot[key].shape))


def restore_callbacks(trainer: Trainer, model: Model, state: dict) -> None:
    """Give ``trainer``'s callbacks the state saved with them (matched in order and by type)."""
    saved = state.get("callbacks", [])
    for index, callback in enumerate(_stateful(trainer.callbacks)):
        if index >= len(saved) or saved[index]["type"] != type(callback).__name__:
            raise ValueError(f"the checkpoint holds no state for callback {index + 1} ({type(callback).__name__}); "
                             f"it was written with other callbacks")
        entry = dict(saved[index]["state"])
        for key, count in saved[index]["arrays"].items():
            entry[key] = [model.extra_arrays[f"callback.{index}.{key}.{n}"] for n in range(count)]
        callback.set_state(entry)


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
    """Save the run every ``every`` epochs (None: only when interrupted) and whenever it is interrupted.

    An epoch that ends the run early (early stopping, a target reached) is not saved: resuming from the
    previous save repeats it and stops the same way, so a resumed run ends exactly where this one did.
    ``saved_at`` is (epoch, batch) of the last complete save (batch None: the end of the epoch).
    """

    def __init__(self, path: str, every: int | None = 1, model: Model | None = None, settings: dict | None = None,
                 total_epochs: int | None = None, fingerprint: str | None = None):
        self.path, self.every = path, None if every is None else max(1, int(every))
        self.model, self.settings, self.total_epochs, self.fingerprint = model, settings, total_epochs, fingerprint
        self.saved_at = None

    def save(self, trainer) -> None:
        """Write the whole run (weights, optimizer state, RNG, position, history, callbacks' state) to
        ``path``, atomically."""
        position = (trainer.epoch, None if trainer.progress is None else trainer.progress.next_batch - 1)

        def saved():
            self.saved_at = position

        save_checkpoint(self.path, trainer, self.model, self.settings, self.total_epochs, self.fingerprint, saved)

    def on_epoch_end(self, trainer, epoch, logs):
        """Save every ``every`` epochs (not an epoch that ends the run early)."""
        if self.every is not None and epoch % self.every == 0 and not trainer.stop_training:
            self.save(trainer)

    def on_interrupt(self, trainer):
        """Save at once, so the run resumes from the batch it stopped after."""
        self.save(trainer)

    def describe(self) -> str:
        """What this checkpoint holds, for messages."""
        if self.saved_at is None:
            return f"no checkpoint was written to {self.path} in this session"
        epoch, batch = self.saved_at
        where = f"the end of epoch {epoch}" if batch is None else f"epoch {epoch}, batch {batch}"
        return f"{self.path} holds the run as of {where}"


# ---- signals -------------------------------------------------------------------------------------------
@contextmanager
def graceful_interrupts(trainer: Trainer, on_first=None):
    """While inside: the first SIGINT or SIGTERM asks ``trainer`` to stop after its current batch (its
    checkpoint callback then saves the run); a second one exits at once, saying what was saved and what
    was not. A signal that arrives while a file is being written waits until the file is complete (see
    :func:`glassnet.modelfile.deferred_signals`), so a second Ctrl-C never leaves a half-written file."""

    def handler(signum, frame):
        if trainer.interrupt_requested:
            _exit_now(signum, trainer)
        trainer.request_interrupt()
        if on_first is not None:
            on_first(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            # once interrupted, any further signal (while the process winds down) exits at once
            signal.signal(sig, (lambda s, f: _exit_now(s, trainer)) if trainer.interrupt_requested else old)


def _exit_now(signum: int, trainer: Trainer):
    saved = [c.describe() for c in trainer.callbacks if isinstance(c, Checkpoint)] or ["no checkpoint was set up"]
    position = f"epoch {trainer.epoch}" + ("" if trainer.progress is None else
                                           f", batch {trainer.progress.next_batch - 1}")
    os.write(2, (f"\nglassnet: stopped at once by a second interrupt at {position}. Every file on disk is complete "
                 f"(none was being written): {'; '.join(saved)}; nothing after that was saved.\n").encode())
    os._exit(130 if signum == signal.SIGINT else 143)
