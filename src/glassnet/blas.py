"""``y += alpha * x`` in place, and the matrix product for the compiled engine, through the BLAS that numpy itself ships (its OpenBLAS), found at run time (ground floor).

numpy has no in-place axpy: ``y -= alpha * x`` reads and writes memory twice and needs a scratch array.
BLAS's axpy makes one pass on all BLAS threads: for the 235,146 float32 weights of 784-256-128-10 it
measured 21 µs against 65 µs for numpy's two passes, about a tenth of a training step at batch size 10.

Nothing beyond numpy is needed: the library is the one in numpy's wheel (``numpy.libs``). Where it cannot
be found (another numpy build, another platform), and for arrays under 16,384 numbers (where the ctypes
call costs more than it saves), :func:`axpy` uses the two numpy passes, which give the same numbers to
within rounding.
"""
from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

from .backend import namespace_of

# (file pattern in numpy.libs, symbol prefix, symbol suffix, integer type): numpy >= 2's OpenBLAS builds
_BUILDS = (
    ("libscipy_openblas64_*", "scipy_", "64_", ctypes.c_int64),
    ("libscipy_openblas-*", "scipy_", "", ctypes.c_int),
)


def _load_kernels() -> tuple[dict, dict, tuple]:
    """``({dtype: axpy}, {dtype: gemm}, (get_num_threads, set_num_threads))`` from numpy's bundled OpenBLAS,
    or ({}, {}, ()) when there is none."""
    folder = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for pattern, prefix, suffix, integer in _BUILDS:
        for path in sorted(glob.glob(os.path.join(folder, pattern + ".so*"))):
            try:
                library = ctypes.CDLL(path)
                kernels = {np.dtype(np.float32): getattr(library, f"{prefix}cblas_saxpy{suffix}"),
                           np.dtype(np.float64): getattr(library, f"{prefix}cblas_daxpy{suffix}")}
                products = {dtype: _gemm(library, f"{prefix}cblas_{letter}gemm{suffix}", integer, real)
                            for dtype, letter, real in ((np.dtype(np.float32), "s", ctypes.c_float),
                                                        (np.dtype(np.float64), "d", ctypes.c_double))}
                threads = (getattr(library, f"{prefix}openblas_get_num_threads{suffix}"),
                           getattr(library, f"{prefix}openblas_set_num_threads{suffix}"))
            except (OSError, AttributeError):
                continue
            for dtype, function in kernels.items():
                real = ctypes.c_float if dtype == np.float32 else ctypes.c_double
                # void cblas_?axpy(n, alpha, const x*, incx, y*, incy)
                function.argtypes = [integer, real, ctypes.c_void_p, integer, ctypes.c_void_p, integer]
                function.restype = None
            # int openblas_get_num_threads(void); void openblas_set_num_threads(int)
            threads[0].argtypes, threads[0].restype = [], ctypes.c_int
            threads[1].argtypes, threads[1].restype = [ctypes.c_int], None
            return kernels, products if ctypes.sizeof(ctypes.c_void_p) == 8 else {}, threads
    return {}, {}, ()


def _gemm(library, name: str, integer, real):
    """cblas_?gemm as a ctypes function the compiled engine's kernels call (numba takes it as an argument):
    void cblas_?gemm(order, trans_a, trans_b, m, n, k, alpha, a*, lda, b*, ldb, beta, c*, ldc), the arrays'
    addresses passed as 64-bit integers (the kernels have them as ``array.ctypes.data``)."""
    address = ctypes.cast(getattr(library, name), ctypes.c_void_p).value
    enum, pointer = ctypes.c_int, ctypes.c_int64
    prototype = ctypes.CFUNCTYPE(None, enum, enum, enum, integer, integer, integer, real, pointer, integer,
                                 pointer, integer, real, pointer, integer)
    return prototype(address)


_KERNELS, _PRODUCTS, _THREADS = _load_kernels()


def openblas_threads() -> int | None:
    """How many threads numpy's own OpenBLAS may use now, or None where it was not found."""
    return _THREADS[0]() if _THREADS else None


def set_openblas_threads(n_threads: int) -> None:
    """Let numpy's own OpenBLAS use ``n_threads`` threads (a few microseconds; nothing where it was not found)."""
    if _THREADS:
        _THREADS[1](n_threads)


def gemm_function(dtype):
    """numpy's own cblas_sgemm / cblas_dgemm for ``dtype`` as a ctypes function, or None where it was not
    found. The compiled engine calls it for its matrix products: numba's ``np.dot`` goes through scipy's
    OpenBLAS instead, which here took 180 µs for a 10 x 784 by 784 x 256 float32 product against numpy's
    91 µs, and cannot add the product into the weights (C := alpha A B + beta C) for a fused SGD update."""
    return _PRODUCTS.get(np.dtype(dtype))

# below this many numbers the ctypes call (about 5 µs) costs more than numpy's two passes
BLAS_FROM = 16_384


def axpy(alpha: float, x, y, scratch) -> None:
    """y += alpha · x, in place. ``x``, ``y``, ``scratch``: arrays of one shape and dtype (numpy, CuPy or
    any array-API namespace, through :func:`~glassnet.backend.namespace_of`); ``scratch`` is only written
    when BLAS cannot be used (None: the namespace allocates a temporary instead)."""
    kernel = _KERNELS.get(y.dtype) if type(y) is np.ndarray and type(x) is np.ndarray else None
    if (kernel is not None and y.size >= BLAS_FROM and x.dtype == y.dtype and x.size == y.size
            and x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable):
        kernel(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
        return
    if scratch is None:
        y += alpha * x
        return
    namespace_of(y).multiply(x, alpha, out=scratch)
    y += scratch


def available() -> bool:
    """Whether numpy's own BLAS was found (else :func:`axpy` uses numpy's two passes)."""
    return bool(_KERNELS)
