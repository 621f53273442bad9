"""Array API 2024.12 functions that PyTorch spells differently or lacks, each a composite
of existing ops (copysign, hypot, positive, repeat, unstack, cumulative_sum/prod, the
unique_* family; from_dlpack lives in eager/dlpack.py).

Where the standard and PyTorch disagree these follow the standard: `repeat` is numpy's
(PyTorch's `Tensor.repeat` tiles), `cumulative_sum` takes `axis` and `include_initial`.

>>> import eager
>>> eager.hypot(eager.tensor([3.0]), eager.tensor([4.0])).tolist()
[5.0]
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from eager import arguments
from eager.dlpack import from_dlpack  # noqa: F401  (the namespace function)
from eager.ops.elementwise import _tensor_operand, binary, unary, where
from eager.ops.operands import promote
from eager.tensor import Tensor
from kernels.dtypes import FLOATING, result_dtype, sum_dtype
from kernels.shapes import normalize_axis


def _float_pair(x1, x2) -> tuple[Tensor, Tensor]:
    from eager.creation import full_like

    # Python scalars stay weak: they take the tensor's dtype.
    if not isinstance(x1, Tensor) and isinstance(x2, Tensor):
        x1 = full_like(x2, x1, dtype=x2.dtype if x2.dtype in FLOATING else None)
    x1 = _tensor_operand(x1)
    if not isinstance(x2, Tensor):
        x2 = full_like(x1, x2, dtype=x1.dtype if x1.dtype in FLOATING else None)
    x1, x2 = promote("f", x1, x2)
    if x1.dtype != x2.dtype:  # float32 with float64: both float64, as the kernels would
        target = result_dtype(x1.dtype, x2.dtype)
        x1, x2 = x1.astype(target, copy=False), x2.astype(target, copy=False)
    return x1, x2


def copysign(x1, x2) -> Tensor:
    """|x1| with the sign bit of x2 (so -0.0 and negative NaNs count as negative).

    >>> import eager
    >>> eager.copysign(eager.tensor([1.0, 2.0]), eager.tensor([-0.0, 3.0])).tolist()
    [-1.0, 2.0]
    """
    x1, x2 = _float_pair(x1, x2)
    magnitude = unary("abs", x1)
    return where(unary("signbit", x2), -magnitude, magnitude)


def hypot(x1, x2) -> Tensor:
    """sqrt(x1**2 + x2**2) without overflow or underflow in the squares; inf when either
    is infinite, even if the other is NaN (C's hypot).

    >>> import eager
    >>> round(eager.hypot(eager.tensor([3e30]), eager.tensor([4e30])).item() / 1e30, 4)
    5.0
    """
    x1, x2 = _float_pair(x1, x2)
    a, b = unary("abs", x1), unary("abs", x2)
    big = binary("maximum", a, b)
    small = binary("minimum", a, b)
    safe_big = where(binary("eq", big, 0.0), 1.0, big)
    ratio = small / safe_big
    out = big * unary("sqrt", ratio * ratio + 1)
    return where(binary("eq", a, math.inf) | binary("eq", b, math.inf), math.inf, out)


def positive(x) -> Tensor:
    """+x, a new tensor equal to x.

    >>> import eager
    >>> eager.positive(eager.tensor([-1, 2])).tolist()
    [-1, 2]
    """
    return unary("copy", x)


def repeat(x: Tensor, repeats, /, *, axis: int | None = None) -> Tensor:
    """Repeat each element `repeats` times (an int or a 1-D tensor of counts) along axis
    (None: of the flattened tensor), as numpy.repeat. `Tensor.repeat` is PyTorch's, which
    tiles instead (use `eager.tile` for that).

    >>> import eager
    >>> eager.repeat(eager.tensor([[1, 2]]), 2, axis=1).tolist()
    [[1, 1, 2, 2]]
    """
    from eager.ops.rearrange import repeat_interleave

    return repeat_interleave(x, repeats, dim=axis)


def unstack(x: Tensor, /, *, axis: int = 0) -> tuple[Tensor, ...]:
    """The slices of x along axis, each without that axis.

    >>> import eager
    >>> [t.tolist() for t in eager.unstack(eager.tensor([[1, 2], [3, 4]]), axis=1)]
    [[1, 3], [2, 4]]
    """
    from eager.ops.rearrange import unbind

    return tuple(unbind(x, axis))


def _cumulative(name: str, x: Tensor, axis, dtype, include_initial: bool) -> Tensor:
    from eager.ops.shape import concat

    x = arguments.tensor(name, "x", x)
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"{name}: axis is required for a {x.ndim}-d tensor "
                             f"(shape {x.shape})")
        axis = 0
    if x.ndim == 0:
        x = x.reshape(1)
    axis = normalize_axis(name, axis, x.ndim)
    if dtype is None and x.dtype.kind in "biu":
        dtype = sum_dtype(x.dtype)
    if dtype is not None:
        x = x.astype(dtype, copy=False)
    if name == "cumulative_sum":
        from eager.ops.ordering import cumsum

        out = cumsum(x, axis) if x.shape[axis] else x * 1
        initial = 0
    else:
        from eager.ops.ordering import cumprod

        out = cumprod(x, axis) if x.shape[axis] else x * 1
        initial = 1
    if out.dtype != x.dtype:  # cumsum/cumprod widen integers as PyTorch does; dtype rules here
        out = out.astype(x.dtype, copy=False)
    if not include_initial:
        return out
    shape = x.shape[:axis] + (1,) + x.shape[axis + 1:]
    from eager.creation import full

    return concat([full(shape, initial, dtype=out.dtype, device=x.device), out], axis=axis)


def cumulative_sum(x: Tensor, /, *, axis: int | None = None, dtype=None,
                   include_initial: bool = False) -> Tensor:
    """Cumulative sum along axis (optional for a 1-d tensor); include_initial puts the
    empty sum 0 first. Bool and signed integer tensors sum in int64, unsigned ones in
    uint64, unless dtype says otherwise.

    >>> import eager
    >>> eager.cumulative_sum(eager.tensor([1, 2, 3]), include_initial=True).tolist()
    [0, 1, 3, 6]
    """
    return _cumulative("cumulative_sum", x, axis, dtype, include_initial)


def cumulative_prod(x: Tensor, /, *, axis: int | None = None, dtype=None,
                    include_initial: bool = False) -> Tensor:
    """Cumulative product along axis (optional for a 1-d tensor); include_initial puts
    the empty product 1 first.

    >>> import eager
    >>> eager.cumulative_prod(eager.tensor([2, 3, 4])).tolist()
    [2, 6, 24]
    """
    return _cumulative("cumulative_prod", x, axis, dtype, include_initial)


class UniqueAllResult(NamedTuple):
    """What `unique_all` returns."""

    values: Tensor
    indices: Tensor
    inverse_indices: Tensor
    counts: Tensor


class UniqueCountsResult(NamedTuple):
    """What `unique_counts` returns."""

    values: Tensor
    counts: Tensor


class UniqueInverseResult(NamedTuple):
    """What `unique_inverse` returns."""

    values: Tensor
    inverse_indices: Tensor


def _unique(name: str, x: Tensor):
    from eager.creation import asarray

    x = arguments.tensor(name, "x", x)
    host = np.asarray(x.detach()).reshape(-1)
    values, index, inverse, counts = np.unique(host, return_index=True, return_inverse=True,
                                               return_counts=True, equal_nan=False)
    def wrap(a, dtype=None):
        return asarray(a if dtype is None else a.astype(dtype), device=x.device)
    return (wrap(values), wrap(index, np.int64),
            wrap(inverse.reshape(x.shape), np.int64), wrap(counts, np.int64))


def unique_all(x: Tensor, /) -> UniqueAllResult:
    """The distinct values of x (sorted; each NaN is distinct), the flat index of the
    first occurrence of each, the index into values of every element of x (shape of x),
    and the counts (a host read: their number is data).

    >>> import eager
    >>> r = eager.unique_all(eager.tensor([3, 1, 3]))
    >>> r.values.tolist(), r.indices.tolist(), r.inverse_indices.tolist(), r.counts.tolist()
    ([1, 3], [1, 0], [1, 0, 1], [1, 2])
    """
    return UniqueAllResult(*_unique("unique_all", x))


def unique_counts(x: Tensor, /) -> UniqueCountsResult:
    """The distinct values of x and how often each occurs.

    >>> import eager
    >>> eager.unique_counts(eager.tensor([2, 2, 5])).counts.tolist()
    [2, 1]
    """
    values, _, _, counts = _unique("unique_counts", x)
    return UniqueCountsResult(values, counts)


def unique_inverse(x: Tensor, /) -> UniqueInverseResult:
    """The distinct values of x and, for each element of x, its index into them.

    >>> import eager
    >>> eager.unique_inverse(eager.tensor([[2, 5], [5, 2]])).inverse_indices.tolist()
    [[0, 1], [1, 0]]
    """
    values, _, inverse, _ = _unique("unique_inverse", x)
    return UniqueInverseResult(values, inverse)


def unique_values(x: Tensor, /) -> Tensor:
    """The distinct values of x, sorted.

    >>> import eager
    >>> eager.unique_values(eager.tensor([2, 2, 5])).tolist()
    [2, 5]
    """
    return _unique("unique_values", x)[0]
