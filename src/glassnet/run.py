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
        learning_rate: float = 0.1, schedule="constant", shuffle: bool = True, validation_data=None,
        early_stopping=None, target_loss: float | None = None, target_accuracy: float | None = None,
        callbacks: Sequence[Callback] = (), sample_weight=None, clip_norm: float | None = None,
        clip_value: float | None = None, explode_threshold: float | None = 1e10, checkpoint: str | None = None,
        checkpoint_every: int = 1, resume: bool = False) -> History:
    """Train ``network`` on (x, y) by gradient descent and return its :class:`History`.

    Parameters
    ----------
    x : array of shape (n_samples, n_inputs)
    y : array of shape (n_samples, n_outputs), or (n_samples,) class labels / single targets
    epochs : the most passes over the data (in total, when resuming)
    batch_size : None for batch gradient descent, 1 for stochastic, else mini-batch
    optimizer : name ("sgd", "momentum", "nesterov", "adam", "adamw"), config dict or instance
    learning_rate : the initial learning rate; ``schedule`` changes it per epoch
    schedule : "constant", "step", "exponential", "cosine", "invscaling" (name, config dict or instance)
    shuffle : reshuffle the samples every epoch (from the network's seeded generator)
    validation_data : (x_val, y_val), evaluated after every epoch
    early_stopping : None, a patience (int), or an :class:`EarlyStopping`
    target_loss, target_accuracy : stop once the training loss / accuracy reaches the target
    callbacks : further :class:`Callback` objects
    sample_weight : optional (n_samples,) weights; each batch's cost is the weighted mean Σ w c / Σ w
    clip_norm, clip_value, explode_threshold : gradient safety (see :class:`Trainer`)
    checkpoint : a file to save the whole run to every ``checkpoint_every`` epochs and on interruption
    resume : continue the run saved in ``checkpoint`` (its weights, optimizer state, RNG and position)
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
            return _resume(network, checkpoint, extra, x, y, epochs, validation_data, sample_weight)
    trainer = Trainer(network, optimizer, learning_rate, batch_size, schedule, shuffle, extra, clip_norm,
                      clip_value, explode_threshold)
    return trainer.fit(x, y, epochs, validation_data, sample_weight)


def _resume(network, checkpoint: str, callbacks, x, y, epochs, validation_data, sample_weight) -> History:
    """Continue the run saved in ``checkpoint`` on ``network`` (which must have the same layers)."""
    restored, _, _ = restore_trainer(checkpoint, callbacks)
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
