"""Which array namespace an array belongs to (ground floor): numpy by default, CuPy for arrays on an NVIDIA GPU, and any
namespace of the Python array API standard (``array_api_strict`` in the tests) through an adapter.

The engine never imports CuPy itself; layer code asks ``namespace_of(array)`` for the module whose
functions fit the array it holds, so the same code serves every namespace.

numpy and CuPy are *numpy-like* (:func:`numpy_like`): their functions take ``out=`` and ``where=``, slices
and reshapes are views, bool × float multiplies. The engine's hot path writes into kept arrays through
``out=``, so a training step allocates nothing. A standard namespace promises none of that; it is wrapped in
an :class:`OutlessNamespace`, which takes the same calls and *allocates* where the standard has no ``out=``
(the result is computed anew, then copied into ``out``), so numpy keeps its in-place path untouched and
the standard path gives the same numbers. Testing the engine under ``array_api_strict`` is what shows that
it calls nothing outside the standard, which is what lets the CuPy path be trusted without a GPU.
"""
from __future__ import annotations

import types

import numpy as np

from .errors import ConfigError

DEVICES = ("cpu", "cuda")


def namespace_of(array):
    """The namespace the engine calls for ``array``: ``numpy``, ``cupy``, or the array's own array-API
    namespace (``array.__array_namespace__()``) wrapped in an :class:`OutlessNamespace`."""
    if type(array) is np.ndarray:  # the common case, checked first: this runs several times per step
        return np
    module = type(array).__module__.split(".")[0]
    if module == "cupy":  # pragma: no cover - needs a GPU
        import cupy

        return cupy
    standard = getattr(array, "__array_namespace__", None)
    return np if standard is None else engine_namespace(standard())


def numpy_like(xp) -> bool:
    """Whether ``xp`` takes ``out=``/``where=`` and guarantees views (numpy and CuPy); any other namespace
    gets the standard's calls only, and allocates its results."""
    return xp is np or getattr(xp, "__name__", "") == "cupy"


_ADAPTERS: dict = {}


def engine_namespace(xp):
    """The namespace the engine calls for module ``xp``: numpy and CuPy themselves, any other array-API
    namespace (or an adapter already) wrapped once in an :class:`OutlessNamespace`."""
    if numpy_like(xp) or isinstance(xp, OutlessNamespace):
        return xp
    if xp.__name__ not in _ADAPTERS:
        _ADAPTERS[xp.__name__] = OutlessNamespace(xp)
    return _ADAPTERS[xp.__name__]


class OutlessNamespace:
    """A standard array namespace with the calling conventions the engine uses on numpy.

    Every function takes ``out=`` (the result is computed as a new array, then copied into ``out``, which
    is returned) and ``where=`` (with ``out``: ``out`` keeps its values where the mask is False), and
    numpy dtypes passed as ``dtype=`` become the namespace's own (``np.float64`` -> ``xp.float64``).
    Anything else is the namespace's own attribute, so a call outside the standard still fails.
    """

    def __init__(self, namespace: types.ModuleType):
        self.namespace = namespace
        self.__name__ = namespace.__name__

    def dtype(self, dtype):
        """The namespace's dtype for a numpy dtype (or type) or Python's ``bool``; others pass through."""
        if dtype is bool:
            return self.namespace.bool
        if isinstance(dtype, np.dtype) or (isinstance(dtype, type) and issubclass(dtype, np.generic)):
            return getattr(self.namespace, np.dtype(dtype).name)
        return dtype

    def __getattr__(self, name: str):
        target = getattr(self.namespace, name)
        if not callable(target) or isinstance(target, type):
            return target

        def call(*args, out=None, where=None, **kwargs):
            if "dtype" in kwargs:
                kwargs["dtype"] = self.dtype(kwargs["dtype"])
            result = target(*args, **kwargs)
            if out is None:
                return result
            out[...] = result if where is None else self.namespace.where(where, result, out)
            return out

        setattr(self, name, call)  # found once: later calls skip __getattr__
        return call

    def __repr__(self) -> str:
        return f"OutlessNamespace({self.__name__})"


def row_sum(a):
    """Σ over each row of a 2-D array, ``(n, k) -> (n, 1)``, as the product a @ 1 (BLAS) with a kept vector of
    ones. numpy's sum(axis=1) over short rows is far slower: 52 µs against 6 µs for 2048 x 10 float32, and
    2.0 µs against 0.5 µs for 32 x 2. Other namespaces take the standard call."""
    if type(a) is not np.ndarray:
        return namespace_of(a).sum(a, axis=1, keepdims=True)
    return a.dot(constant_vector(a.shape[1], a.dtype))[:, None]


def row_max(a):
    """The maximum of each row of a 2-D array, ``(n, k) -> (n, 1)``. For short rows it takes k − 1
    element-wise maxima of columns: 17 µs against 87 µs for max(axis=1) on 2048 x 10, 1.3 against 2.7 µs
    on 32 x 2. NaN propagates. Other namespaces take the standard call."""
    if type(a) is not np.ndarray:
        return namespace_of(a).max(a, axis=1, keepdims=True)
    n, k = a.shape
    if n == 1:  # one row (a prediction of one sample): the whole-array maximum, 1 µs less
        return a.max(keepdims=True)
    if k == 1 or k > 32 or (n < 64 and k > 3):
        return a.max(axis=1, keepdims=True)
    top = np.maximum(a[:, 0], a[:, 1])
    for column in range(2, k):
        np.maximum(top, a[:, column], out=top)
    return top[:, None]


_CONSTANT_VECTORS: dict = {}


def constant_vector(n: int, dtype, value: float = 1) -> np.ndarray:
    """A read-only numpy vector of ``n`` copies of ``value``, kept between calls: row sums are products with
    a vector of ones, ReLU takes the maximum against a row of zeros."""
    key = (n, dtype, value)
    found = _CONSTANT_VECTORS.get(key)
    if found is None:
        if len(_CONSTANT_VECTORS) > 256:  # many shapes seen: start again rather than grow without end
            _CONSTANT_VECTORS.clear()
        found = _CONSTANT_VECTORS[key] = np.full(n, value, dtype=dtype)
        found.flags.writeable = False
    return found


def product(xp):
    """The matrix product to call in namespace ``xp``: on numpy the array method ``ndarray.dot`` (the same
    BLAS call as ``np.dot`` and ``matmul`` on large arrays; on small ones 0.8 µs less than ``matmul`` and 0.3 µs
    less than ``np.dot``, which first runs a Python-level dispatcher), else the standard ``matmul``."""
    return np.ndarray.dot if xp is np else xp.matmul


def take_rows(array, rows):
    """The rows of ``array`` at ``rows``, a numpy array of positions or a slice: ``array[rows]`` on numpy;
    elsewhere ``take`` along the first axis with the positions in the array's own namespace (the array API
    indexes with neither numpy arrays nor one index for a 2-D array)."""
    if isinstance(array, np.ndarray):
        return array[rows]
    xp = namespace_of(array)
    if isinstance(rows, slice):
        rows = np.arange(array.shape[0])[rows]
    return xp.take(array, xp.asarray(rows), axis=0)


def namespace_for(device: str) -> types.ModuleType:
    """The array module for ``device`` ("cpu" or "cuda"), with a clear error when CUDA is not usable."""
    if device == "cpu":
        return np
    if device != "cuda":
        raise ConfigError(f"unknown device {device!r}; valid devices are: {', '.join(DEVICES)}")
    try:  # pragma: no cover - needs CuPy
        import cupy
    except ImportError:  # pragma: no cover
        raise ConfigError("device 'cuda' needs CuPy: pip install 'glassnet[gpu]' (and an NVIDIA GPU)") from None
    try:  # pragma: no cover
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise ConfigError("device 'cuda' asked for, but CuPy sees no CUDA GPU")
    except cupy.cuda.runtime.CUDARuntimeError as exc:  # pragma: no cover
        raise ConfigError(f"device 'cuda' asked for, but CUDA is not usable: {exc}") from None
    return cupy  # pragma: no cover


def total(a):
    """Σ of every element of ``a``: the array's own ``sum()`` on numpy (``np.sum`` dispatches through
    ``__array_function__``, a microsecond more per call), the standard ``xp.sum`` elsewhere."""
    return a.sum() if type(a) is np.ndarray else namespace_of(a).sum(a)


def count_true(mask) -> int:
    """How many entries of the boolean array ``mask`` are True, as a Python int."""
    if type(mask) is np.ndarray:
        return int(np.count_nonzero(mask))
    xp = namespace_of(mask)
    return int(xp.sum(xp.astype(mask, xp.int64)))


def sum_of_squares(a) -> float:
    """Σ a², over every element (one BLAS dot product on numpy and CuPy)."""
    xp = namespace_of(a)
    return float(xp.vdot(a, a)) if numpy_like(xp) else float(xp.sum(a * a))


def sum_of_products(a, b) -> float:
    """Σ a ⊙ b over every element of two arrays of one shape (one BLAS dot product on numpy and CuPy)."""
    xp = namespace_of(a)
    if numpy_like(xp):
        return float(xp.vdot(a, b)) if a.flags.c_contiguous and b.flags.c_contiguous else float((a * b).sum())
    return float(xp.sum(a * b))


def to_numpy(array) -> np.ndarray:
    """A numpy copy (or view) of an array from any supported namespace."""
    if isinstance(array, np.ndarray):
        return array
    get = getattr(array, "get", None)
    if get is not None:  # pragma: no cover - CuPy
        return get()
    return np.asarray(array)
