"""Counting and binning: count_nonzero, unique, bincount, histc, searchsorted, bucketize.

searchsorted, bucketize and histc have shapes known in advance and are composites of
comparisons and sums (a jitted function replays them); unique and bincount have shapes
that depend on the values, so they read the tensor on the host (a guard when traced).

>>> import eager
>>> eager.bucketize(eager.tensor([0.5, 2.0, 9.0]), eager.tensor([1.0, 2.0, 3.0])).tolist()
[0, 1, 3]
"""
from __future__ import annotations

import numpy as np

from eager import arguments
from eager.dispatch import apply
from eager.ops import elementwise as E
from eager.ops import reductions as R
from eager.ops.operands import cast
from eager.ops.shape import reshape, unsqueeze
from eager.tensor import Tensor
from kernels import OPS, int32, int64
from kernels.errors import ArgumentError, DTypeError, ShapeError


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """How many elements are not zero, over dim (None: all), as int64.

    >>> import eager
    >>> eager.count_nonzero(eager.tensor([[0, 1], [2, 3]]), dim=1).tolist()
    [1, 2]
    """
    x = arguments.tensor("count_nonzero", "input", input)
    return cast(R.sum(E.not_equal(x, 0), axis=dim), int64)


def searchsorted(sorted_sequence: Tensor, values, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter=None) -> Tensor:
    """For each value, the index where it would be inserted into the sorted last dim of
    sorted_sequence to keep it sorted: before equal entries (left) or after them
    (right=True or side="right"). sorter, indices that sort the last dim of
    sorted_sequence ascending (as from argsort), lets an unsorted sequence be searched.

    >>> import eager
    >>> eager.searchsorted(eager.tensor([1, 3, 5]), eager.tensor([3, 6]), right=True).tolist()
    [2, 3]
    >>> order = eager.tensor([1, 2, 0])
    >>> eager.searchsorted(eager.tensor([5, 1, 3]), eager.tensor([4]), sorter=order).tolist()
    [2]
    """
    seq = arguments.tensor("searchsorted", "sorted_sequence", sorted_sequence)
    if sorter is not None:
        from eager.ops.indexing import gather

        seq = gather(seq, -1, arguments.tensor("searchsorted", "sorter", sorter))
    if side is not None:
        if side not in ("left", "right"):
            raise ArgumentError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        right = side == "right"
    scalar = type(values) is not Tensor
    if scalar:
        from eager.creation import asarray

        values = asarray(values, dtype=seq.dtype, device=seq.device)
    if seq.ndim == 0:
        raise ShapeError("searchsorted: sorted_sequence must have at least one dim")
    if seq.ndim > 1 and seq.shape[:-1] != values.shape[:-1]:
        raise ShapeError(f"searchsorted: the leading dims of sorted_sequence {seq.shape} and "
                         f"values {values.shape} must match")
    below = E.less_equal if right else E.less
    # (..., values, 1) against (..., 1, boundaries): count boundaries below each value.
    counts = R.sum(below(unsqueeze(seq, -2), unsqueeze(values, -1)), axis=-1)
    counts = cast(counts, int32 if out_int32 else int64)
    return reshape(counts, ()) if scalar and counts.ndim == 1 else counts


def bucketize(input: Tensor, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket of each element of input: i such that boundaries[i-1] < x <=
    boundaries[i] (right=False), or boundaries[i-1] <= x < boundaries[i] (right=True).

    >>> import eager
    >>> eager.bucketize(eager.tensor([1, 2]), eager.tensor([1, 2]), right=True).tolist()
    [1, 2]
    """
    boundaries = arguments.tensor("bucketize", "boundaries", boundaries)
    if boundaries.ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be 1-D, got shape {boundaries.shape}")
    x = arguments.tensor("bucketize", "input", input)
    out = searchsorted(boundaries, reshape(x, (-1,)), out_int32=out_int32, right=right)
    return reshape(out, x.shape)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Histogram of the elements in `bins` equal-width bins over [min, max] (both 0: the
    data's range); elements outside are ignored. The result has input's dtype.

    >>> import eager
    >>> eager.histc(eager.tensor([1., 2., 1.]), bins=4, min=0, max=3).tolist()
    [0.0, 2.0, 1.0, 0.0]
    """
    x = arguments.tensor("histc", "input", input)
    if x.dtype.kind != "f":
        raise DTypeError(f"histc: expected a floating tensor, got {x.dtype.name}")
    bins = arguments.integer("histc", "bins", bins, minimum=1)
    lo, hi = arguments.real("histc", "min", min), arguments.real("histc", "max", max)
    if lo > hi:
        raise ArgumentError(f"histc: min ({lo}) must not be greater than max ({hi})")
    flat = reshape(x.detach(), (-1,))
    if lo == hi == 0 and flat.size:
        low, high = R.min(flat), R.max(flat)
        # A constant input gets the range [v - 1, v + 1], as in PyTorch.
        same = E.equal(low, high)
        low, high = E.where(same, low - 1, low), E.where(same, high + 1, high)
    else:
        low, high = (lo - 1, hi + 1) if lo == hi else (lo, hi)
    position = E.floor((flat - low) / (high - low) * bins)
    inside = (flat >= low) & (flat <= high)
    index = cast(E.clip(position, 0, bins - 1), int64)
    weights = E.where(inside, 1.0, 0.0).astype(x.dtype)
    zeros = apply(OPS["full"], shape=(bins,), value=0, dtype=x.dtype, device=x.device)
    return apply(OPS["scatter_add"], zeros, index, weights, axis=0)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in a 1-D non-negative integer tensor
    (summing weights instead when given). The length is max(input) + 1 or minlength,
    a host read.

    >>> import eager
    >>> eager.bincount(eager.tensor([0, 2, 2])).tolist()
    [1, 0, 2]
    """
    x = arguments.tensor("bincount", "input", input)
    if x.dtype.kind not in "iu" or x.ndim != 1:
        raise DTypeError(f"bincount: input must be a 1-D integer tensor, got "
                         f"{x.dtype.name}{list(x.shape)}")
    minlength = arguments.integer("bincount", "minlength", minlength, minimum=0)
    if x.size and bool((x < 0).any()):
        raise ArgumentError("bincount: input must be non-negative, got "
                            f"{int(R.min(x).item())}")
    length = max(int(R.max(x).item()) + 1 if x.size else 0, minlength)
    if weights is None:
        src = apply(OPS["full"], shape=x.shape, value=1, dtype=int64, device=x.device)
    else:
        src = arguments.tensor("bincount", "weights", weights)
        if src.shape != x.shape:
            raise ShapeError(f"bincount: weights of shape {src.shape} must match input of "
                             f"shape {x.shape}")
        if src.dtype.kind != "f":
            src = cast(src, np.dtype("float64"))
    zeros = apply(OPS["full"], shape=(length,), value=0, dtype=src.dtype, device=x.device)
    return apply(OPS["scatter_add"], zeros, cast(x, int64), src, axis=0)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None):
    """The distinct values of input, sorted (a host read: their number is data), and
    optionally the inverse indices and the counts, as PyTorch's unique.

    >>> import eager
    >>> eager.unique(eager.tensor([3, 1, 3, 2])).tolist()
    [1, 2, 3]
    >>> values, inverse, counts = eager.unique(eager.tensor([3, 1, 3]), return_inverse=True,
    ...                                        return_counts=True)
    >>> inverse.tolist(), counts.tolist()
    ([1, 0, 1], [1, 2])
    """
    x = arguments.tensor("unique", "input", input)
    from eager.creation import asarray
    from kernels.shapes import normalize_axis

    host = np.asarray(x.detach())
    axis = None if dim is None else normalize_axis("unique", dim, x.ndim)
    values, inverse, counts = np.unique(host, return_inverse=True, return_counts=True,
                                        axis=axis)
    out = [asarray(values, device=x.device)]
    if return_inverse:
        shape = x.shape if axis is None else (x.shape[axis],)
        out.append(asarray(inverse.reshape(shape).astype(np.int64), device=x.device))
    if return_counts:
        out.append(asarray(counts.astype(np.int64), device=x.device))
    return out[0] if len(out) == 1 else tuple(out)
