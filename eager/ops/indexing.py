"""Indexing: `x[key]` (slices, ints, None, Ellipsis, integer arrays, boolean masks),
`x[key] = value`, gather/scatter_add along an axis, nonzero.

Basic keys (slices, ints, None, Ellipsis) give views; keys with arrays give copies, as in
numpy. A boolean mask is a host read: how many elements it selects decides the shape.

>>> import eager
>>> x = eager.arange(6).reshape(2, 3)
>>> x[:, [0, 2]].tolist(), x[x > 3].tolist()
([[0, 2], [3, 5]], [4, 5])
"""
from __future__ import annotations

import numpy as np

from eager import arguments
from eager.dispatch import apply, get_hook, user_line_suffix
from eager.ops.inplace import inplace_update
from eager.ops.operands import as_operand, cast
from eager.ops.public import implements
from eager.tensor import Tensor
from kernels import OPS
from kernels.errors import ArgumentError, DTypeError, IndexOutOfRangeError, ShapeError, ZeroDimError
from kernels.shapes import normalize_axis


def _as_index_tensor(entry, like: Tensor) -> Tensor:
    if type(entry) is Tensor:
        return entry
    from eager.creation import asarray

    return asarray(_host_index_array(entry), device=like.device)


def _host_index_array(entry) -> np.ndarray:
    try:
        return np.asarray(entry)
    except ValueError:  # ragged nested lists
        raise ShapeError(f"index: cannot use the ragged nested list {entry!r:.60} as an "
                         "index") from None


def _dims_consumed(entry) -> int:
    if entry is None or entry is Ellipsis:
        return 0
    if type(entry) is Tensor or isinstance(entry, (list, np.ndarray)):
        arr_dtype = entry.dtype if type(entry) is Tensor else _host_index_array(entry).dtype
        return max(np.ndim(entry) if type(entry) is not Tensor else entry.ndim, 1) \
            if arr_dtype == np.bool_ else 1
    return 1


def normalize_key(x: Tensor, key) -> tuple[tuple, list[Tensor]]:
    """Split a user's key into the normalised key (see kernels.indexing) and index tensors."""
    if type(key) is not tuple:
        key = (key,)
    consumed = ellipses = 0
    for k in key:
        kind = type(k)
        if kind is int or kind is slice:
            consumed += 1
        elif k is Ellipsis:
            ellipses += 1
        elif k is not None:
            consumed += _dims_consumed(k)
    if ellipses > 1:
        raise ShapeError("index: an index can only have a single ellipsis ('...')")
    if consumed > x.ndim:  # an IndexError, as numpy's and the Array API's
        raise IndexOutOfRangeError(f"index: too many indices for tensor of shape {x.shape}: "
                                   f"{consumed} were indexed")
    entries, arrays = [], []
    axis = 0
    for k in key:
        kind = type(k)
        if kind is slice:
            entries.append(_slice_entry(k))
            axis += 1
        elif kind is int or (isinstance(k, (int, np.integer)) and kind is not bool):
            entries.append(("i", int(k)))
            axis += 1
        elif k is None:
            entries.append(("n",))
        elif k is Ellipsis:
            entries.extend([("s", None, None, None)] * (x.ndim - consumed))
            axis += x.ndim - consumed
        else:
            t = _as_index_tensor(k, x)
            if t.dtype == np.bool_:
                covered = x.shape[axis:axis + t.ndim]
                # A mask dim of size 0 selects nothing whatever the tensor's size there.
                if len(t.shape) != len(covered) or any(
                        m not in (d, 0) for m, d in zip(t.shape, covered)):
                    raise IndexOutOfRangeError(
                        f"index: boolean mask of shape {t.shape} does not match the indexed "
                        f"dims {covered} of a tensor of shape {x.shape}")
                for column in _mask_to_indices(t):
                    entries.append(("t", len(arrays)))
                    arrays.append(column)
                axis += max(t.ndim, 1)
            else:
                entries.append(("t", len(arrays)))
                arrays.append(t)
                axis += 1
    return tuple(entries), arrays


def _slice_entry(k: slice) -> tuple:
    start, stop, step = k.start, k.stop, k.step
    if start is not None and type(start) is not int:
        start = _as_int(start)
    if stop is not None and type(stop) is not int:
        stop = _as_int(stop)
    if step is not None and type(step) is not int:
        step = _as_int(step)
    if step == 0:
        raise ArgumentError("index: slice step cannot be zero")
    return ("s", start, stop, step)


def _as_int(v) -> int:
    try:
        return int(v.__index__())
    except (AttributeError, TypeError):
        raise DTypeError(f"index: slice bounds must be integers, got {type(v).__name__}") \
            from None


def _mask_to_indices(mask: Tensor) -> list[Tensor]:
    return list(_columns(_nonzero_positions(mask), mask.ndim))


def _nonzero_positions(x: Tensor) -> Tensor:
    out = apply(OPS["nonzero"], x)
    hook = get_hook()
    if hook is not None:
        hook.host_read(out, "shape", out.shape)
    return out


def _columns(positions: Tensor, ndim: int) -> tuple[Tensor, ...]:
    return tuple(apply(OPS["slice"], positions, key=(("s", None, None, None), ("i", d)))
                 for d in range(ndim))


@implements(OPS.nonzero)
def nonzero(x: Tensor, /) -> tuple[Tensor, ...]:
    """The Array API's nonzero: one 1-D int64 tensor of indices per dim of x, for the
    non-zero elements in row-major order. The count is a host read. (`x.nonzero()` is
    PyTorch's, one (count, ndim) tensor; see `torch_nonzero`.)

    >>> import eager
    >>> eager.nonzero(eager.tensor([[0, 1], [2, 0]]))
    (tensor([0, 1]), tensor([1, 0]))
    """
    x = arguments.tensor("nonzero", "x", x)
    if x.ndim == 0:
        raise ZeroDimError("nonzero: a 0-d tensor has no dims to index; reshape it to 1-d "
                           "first (x.reshape(1))")
    return _columns(_nonzero_positions(x), x.ndim)


def torch_nonzero(x: Tensor, *, as_tuple: bool = False):
    """`Tensor.nonzero` as in PyTorch: indices of non-zero elements, shape (count, ndim);
    with as_tuple=True one 1-D tensor per dim (at least one, for a 0-d x).

    >>> import eager
    >>> eager.tensor([[0, 1], [2, 0]]).nonzero()
    tensor([[0, 1],
            [1, 0]])
    >>> eager.tensor([[0, 1], [2, 0]]).nonzero(as_tuple=True)
    (tensor([0, 1]), tensor([1, 0]))
    """
    out = _nonzero_positions(x)
    return _columns(out, max(x.ndim, 1)) if as_tuple else out


def _is_scalar_mask(k) -> bool:
    if type(k) is Tensor:
        return k.ndim == 0 and k.dtype == np.bool_
    return isinstance(k, (bool, np.bool_)) or (isinstance(k, np.ndarray) and k.ndim == 0
                                               and k.dtype == np.bool_)


def _split_scalar_masks(x: Tensor, key) -> tuple[tuple, list[tuple[int, bool]]] | None:
    """numpy reads a 0-d boolean mask as a new axis of length 1 (True) or 0 (False):
    the key with each such mask replaced by None, and (output axis, mask value) pairs;
    None when the key has no 0-d mask. Their values are host reads."""
    key = key if type(key) is tuple else (key,)
    if not any(_is_scalar_mask(k) for k in key):
        return None
    if any(not _is_scalar_mask(k) and not (k is None or k is Ellipsis
                                           or isinstance(k, (int, np.integer, slice)))
           for k in key):
        raise ArgumentError("index: a 0-d boolean mask combines only with ints, slices, "
                            "None and '...' in one key; index in two steps")
    consumed = sum(1 for k in key if isinstance(k, (int, np.integer, slice))
                   and not _is_scalar_mask(k))
    masks, out_axis = [], 0
    for k in key:
        if _is_scalar_mask(k):
            masks.append((out_axis, bool(k)))
            out_axis += 1
        elif k is Ellipsis:
            out_axis += x.ndim - consumed
        elif k is None or type(k) is slice:
            out_axis += 1
    return tuple(None if _is_scalar_mask(k) else k for k in key), masks


def getitem(x: Tensor, key) -> Tensor:
    """x[key] with numpy semantics.

    >>> import eager
    >>> x = eager.arange(6).reshape(2, 3)
    >>> x[1, ::2], x[:, [2, 0]], x[x > 3]
    (tensor([3, 5]), tensor([[2, 0],
            [5, 3]]), tensor([4, 5]))
    >>> eager.tensor(5)[eager.tensor(False)].shape, eager.tensor(5)[eager.tensor(True)].shape
    ((0,), (1,))
    """
    kind = type(key)
    if kind is slice:
        return apply(_slice_op, x, key=(_slice_entry(key),))
    if kind is int:
        return apply(_slice_op, x, key=(("i", key),))
    split = _split_scalar_masks(x, key)
    if split is not None:
        key, masks = split
        out = getitem(x, key)
        empty = [axis for axis, value in masks if not value]
        if empty:
            out = getitem(out, (slice(None),) * empty[0] + (slice(0, 0),))
        return out
    entries, arrays = normalize_key(x, key)
    if not arrays:
        return apply(_slice_op, x, key=entries)
    return apply(OPS["index"], x, *arrays, key=entries)


_slice_op = OPS["slice"]


def setitem(x: Tensor, key, value) -> None:
    """x[key] = value, written into x's memory.

    >>> import eager
    >>> x = eager.zeros(3)
    >>> x[1:] = 2.0; x[eager.tensor([0])] = -1.0
    >>> x
    tensor([-1.,  2.,  2.])
    """
    split = _split_scalar_masks(x, key)
    if split is not None:
        key, masks = split
        if not all(value for _, value in masks):
            return
    entries, arrays = normalize_key(x, key)
    value = as_operand(value, x)
    if type(value) is Tensor:
        value = cast(value, x.dtype)
    updated = apply(OPS["index_set"], x, value, *arrays, key=entries)
    inplace_update(x, updated, "setitem")


def index_add(x: Tensor, key, value) -> Tensor:
    """A copy of x with value added at x[key]; repeated indices add up (np.add.at).

    >>> import eager
    >>> from eager.ops.indexing import index_add
    >>> index_add(eager.zeros(3), ([0, 0, 2],), 1.0)
    tensor([2., 0., 1.])
    """
    entries, arrays = normalize_key(x, key)
    return apply(OPS["index_add"], x, as_operand(value, x), *arrays, key=entries)


def check_index_range(op: str, indices: Tensor, size: int, described: str) -> None:
    """IndexOutOfRangeError unless every index is in [0, size). A host read (a guard when
    traced, so a replay with a bad index falls back to eager and raises too): a negative
    index would otherwise wrap around silently, where PyTorch refuses it.

    >>> import eager
    >>> from eager.ops.indexing import check_index_range
    >>> try:
    ...     check_index_range("gather", eager.tensor([0, -1]), 3, "dim 0 of shape (3,)")
    ... except IndexError as exc:
    ...     print(str(exc).split(" (at")[0])
    gather: index -1 is out of range for dim 0 of shape (3,): indices must be in [0, 3)
    """
    if not indices.size:
        return
    outside = (indices < 0) | (indices >= size)
    if bool(outside.any()):
        first = indices[outside].tolist()[0]
        raise IndexOutOfRangeError(f"{op}: index {first} is out of range for {described}: "
                                   f"indices must be in [0, {size}){user_line_suffix()}")


@implements(OPS.gather, "gather")
def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j] = x[i][index[i][j]] along dim (PyTorch's gather, numpy's take_along_axis).
    A negative or too large index raises IndexOutOfRangeError, as in PyTorch.

    >>> import eager
    >>> eager.tensor([[1, 2], [3, 4]]).gather(1, eager.tensor([[1], [0]]))
    tensor([[2],
            [3]])
    """
    arguments.tensor("gather", "index", index)
    axis = normalize_axis("gather", dim, x.ndim)
    if index.dtype.kind in "iu" and index.ndim == x.ndim:
        check_index_range("gather", index, x.shape[axis],
                          f"dim {axis} of a tensor of shape {x.shape}")
    return apply(OPS["gather"], x, index, axis=axis)


def gather_in_range(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """gather for callers whose indices are in range by construction (sort, topk) or
    checked already (cross_entropy): no host read.

    >>> import eager
    >>> from eager.ops.indexing import gather_in_range
    >>> gather_in_range(eager.tensor([5, 6]), 0, eager.tensor([1])).tolist()
    [6]
    """
    return apply(OPS["gather"], x, index, axis=normalize_axis("gather", dim, x.ndim))


@implements(OPS.gather, "take_along_axis")
def take_along_axis(x: Tensor, indices: Tensor, /, *, axis: int = -1) -> Tensor:
    """Array API spelling of gather; as the standard allows, a negative index counts from
    the end (gather, PyTorch's, refuses it).

    >>> import eager
    >>> eager.take_along_axis(eager.tensor([[5, 6, 7]]), eager.tensor([[2, -3]]), axis=1)
    tensor([[7, 5]])
    """
    from eager.ops.elementwise import where

    x = arguments.tensor("take_along_axis", "x", x)
    if type(indices) is not Tensor or indices.dtype.kind not in "iu" \
            or indices.ndim != x.ndim:
        return gather(x, axis, indices)  # gather names the bad type, dtype or shape
    axis = normalize_axis("take_along_axis", axis, x.ndim)
    n = x.shape[axis]
    if indices.size:
        outside = (indices < -n) | (indices >= n)
        if bool(outside.any()):  # a host read, as in gather
            raise IndexOutOfRangeError(
                f"take_along_axis: index {indices[outside].tolist()[0]} is out of range for "
                f"axis {axis} of a tensor of shape {x.shape}: indices must be in [{-n}, {n})"
                f"{user_line_suffix()}")
    return gather_in_range(x, axis, where(indices < 0, indices + n, indices))


@implements(OPS.scatter_add)
def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of x with src added at index along dim (repeated indices add up). A
    negative or too large index raises IndexOutOfRangeError, as in PyTorch.

    >>> import eager
    >>> eager.zeros(3).scatter_add(0, eager.tensor([0, 0, 2]), eager.ones(3))
    tensor([2., 0., 1.])
    """
    arguments.tensor("scatter_add", "index", index)
    arguments.tensor("scatter_add", "src", src)
    axis = normalize_axis("scatter_add", dim, x.ndim)
    if index.dtype.kind in "iu":
        check_index_range("scatter_add", index, x.shape[axis],
                          f"dim {axis} of a tensor of shape {x.shape}")
    return apply(OPS["scatter_add"], x, index, src, axis=axis)


def take(x: Tensor, indices, /, *, axis: int | None = None) -> Tensor:
    """Elements at integer indices along axis (None: of the flattened tensor).

    >>> import eager
    >>> eager.take(eager.tensor([[1, 2], [3, 4]]), eager.tensor([3, 0]))
    tensor([4, 1])
    """
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = normalize_axis("take", axis, x.ndim)
    key = (slice(None),) * axis + (_as_index_tensor(indices, x),)
    return getitem(x, key)
