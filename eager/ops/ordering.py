"""Sorting and scans: sort, argsort, topk, median, quantile, cumsum, cumprod, diff.

>>> import eager
>>> eager.sort(eager.tensor([3., 1., 2.])).tolist()
[1.0, 2.0, 3.0]
"""
from __future__ import annotations

import numpy as np

from eager import arguments
from eager.dispatch import apply
from eager.ops.indexing import gather_in_range
from eager.ops.public import implements
from eager.ops.reductions import ValuesIndices
from eager.ops.shape import flatten
from eager.tensor import Tensor
from kernels import OPS
from kernels.errors import ArgumentError, ShapeError
from kernels.shapes import normalize_axis


@implements(OPS.argsort)
def argsort(x: Tensor, /, axis: int = -1, *, descending: bool = False, stable: bool = True,
            dim=None) -> Tensor:
    """Indices that sort x along axis (stable).

    >>> import eager
    >>> eager.argsort(eager.tensor([3., 1., 2.]), descending=True)
    tensor([0, 2, 1])
    """
    arguments.tensor("argsort", "x", x)
    axis = normalize_axis("argsort", dim if dim is not None else axis, x.ndim)
    if x.ndim == 0:
        return argsort(x.reshape(1), descending=descending).reshape(())
    return apply(OPS["argsort"], x, axis=axis, descending=bool(descending))


def sort(x: Tensor, /, axis: int = -1, *, descending: bool = False, stable: bool = True,
         dim=None) -> Tensor:
    """x sorted along axis (Array API); differentiable (the gradient follows the
    permutation).

    >>> import eager
    >>> eager.sort(eager.tensor([[3, 1], [0, 2]]), axis=1)
    tensor([[1, 3],
            [0, 2]])
    """
    arguments.tensor("sort", "x", x)
    return sort_with_indices(x, dim if dim is not None else axis, descending).values


def sort_with_indices(x: Tensor, dim: int = -1, descending: bool = False,
                      stable: bool = True) -> ValuesIndices:
    """PyTorch's `x.sort(dim, descending)`: the sorted values and the indices they came
    from.

    >>> import eager
    >>> eager.tensor([3., 1., 2.]).sort(descending=True)
    ValuesIndices(values=tensor([3., 2., 1.]), indices=tensor([0, 2, 1]))
    """
    if x.ndim == 0:
        normalize_axis("sort", dim, 0)
        values, indices = sort_with_indices(x.reshape(1), 0, descending)
        return ValuesIndices(values.reshape(()), indices.reshape(()))
    order = argsort(x, axis=dim, descending=descending)
    return ValuesIndices(gather_in_range(x, dim, order), order)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True) -> ValuesIndices:
    """The k largest (or smallest) values along dim and their indices.

    >>> import eager
    >>> eager.tensor([1., 5., 3.]).topk(2)
    ValuesIndices(values=tensor([5., 3.]), indices=tensor([1, 2]))
    """
    arguments.tensor("topk", "x", x)
    dim = normalize_axis("topk", dim, x.ndim)
    k = arguments.integer("topk", "k", k)
    if x.ndim == 0:
        values, indices = topk(x.reshape(1), k, 0, largest)
        return ValuesIndices(values.reshape(()), indices.reshape(()))
    if not 0 <= k <= x.shape[dim]:
        raise ShapeError(f"topk: k={k} is out of range for dim {dim} of size {x.shape[dim]} "
                         f"(shape {x.shape})")
    order = argsort(x, axis=dim, descending=largest)
    key = (slice(None),) * dim + (slice(0, k),)
    indices = order[key]
    return ValuesIndices(gather_in_range(x, dim, indices), indices)


def median(x: Tensor, dim: int | None = None, keepdim: bool = False):
    """The lower median (element (n - 1) // 2 of the sorted values), as PyTorch: of all
    elements (a 0-d tensor), or along dim as (values, indices).

    >>> import eager
    >>> eager.median(eager.tensor([3., 1., 4., 2.])).item()
    2.0
    >>> eager.tensor([[3., 1., 2.]]).median(1)
    ValuesIndices(values=tensor([2.]), indices=tensor([2]))
    """
    arguments.tensor("median", "x", x)
    if dim is None:
        flat = flatten(x)
        return sort_with_indices(flat, 0).values[(flat.shape[0] - 1) // 2]
    axis = normalize_axis("median", dim, x.ndim)
    values, indices = sort_with_indices(x, axis)
    middle = (x.shape[axis] - 1) // 2
    key = (slice(None),) * axis + (slice(middle, middle + 1),)
    values, indices = values[key], indices[key]
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return ValuesIndices(values, indices)


def quantile(x: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles (q a number or 1-D tensor in [0, 1]) with linear interpolation
    between the sorted values, over all elements or along dim; a tensor q adds a leading
    dimension, as in PyTorch.

    >>> import eager
    >>> eager.quantile(eager.tensor([1., 2., 3., 4.]), 0.5).item()
    2.5
    """
    arguments.tensor("quantile", "x", x)
    if interpolation != "linear":
        raise ArgumentError(f"quantile: only interpolation='linear' is supported, got "
                            f"{interpolation!r}")
    scalar_q = type(q) is not Tensor
    qs = np.atleast_1d(np.asarray([q] if scalar_q else q.tolist(), dtype=np.float64))
    if ((qs < 0) | (qs > 1)).any():
        raise ArgumentError(f"quantile: q must be in [0, 1], got {qs.tolist()}")
    ndim = x.ndim
    if dim is None:
        x, axis = flatten(x), 0
    else:
        axis = normalize_axis("quantile", dim, x.ndim)
    n = x.shape[axis]
    ordered = sort_with_indices(x, axis).values
    position = qs * (n - 1)
    below, above = np.floor(position).astype(np.int64), np.ceil(position).astype(np.int64)
    from eager.creation import asarray

    def take(positions):
        index = asarray(positions, device=x.device)
        return ordered.index_select(axis, index).moveaxis(axis, 0)

    shape = (len(qs),) + (1,) * (x.ndim - 1)
    frac = asarray((position - below).reshape(shape), dtype=x.dtype, device=x.device)
    low = take(below)
    out = low + (take(above) - low) * frac
    if keepdim:
        out = out.unsqueeze(axis + 1) if dim is not None else out.reshape(
            (len(qs),) + (1,) * ndim)
    return out[0] if scalar_q else out


@implements(OPS.cumsum)
def cumsum(x: Tensor, /, axis: int | None = None, *, dim=None, dtype=None) -> Tensor:
    """Cumulative sum along axis (None: over the flattened tensor).

    >>> import eager
    >>> eager.cumsum(eager.tensor([1, 2, 3]), axis=0)
    tensor([1, 3, 6])
    """
    arguments.tensor("cumsum", "x", x)
    axis = dim if dim is not None else axis
    if axis is None:
        x, axis = flatten(x), 0
    elif x.ndim == 0:  # as in PyTorch: a 0-d result, the value itself
        normalize_axis("cumsum", axis, 0)
        return cumsum(x.reshape(1), 0, dtype=dtype).reshape(())
    out = apply(OPS["cumsum"], x, axis=normalize_axis("cumsum", axis, x.ndim))
    return out if dtype is None else out.astype(dtype, copy=False)


def cumprod(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative product along dim. Composite: out[i] is the product over an (n, n) grid
    where entries past i are 1, so zeros and negative values are exact and the gradient
    is prod's (O(n**2) memory along dim).

    >>> import eager
    >>> eager.cumprod(eager.tensor([2, 0, 3, -1]), 0).tolist()
    [2, 0, 0, 0]
    """
    arguments.tensor("cumprod", "x", x)
    if x.ndim == 0:
        normalize_axis("cumprod", dim, 0)
        return cumprod(x.reshape(1), 0, dtype=dtype).reshape(())
    axis = normalize_axis("cumprod", dim, x.ndim)
    if dtype is not None:
        x = x.astype(dtype, copy=False)
    n = x.shape[axis]
    moved = x.moveaxis(axis, -1)
    from eager.creation import asarray
    from eager.ops.elementwise import where

    upper = asarray(np.triu(np.ones((n, n), dtype=bool)), device=x.device)  # [j, i]: j <= i
    grid = where(upper, moved.unsqueeze(-1), 1)
    out = grid.prod(axis=-2)
    return out.moveaxis(-1, axis)


def diff(x: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """n-th forward difference along dim: x[1:] - x[:-1], repeated n times; prepend and
    append are joined to x first.

    >>> import eager
    >>> eager.diff(eager.tensor([1, 4, 9, 16])).tolist()
    [3, 5, 7]
    """
    from eager.ops.shape import concat

    arguments.tensor("diff", "x", x)
    n = arguments.integer("diff", "n", n, minimum=0)
    axis = normalize_axis("diff", dim, x.ndim)
    parts = [t for t in (prepend, x, append) if t is not None]
    if len(parts) > 1:
        x = concat(parts, axis=axis)
    lead = (slice(None),) * axis
    for _ in range(n):
        x = x[lead + (slice(1, None),)] - x[lead + (slice(None, -1),)]
    return x
