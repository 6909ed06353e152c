"""Checks on user data, done once at the door (fit / predict / evaluate), never in the hot path (ground floor)."""
from __future__ import annotations

import math

import numpy as np

from .errors import DataError, LabelError, ShapeError, warn


def as_matrix(x, name: str = "X", dtype=np.float64, n_features: int | None = None, xp=np):
    """``x`` as a finite 2-D array of ``dtype``: ``(n_samples, n_features)``.

    A 1-D array is refused rather than guessed at (one sample or one feature?), as scikit-learn does.
    """
    array = _as_numeric(x, name)
    if array.ndim != 2:
        hint = " (use x.reshape(-1, 1) for one feature or x.reshape(1, -1) for one sample)" if array.ndim == 1 else ""
        raise ShapeError(f"{name} must be 2-D (n_samples, n_features), got shape {array.shape}{hint}")
    if array.shape[0] == 0:
        raise DataError(f"{name} is empty: it has 0 samples (shape {array.shape})")
    if array.shape[1] == 0:
        raise DataError(f"{name} has 0 features (shape {array.shape})")
    if n_features is not None and array.shape[1] != n_features:
        raise ShapeError(
            f"{name} has {array.shape[1]} features per sample, but the first layer expects {n_features} "
            f"(layer 1: {n_features} inputs)"
        )
    if isinstance(x, np.memmap) and array.dtype != np.dtype(dtype):
        _warn_memmap_copy(name, array, dtype)
    return xp.asarray(_to_dtype(array, dtype, name))


def _warn_memmap_copy(name: str, array: np.ndarray, dtype) -> None:
    """Data on disk (a ``numpy.memmap``) of another dtype than the network's is copied into memory whole by
    the conversion: said once, with the size and how to avoid it, instead of a silent copy."""
    target = np.dtype(dtype)
    how = (f"a network of dtype {array.dtype.name!r} reads it in place" if array.dtype.kind == "f" else
           f"store it as {target.name} on disk to read it in place")
    warn(f"glassnet: {name} is a {array.dtype.name} numpy.memmap ({array.nbytes / 1e6:,.1f} MB on disk); "
         f"converting it to {target.name} copies all of it into memory "
         f"({array.size * target.itemsize / 1e6:,.1f} MB); {how}")


def _to_dtype(array: np.ndarray, dtype, name: str) -> np.ndarray:
    """``array`` as ``dtype``, refusing NaN, infinities and finite values too large for ``dtype`` (1e39 is
    finite in float64 but infinite in float32): each with its own message."""
    if array.dtype == dtype:  # the common case: nothing to convert (no errstate context, ~2 us a call)
        _check_finite(array, name)
        return array
    with np.errstate(over="ignore", invalid="ignore"):
        converted = array.astype(np.dtype(dtype), copy=False)
    _check_finite(converted, name, original=array)
    return converted


def _as_numeric(x, name: str) -> np.ndarray:
    if type(x) is np.ndarray and x.dtype in _FLOATS:  # the common case, no dtype tests (a predict of one row)
        return x
    if x is None:
        raise DataError(f"{name} is None; expected an array of numbers")
    try:
        array = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise DataError(f"{name} could not be read as a rectangular array of numbers: {exc}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise DataError(f"{name} must be numeric, got an array of dtype {array.dtype!r} (strings or objects?)")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise DataError(f"{name} must be real-valued, got complex dtype {array.dtype}")
    return array


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# below this many numbers a plain sum beats making a vector of ones for BLAS (a one-row predict: 784 numbers)
BLAS_SUM_FROM = 65_536


def _total(array: np.ndarray):
    """The sum of every entry. A large contiguous float32/float64 matrix is summed as (array @ 1).sum(): BLAS
    reads it on all its threads (4.3 ms against 8.2 ms for 30,000 x 784 float32)."""
    blas_ready = array.ndim == 2 and array.size >= BLAS_SUM_FROM and array.dtype in _FLOATS
    if blas_ready and (array.flags.c_contiguous or array.flags.f_contiguous):
        return (array @ np.ones(array.shape[1], dtype=array.dtype)).sum()
    return array.sum()


def _check_finite(array: np.ndarray, name: str, original: np.ndarray | None = None) -> None:
    """Refuse NaN and infinities in ``array``; with ``original`` (the data before a conversion to
    ``array``'s dtype), an entry finite there but not here is reported as too large for the dtype."""
    if array.dtype not in _FLOATS and not np.issubdtype(array.dtype, np.floating):
        return
    # fast path: one pass, no temporary; a NaN or inf anywhere makes the sum non-finite (a finite sum that
    # overflows only sends us to the exact check below)
    if math.isfinite(float(_total(array))):
        return
    bad = np.argwhere(~np.isfinite(array))
    if not bad.size:
        return
    source = array if original is None else original
    truly_bad = bad[~np.isfinite(source[tuple(bad.T)])]
    if truly_bad.size:
        first = tuple(int(i) for i in truly_bad[0])
        raise DataError(
            f"{name} contains {len(truly_bad)} NaN or infinite value(s), the first at index {first} "
            f"(value {source[first]}); remove or impute them"
        )
    _too_large(name, array.dtype, len(bad), tuple(int(i) for i in bad[0]), source)


def _too_large(name: str, dtype, count: int, where: tuple, source: np.ndarray):
    raise DataError(
        f"{name} holds {count} value(s) too large for {np.dtype(dtype)} (whose largest is "
        f"{np.finfo(dtype).max:.4g}), the first at index {where} (value {source[where]}); rescale the "
        f"data (change its units) or work in float64 (dtype='float64' in Python; `glassnet train --dtype float64` on the command line)"
    )


def check_fits(array, dtype, name: str) -> None:
    """Refuse finite values of ``array`` beyond the range of ``dtype`` (e.g. 1e39 for float32), naming
    ``name``, before any work is done on them. One pass over the data."""
    array = np.asarray(array)
    limit = float(np.finfo(dtype).max)
    if not np.issubdtype(array.dtype, np.floating) or array.size == 0:
        return
    with np.errstate(invalid="ignore"):
        if not float(np.abs(array).max()) > limit:
            return
        beyond = np.argwhere(np.isfinite(array) & (np.abs(array) > limit))
    if beyond.size:
        _too_large(name, dtype, len(beyond), tuple(int(i) for i in beyond[0]), array)


def as_targets(y, n_samples: int, n_outputs: int, dtype=np.float64, probabilities: bool = False, xp=np):
    """Targets as a ``(n_samples, n_outputs)`` array of ``dtype``.

    - ``y: (n_samples, n_outputs)`` is taken as is (one-hot, soft labels or regression targets);
    - ``y: (n_samples,)`` with one output is reshaped to ``(n_samples, 1)``;
    - ``y: (n_samples,)`` with several outputs holds class indices 0..n_outputs-1 and is one-hot encoded
      (text labels are refused with a hint: :class:`glassnet.sklearn.GlassnetClassifier` maps them).
    """
    try:
        array = _as_numeric(y, "y")
    except DataError as error:  # text labels: say where they are taken
        if np.asarray(y).dtype.kind not in "US":
            raise
        raise DataError(f"{error}: a Network takes class indices 0..n_outputs-1; for text labels use "
                        f"glassnet.sklearn.GlassnetClassifier (it maps them), or map them yourself "
                        f"(numpy.unique(y, return_inverse=True))") from None
    if array.ndim not in (1, 2):
        raise ShapeError(f"y must be 1-D (labels) or 2-D (n_samples, n_outputs), got shape {array.shape}")
    if array.shape[0] != n_samples:
        raise ShapeError(f"X has {n_samples} samples (rows) but y has {array.shape[0]}; they must match")
    _check_finite(array, "y")
    if array.ndim == 1 and n_outputs == 1:
        array = array.reshape(-1, 1)
    if array.ndim == 1:  # encoded straight in the network's dtype: no float64 copy of (n_samples, n_outputs)
        return xp.asarray(one_hot(class_labels(array, n_outputs), n_outputs, dtype))
    if array.shape[1] != n_outputs:
        raise ShapeError(
            f"y has {array.shape[1]} columns but the network has {n_outputs} outputs; "
            f"give one column per output, or 1-D class labels"
        )
    if probabilities and ((array < 0).any() or (array > 1).any()):
        raise LabelError(
            "targets for a cross-entropy cost must lie in [0, 1] (probabilities or 0/1 labels); "
            f"got values from {array.min()} to {array.max()}"
        )
    return xp.asarray(_to_dtype(array, dtype, "y"))


def class_labels(y, n_classes: int) -> np.ndarray:
    """Integer class labels in [0, n_classes), or a LabelError naming the offending value."""
    array = np.asarray(y)
    if array.dtype == np.bool_:
        array = array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.integer):
        if (array != np.floor(array)).any():
            bad = array[array != np.floor(array)][0]
            raise LabelError(f"class labels must be whole numbers 0..{n_classes - 1}, got {bad.item()!r}")
    bad = array[(array < 0) | (array >= n_classes)]
    if bad.size:
        raise LabelError(
            f"class label {bad[0].item()!r} is outside the network's {n_classes} outputs "
            f"(labels must be 0..{n_classes - 1})"
        )
    return array.astype(np.int64)


def one_hot(labels: np.ndarray, n_classes: int, dtype=np.float64) -> np.ndarray:
    """``(n_samples,)`` integer labels -> ``(n_samples, n_classes)`` rows of 0 and 1 in ``dtype``."""
    encoded = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    encoded[np.arange(labels.shape[0]), labels] = 1.0
    return encoded


def as_sample_weight(weight, n_samples: int, dtype=np.float64, xp=np):
    """Sample weights as a finite, non-negative ``(n_samples,)`` array with a positive sum."""
    array = _as_numeric(weight, "sample_weight")
    if array.ndim != 1 or array.shape[0] != n_samples:
        raise ShapeError(f"sample_weight must have shape ({n_samples},), one weight per sample; got {array.shape}")
    _check_finite(array.astype(np.float64), "sample_weight")
    if (array < 0).any() or not array.sum() > 0:
        raise DataError("sample_weight must be >= 0 with a positive sum")
    return xp.asarray(array, dtype=dtype)
