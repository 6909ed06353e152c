"""Train-and-report on a dataset: the work behind ``glassnet train`` and the playground's model export.

data -> split -> standardise -> network -> fit -> evaluate -> Model (ready to save)
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import data as data_module
from .errors import ConfigError
from .modelfile import Model
from .network import Network
from .training import Callback, EarlyStopping, History, fit


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
                   cost=settings.cost, l2=settings.l2, seed=settings.seed, dtype=settings.dtype)


def train(settings: TrainSettings, callbacks: list[Callback] = ()) -> TrainResult:
    if any(not isinstance(h, int) or h < 1 for h in settings.hidden):
        raise ConfigError(f"hidden layer sizes must be positive integers, got {settings.hidden!r}")
    dataset, (train_set, validation, test) = prepare_splits(settings)
    standardizer = data_module.Standardizer().fit(train_set[0]) if settings.standardize else None
    prep = (lambda X: standardizer.transform(X)) if standardizer else (lambda X: X)
    network = build_network(settings, dataset, dataset.X.shape[1])
    extra = list(callbacks)
    if settings.early_stopping:
        extra.append(EarlyStopping(settings.early_stopping))
    started = time.perf_counter()
    history = fit(network, prep(train_set[0]), train_set[1], epochs=settings.epochs,
                  batch_size=settings.batch_size, optimizer=settings.optimizer,
                  learning_rate=settings.learning_rate, schedule=settings.schedule,
                  validation_data=None if validation is None else (prep(validation[0]), validation[1]),
                  target_accuracy=settings.target_accuracy, callbacks=extra)
    seconds = time.perf_counter() - started
    metrics = {"train": network.evaluate(prep(train_set[0]), train_set[1])}
    if validation is not None:
        metrics["validation"] = network.evaluate(prep(validation[0]), validation[1])
    if test is not None:
        metrics["test"] = network.evaluate(prep(test[0]), test[1])
    training = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(settings).items()}
    training.update(epochs_run=len(history), stop_reason=history.stop_reason, seconds=round(seconds, 3))
    model = Model(network, standardizer, dataset.class_labels, dataset.feature_names, training)
    return TrainResult(model, history, metrics, seconds, dataset, (train_set, validation, test))


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
