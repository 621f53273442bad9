"""Result buffers for collectives, reused once nothing refers to them any more.

A collective's result is new memory, and fresh memory costs page faults on first touch:
for a 16 MB all-reduce that is as long as the exchange itself. So results of 64 KB and
more come from a few cached arrays per (shape, dtype); one is handed out again only
when the cache holds the sole reference to it, so a result still held by a tensor, a
view of it, or a request in flight is never overwritten.

>>> pool = BufferPool()
>>> a = pool.empty((1 << 15,), np.dtype("float32"))
>>> b = pool.empty((1 << 15,), np.dtype("float32"))
>>> a is b
False
>>> first = id(a)
>>> del a
>>> c = pool.empty((1 << 15,), np.dtype("float32"))
>>> id(c) == first, c is b
(True, False)
"""
from __future__ import annotations

import math
import sys

import numpy as np

MIN_POOLED_BYTES = 1 << 16
PER_SHAPE = 4
# getrefcount's own argument plus the cache list's entry: nobody else holds the array.
_UNUSED_REFCOUNT = 2


class BufferPool:
    """np.empty, served from a small cache of arrays nobody references any more."""

    def __init__(self) -> None:
        self._cached: dict[tuple, list[np.ndarray]] = {}

    def empty(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An uninitialised array of shape and dtype (maybe a reused one)."""
        dtype = np.dtype(dtype)
        if math.prod(shape) * dtype.itemsize < MIN_POOLED_BYTES:
            return np.empty(shape, dtype)
        cached = self._cached.setdefault((tuple(shape), dtype), [])
        for i in range(len(cached)):
            if sys.getrefcount(cached[i]) == _UNUSED_REFCOUNT:
                return cached[i]
        out = np.empty(shape, dtype)
        if len(cached) < PER_SHAPE:
            cached.append(out)
        return out
