"""One thread setting for everything that computes: BLAS (numpy's matmul) and the jit's
generated cpu kernels.

The default is the number of CPUs this process may run on (`os.sched_getaffinity`, so a
process pinned to one core uses one thread; at most 8), or `OMP_NUM_THREADS` when it is
set; OpenBLAS picks the same default on its own. `set_num_threads` tells BLAS through
threadpoolctl (a dependency); without it only the generated kernels follow and BLAS keeps
what its environment variables (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS) said.

>>> import eager
>>> previous = eager.get_num_threads()
>>> eager.set_num_threads(1); eager.get_num_threads()
1
>>> eager.set_num_threads(previous)
"""
from __future__ import annotations

from kernels.errors import ArgumentError
from kernels.threads import MAX_THREADS, kernel_threads, set_kernel_threads


def get_num_threads() -> int:
    """Threads BLAS and the generated kernels use (see `set_num_threads`).

    >>> import eager
    >>> eager.get_num_threads() >= 1
    True
    """
    return kernel_threads()


def set_num_threads(n: int) -> None:
    """Use `n` threads for BLAS and for the jit's generated kernels, from now on.

    >>> import eager
    >>> eager.set_num_threads(0)
    Traceback (most recent call last):
    ...
    kernels.errors.ArgumentError: set_num_threads: n must be an int in [1, 64], got 0...
    """
    if type(n) is not int or not 1 <= n <= MAX_THREADS:
        raise ArgumentError(f"set_num_threads: n must be an int in [1, {MAX_THREADS}], "
                            f"got {n!r}")
    set_kernel_threads(n)
    _limit_blas(n)


def blas_threads() -> int | None:
    """The thread count BLAS reports now (None without threadpoolctl or a BLAS it knows).

    >>> n = blas_threads(); n is None or n >= 1
    True
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return counts[0] if counts else None


def _limit_blas(n: int) -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=n, user_api="blas")
