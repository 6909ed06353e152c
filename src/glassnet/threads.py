"""How many threads the BLAS behind numpy may use (threadpoolctl, the ``speed`` extra) (ground floor).

glassnet respects whatever the machine's BLAS is set to (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ...);
``limit_threads(n)`` changes it for a block of code and restores it after. One exception, measured:
:func:`one_thread_for_small_products` (``Trainer.fit``) runs a network whose step products OpenBLAS runs on one
thread anyway with one thread throughout, so that the once-an-epoch evaluations do not wake its other
threads, which then spin and, on a busy machine, take a core from the training thread.
"""
from __future__ import annotations

import contextlib

from .blas import openblas_threads, set_openblas_threads
from .errors import ConfigError


def blas_threads() -> dict:
    """{library: threads} for every BLAS numpy has loaded (empty without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {}
    return {info["internal_api"]: info["num_threads"] for info in threadpool_info() if info.get("user_api") == "blas"}


#: how many limit_threads blocks are open: a thread count asked for explicitly is kept as it is
_EXPLICIT = 0


@contextlib.contextmanager
def limit_threads(n_threads: int | None):
    """``with limit_threads(1): net.fit(...)`` — None leaves the setting alone. Inside the block the count is
    the one asked for, also where :func:`one_thread_for_small_products` would have taken one thread."""
    if n_threads is None:
        yield
        return
    if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
        raise ConfigError(f"threads must be a whole number >= 1, got {n_threads!r}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise ConfigError("setting the thread count needs threadpoolctl: pip install 'glassnet[speed]'") from None
    global _EXPLICIT
    with threadpool_limits(limits=n_threads, user_api="blas"):
        _EXPLICIT += 1
        try:
            yield
        finally:
            _EXPLICIT -= 1


#: OpenBLAS runs a product of m·n·k multiply-adds below this on one thread whatever its setting (its
#: SMP_THRESHOLD_MIN 65,536 times GEMM_MULTITHREAD_THRESHOLD 4)
OPENBLAS_ONE_THREAD_BELOW = 262_144


def products_on_one_thread(sizes, batch_rows: int) -> bool:
    """Whether every product of a training step of a Dense stack of widths ``sizes`` on batches of
    ``batch_rows`` rows (x W, x.T delta, delta W.T: batch_rows · n_in · n_out multiply-adds each) is below
    :data:`OPENBLAS_ONE_THREAD_BELOW`."""
    return all(batch_rows * n_in * n_out < OPENBLAS_ONE_THREAD_BELOW for n_in, n_out in zip(sizes[:-1], sizes[1:]))


@contextlib.contextmanager
def one_thread_for_small_products(sizes, batch_rows: int):
    """numpy's own OpenBLAS on one thread inside the block (restored after) when the step's products are small
    enough to run on one thread anyway (:func:`products_on_one_thread`); otherwise, inside a
    :func:`limit_threads` block (a count asked for explicitly, as ``--threads``), or where that OpenBLAS was
    not found, the setting is left alone.

    Why: the per-epoch evaluations of such a network (validation data, the first loss) are larger products,
    which wake OpenBLAS's other threads; those then spin for a while, and on a machine with a second busy
    process they take the training thread's core. 20-64-64-3, 100 epochs with 600 validation rows, a second
    process busy on this 2-core machine: 2.08 s with two threads, 1.07 s with one (0.75 / 0.72 s without
    validation data)."""
    before = openblas_threads()
    if before is None or before == 1 or _EXPLICIT or not products_on_one_thread(sizes, batch_rows):
        yield
        return
    set_openblas_threads(1)
    try:
        yield
    finally:
        set_openblas_threads(before)
