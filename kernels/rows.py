"""Reductions over the trailing axis of many short rows, kept as a length-1 axis, for the
eager primitives that normalise rows (softmax, log_softmax, layer norm).

numpy's last-axis reductions pay a per-row cost that dominates short rows: summing 2048
rows of 32 takes 85 us with `sum`, 14 us with `einsum` (which streams the rows through
one sum-of-products loop); a max over them 290 us, 70 us over the transposed copy. Each
function here takes the fast route where it applies (numpy, float32 or float64, the
last axis) and numpy's own reduction elsewhere; the values agree to rounding (a sum's
order of additions differs).

>>> import numpy as np
>>> x = np.arange(6.0).reshape(2, 3)
>>> row_sum(np, x, (1,)).tolist(), row_max(np, x, (1,)).tolist()
([[3.0], [12.0]], [[2.0], [5.0]])
>>> row_dot(np, x, x, (1,)).tolist()
[[5.0], [50.0]]
"""
from __future__ import annotations

import numpy as np

from kernels.reductions import short_rows_first

_STREAMED = (np.dtype(np.float32), np.dtype(np.float64))


def _streams(xp, x, axes: tuple[int, ...]) -> bool:
    return xp is np and axes == (x.ndim - 1,) and x.dtype in _STREAMED


def row_sum(xp, x, axes: tuple[int, ...]):
    """x summed over `axes`, keepdims.

    >>> row_sum(np, np.ones((2, 4), np.float32), (1,)).tolist()
    [[4.0], [4.0]]
    """
    if _streams(xp, x, axes):
        return np.einsum("...i->...", x)[..., None]
    return x.sum(axis=axes, keepdims=True)


def row_dot(xp, a, b, axes: tuple[int, ...]):
    """(a * b) summed over `axes`, keepdims, without materialising a * b where it can.

    >>> row_dot(np, np.ones((1, 3)), np.arange(3.0)[None], (1,)).tolist()
    [[3.0]]
    """
    if _streams(xp, a, axes) and b.dtype == a.dtype and b.shape == a.shape:
        return np.einsum("...i,...i->...", a, b)[..., None]
    return (a * b).sum(axis=axes, keepdims=True)


def row_mean(xp, x, axes: tuple[int, ...]):
    """x averaged over `axes`, keepdims.

    >>> row_mean(np, np.array([[1.0, 3.0]]), (1,)).tolist()
    [[2.0]]
    """
    if _streams(xp, x, axes):
        total = np.einsum("...i->...", x)[..., None]
        total /= x.shape[-1]
        return total
    return x.mean(axis=axes, keepdims=True)


def row_max(xp, x, axes: tuple[int, ...]):
    """The maximum of x over `axes`, keepdims; NaN propagates.

    >>> row_max(np, np.array([[1.0, np.nan], [2.0, 0.0]]), (1,)).tolist()
    [[nan], [2.0]]
    """
    if xp is np:
        return short_rows_first(np.maximum.reduce, x, axis=axes, keepdims=True)
    return x.max(axis=axes, keepdims=True)
