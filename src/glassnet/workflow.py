"""Train-and-report on a dataset: the work behind ``glassnet train`` and the playground's model export.

data -> split -> standardise -> network -> fit -> evaluate -> Model (ready to save)
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from dataclasses import dataclass, field

import numpy as np

from . import data as data_module
from .contract import align_columns, column_order, encode_labels
from .datasets import DATASETS
from .errors import ConfigError, DataError
from .modelfile import Model, is_model_file
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
    test_fraction: float | None = None        # None: 0.2, or 0 for the tiny truth tables (xor, and, or)
    validation_fraction: float | None = None  # None: 0.1, or 0 for the truth tables
    standardize: bool = True
    early_stopping: int | None = None
    target_accuracy: float | None = None
    n_samples: int | None = None
    device: str = "cpu"


DEFAULT_TEST_FRACTION, DEFAULT_VALIDATION_FRACTION = 0.2, 0.1


@dataclass
class TrainResult:
    model: Model
    history: History
    metrics: dict
    seconds: float
    dataset: data_module.Dataset
    splits: tuple
    notes: list = field(default_factory=list)


def resolve_fractions(settings: TrainSettings) -> tuple[TrainSettings, list[str]]:
    """Settings with the test and validation fractions filled in, and a note when a tiny set keeps every row."""
    tiny = is_tiny(settings.dataset)
    test = settings.test_fraction if settings.test_fraction is not None else (0.0 if tiny else DEFAULT_TEST_FRACTION)
    validation = settings.validation_fraction if settings.validation_fraction is not None else (
        0.0 if tiny else DEFAULT_VALIDATION_FRACTION)
    notes = []
    if tiny and test == 0 and validation == 0:
        n_rows = data_module.load(settings.dataset).X.shape[0]
        notes.append(f"{settings.dataset} has only {n_rows} rows: trained and evaluated on all of them "
                     f"(nothing held out; --test-fraction holds rows out)")
    return dataclasses.replace(settings, test_fraction=test, validation_fraction=validation), notes


def is_tiny(name: str) -> bool:
    """Whether a built-in dataset is too small to hold rows out (the registry marks xor, and, or): by default
    it trains and reports on every row, and says so."""
    return name in DATASETS and not os.path.isfile(name) and bool(DATASETS.info(name).get("tiny"))


def load_dataset(settings: TrainSettings) -> data_module.Dataset:
    """The dataset the settings name: a built-in set, or a file read with the stored target column and task."""
    if settings.target is None and settings.task == "auto":
        return data_module.load(settings.dataset, seed=settings.seed, n_samples=settings.n_samples)
    if settings.dataset in data_module.names() and not os.path.isfile(settings.dataset):
        raise ConfigError(f"{settings.dataset} is a built-in dataset with a fixed target and task; --target and "
                          f"--task apply to files")
    return data_module.load_file(settings.dataset, settings.target, settings.task)


def prepare_splits(settings: TrainSettings):
    """Load the dataset and split it exactly as the settings say (the same seed gives the same split)."""
    settings = resolve_fractions(settings)[0]
    dataset = load_dataset(settings)
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
    check_output_and_cost(output, settings.cost)
    return Network([n_features, *settings.hidden, n_out], activation=settings.activation, output=output,
                   cost=settings.cost, l2=settings.l2, seed=settings.seed, dtype=settings.dtype,
                   device=settings.device)


#: output activation -> the probability costs that read its outputs the way they are meant
PROBABILITY_COSTS = {"softmax": "cross_entropy", "sigmoid": "binary_cross_entropy"}


def check_output_and_cost(output: str, cost: str | None) -> None:
    """Refuse a probability cost on the wrong kind of probabilities: binary cross-entropy scores each unit on
    its own (sigmoid units), categorical cross-entropy one distribution over exclusive classes (softmax);
    the other pairings compute a number that is not the model's likelihood."""
    if cost is None:
        return
    from .costs import get_cost

    name = get_cost(cost).name
    expected = PROBABILITY_COSTS.get(output)
    if name in PROBABILITY_COSTS.values() and expected is not None and name != expected:
        raise ConfigError(f"cost {cost!r} does not fit a {output} output: use {expected!r} with {output}, or the "
                          f"{'sigmoid' if output == 'softmax' else 'softmax'} output with {cost!r}")


def train(settings: TrainSettings, callbacks: list[Callback] = (), checkpoint: str | None = None,
          checkpoint_every: int | None = None, handle_signals: bool = False) -> TrainResult:
    """Train from scratch as ``settings`` say. With ``checkpoint`` the run is saved there every
    ``checkpoint_every`` epochs (if given) and whenever it is interrupted."""
    if any(not isinstance(h, int) or h < 1 for h in settings.hidden):
        raise ConfigError(f"hidden layer sizes must be positive integers, got {settings.hidden!r}")
    settings, notes = resolve_fractions(settings)
    if os.path.isfile(settings.dataset):  # a file is found again by its absolute path from any folder
        settings = dataclasses.replace(settings, dataset=os.path.abspath(settings.dataset))
    dataset, splits = prepare_splits(settings)
    standardizer = data_module.Standardizer().fit(splits[0][0]) if settings.standardize else None
    network = build_network(settings, dataset, dataset.X.shape[1])
    trainer = Trainer(network, settings.optimizer, settings.learning_rate, settings.batch_size,
                      settings.schedule)
    result = _run(trainer, settings, dataset, splits, standardizer, settings.epochs, callbacks, checkpoint,
                  checkpoint_every, handle_signals)
    result.notes.extend(notes)
    return result


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
        model = model_of(network, standardizer, dataset, training)
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
    model = model_of(network, standardizer, dataset, training)
    return TrainResult(model, history, metrics, seconds, dataset, splits)


def model_of(network, standardizer, dataset, training: dict) -> Model:
    """A model carrying its data contract: feature names and order, target column, task, typed class labels."""
    return Model(network, standardizer, list(dataset.class_labels), list(dataset.feature_names), training,
                 target=dataset.target_name)


@contextlib.contextmanager
def _nothing():
    yield


def settings_of(model: Model) -> TrainSettings:
    """The settings a model was trained with (``glassnet train`` stores them in the model file)."""
    known = {k: v for k, v in model.training.items() if k in TrainSettings.__dataclass_fields__}
    if "dataset" not in known:
        raise ConfigError("the model file does not record the data it was trained on (it was not written by "
                          "`glassnet train`); name the data with --dataset")
    if "hidden" in known:
        known["hidden"] = tuple(known["hidden"])
    settings = TrainSettings(**known)
    if os.path.isabs(settings.dataset) and not os.path.isfile(settings.dataset):
        raise DataError(f"the model was trained on {settings.dataset}, which no longer exists; "
                        f"name the data with --dataset")
    return settings


def split_of(model: Model, name: str):
    """Re-create the train/validation/test split a model was trained with (from its stored settings);
    ``name`` "all" gives every row of the dataset."""
    settings = settings_of(model)
    if name == "all":
        dataset = load_dataset(settings)
        return dataset.X, dataset.y
    _, (train, validation, test) = prepare_splits(settings)
    chosen = {"train": train, "validation": validation, "test": test}.get(name)
    if chosen is None:
        raise ConfigError(f"the model's training run has no {name} split")
    return chosen


def data_for(model: Model, name: str, target=None):
    """``(X, y)`` of a dataset name or file, in the model's terms: columns matched to its features (by name
    where the file has a header), labels mapped through its class labels (see :mod:`glassnet.contract`)."""
    task = model.network.task
    if name in data_module.names() and not os.path.isfile(name):
        if target is not None:
            raise ConfigError(f"{name} is a built-in dataset with a fixed target; --target applies to files")
        dataset = data_module.load(name)
    else:
        if target is None and model.target is not None and _has_header(name):
            target = model.target
        dataset = data_module.load_file(name, target, task)
    names = dataset.feature_names if dataset.named_columns else None
    X = align_columns(names, dataset.X, model.feature_names, name)
    if task != "classification":
        return X, dataset.y
    labels = [dataset.class_labels[i] for i in dataset.y.tolist()]
    return X, encode_labels(labels, model.class_labels, name)


def probability_columns(model: Model) -> list:
    """The class each column of ``predict_proba`` is the probability of: every class for a softmax, the
    second class for a single sigmoid unit (P(class 1); class 0 has 1 − that)."""
    n_outputs = model.network.n_outputs
    labels = list(model.class_labels) or list(range(max(n_outputs, 2)))
    if n_outputs == 1:
        return labels[1:2]
    return labels[:n_outputs]


def _has_header(path: str) -> bool:
    return path.lower().endswith((".csv", ".txt")) and os.path.isfile(path) and data_module.csv_table(path)[2]


def features_for(model: Model, path: str):
    """Features of a features-only file, columns matched to the model's (see :mod:`glassnet.contract`).
    A CSV's columns are matched by name before any cell is read, so a wrong file is named as such."""
    if path.lower().endswith((".npy", ".npz")) or not os.path.isfile(path):
        names, X = data_module.load_feature_table(path)
        return align_columns(names, X, model.feature_names, path, target=model.target)
    header, body, has_header = data_module.csv_table(path)
    order = column_order(header if has_header else None, len(header), model.feature_names, path, model.target)
    return data_module.numeric_columns(path, header, body, order, 2 if has_header else 1)


def confusion_matrix(truth, predicted, n_classes: int) -> np.ndarray:
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(truth, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return matrix


def check_export_target(source: str, target: str) -> None:
    """Refuse an export target that would overwrite a different kind of file: one that does not end in
    ``.onnx``, or a glassnet model or checkpoint file (the source itself included)."""
    if os.path.exists(target) and (is_model_file(target) or os.path.samefile(source, target)):
        raise ConfigError(f"{target!r} is a glassnet model file; refusing to overwrite it with ONNX "
                          f"(add --force to overwrite it anyway)")
    if not target.lower().endswith(".onnx"):
        raise ConfigError(f"the export target {target!r} does not end in .onnx; name it *.onnx "
                          f"(or add --force to write it anyway)")
