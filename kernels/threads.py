"""How many threads the generated cpu kernels may split a big group across.

The default honours the process's CPU affinity (a process pinned to one core gets one
thread, not `os.cpu_count()`) and, when set, `OMP_NUM_THREADS`. `eager.set_num_threads`
changes it together with BLAS's thread count; this module only holds the number, so
kernels imports nothing of eager.

>>> previous = kernel_threads(); set_kernel_threads(1); kernel_threads()
1
>>> set_kernel_threads(previous)
"""
from __future__ import annotations

import os

MAX_THREADS = 64


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS reports one).

    >>> available_cpus() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def default_threads() -> int:
    """`OMP_NUM_THREADS` when it is a positive integer (capped at the available CPUs),
    else every available CPU, at most 8 (more threads than that only wait on memory)."""
    cpus = available_cpus()
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if value.isdigit() and int(value) > 0:
        return min(int(value), cpus, MAX_THREADS)
    return min(cpus, 8)


_threads: int | None = None


def kernel_threads() -> int:
    """The thread count generated kernels use now."""
    global _threads
    if _threads is None:
        _threads = default_threads()
    return _threads


def set_kernel_threads(n: int) -> None:
    """Use `n` threads (1..64) in generated kernels from the next kernel call on."""
    global _threads
    if type(n) is not int or not 1 <= n <= MAX_THREADS:
        raise ValueError(f"set_kernel_threads: n must be an int in [1, {MAX_THREADS}], "
                         f"got {n!r}")
    _threads = n
