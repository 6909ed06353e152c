"""Assembling a training run (files floor): a trainer, its callbacks and, when asked, a checkpoint file.

This is ``Network.fit`` and ``glassnet.fit``: the trainer below knows nothing of files, so the convenience of
``fit(..., checkpoint="run.ckpt", resume=True)`` is put together here, one floor up, the way Keras hands
``BackupAndRestore`` to ``Model.fit`` as a callback.
"""
from __future__ import annotations

from typing import Sequence

from .callbacks import Callback, EarlyStopping, History, TargetReached
from .checkpoint import Checkpoint, restore_trainer
from .errors import ConfigError
from .network import Network
from .training import Trainer


def fit(network, x, y, epochs: int = 10, batch_size: int | None = 32, optimizer="sgd",
        learning_rate: float = 0.1, schedule="constant", shuffle: bool | str = True, validation_data=None,
        early_stopping=None, target_loss: float | None = None, target_accuracy: float | None = None,
        callbacks: Sequence[Callback] = (), sample_weight=None, clip_norm: float | None = None,
        clip_value: float | None = None, explode_threshold: float | None = 1e10, checkpoint: str | None = None,
        checkpoint_every: int = 1, resume: bool = False, engine: str | None = None) -> History:
    """Train ``network`` on (x, y) by gradient descent and return its :class:`History`.

    Parameters
    ----------
    x : array of shape (n_samples, n_inputs)
    y : array of shape (n_samples, n_outputs) or (n_samples,)
        One-hot rows, values, or class labels / single targets.
    epochs : int
        The most passes over the data (in total, when resuming).
    batch_size : int or None
        None for batch gradient descent, 1 for stochastic, else mini-batch.
    optimizer : str, dict or Optimizer
        "sgd", "momentum", "nesterov", "adam", "adamw" (name, config dict or instance).
    learning_rate : float
        The initial learning rate; ``schedule`` changes it per epoch.
    schedule : str, dict or Schedule
        "constant", "step", "exponential", "cosine", "invscaling" (name, config dict or instance).
    shuffle : bool or "blocks"
        Reshuffle the samples every epoch (from the network's seeded generator); "blocks" reshuffles blocks
        of ``batch_size`` consecutive rows instead, so data on disk is read sequentially.
    validation_data : tuple (x_val, y_val), optional
        Evaluated after every epoch.
    early_stopping : int or EarlyStopping, optional
        A patience in epochs, or an :class:`EarlyStopping`.
    target_loss, target_accuracy : float, optional
        Stop once the training loss / accuracy reaches the target.
    callbacks : sequence of Callback
        Further callbacks.
    sample_weight : array of shape (n_samples,), optional
        Each batch's cost is the weighted mean Σ w c / Σ w.
    clip_norm, clip_value, explode_threshold : float, optional
        Gradient safety (see :class:`Trainer`).
    checkpoint : str, optional
        A file to save the whole run to every ``checkpoint_every`` epochs and on interruption.
    resume : bool
        Continue the run saved in ``checkpoint`` (its weights, optimizer state, RNG and position).
    engine : {"numpy", "compiled", "auto"} or None
        None: "numpy", or on resuming the engine the run was saved with (a resumed run continues bit for bit
        on the engine it ran on; on another one it differs by rounding). "numpy" (the reference), "compiled"
        (glassnet.compiled, needs numba: warns and uses numpy when it cannot run this training) or "auto" (compiled when it can and it pays: networks of at most 16,384
        weights, or batches of at most 512 rows, in runs long enough to pay for loading the kernels; numpy
        otherwise, quietly; see ``glassnet.compiled.worth_compiling``).
    """
    extra = list(callbacks)
    if early_stopping is not None:
        extra.append(early_stopping if isinstance(early_stopping, EarlyStopping) else EarlyStopping(early_stopping))
    if target_loss is not None or target_accuracy is not None:
        extra.append(TargetReached(target_loss, target_accuracy))
    if resume and checkpoint is None:
        raise ConfigError("resume=True needs checkpoint=PATH")
    if checkpoint is not None:
        extra.append(Checkpoint(checkpoint, checkpoint_every, total_epochs=epochs))
        if resume:
            return _resume(network, checkpoint, extra, x, y, epochs, validation_data, sample_weight, engine)
    trainer = Trainer(network, optimizer, learning_rate, batch_size, schedule, shuffle, extra, clip_norm,
                      clip_value, explode_threshold, engine or "numpy")
    return trainer.fit(x, y, epochs, validation_data, sample_weight)


def _resume(network, checkpoint: str, callbacks, x, y, epochs, validation_data, sample_weight,
            engine: str | None = None) -> History:
    """Continue the run saved in ``checkpoint`` on ``network`` (which must have the same layers), on the
    engine it was saved with unless ``engine`` names another."""
    restored, _, _ = restore_trainer(checkpoint, callbacks)
    if engine is not None:
        restored.use_engine(engine)
    if restored.network.get_config()["layers"] != network.get_config()["layers"]:
        raise ConfigError(f"checkpoint {checkpoint} holds a different network: "
                          f"{restored.network!r}, not {network!r}")
    network.set_weights(restored.network.get_weights())
    network.rng.bit_generator.state = restored.network.rng.bit_generator.state
    restored.network = network
    remaining = epochs - restored.epochs_completed
    if remaining < 1:
        return restored.history
    return restored.fit(x, y, remaining, validation_data, sample_weight)


Network.provide("fit", fit)
