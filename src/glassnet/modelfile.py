"""Model files: safe (no pickle, nothing executable), atomic, validated, bit-exact.

A model file is a zip archive in numpy's ``.npz`` layout holding only plain arrays:

- ``meta``: the UTF-8 JSON header as a uint8 array (format, versions, architecture, training settings,
  preprocessing, class labels, feature names, and the shape and dtype of every other array);
- ``meta_sha256``: the SHA-256 of the header and of every array's bytes, so an altered or damaged file is
  refused rather than half-trusted;
- ``W1, b1, W2, b2, ...``: the weights; ``mean, std``: the standardisation, if any; checkpoints add
  optimizer state arrays.

It is read with ``numpy.load(allow_pickle=False)`` after the archive's directory has been checked
(names, declared sizes), and written to a temporary file in the same folder that replaces the target
only once it is complete (``os.replace``), so an interrupted save leaves the previous file intact.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field

import numpy as np

from .data import Standardizer
from ._version import __version__
from .errors import GlassnetError, ModelFileError
from .network import Network

FORMAT = "glassnet-model"
FORMAT_VERSION = 1
MAX_META_BYTES = 4 * 1024 * 1024
#: no single array in a model file may declare more bytes than this (2 GiB)
MAX_ARRAY_BYTES = 2 * 1024 ** 3


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
        """Raw features -> network input (checks the width, applies the stored standardisation)."""
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
        return self.network.predict_proba(self.prepare(X))

    def evaluate(self, X, y) -> dict:
        return self.network.evaluate(self.prepare(X), y)


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
    """The file's SHA-256 over the header bytes and every array's name, dtype, shape and bytes. It finds
    accidental damage, not tampering: any writer can compute it, so everything behind it is validated too."""
    h = hashlib.sha256(meta_bytes)
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(array.dtype.str).encode() + str(array.shape).encode())
        h.update(array.tobytes())
    return h.hexdigest()


def save_model(path: str, model: Model | Network, kind: str = "model") -> None:
    """Write ``model`` (or a bare network) to ``path`` atomically."""
    atomic_write(path, model_to_bytes(model, kind))


def save(model: Model | Network, path: str) -> None:
    """``glassnet.save(net, "net.npz")``: a network or a model (with its preprocessing, class labels and
    feature names) saved as a model file; the object first, as in ``torch.save`` and ``joblib.dump``.
    Read it back with ``glassnet.load(path)``, which returns a :class:`Model`."""
    save_model(path, model)


def model_to_bytes(model: Model | Network, kind: str = "model") -> bytes:
    """The model-file bytes of ``model`` (or a bare network), as :func:`save_model` writes them."""

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
    meta_bytes = json.dumps(meta, sort_keys=True, allow_nan=False).encode("utf-8")
    buffer = io.BytesIO()
    entries = {"meta": np.frombuffer(meta_bytes, dtype=np.uint8),
               "meta_sha256": np.frombuffer(checksum(meta_bytes, arrays).encode(), dtype=np.uint8), **arrays}
    np.savez(buffer, **entries)
    return buffer.getvalue()


def atomic_write(path: str, payload: bytes) -> None:
    """Write ``payload`` to a temporary file beside ``path``, fsync it, then rename it over ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ModelFileError(f"cannot save to {path!r}: folder {folder!r} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600; a saved file gets the usual permissions
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    try:
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on folders
        pass


# ---- reading ---------------------------------------------------------------------------------------
def _bad(path: str, why: str) -> ModelFileError:
    return ModelFileError(f"{path}: {why}")


def _read_directory(path: str) -> dict:
    """Names -> declared uncompressed sizes, after checking the archive is a sane npz."""
    if not os.path.isfile(path):
        raise _bad(path, "no such model file")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except Exception as exc:  # BadZipFile, OSError, EOFError, and even NotImplementedError for a damaged version field
        raise _bad(path, f"not a glassnet model file (not a readable zip/npz archive: {exc}); it may be "
                         f"truncated or corrupt") from None
    sizes = {}
    for info in infos:
        if not info.filename.endswith(".npy") or "/" in info.filename or info.filename.startswith("."):
            raise _bad(path, f"unexpected entry {info.filename!r}: not a glassnet model file")
        if info.file_size > MAX_ARRAY_BYTES:
            raise _bad(path, f"entry {info.filename!r} declares {info.file_size:,} bytes, over the limit")
        sizes[info.filename[:-4]] = info.file_size
    if "meta" not in sizes or "meta_sha256" not in sizes:
        raise _bad(path, "not a glassnet model file (no glassnet header); was it written by another program?")
    if sizes["meta"] > MAX_META_BYTES:
        raise _bad(path, f"header declares {sizes['meta']:,} bytes, over the {MAX_META_BYTES:,}-byte limit")
    return sizes


def _read_arrays(path: str, names) -> dict:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in names}
    except GlassnetError:
        raise
    except Exception as exc:  # zlib, CRC, header and dtype errors all mean the same thing here
        raise _bad(path, f"corrupt or truncated model file ({type(exc).__name__}: {exc})") from None


def _parse_meta(path: str, meta_array) -> tuple[dict, bytes]:
    if meta_array.dtype != np.uint8 or meta_array.ndim != 1:
        raise _bad(path, "corrupt header (wrong array type)")
    meta_bytes = meta_array.tobytes()
    try:
        meta = json.loads(meta_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(path, f"corrupt header (not valid JSON: {exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _bad(path, f"not a glassnet model file (format {meta.get('format') if isinstance(meta, dict) else None!r})")
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise _bad(path, "corrupt header (no format_version)")
    if version > FORMAT_VERSION:
        raise _bad(path, f"written by a newer glassnet ({meta.get('glassnet_version')}, file format {version}); "
                         f"this glassnet reads format {FORMAT_VERSION}: upgrade glassnet to load it")
    return meta, meta_bytes


def _check_arrays(path: str, meta: dict, sizes: dict) -> None:
    declared = meta.get("arrays")
    if not isinstance(declared, dict) or set(declared) != set(sizes) - {"meta", "meta_sha256"}:
        raise _bad(path, "corrupt header: the arrays it lists are not the arrays in the file")
    for name, spec in declared.items():
        try:
            shape, dtype = tuple(int(s) for s in spec["shape"]), np.dtype(spec["dtype"])
        except (TypeError, KeyError, ValueError):
            raise _bad(path, f"corrupt header entry for array {name!r}") from None
        if dtype.kind not in "fiub" or any(s < 0 for s in shape):
            raise _bad(path, f"array {name!r} has an unsupported dtype {dtype} or shape {shape}")
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if not expected <= sizes[name] <= expected + 4096:  # the .npy header is at most a few hundred bytes
            raise _bad(path, f"array {name!r} declares shape {shape} but its entry holds {sizes[name]:,} bytes")


def load_model(path: str, expect_kind: str | None = None) -> Model:
    """Read and validate a model file; raises :class:`ModelFileError` with the reason if anything is off."""
    sizes = _read_directory(path)
    meta, meta_bytes = _parse_meta(path, _read_arrays(path, ["meta"])["meta"])
    _check_arrays(path, meta, sizes)
    arrays = _read_arrays(path, [n for n in sizes if n != "meta"])
    stored_digest = arrays.pop("meta_sha256").tobytes().decode("ascii", "replace")
    if stored_digest != checksum(meta_bytes, arrays):
        raise _bad(path, "checksum mismatch: the file was altered or damaged after it was written")
    for name, spec in meta["arrays"].items():
        if arrays[name].dtype != np.dtype(spec["dtype"]) or list(arrays[name].shape) != spec["shape"]:
            raise _bad(path, f"array {name!r} does not match its header")
    if expect_kind is not None and meta.get("kind") != expect_kind:
        raise _bad(path, f"this is a {meta.get('kind')} file, expected a {expect_kind} file")
    return _build_model(path, meta, arrays)


FIELD_TYPES = {"class_labels": list, "feature_names": list, "training": dict, "extra": dict, "standardize": bool,
               "network": dict}


def _check_fields(path: str, meta: dict) -> None:
    """Every header field has the type it must have, and every layer's size matches its stored weights."""
    for name, kind in FIELD_TYPES.items():
        if name in meta and not isinstance(meta[name], kind):
            raise _bad(path, f"corrupt header: {name!r} must be a {kind.__name__}, got {type(meta[name]).__name__}")
    if any(not isinstance(label, (str, int, float, bool)) for label in meta.get("class_labels", [])):
        raise _bad(path, "corrupt header: class labels must be strings or numbers")
    if not isinstance(meta.get("target"), (str, type(None))):
        raise _bad(path, "corrupt header: 'target' must be a column name or null")
    layers = meta.get("network", {}).get("layers")
    if not isinstance(layers, list) or not layers or not all(isinstance(layer, dict) for layer in layers):
        raise _bad(path, "corrupt header: no list of layers")
    for index, layer in enumerate(layers, start=1):
        declared = meta["arrays"].get(f"W{index}", {}).get("shape")
        size = (layer.get("n_in"), layer.get("n_out"))
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in size) or list(size) != declared:
            raise _bad(path, f"layer {index} declares {size[0]} -> {size[1]} units, but its weights W{index} "
                             f"have shape {declared}")


def _build_model(path: str, meta: dict, arrays: dict) -> Model:
    _check_fields(path, meta)
    try:
        network = Network.from_config(meta["network"])
    except (GlassnetError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _bad(path, f"the stored architecture is invalid: {exc}") from None
    weights = []
    for index, layer in enumerate(network.layers, start=1):
        for name, shape in ((f"W{index}", layer.W.shape), (f"b{index}", layer.b.shape)):
            if name not in arrays or arrays[name].shape != shape or arrays[name].dtype != network.dtype:
                raise _bad(path, f"weights {name} are missing or do not fit layer {index} {shape}")
            if not np.isfinite(arrays[name]).all():
                raise _bad(path, f"weights {name} contain NaN or infinite values")
            weights.append(arrays[name])
    network.set_weights(weights)
    standardizer = None
    if meta.get("standardize"):
        if "mean" not in arrays or arrays["mean"].shape != (network.n_inputs,):
            raise _bad(path, "the standardisation arrays are missing or the wrong size")
        standardizer = Standardizer(arrays["mean"], arrays["std"])
    extra = {name[len("extra."):]: value for name, value in arrays.items() if name.startswith("extra.")}
    return Model(network, standardizer, list(meta.get("class_labels", [])), list(meta.get("feature_names", [])),
                 dict(meta.get("training", {})), extra, dict(meta.get("extra", {})), meta.get("target"))


def is_model_file(path: str) -> bool:
    """Whether ``path`` holds a glassnet model or checkpoint file (judged by its archive's directory only)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except Exception:  # noqa: BLE001 - anything unreadable as a zip is not a model file
        return False
    return {"meta.npy", "meta_sha256.npy"} <= names


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
