"""Train-and-report on a dataset (faces floor): the work behind ``glassnet train`` and the playground's model export.

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
from .activations import get_activation
from .contract import align_columns, column_order, encode_labels
from .datasets import DATASETS
from .errors import ConfigError, DataError
from .modelfile import Model, is_model_file, save_model
from .network import Network
from .validation import as_matrix, check_fits
from .callbacks import Callback, EarlyStopping, History, TargetReached
from .training import Trainer


@dataclass
class TrainSettings:
    """Everything ``glassnet train`` can be told, with its defaults: the dataset, the network (hidden sizes,
    activations, cost, dtype), the optimizer and schedule, the splits and the stopping rules."""

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
    clip_norm: float | None = None


DEFAULT_TEST_FRACTION, DEFAULT_VALIDATION_FRACTION = 0.2, 0.1


@dataclass
class TrainResult:
    """What a training run produced: the model (network + preprocessing + labels), its history, the metrics
    per split, the training time in seconds, the dataset and the splits used."""

    model: Model
    history: History
    metrics: dict
    seconds: float
    dataset: data_module.Dataset
    splits: tuple
    notes: list = field(default_factory=list)
    interrupted: bool = False  # a signal arrived after training had finished (the model was still saved)


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
    for array, part in ((dataset.X, "features"), (dataset.y, "targets")):
        check_fits(array, settings.dtype, f"{settings.dataset} ({part})")
    train, validation, test = data_module.split(dataset.X, dataset.y, settings.test_fraction,
                                                settings.validation_fraction, settings.seed)
    return dataset, (train, validation, test)


def build_network(settings: TrainSettings, dataset, n_features: int) -> Network:
    """The network ``settings`` describe for ``dataset`` (softmax or sigmoid output for classes, identity for
    regression)."""
    if dataset.task == "classification":
        if dataset.n_classes < 2:
            raise DataError(f"{dataset.description}: the target holds a single class; a classifier needs at least "
                            f"two")
        n_out = max(dataset.n_classes, 2)
        output = settings.output or "softmax"
        if get_activation(output).name not in PROBABILITY_COSTS:  # a relu or identity output would train a regression on class numbers
            raise ConfigError(f"{dataset.description}: the target holds classes ({dataset.n_classes}), which need "
                              f"a softmax output (or sigmoid for two classes), not {output!r}; for a numeric "
                              f"target read as numbers use --task regression")
        if get_activation(output).name == "sigmoid" and n_out == 2:
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
          checkpoint_every: int | None = None, handle_signals: bool = False, out: str | None = None,
          engine: str | None = None) -> TrainResult:
    """Train from scratch as ``settings`` say. With ``checkpoint`` the run is saved there every
    ``checkpoint_every`` epochs (if given) and whenever it is interrupted; with ``out`` the final model is
    saved there, inside the same signal handling (a Ctrl-C during that save waits for it to complete).
    ``engine``: "numpy" (None: the default), "compiled" or "auto" (see :class:`~glassnet.training.Trainer`);
    it changes the speed, not the numbers beyond rounding, so it is not one of the run's settings (a checkpoint
    keeps it, to resume on it)."""
    if any(not isinstance(h, int) or h < 1 for h in settings.hidden):
        raise ConfigError(f"hidden layer sizes must be positive integers, got {settings.hidden!r}")
    settings, notes = resolve_fractions(settings)
    if os.path.isfile(settings.dataset):  # a file is found again by its absolute path from any folder
        settings = dataclasses.replace(settings, dataset=os.path.abspath(settings.dataset))
    dataset, splits = prepare_splits(settings)
    standardizer = data_module.Standardizer().fit(splits[0][0]) if settings.standardize else None
    network = build_network(settings, dataset, dataset.X.shape[1])
    trainer = Trainer(network, settings.optimizer, settings.learning_rate, settings.batch_size,
                      settings.schedule, clip_norm=settings.clip_norm, engine=engine or "numpy")
    run = _Run(settings, dataset, splits, standardizer, checkpoint, checkpoint_every, handle_signals, out)
    result = run.go(trainer, settings.epochs, callbacks)
    result.notes.extend(notes)
    return result


def resume(path: str, callbacks: list[Callback] = (), checkpoint_every: int | None = None,
           handle_signals: bool = False, out: str | None = None, overrides: dict | None = None,
           engine: str | None = None, option_names: dict | None = None) -> TrainResult:
    """Continue the run saved in checkpoint ``path`` (same data, split, weights, optimizer, RNG, position,
    callbacks' state), on the engine it was saved with unless ``engine`` names another. ``overrides``:
    settings given again on the command line; any that differ from the checkpoint's are refused, as is data
    that changed since the checkpoint was written. ``option_names``: how the caller names each setting in
    that refusal (the command line: ``{"hidden": "--layers"}``); the setting's own name otherwise."""
    from .checkpoint import restore_trainer

    trainer, model, state = restore_trainer(path)
    if engine is not None:
        trainer.use_engine(engine)
    known = {k: v for k, v in state.get("settings", {}).items() if k in TrainSettings.__dataclass_fields__}
    if "dataset" not in known:
        raise ConfigError(f"{path} was not written by `glassnet train`; resume it with fit(..., resume=True)")
    settings = TrainSettings(**{**known, "hidden": tuple(known.get("hidden", ()))})
    _refuse_conflicts(path, settings, overrides or {}, option_names or {})
    dataset, splits = prepare_splits(settings)
    fingerprint = _fingerprint(splits)
    if state.get("data_fingerprint") not in (None, fingerprint):
        raise ConfigError(f"the data of {settings.dataset} changed since {path} was written (its fingerprint "
                          f"differs); a resumed run must train on the same data: start a new run instead")
    remaining = int(state.get("total_epochs") or settings.epochs) - trainer.epochs_completed
    run = _Run(settings, dataset, splits, model.standardizer, path, checkpoint_every, handle_signals, out, state)
    return run.go(trainer, remaining, callbacks, resumed_from=model)


def _refuse_conflicts(path: str, settings: TrainSettings, overrides: dict, option_names: dict) -> None:
    dataset = overrides.get("dataset")
    if isinstance(dataset, str) and os.path.isfile(dataset):  # train records a data file by its absolute path
        overrides = {**overrides, "dataset": os.path.abspath(dataset)}

    def shown(name, value) -> str:  # as the caller writes it: 5,5 after --layers, (5, 5) in Python
        if name not in option_names:
            return repr(value)
        return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)

    conflicts = [f"{option_names[name] + ' ' if name in option_names else name + '='}{shown(name, value)} "
                 f"(the checkpoint has {shown(name, getattr(settings, name))})"
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
        done_before = trainer.epochs_completed
        started = time.perf_counter()
        with graceful_interrupts(trainer) if self.handle_signals else _nothing():
            self._fit(trainer, epochs)
            seconds = time.perf_counter() - started
            result = self._result(trainer, seconds)
            if done_before:  # a resumed run: the seconds are this session's, the history the whole run's
                result.notes.append(f"resumed after epoch {done_before}: {trainer.epochs_completed - done_before} "
                                    f"epochs ran in this session's {seconds:.3g} s")
            if trainer.engine != "numpy":  # say which engine "auto" (or a fallback) really took
                used = "compiled" if trainer.compiled_in_use else "numpy"
                result.notes.append(f"--engine {trainer.engine}: trained with the {used} engine")
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
            model = model_of(trainer.network, self.standardizer, self.dataset, training)
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
        model = model_of(network, self.standardizer, self.dataset, training)
        return TrainResult(model, history, metrics, seconds, self.dataset, self.splits)


def model_of(network, standardizer, dataset, training: dict) -> Model:
    """A model carrying its data contract: feature names and order, target column, task, typed class labels."""
    return Model(network, standardizer, list(dataset.class_labels), list(dataset.feature_names), training,
                 target=dataset.target_name)


@contextlib.contextmanager
def _nothing():
    yield


def settings_of(model: Model) -> TrainSettings:
    """The settings a model was trained with (``glassnet train`` stores them in the model file), as
    information: nothing they name is opened here."""
    known = {k: v for k, v in model.training.items() if k in TrainSettings.__dataclass_fields__}
    if "dataset" not in known:
        raise ConfigError("the model file does not record the data it was trained on (it was not written by "
                          "`glassnet train`); name the data with --dataset")
    if "hidden" in known:
        known["hidden"] = tuple(known["hidden"])
    return TrainSettings(**known)


def evaluation_data(model: Model, split: str):
    """(X, y, description) to evaluate ``model`` on without naming a dataset: the split of its own training
    run (``split`` "all": every row), regenerated from its header, and only for a built-in dataset within
    the header's bounds. A model file never makes glassnet open another file: for a model trained on a file
    (its path is recorded, as information) this refuses and says to pass the file with ``--dataset``."""
    settings = settings_of(model)
    name = settings.dataset
    if not isinstance(name, str) or not data_module.is_builtin(name):
        raise ConfigError(f"the model was trained on the file {name!r} (its recorded path); glassnet never opens "
                          f"a file named inside a model file: pass it with --dataset FILE (every row), or with "
                          f"--dataset FILE --split test (the rows the run held out)")
    settings = dataclasses.replace(settings, target=None, task="auto")  # a built-in set has a fixed target
    if split == "all":
        dataset = data_module.load(name, seed=settings.seed, n_samples=settings.n_samples)
        X, y = dataset.X, dataset.y
    else:
        X, y = _pick_split(prepare_splits(settings)[1], split)
    samples = "" if settings.n_samples is None else f", {settings.n_samples:,} samples"
    return X, y, f"built-in dataset {name} regenerated (seed {settings.seed}{samples}), {split} split"


def file_split(model: Model, path: str, split: str):
    """(X, y, description): split ``split`` ("train", "validation", "test" or "all") of the data ``path`` that
    the user names (a file or a built-in name), cut exactly as the model's training run cut it (the seed,
    fractions and target in its header). Refused unless the cut gives the very rows the model was trained on:
    the fingerprint its header records must match."""
    settings = settings_of(model)
    recorded = model.training.get("data_fingerprint")
    if recorded is None:
        raise ConfigError("the model file records no fingerprint of its training data, so the rows of a split "
                          "cannot be checked; evaluate on every row (without --split)")
    settings = dataclasses.replace(settings, dataset=os.path.abspath(path) if os.path.isfile(path) else path)
    dataset, splits = prepare_splits(settings)
    if _fingerprint(splits) != recorded:
        raise ConfigError(f"{path} is not the data the model was trained on (the split's fingerprint differs from "
                          f"the one in the model file), so --split cannot pick the same rows; without --split "
                          f"every row of {path} is used")
    X, y = (dataset.X, dataset.y) if split == "all" else _pick_split(splits, split)
    if model.network.task == "classification":  # the file's classes, in the model's order
        y = encode_labels([dataset.class_labels[i] for i in y.tolist()], model.class_labels, path)
    return X, y, f"{path}, {split} split (cut as in the model's training run, seed {settings.seed})"


def _pick_split(splits, split: str):
    """(X, y) of ``split`` ("train", "validation" or "test") among a run's (train, validation, test)."""
    chosen = dict(zip(("train", "validation", "test"), splits)).get(split)
    if chosen is None:
        raise ConfigError(f"the model's training run has no {split} split")
    return chosen


def split_of(model: Model, name: str):
    """Re-create the train/validation/test split a model was trained with (built-in datasets only; see
    :func:`evaluation_data`); ``name`` "all" gives every row of the dataset."""
    X, y, _ = evaluation_data(model, name)
    return X, y


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
        X = align_columns(names, X, model.feature_names, path, target=model.target)
    else:
        header, body, has_header = data_module.csv_table(path)
        order = column_order(header if has_header else None, len(header), model.feature_names, path, model.target)
        X = data_module.numeric_columns(path, header, body, order, 2 if has_header else 1)
    # the network's own check (NaN, infinities, values beyond its dtype), a failure naming the file
    return as_matrix(X, f"{path} (features)", model.network.dtype, model.network.n_inputs)


def confusion_matrix(truth, predicted, n_classes: int) -> np.ndarray:
    """Counts ``(n_classes, n_classes)``: entry [i, j] is how many samples of class i were predicted as j."""
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
