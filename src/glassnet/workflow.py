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
from .modelfile import Model, save_model
from .network import Network
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


@dataclass
class TrainResult:
    model: Model
    history: History
    metrics: dict
    seconds: float
    dataset: data_module.Dataset
    splits: tuple
    interrupted: bool = False  # a signal arrived after training had finished (the model was still saved)


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
                   cost=settings.cost, l2=settings.l2, seed=settings.seed, dtype=settings.dtype,
                   device=settings.device)


def train(settings: TrainSettings, callbacks: list[Callback] = (), checkpoint: str | None = None,
          checkpoint_every: int | None = None, handle_signals: bool = False, out: str | None = None) -> TrainResult:
    """Train from scratch as ``settings`` say. With ``checkpoint`` the run is saved there every
    ``checkpoint_every`` epochs (if given) and whenever it is interrupted; with ``out`` the final model is
    saved there, inside the same signal handling (a Ctrl-C during that save waits for it to complete)."""
    if any(not isinstance(h, int) or h < 1 for h in settings.hidden):
        raise ConfigError(f"hidden layer sizes must be positive integers, got {settings.hidden!r}")
    dataset, splits = prepare_splits(settings)
    standardizer = data_module.Standardizer().fit(splits[0][0]) if settings.standardize else None
    network = build_network(settings, dataset, dataset.X.shape[1])
    trainer = Trainer(network, settings.optimizer, settings.learning_rate, settings.batch_size,
                      settings.schedule)
    run = _Run(settings, dataset, splits, standardizer, checkpoint, checkpoint_every, handle_signals, out)
    return run.go(trainer, settings.epochs, callbacks)


def resume(path: str, callbacks: list[Callback] = (), checkpoint_every: int | None = None,
           handle_signals: bool = False, out: str | None = None, overrides: dict | None = None) -> TrainResult:
    """Continue the run saved in checkpoint ``path`` (same data, split, weights, optimizer, RNG, position,
    callbacks' state). ``overrides``: settings given again on the command line; any that differ from the
    checkpoint's are refused, as is data that changed since the checkpoint was written."""
    from .checkpoint import restore_trainer

    trainer, model, state = restore_trainer(path)
    known = {k: v for k, v in state.get("settings", {}).items() if k in TrainSettings.__dataclass_fields__}
    if "dataset" not in known:
        raise ConfigError(f"{path} was not written by `glassnet train`; resume it with fit(..., resume=True)")
    settings = TrainSettings(**{**known, "hidden": tuple(known.get("hidden", ()))})
    _refuse_conflicts(path, settings, overrides or {})
    dataset, splits = prepare_splits(settings)
    fingerprint = _fingerprint(splits)
    if state.get("data_fingerprint") not in (None, fingerprint):
        raise ConfigError(f"the data of {settings.dataset} changed since {path} was written (its fingerprint "
                          f"differs); a resumed run must train on the same data: start a new run instead")
    remaining = int(state.get("total_epochs") or settings.epochs) - trainer.epochs_completed
    run = _Run(settings, dataset, splits, model.standardizer, path, checkpoint_every, handle_signals, out, state)
    return run.go(trainer, remaining, callbacks, resumed_from=model)


def _refuse_conflicts(path: str, settings: TrainSettings, overrides: dict) -> None:
    conflicts = [f"{name}={value!r} (the checkpoint has {getattr(settings, name)!r})"
                 for name, value in overrides.items() if _comparable(value) != _comparable(getattr(settings, name))]
    if conflicts:
        raise ConfigError(f"--resume continues the run in {path} with its own settings; these options conflict "
                          f"with it: {', '.join(conflicts)}. Leave them out, or start a new run")


def _comparable(value):
    return list(value) if isinstance(value, (tuple, list)) else value


def _fingerprint(splits) -> str:
    from .checkpoint import data_fingerprint

    return data_fingerprint(*(array for part in splits if part is not None for array in part))


class _Run:
    """One training run from an assembled trainer to its evaluated (and saved) model."""

    def __init__(self, settings, dataset, splits, standardizer, checkpoint, checkpoint_every, handle_signals,
                 out, resumed_state=None):
        self.settings, self.dataset, self.splits, self.standardizer = settings, dataset, splits, standardizer
        self.checkpoint, self.checkpoint_every, self.handle_signals = checkpoint, checkpoint_every, handle_signals
        self.out, self.resumed_state = out, resumed_state

    def prep(self, X):
        return self.standardizer.transform(X) if self.standardizer else X

    def go(self, trainer, epochs, callbacks, resumed_from=None) -> TrainResult:
        from .checkpoint import graceful_interrupts

        self._attach_callbacks(trainer, epochs, callbacks, resumed_from)
        started = time.perf_counter()
        with graceful_interrupts(trainer) if self.handle_signals else _nothing():
            self._fit(trainer, epochs)
            seconds = time.perf_counter() - started
            result = self._result(trainer, seconds)
            if self.out is not None:
                save_model(self.out, result.model)
        result.interrupted = trainer.interrupt_requested  # a signal after the last batch: the model is saved
        return result

    def _attach_callbacks(self, trainer, epochs, callbacks, resumed_from) -> None:
        from .checkpoint import Checkpoint, restore_callbacks

        settings = self.settings
        trainer.callbacks = list(callbacks)
        if settings.early_stopping:
            trainer.callbacks.append(EarlyStopping(settings.early_stopping))
        if settings.target_accuracy is not None:
            trainer.callbacks.append(TargetReached(accuracy=settings.target_accuracy))
        if resumed_from is not None:
            try:
                restore_callbacks(trainer, resumed_from, self.resumed_state)
            except ValueError as exc:
                raise ConfigError(f"{self.checkpoint}: {exc}") from None
        if self.checkpoint:
            training = self._training_record()
            model = Model(trainer.network, self.standardizer, self.dataset.class_labels, self.dataset.feature_names,
                          training)
            trainer.callbacks.append(Checkpoint(self.checkpoint, self.checkpoint_every, model, training,
                                                trainer.epochs_completed + epochs, _fingerprint(self.splits)))

    def _training_record(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self.settings).items()}

    def _fit(self, trainer, epochs) -> None:
        train_set, validation, _ = self.splits
        validation_data = None if validation is None else (self.prep(validation[0]), validation[1])
        if epochs >= 1:
            trainer.fit(self.prep(train_set[0]), train_set[1], epochs, validation_data)
        else:  # the checkpoint was written after the last epoch: end the run as it would have ended
            for callback in trainer.callbacks:
                callback.on_train_end(trainer)

    def _result(self, trainer, seconds) -> TrainResult:
        network, history = trainer.network, trainer.history
        metrics = {}
        for name, part in zip(("train", "validation", "test"), self.splits):
            if part is not None:
                metrics[name] = network.evaluate(self.prep(part[0]), part[1])
        training = self._training_record()
        training.update(epochs_run=len(history), stop_reason=history.stop_reason, seconds=round(seconds, 3),
                        data_fingerprint=_fingerprint(self.splits))
        model = Model(network, self.standardizer, self.dataset.class_labels, self.dataset.feature_names, training)
        return TrainResult(model, history, metrics, seconds, self.dataset, self.splits)


@contextlib.contextmanager
def _nothing():
    yield


def evaluation_data(model: Model, split: str):
    """(X, y, description) to evaluate ``model`` on without naming a dataset: the split of its own training
    run, regenerated from its header, and only for a built-in dataset within the header's bounds. A model
    file never makes glassnet open another file: for a dataset read from a file this refuses and says so."""
    known = {k: v for k, v in model.training.items() if k in TrainSettings.__dataclass_fields__}
    name = known.get("dataset")
    if not isinstance(name, str) or not data_module.is_builtin(name):
        raise ConfigError(f"the model records its training data as {name!r}, which is not a built-in dataset; "
                          f"glassnet never opens a file named inside a model file: pass --dataset FILE (and "
                          f"--target) to evaluate on it")
    known["hidden"] = tuple(known.get("hidden", ()))
    known.update(target=None, task="auto")  # a built-in dataset has no target column to choose
    settings = TrainSettings(**known)
    if split == "all":
        dataset = data_module.load(name, seed=settings.seed, n_samples=settings.n_samples)
        X, y = dataset.X, dataset.y
    else:
        _, (train, validation, test) = prepare_splits(settings)
        chosen = {"train": train, "validation": validation, "test": test}.get(split)
        if chosen is None:
            raise ConfigError(f"the model's training run has no {split} split")
        X, y = chosen
    samples = "" if settings.n_samples is None else f", {settings.n_samples:,} samples"
    return X, y, f"built-in dataset {name} regenerated (seed {settings.seed}{samples}), {split} split"


def split_of(model: Model, name: str):
    """Re-create the train/validation/test split a model was trained with (built-in datasets only)."""
    X, y, _ = evaluation_data(model, name)
    return X, y


def confusion_matrix(truth, predicted, n_classes: int) -> np.ndarray:
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(truth, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return matrix
