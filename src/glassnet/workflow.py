"""Train-and-report on a dataset: the work behind ``glassnet train`` and the playground's model export.

data -> split -> standardise -> network -> fit -> evaluate -> Model (ready to save)
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import numpy as np

from . import data as data_module
from .errors import ConfigError
from .modelfile import Model
from .network import Network
from .validation import check_fits
from .training import Callback, EarlyStopping, History, TargetReached, Trainer


@dataclass
class TrainSettings:
    dataset: str = "digits25"
    target: str | None = None
    task: str = "auto"
    hidden: tuple = (20, 20)
    activation: str = "sigmoid"
    output: str | None = None
    cost: str | None = None
    optimizer: str = "adam"
    learning_rate: float = 0.01
    batch_size: int | None = 32
    epochs: int = 40
    schedule: str = "constant"
    l2: float = 0.0
    seed: int = 0
    dtype: str = "float32"
    test_fraction: float = 0.2
    validation_fraction: float = 0.1
    standardize: bool = True
    early_stopping: int | None = None
    target_accuracy: float | None = None
    n_samples: int | None = None
    device: str = "cpu"
    clip_norm: float | None = None


@dataclass
class TrainResult:
    model: Model
    history: History
    metrics: dict
    seconds: float
    dataset: data_module.Dataset
    splits: tuple


def prepare_splits(settings: TrainSettings):
    """Load the dataset and split it exactly as the settings say (the same seed gives the same split)."""
    dataset = data_module.load(settings.dataset, seed=settings.seed, n_samples=settings.n_samples) \
        if settings.target is None and settings.task == "auto" else \
        data_module.load_file(settings.dataset, settings.target, settings.task)
    for array, part in ((dataset.X, "features"), (dataset.y, "targets")):
        check_fits(array, settings.dtype, f"{settings.dataset} ({part})")
    train, validation, test = data_module.split(dataset.X, dataset.y, settings.test_fraction,
                                                settings.validation_fraction, settings.seed)
    return dataset, (train, validation, test)


def build_network(settings: TrainSettings, dataset, n_features: int) -> Network:
    if dataset.task == "classification":
        n_out = max(dataset.n_classes, 2)
        output = settings.output or "softmax"
        if output == "sigmoid" and n_out == 2:
            n_out = 1
    else:
        n_out, output = 1, settings.output or "identity"
    return Network([n_features, *settings.hidden, n_out], activation=settings.activation, output=output,
                   cost=settings.cost, l2=settings.l2, seed=settings.seed, dtype=settings.dtype,
                   device=settings.device)


def train(settings: TrainSettings, callbacks: list[Callback] = (), checkpoint: str | None = None,
          checkpoint_every: int | None = None, handle_signals: bool = False) -> TrainResult:
    """Train from scratch as ``settings`` say. With ``checkpoint`` the run is saved there every
    ``checkpoint_every`` epochs (if given) and whenever it is interrupted."""
    if any(not isinstance(h, int) or h < 1 for h in settings.hidden):
        raise ConfigError(f"hidden layer sizes must be positive integers, got {settings.hidden!r}")
    dataset, splits = prepare_splits(settings)
    standardizer = data_module.Standardizer().fit(splits[0][0]) if settings.standardize else None
    network = build_network(settings, dataset, dataset.X.shape[1])
    trainer = Trainer(network, settings.optimizer, settings.learning_rate, settings.batch_size,
                      settings.schedule, clip_norm=settings.clip_norm)
    return _run(trainer, settings, dataset, splits, standardizer, settings.epochs, callbacks, checkpoint,
                checkpoint_every, handle_signals)


def resume(path: str, callbacks: list[Callback] = (), checkpoint_every: int | None = None,
           handle_signals: bool = False) -> TrainResult:
    """Continue the run saved in checkpoint ``path`` (same data, split, weights, optimizer, RNG, position)."""
    from .checkpoint import restore_trainer

    trainer, model, state = restore_trainer(path)
    known = {k: v for k, v in state.get("settings", {}).items() if k in TrainSettings.__dataclass_fields__}
    if "dataset" not in known:
        raise ConfigError(f"{path} was not written by `glassnet train`; resume it with fit(..., resume=True)")
    settings = TrainSettings(**{**known, "hidden": tuple(known.get("hidden", ()))})
    dataset, splits = prepare_splits(settings)
    remaining = int(state.get("total_epochs") or settings.epochs) - trainer.epochs_completed
    return _run(trainer, settings, dataset, splits, model.standardizer, remaining, callbacks, path,
                checkpoint_every, handle_signals)


def _run(trainer, settings, dataset, splits, standardizer, epochs, callbacks, checkpoint, checkpoint_every,
         handle_signals) -> TrainResult:
    from .checkpoint import Checkpoint, graceful_interrupts

    train_set, validation, test = splits
    prep = (lambda X: standardizer.transform(X)) if standardizer else (lambda X: X)
    network = trainer.network
    training = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(settings).items()}
    trainer.callbacks = list(callbacks)
    if settings.early_stopping:
        trainer.callbacks.append(EarlyStopping(settings.early_stopping))
    if settings.target_accuracy is not None:
        trainer.callbacks.append(TargetReached(accuracy=settings.target_accuracy))
    if checkpoint:
        model = Model(network, standardizer, dataset.class_labels, dataset.feature_names, training)
        trainer.callbacks.append(Checkpoint(checkpoint, checkpoint_every, model, training,
                                            total_epochs=trainer.epochs_completed + epochs))
    started = time.perf_counter()
    validation_data = None if validation is None else (prep(validation[0]), validation[1])
    if epochs >= 1:
        with graceful_interrupts(trainer) if handle_signals else _nothing():
            trainer.fit(prep(train_set[0]), train_set[1], epochs, validation_data)
    history = trainer.history
    seconds = time.perf_counter() - started
    metrics = {"train": network.evaluate(prep(train_set[0]), train_set[1])}
    if validation is not None:
        metrics["validation"] = network.evaluate(*validation_data)
    if test is not None:
        metrics["test"] = network.evaluate(prep(test[0]), test[1])
    training.update(epochs_run=len(history), stop_reason=history.stop_reason, seconds=round(seconds, 3))
    model = Model(network, standardizer, dataset.class_labels, dataset.feature_names, training)
    return TrainResult(model, history, metrics, seconds, dataset, splits)


@contextlib.contextmanager
def _nothing():
    yield


def split_of(model: Model, name: str):
    """Re-create the train/validation/test split a model was trained with (from its stored settings)."""
    known = {k: v for k, v in model.training.items() if k in TrainSettings.__dataclass_fields__}
    if "hidden" in known:
        known["hidden"] = tuple(known["hidden"])
    settings = TrainSettings(**known)
    _, (train, validation, test) = prepare_splits(settings)
    chosen = {"train": train, "validation": validation, "test": test}.get(name)
    if chosen is None:
        raise ConfigError(f"the model's training run has no {name} split")
    return chosen


def confusion_matrix(truth, predicted, n_classes: int) -> np.ndarray:
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(truth, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return matrix
