"""How many threads the BLAS behind numpy may use (threadpoolctl, the ``speed`` extra) (ground floor).

glassnet respects whatever the machine's BLAS is set to (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ...);
``limit_threads(n)`` changes it for a block of code and restores it after.
"""
from __future__ import annotations

import contextlib

from .errors import ConfigError


def blas_threads() -> dict:
    """{library: threads} for every BLAS numpy has loaded (empty without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {}
    return {info["internal_api"]: info["num_threads"] for info in threadpool_info() if info.get("user_api") == "blas"}


@contextlib.contextmanager
def limit_threads(n_threads: int | None):
    """``with limit_threads(1): net.fit(...)`` — None leaves the setting alone."""
    if n_threads is None:
        yield
        return
    if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
        raise ConfigError(f"threads must be a whole number >= 1, got {n_threads!r}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise ConfigError("setting the thread count needs threadpoolctl: pip install 'glassnet[speed]'") from None
    with threadpool_limits(limits=n_threads, user_api="blas"):
        yield
