"""Model files (files floor): safe (no pickle, nothing executable), atomic, validated, bit-exact.

A model file is a zip archive in numpy's ``.npz`` layout holding only plain arrays:

- ``meta``: the UTF-8 JSON header as a uint8 array (format, versions, architecture, training settings,
  preprocessing, class labels, feature names, and the shape and dtype of every other array);
- ``meta_sha256``: the SHA-256 of the header and of every array's bytes, so an altered or damaged file is
  refused rather than half-trusted;
- ``W1, b1, W2, b2, ...``: the weights; ``mean, std``: the standardisation, if any; checkpoints add
  optimizer state arrays.

It is read without ``numpy.load``: the archive's directory (names, count, total size, compression), then
the header against one schema (every field typed and bounded, below), then every array's declared shape
against the architecture, all before any array is allocated; it is written to a temporary file in the same folder that replaces the target
only once it is complete (``os.replace``), so an interrupted save leaves the previous file intact.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import re
import signal
import stat
import tempfile
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .data import MAX_GENERATED_SAMPLES, MAX_NPY_HEADER, NpzArchive, Standardizer
from ._version import __version__
from .contract import column_order, encode_labels
from .errors import GlassnetError, ModelFileError
from .network import Network

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

FORMAT = "glassnet-model"
FORMAT_VERSION = 1
MAX_META_BYTES = 4 * 1024 * 1024
#: the most bytes all arrays of a model file or checkpoint may declare together (1 GiB)
MAX_MODEL_BYTES = 1024 ** 3
#: the most entries a model file may hold (weights, biases, standardisation, optimizer and callback state)
MAX_MODEL_ENTRIES = 2048


@dataclass
class Model:
    """A trained network with what it needs to be used: preprocessing, class labels, feature names."""

    network: Network
    standardizer: Standardizer | None = None
    class_labels: list = field(default_factory=list)
    feature_names: list = field(default_factory=list)
    training: dict = field(default_factory=dict)
    extra_arrays: dict = field(default_factory=dict)
    extra_meta: dict = field(default_factory=dict)
    #: the name of the column the model predicts, in the data it was trained on (None: not from a file's column)
    target: str | None = None

    def prepare(self, X):
        """Raw features -> network input. A table with column names (a pandas DataFrame) is matched to the
        model's feature names by name, in any order (missing, extra or renamed columns are an error; the
        target column may be present); a plain array is taken by position. Then the width is checked and
        the stored standardisation applied."""
        names = getattr(X, "columns", None)
        if names is not None and self.feature_names:
            order = column_order(list(names), len(names), self.feature_names, "X", self.target)
            X = np.asarray(X.iloc[:, order] if hasattr(X, "iloc") else np.asarray(X)[:, order])
        X = self.network.check_x(X)
        if self.standardizer is not None:
            X = self.network.xp.asarray(self.standardizer.transform(X), dtype=self.network.dtype)
        return X

    def predict(self, X) -> np.ndarray:
        """Predicted class labels (as stored) for classification, values for regression."""
        raw = self.network.predict(self.prepare(X))
        if self.network.task == "classification" and self.class_labels:
            return np.array(self.class_labels, dtype=object)[raw]
        return raw

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)`` for raw features (standardised first)."""
        return self.network.predict_proba(self.prepare(X))

    def evaluate(self, X, y) -> dict:
        """``{"loss", "accuracy"}`` of the network on raw features ``X`` (see :meth:`prepare`) and targets
        ``y``: for a classifier, labels as :meth:`predict` returns them (mapped through the model's class
        labels; an unknown label is an error naming it), class indices for text labels, or one-hot rows."""
        y_array = np.asarray(y)
        numeric_labels = all(isinstance(label, (int, float)) for label in self.class_labels)
        text_targets = not np.issubdtype(y_array.dtype, np.number)
        if self.network.task == "classification" and self.class_labels and y_array.ndim == 1 and (
                text_targets or numeric_labels):  # numbers against text labels are class indices
            y = encode_labels(y_array.tolist(), self.class_labels, "y")
        return self.network.evaluate(self.prepare(X), y)


# ---- the header schema -------------------------------------------------------------------------------
# Every header field is described here once, typed and bounded; ``load_model`` checks the whole header
# against it (and the arrays against the architecture) before anything else is allocated or opened, and
# ``model_to_bytes`` checks what it is about to write, so glassnet never writes a file it would refuse.
# To add a field: add ``"name": Spec(...)`` to the Record it belongs to (HEADER for the top level,
# TRAINING for the training run's settings); nothing else needs to change.

#: limits on what a header may describe
MAX_LAYERS = 256
MAX_UNITS = 2 ** 24
MAX_PARAMETERS = 2 ** 28
MAX_LABELS = 100_000
MAX_JSON_DEPTH = 32
MAX_INT_DIGITS = 40  # a 128-bit generator state has 39 digits
MAX_TEXT = 4096


class HeaderFieldError(Exception):
    """A header value that breaks the schema; ``field`` is where it sits (``network.layers[2].n_in``)."""

    def __init__(self, field: str, why: str):
        super().__init__(f"{field}: {why}")
        self.field = field


def _kind_of(value) -> str:
    return {bool: "true/false", int: "an integer", float: "a number", str: "text", list: "a list",
            dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Int:
    """An integer (never true/false) in ``low..high``."""

    low: int
    high: int
    optional: bool = False

    def check(self, value, field: str) -> None:
        """Refuse ``value`` (a ModelFileError naming ``field``) unless it fits this spec."""
        if value is None and self.optional:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise HeaderFieldError(field, f"must be an integer, got {_kind_of(value)}")
        if not self.low <= value <= self.high:
            raise HeaderFieldError(field, f"must be from {self.low:,} to {self.high:,}, got {_shown(value)}")


@dataclass(frozen=True)
class Number:
    """A finite number (integer or float, never true/false) in ``low..high``."""

    low: float = -1e300
    high: float = 1e300
    optional: bool = False

    def check(self, value, field: str) -> None:
        """Refuse ``value`` (a ModelFileError naming ``field``) unless it fits this spec."""
        if value is None and self.optional:
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise HeaderFieldError(field, f"must be a number, got {_kind_of(value)}")
        if not (math.isfinite(value) and self.low <= value <= self.high):
            raise HeaderFieldError(field, f"must be a finite number from {self.low:g} to {self.high:g}, "
                                          f"got {_shown(value)}")


@dataclass(frozen=True)
class Text:
    """A string of at most ``max_len`` characters, one of ``choices`` or matching ``pattern`` if given."""

    max_len: int = 256
    choices: tuple = ()
    pattern: str = ""
    optional: bool = False

    def check(self, value, field: str) -> None:
        """Refuse ``value`` (a ModelFileError naming ``field``) unless it fits this spec."""
        if value is None and self.optional:
            return
        if not isinstance(value, str):
            raise HeaderFieldError(field, f"must be text, got {_kind_of(value)}")
        if len(value) > self.max_len:
            raise HeaderFieldError(field, f"is {len(value):,} characters long, over {self.max_len:,}")
        if self.choices and value not in self.choices:
            raise HeaderFieldError(field, f"must be one of {', '.join(map(str, self.choices))}; got {_shown(value)}")
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise HeaderFieldError(field, f"is not of the expected form: {_shown(value)}")


@dataclass(frozen=True)
class Flag:
    """true or false."""

    optional: bool = False

    def check(self, value, field: str) -> None:
        """Refuse ``value`` (a ModelFileError naming ``field``) unless it fits this spec."""
        if not (isinstance(value, bool) or (value is None and self.optional)):
            raise HeaderFieldError(field, f"must be true or false, got {_kind_of(value)}")


@dataclass(frozen=True)
class ListOf:
    """A list of ``min_len..max_len`` items, each matching ``item``."""

    item: object
    max_len: int
    min_len: int = 0
    optional: bool = False

    def check(self, value, field: str) -> None:
        """Refuse ``value`` (a ModelFileError naming ``field``) unless it fits this spec."""
        if value is None and self.optional:
            return
        if not isinstance(value, list):
            raise HeaderFieldError(field, f"must be a list, got {_kind_of(value)}")
        if not self.min_len <= len(value) <= self.max_len:
            raise HeaderFieldError(field, f"must hold {self.min_len:,} to {self.max_len:,} items, got {len(value):,}")
        for index, item in enumerate(value):
            self.item.check(item, f"{field}[{index}]")


@dataclass(frozen=True)
class Record:
    """An object with known ``fields`` (name -> spec); ``required`` ones must be there, unknown ones may not."""

    fields: dict
    required: tuple = ()
    optional: bool = False

    def check(self, value, field: str) -> None:
        """Refuse ``value`` (a ModelFileError naming ``field``) unless it fits this spec."""
        if value is None and self.optional:
            return
        if not isinstance(value, dict):
            raise HeaderFieldError(field, f"must be an object, got {_kind_of(value)}")
        for name in self.required:
            if name not in value:
                raise HeaderFieldError(f"{field}.{name}", "is missing")
        for name, item in value.items():
            if name not in self.fields:
                raise HeaderFieldError(f"{field}.{_shown(name)}", "is not a known field")
            self.fields[name].check(item, f"{field}.{name}")


@dataclass(frozen=True)
class MapOf:
    """An object with up to ``max_len`` keys of up to ``key_len`` characters, each value matching ``value``."""

    value: object
    max_len: int = 64
    key_len: int = 64

    def check(self, value, field: str) -> None:
        """Refuse ``value`` (a ModelFileError naming ``field``) unless it fits this spec."""
        if not isinstance(value, dict):
            raise HeaderFieldError(field, f"must be an object, got {_kind_of(value)}")
        if len(value) > self.max_len:
            raise HeaderFieldError(field, f"holds {len(value):,} entries, over {self.max_len:,}")
        for name, item in value.items():
            if len(name) > self.key_len:
                raise HeaderFieldError(field, f"has a key of {len(name):,} characters, over {self.key_len}")
            self.value.check(item, f"{field}.{name}")


@dataclass(frozen=True)
class AnyOf:
    """A value matching one of ``options``."""

    options: tuple
    optional: bool = False

    def check(self, value, field: str) -> None:
        """Refuse ``value`` (a ModelFileError naming ``field``) unless it fits this spec."""
        if value is None and self.optional:
            return
        for option in self.options:
            try:
                option.check(value, field)
                return
            except HeaderFieldError:
                continue
        raise HeaderFieldError(field, f"has an unexpected value {_shown(value)}")


@dataclass(frozen=True)
class Info:
    """Any JSON value: recorded for information only and never used by glassnet (depth and size are
    bounded by the header's own limits)."""

    optional: bool = True

    def check(self, value, field: str) -> None:
        """Refuse ``value`` (a ModelFileError naming ``field``) unless it fits this spec."""
        return


SCALAR = AnyOf((Text(MAX_TEXT), Number(), Flag()), optional=True)
#: a registry entry's configuration: {"name": ..., its parameters}
CONFIG = MapOf(SCALAR, max_len=32)
DTYPE = Text(16, choices=("float32", "float64"))
TASKS = ("classification", "regression")
LAYER = Record({"n_in": Int(1, MAX_UNITS), "n_out": Int(1, MAX_UNITS), "activation": CONFIG,
                "weight_init": CONFIG, "bias_init": CONFIG, "dtype": DTYPE}, required=("n_in", "n_out"))
NETWORK = Record({"layers": ListOf(LAYER, MAX_LAYERS, min_len=1), "cost": CONFIG, "l2": Number(0.0, 1e6),
                  "l1": Number(0.0, 1e6),
                  "seed": Int(0, 2 ** 128, optional=True), "dtype": DTYPE}, required=("layers", "cost"))
ARRAY = Record({"shape": ListOf(Int(0, MAX_PARAMETERS), 4), "dtype": Text(8, pattern=r"[<>|][fiub][1248]")},
               required=("shape", "dtype"))
#: the training run's settings and results: recorded for information; ``evaluate`` may regenerate a
#: built-in dataset from them (within these bounds), and never opens a path they name
TRAINING = Record({
    "dataset": Text(MAX_TEXT, optional=True), "target": AnyOf((Text(1000), Int(-10 ** 9, 10 ** 9)), optional=True),
    "task": Text(32, choices=("auto",) + TASKS), "hidden": ListOf(Int(1, MAX_UNITS), MAX_LAYERS),
    "activation": Text(64), "output": Text(64, optional=True), "cost": Text(64, optional=True),
    "optimizer": Text(64), "learning_rate": Number(0.0, 1e6), "batch_size": Int(1, 2 ** 40, optional=True),
    "epochs": Int(1, 2 ** 40), "schedule": Text(64), "l2": Number(0.0, 1e6), "seed": Int(0, 2 ** 64 - 1),
    "dtype": DTYPE, "test_fraction": Number(0.0, 1.0, optional=True),
    "validation_fraction": Number(0.0, 1.0, optional=True),
    "standardize": Flag(), "early_stopping": Int(1, 2 ** 40, optional=True),
    "target_accuracy": Number(optional=True), "n_samples": Int(1, MAX_GENERATED_SAMPLES, optional=True),
    "device": Text(16, choices=("cpu", "cuda")), "threads": Int(1, 4096, optional=True),
    "clip_norm": Number(0.0, 1e30, optional=True),
    "epochs_run": Int(0, 2 ** 40), "stop_reason": Text(MAX_TEXT), "seconds": Number(0.0, 1e12),
    "data_fingerprint": Text(64, pattern="[0-9a-f]{64}", optional=True),
    "estimator": Text(64), "params": Info(), "playground": Info(),
})
LABEL = AnyOf((Text(1000), Int(-2 ** 63, 2 ** 64), Number(), Flag()))
HEADER = Record({
    "format": Text(32, choices=(FORMAT,)), "format_version": Int(1, 10 ** 6), "glassnet_version": Text(64),
    "kind": Text(16, choices=("model", "checkpoint")), "network": NETWORK, "task": Text(32, choices=TASKS),
    "standardize": Flag(), "class_labels": ListOf(LABEL, MAX_LABELS), "feature_names": ListOf(Text(1000), MAX_UNITS),
    "target": Text(1000, optional=True), "training": TRAINING, "extra": MapOf(Info(), max_len=64), "arrays": MapOf(ARRAY, max_len=MAX_MODEL_ENTRIES, key_len=128),
}, required=("format", "format_version", "kind", "network", "arrays"))


def parse_header_json(raw: bytes) -> dict:
    """JSON text -> dict, refusing nesting deeper than MAX_JSON_DEPTH, integers of more than MAX_INT_DIGITS
    digits, NaN and infinities; raises ValueError with the reason."""
    without_strings = re.sub(rb'"(?:[^"\\]|\\.)*"', b'""', raw)
    codes = np.frombuffer(without_strings, dtype=np.uint8)
    if codes.size:
        opens = np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
        closes = np.isin(codes, (ord("]"), ord("}"))).astype(np.int64)
        depth = int(np.cumsum(opens - closes).max())
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"nested {depth:,} levels deep, over the limit of {MAX_JSON_DEPTH}")
    meta = json.loads(raw.decode("utf-8"), parse_int=_bounded_int, parse_float=_finite_float,
                      parse_constant=_no_constant)
    if not isinstance(meta, dict):
        raise ValueError(f"the header must be a JSON object, got {_kind_of(meta)}")
    return meta


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text):,} digits, over the limit of {MAX_INT_DIGITS}")
    return int(text)


def _finite_float(text: str) -> float:
    if len(text) > 64 or not math.isfinite(float(text)):
        raise ValueError(f"the number {text[:30]!r} is too long or not finite")
    return float(text)


def _no_constant(text: str):
    raise ValueError(f"{text} is not allowed in a header")


def check_header(meta: dict, extra_schema=None) -> None:
    """Check a header against :data:`HEADER` (and its ``extra`` against ``extra_schema``) and its arrays
    against the architecture it declares; raises :class:`HeaderFieldError`."""
    HEADER.check(meta, "header")
    if extra_schema is not None:
        extra_schema.check(meta.get("extra"), "header.extra")
    layers = meta["network"]["layers"]
    for index in range(1, len(layers)):
        if layers[index]["n_in"] != layers[index - 1]["n_out"]:
            raise HeaderFieldError(f"header.network.layers[{index}].n_in",
                                   f"{layers[index]['n_in']} does not match the previous layer's "
                                   f"{layers[index - 1]['n_out']} outputs")
    n_parameters = sum(layer["n_in"] * layer["n_out"] + layer["n_out"] for layer in layers)
    if n_parameters > MAX_PARAMETERS:
        raise HeaderFieldError("header.network", f"declares {n_parameters:,} parameters, over {MAX_PARAMETERS:,}")
    _check_declared_arrays(meta, layers, n_parameters)
    _check_labels_and_names(meta, layers)


def expected_arrays(meta: dict) -> dict:
    """name -> (shape, dtype) of every array the header's architecture calls for (extras not included)."""
    network, expected = meta["network"], {}
    dtype = np.dtype(network.get("dtype", "float64")).str
    for index, layer in enumerate(network["layers"], start=1):
        expected[f"W{index}"] = ((layer["n_in"], layer["n_out"]), dtype)
        expected[f"b{index}"] = ((layer["n_out"],), dtype)
    if meta.get("standardize"):
        width = network["layers"][0]["n_in"]
        expected["mean"] = expected["std"] = ((width,), "<f8")
    return expected


def _check_declared_arrays(meta: dict, layers: list, n_parameters: int) -> None:
    expected, declared = expected_arrays(meta), meta["arrays"]
    for name, (shape, dtype) in expected.items():
        spec = declared.get(name)
        if spec is None or tuple(spec["shape"]) != shape or spec["dtype"] != dtype:
            raise HeaderFieldError(f"header.arrays.{name}", f"must be shape {list(shape)} of {dtype} for the "
                                                            f"declared network, got {spec}")
    extras = [name for name in declared if name not in expected]
    if len(extras) > 4 * len(layers) + 64:
        raise HeaderFieldError("header.arrays", f"lists {len(extras):,} extra arrays for {len(layers)} layers")
    for name in extras:
        if not name.startswith("extra."):
            raise HeaderFieldError(f"header.arrays.{name}", "is not an array this header calls for")
        size = math.prod(declared[name]["shape"])
        if size > n_parameters:
            raise HeaderFieldError(f"header.arrays.{name}", f"holds {size:,} values, more than the network's "
                                                            f"{n_parameters:,} parameters")


def _check_labels_and_names(meta: dict, layers: list) -> None:
    labels, n_outputs = meta.get("class_labels", []), layers[-1]["n_out"]
    if labels and meta.get("task", "classification") == "classification" and \
            len(labels) != n_outputs and not (n_outputs == 1 and len(labels) == 2):
        raise HeaderFieldError("header.class_labels", f"{len(labels):,} labels for {n_outputs} outputs")
    names = meta.get("feature_names", [])
    if names and len(names) != layers[0]["n_in"]:
        raise HeaderFieldError("header.feature_names", f"{len(names):,} names for {layers[0]['n_in']} inputs")


# ---- writing ---------------------------------------------------------------------------------------
def _arrays_of(model: Model) -> dict:
    arrays = {}
    weights = model.network.get_weights()
    for index in range(1, len(model.network.layers) + 1):
        arrays[f"W{index}"], arrays[f"b{index}"] = weights[2 * index - 2], weights[2 * index - 1]
    if model.standardizer is not None:
        arrays["mean"], arrays["std"] = model.standardizer.mean, model.standardizer.std
    for name, value in model.extra_arrays.items():
        arrays[f"extra.{name}"] = np.asarray(value)
    return arrays


def checksum(meta_bytes: bytes, arrays: dict) -> str:
    """The SHA-256 stored as ``meta_sha256``: of the header bytes, then each array's name, dtype, shape and
    bytes in name order. It detects damage, not forgery: anyone can compute it, so the header is validated
    as hostile regardless."""
    h = hashlib.sha256(meta_bytes)
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(array.dtype.str).encode() + str(array.shape).encode())
        h.update(array.data if array.size else b"")
    return h.hexdigest()


def save_model(path: str, model: Model | Network, kind: str = "model", extra_schema=None, on_complete=None) -> None:
    """Write ``model`` (or a bare network) to ``path`` atomically (``on_complete``: see :func:`atomic_write`)."""
    atomic_write(path, model_to_bytes(model, kind, extra_schema, where=path), on_complete)


def save(model: Model | Network, path: str) -> None:
    """``glassnet.save(net, "net.npz")``: a network or a model (with its preprocessing, class labels and
    feature names) saved as a glassnet model file (plain arrays and a JSON header, never a pickle); the
    object first, then the path.
    Read it back with ``glassnet.load(path)``, which returns a :class:`Model`."""
    save_model(path, model)


def model_to_bytes(model: Model | Network, kind: str = "model", extra_schema=None, where: str = "model") -> bytes:
    """The model-file bytes of ``model`` (or a bare network), as :func:`save_model` writes them.

    The header is checked against the schema first, so glassnet never writes a file it would refuse to read.
    """

    if isinstance(model, Network):
        model = Model(model)
    arrays = _arrays_of(model)
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "glassnet_version": __version__, "kind": kind,
        "network": model.network.get_config(), "task": model.network.task,
        "standardize": model.standardizer is not None, "class_labels": list(model.class_labels),
        "feature_names": list(model.feature_names), "target": model.target, "training": model.training,
        "extra": model.extra_meta,
        "arrays": {name: {"shape": list(a.shape), "dtype": a.dtype.str} for name, a in arrays.items()},
    }
    try:
        meta_bytes = json.dumps(meta, sort_keys=True, allow_nan=False).encode("utf-8")
        check_header(parse_header_json(meta_bytes), extra_schema)
    except (HeaderFieldError, ValueError, TypeError) as exc:
        raise ModelFileError(f"cannot write {where}: its header would be invalid ({exc})") from None
    buffer = io.BytesIO()
    entries = {"meta": np.frombuffer(meta_bytes, dtype=np.uint8),
               "meta_sha256": np.frombuffer(checksum(meta_bytes, arrays).encode(), dtype=np.uint8), **arrays}
    np.savez(buffer, **entries)
    return buffer.getvalue()


#: temporary files of an unfinished save are named ``.NAME.XXXXXXXX.glassnet-tmp`` beside the target
TEMP_SUFFIX = ".glassnet-tmp"
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))
#: without file locks (Windows), a temporary file is taken as abandoned once it is this old
_ABANDONED_AFTER_S = 3600


def atomic_write(path: str, payload: bytes, on_complete=None) -> None:
    """Write ``payload`` to a temporary file beside ``path``, fsync it, then rename it over ``path``.

    SIGINT and SIGTERM arriving meanwhile are held until the file is complete and ``on_complete()`` (if
    given) has run, so a handler they reach knows the file is there (see :func:`deferred_signals`);
    a save killed outright (kill -9, power loss) leaves the previous file intact and a temporary file that
    the next save into the same folder removes.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ModelFileError(f"cannot save to {path!r}: folder {folder!r} does not exist")
    with deferred_signals(f"{path} ({len(payload) / 1e6:.1f} MB)"):
        remove_abandoned_temporaries(folder)
        try:
            handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=TEMP_SUFFIX,
                                                 dir=folder)
        except OSError as exc:
            raise ModelFileError(f"cannot save to {path!r}: {exc.strerror}") from None
        try:
            with os.fdopen(handle, "wb") as out:
                _lock(out.fileno())  # a concurrent save's cleanup leaves a locked temporary file alone
                out.write(payload)
                out.flush()
                os.fsync(out.fileno())
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600; a saved file gets the usual permissions
                os.replace(temporary, path)
        except BaseException as exc:
            if os.path.exists(temporary):
                os.unlink(temporary)
            if isinstance(exc, OSError):
                raise ModelFileError(f"cannot save to {path!r}: {exc.strerror or exc}") from None
            raise
        _sync_folder(folder)
        if on_complete is not None:
            on_complete()


def _sync_folder(folder: str) -> None:
    try:
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on folders
        pass


def _lock(descriptor: int, wait: bool = True) -> bool:
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        return True
    except OSError:
        return False


def remove_abandoned_temporaries(folder: str) -> list:
    """Remove the temporary files that killed saves left in ``folder``: only names of glassnet's own
    pattern (``.NAME.XXXXXXXX.glassnet-tmp``), only regular files, and only those no running save holds
    locked. Returns the paths removed."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        full = os.path.join(folder, name)
        if _TEMP_NAME.fullmatch(name) and _abandoned(full):
            try:
                os.unlink(full)
                removed.append(full)
            except OSError:
                pass
    return removed


def _abandoned(path: str) -> bool:
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return False
        if fcntl is None:  # pragma: no cover - Windows
            return time.time() - os.fstat(descriptor).st_mtime > _ABANDONED_AFTER_S
        return _lock(descriptor, wait=False)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def deferred_signals(what: str):
    """Hold SIGINT and SIGTERM while inside: each one received prints that ``what`` is still being saved,
    and all are delivered, in order, to the handlers that were in place once the block ends. Outside the
    main thread (where Python cannot set handlers) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []

    def hold(signum, frame):
        received.append(signum)
        word = "finishing" if len(received) == 1 else "still finishing"
        os.write(2, f"\nglassnet: {word} the save of {what}; it stops once the file is complete\n".encode())

    previous = {sig: signal.signal(sig, hold) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in received:
            _deliver(signum, previous[signum])


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _deliver(signum: int, handler) -> None:
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)


# ---- reading ---------------------------------------------------------------------------------------
def _bad(path: str, why: str) -> ModelFileError:
    return ModelFileError(f"{path}: {why}")


def read_header(path: str, archive: NpzArchive, expect_kind: str | None = None, extra_schema=None):
    """The checked header of an open model-file archive, and its bytes: (meta, meta_bytes)."""
    if "meta" not in archive.sizes or "meta_sha256" not in archive.sizes:
        raise _bad(path, "not a glassnet model file (no glassnet header); was it written by another program?")
    if archive.sizes["meta"] > MAX_META_BYTES + MAX_NPY_HEADER or archive.sizes["meta_sha256"] > 1024:
        raise _bad(path, f"header declares {archive.sizes['meta']:,} bytes, over the {MAX_META_BYTES:,}-byte limit")
    meta_array = archive.read("meta", kinds="u")
    if meta_array.dtype != np.uint8 or meta_array.ndim != 1:
        raise _bad(path, "corrupt header (wrong array type)")
    meta_bytes = meta_array.tobytes()
    try:
        meta = parse_header_json(meta_bytes)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _bad(path, f"corrupt header (not valid JSON within limits: {exc})") from None
    if meta.get("format") != FORMAT:
        raise _bad(path, f"not a glassnet model file (format {_shown(meta.get('format'))})")
    version = meta.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise _bad(path, f"written by a newer glassnet ({_shown(meta.get('glassnet_version'))}, file format "
                         f"{_shown(version)}); this glassnet reads format {FORMAT_VERSION}: upgrade glassnet to load it")
    if expect_kind is not None and meta.get("kind") != expect_kind:
        raise _bad(path, f"this is a {_shown(meta.get('kind'))} file, expected a {expect_kind} file")
    try:
        check_header(meta, extra_schema)
    except HeaderFieldError as exc:
        raise _bad(path, f"invalid header: {exc}") from None
    return meta, meta_bytes


def load_model(path: str, expect_kind: str | None = None, extra_schema=None) -> Model:
    """Read and validate a model file; raises :class:`ModelFileError` with the reason if anything is off.

    Order: the archive's directory (entry names, count, sizes, compression) -> the header against the
    schema and the architecture -> each array's size against its declared shape -> the arrays, each
    checked against the header before it is allocated -> the checksum -> the network. Nothing else is
    opened: a model file never makes glassnet read another file.
    """
    if not os.path.isfile(path):
        raise _bad(path, f"no such {'checkpoint' if expect_kind == 'checkpoint' else 'model file'}")
    with NpzArchive(path, ModelFileError, MAX_MODEL_ENTRIES, MAX_MODEL_BYTES, "a glassnet model file") as archive:
        meta, meta_bytes = read_header(path, archive, expect_kind, extra_schema)
        declared = meta["arrays"]
        if set(declared) != set(archive.sizes) - {"meta", "meta_sha256"}:
            raise _bad(path, "corrupt header: the arrays it lists are not the arrays in the file")
        for name, spec in declared.items():
            n_bytes = math.prod(spec["shape"]) * np.dtype(spec["dtype"]).itemsize
            if not n_bytes <= archive.sizes[name] <= n_bytes + MAX_NPY_HEADER:
                raise _bad(path, f"array {name!r} declares shape {tuple(spec['shape'])} but its entry holds "
                                 f"{archive.sizes[name]:,} bytes")
        arrays = {name: archive.read(name, expect=(spec["shape"], spec["dtype"])) for name, spec in declared.items()}
        stored_digest = archive.read("meta_sha256", kinds="u").tobytes().decode("ascii", "replace")
    if stored_digest != checksum(meta_bytes, arrays):
        raise _bad(path, "checksum mismatch: the file was altered or damaged after it was written")
    return _build_model(path, meta, arrays)


def _build_model(path: str, meta: dict, arrays: dict) -> Model:
    try:
        network = Network.from_config(meta["network"])
    except (GlassnetError, KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise _bad(path, f"the stored architecture is invalid: {exc}") from None
    weights = []
    for index in range(1, len(network.layers) + 1):
        for name in (f"W{index}", f"b{index}"):
            if not np.isfinite(arrays[name]).all():
                raise _bad(path, f"weights {name} contain NaN or infinite values")
            weights.append(arrays[name])
    network.set_weights(weights)
    standardizer = None
    if meta.get("standardize"):
        mean, std = arrays["mean"], arrays["std"]
        if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
            raise _bad(path, "the standardisation holds non-finite means or standard deviations that are not > 0")
        standardizer = Standardizer(mean, std)
    extra = {name[len("extra."):]: value for name, value in arrays.items() if name.startswith("extra.")}
    return Model(network, standardizer, list(meta.get("class_labels", [])), list(meta.get("feature_names", [])),
                 dict(meta.get("training", {})), extra, dict(meta.get("extra") or {}), meta.get("target"))


def is_model_file(path: str) -> bool:
    """Whether ``path`` holds a glassnet model or checkpoint file (judged by its archive's directory only,
    read under the same caps as :func:`load_model`)."""
    try:
        with NpzArchive(path, ModelFileError, MAX_MODEL_ENTRIES, MAX_MODEL_BYTES, "a glassnet model file") as archive:
            return {"meta", "meta_sha256"} <= set(archive.sizes)
    except GlassnetError:
        return False


def describe(path: str) -> dict:
    """A model file's summary (for ``glassnet info``)."""
    model = load_model(path)
    net = model.network
    return {"file": path, "network": repr(net), "sizes": net.sizes,
            "activations": [layer.activation.name for layer in net.layers], "cost": net.cost.name,
            "dtype": net.dtype.name, "n_weights": net.n_weights, "n_biases": net.n_biases, "task": net.task,
            "class_labels": model.class_labels, "standardize": model.standardizer is not None,
            "n_features": net.n_inputs, "feature_names": model.feature_names, "target": model.target,
            "training": model.training}
