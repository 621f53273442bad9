"""Keeping freed host memory for reuse, as PyTorch's caching allocators do.

Eager code makes and drops many temporaries of the same few sizes: a transformer
training step allocates hundreds of arrays of 100 KB to a few MB and frees them again.
glibc's malloc serves such sizes from fresh `mmap`s or returns the top of its heap to
the system as soon as more than about twice the largest recent block is free, so the
next step faults every page in again: on a small GPT that was 8,000 page faults and half
of the step's time in the kernel. Raising the two thresholds keeps those pages in the
process (up to `trim_threshold` bytes of free heap), where the next allocation reuses
them. numpy's arrays come from malloc, so every CPU tensor benefits.

Set the environment variable `EAGER_KEEP_HOST_MEMORY=0` before importing eager to keep
the C library's defaults.

>>> isinstance(keep_freed_memory(), bool)
True
"""
from __future__ import annotations

import ctypes
import os

# mallopt parameter numbers from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

TRIM_THRESHOLD = 256 << 20
"""Free bytes at the top of the heap that malloc keeps rather than returning."""
MMAP_THRESHOLD = 32 << 20
"""Blocks at least this large get their own mapping (and go back to the system at once)."""


def keep_freed_memory(trim_threshold: int = TRIM_THRESHOLD,
                      mmap_threshold: int = MMAP_THRESHOLD) -> bool:
    """Tell glibc's malloc to keep freed memory for reuse; return whether it took the
    setting (False on other C libraries, or when EAGER_KEEP_HOST_MEMORY=0).

    >>> keep_freed_memory() in (True, False)
    True
    """
    if os.environ.get("EAGER_KEEP_HOST_MEMORY", "1") == "0":
        return False
    if not _is_glibc():
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_TRIM_THRESHOLD, int(trim_threshold))) and \
        bool(mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)))


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):  # not a POSIX system, or not glibc
        return False


__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory"]
