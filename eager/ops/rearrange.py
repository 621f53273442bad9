"""Rearranging elements the way PyTorch programs spell it: narrow, unbind, unflatten,
repeat, tile, repeat_interleave, roll, rot90, meshgrid, hstack, vstack, movedim, swapaxes,
index_select,
masked_fill, masked_select; composites of slicing, reshape, expand, concat and indexing.

>>> import eager
>>> eager.arange(4).repeat(2).tolist(), eager.roll(eager.arange(4), 1).tolist()
([0, 1, 2, 3, 0, 1, 2, 3], [3, 0, 1, 2])
"""
from __future__ import annotations

import numpy as np

from eager import arguments
from eager.dispatch import apply
from eager.ops import elementwise as E
from eager.ops.indexing import check_index_range, getitem
from eager.ops.inplace import inplace_update
from eager.ops.operands import as_operand, cast
from eager.ops.shape import concat, expand, flip, permute, reshape, transpose, unsqueeze
from eager.tensor import Tensor
from kernels import OPS, bool_
from kernels.errors import ArgumentError, DTypeError, ShapeError
from kernels.shapes import broadcast_shapes, normalize_axis

_ALL = ("s", None, None, None)


def _slice(x: Tensor, axis: int, start: int, stop: int) -> Tensor:
    return apply(OPS["slice"], x, key=(_ALL,) * axis + (("s", start, stop, None),))


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The view x[..., start:start + length, ...] along dim (start may be negative).

    >>> import eager
    >>> eager.arange(6).reshape(2, 3).narrow(1, 1, 2).tolist()
    [[1, 2], [4, 5]]
    """
    x = arguments.tensor("narrow", "x", x)
    axis = normalize_axis("narrow", dim, x.ndim)
    n = x.shape[axis]
    start = arguments.integer("narrow", "start", start)
    length = arguments.integer("narrow", "length", length, minimum=0)
    if start < 0:
        start += n
    if not 0 <= start <= n or start + length > n:
        raise ShapeError(f"narrow: start {start} and length {length} do not fit dim {axis} "
                         f"of size {n} (shape {x.shape})")
    return _slice(x, axis, start, start + length)


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of x along dim, each without that dimension.

    >>> import eager
    >>> [t.tolist() for t in eager.arange(4).reshape(2, 2).unbind(1)]
    [[0, 2], [1, 3]]
    """
    x = arguments.tensor("unbind", "x", x)
    axis = normalize_axis("unbind", dim, x.ndim)
    return tuple(apply(OPS["slice"], x, key=(_ALL,) * axis + (("i", i),))
                 for i in range(x.shape[axis]))


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension dim into `sizes` (one of them may be -1).

    >>> import eager
    >>> eager.zeros(2, 12).unflatten(1, (3, -1)).shape
    (2, 3, 4)
    """
    x = arguments.tensor("unflatten", "x", x)
    axis = normalize_axis("unflatten", dim, x.ndim)
    sizes = arguments.shape("unflatten", sizes, minimum=-1, name="sizes")
    if sizes.count(-1) > 1:
        raise ShapeError(f"unflatten: only one size can be -1, got {sizes}")
    known = int(np.prod([s for s in sizes if s != -1]))
    if -1 in sizes:
        if known == 0 or x.shape[axis] % known:
            raise ShapeError(f"unflatten: dim {axis} of size {x.shape[axis]} cannot be split "
                             f"into {sizes}")
        sizes = tuple(x.shape[axis] // known if s == -1 else s for s in sizes)
    elif known != x.shape[axis]:
        raise ShapeError(f"unflatten: sizes {sizes} multiply to {known}, not to the size "
                         f"{x.shape[axis]} of dim {axis} (shape {x.shape})")
    return reshape(x, x.shape[:axis] + sizes + x.shape[axis + 1:])


def repeat(x: Tensor, *sizes) -> Tensor:
    """PyTorch's repeat: tile x `sizes[i]` times along each dim (numpy's tile); extra
    leading sizes add dimensions.

    >>> import eager
    >>> eager.tensor([[1, 2]]).repeat(2, 2).tolist()
    [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    x = arguments.tensor("repeat", "x", x)
    sizes = arguments.shape("repeat", arguments.varargs(sizes), name="sizes")
    if len(sizes) < x.ndim:
        raise ShapeError(f"repeat: {len(sizes)} repeat counts for a tensor of shape "
                         f"{x.shape}; give at least one per dimension")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    interleaved = reshape(x, tuple(d for s in shape for d in (1, s)))
    grown = expand(interleaved, tuple(d for r, s in zip(sizes, shape) for d in (r, s)))
    return reshape(grown, tuple(r * s for r, s in zip(sizes, shape)))


def tile(x: Tensor, dims) -> Tensor:
    """numpy's tile: like repeat, but fewer counts than dims repeat the last dims.

    >>> import eager
    >>> eager.tile(eager.tensor([[1, 2]]), (2,)).tolist()
    [[1, 2, 1, 2]]
    """
    x = arguments.tensor("tile", "x", x)
    dims = arguments.shape("tile", arguments.varargs(dims), name="dims")
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def repeat_interleave(x: Tensor, repeats, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element `repeats` times along dim (None: of the flattened tensor);
    repeats is an int or a 1-D tensor of counts (a host read: it decides the shape).

    >>> import eager
    >>> eager.tensor([1, 2]).repeat_interleave(2).tolist()
    [1, 1, 2, 2]
    >>> eager.repeat_interleave(eager.tensor([1, 2]), eager.tensor([1, 3])).tolist()
    [1, 2, 2, 2]
    """
    x = arguments.tensor("repeat_interleave", "x", x)
    if dim is None:
        x, dim = reshape(x, (-1,)), 0
    axis = normalize_axis("repeat_interleave", dim, x.ndim)
    if type(repeats) is not Tensor:
        r = arguments.integer("repeat_interleave", "repeats", repeats, minimum=0)
        grown = expand(unsqueeze(x, axis + 1), x.shape[:axis + 1] + (r,) + x.shape[axis + 1:])
        return reshape(grown, x.shape[:axis] + (x.shape[axis] * r,) + x.shape[axis + 1:])
    if repeats.dtype.kind not in "iu" or repeats.ndim > 1:
        raise DTypeError(f"repeat_interleave: repeats must be an int or a 1-D integer tensor, "
                         f"got {repeats.dtype.name}{list(repeats.shape)}")
    counts = np.broadcast_to(np.asarray(repeats.tolist(), dtype=np.int64), (x.shape[axis],))
    if (counts < 0).any():
        raise ArgumentError("repeat_interleave: repeats must be non-negative, got "
                            f"{counts.tolist()}")
    from eager.creation import asarray

    positions = asarray(np.repeat(np.arange(x.shape[axis]), counts), device=x.device)
    return apply(OPS["index"], x, positions, key=(_ALL,) * axis + (("t", 0),))


def roll(x: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements along dims, wrapping around (None: over the flattened tensor).

    >>> import eager
    >>> eager.roll(eager.arange(6).reshape(2, 3), 1, 1).tolist()
    [[2, 0, 1], [5, 3, 4]]
    """
    x = arguments.tensor("roll", "x", x)
    if dims is None:
        return reshape(roll(reshape(x, (-1,)), shifts, 0), x.shape)
    shifts, dims = arguments.varargs(shifts), arguments.varargs(dims)
    if len(shifts) != len(dims):
        raise ShapeError(f"roll: {len(shifts)} shifts for {len(dims)} dims; give one each")
    for shift, dim in zip(shifts, dims):
        axis = normalize_axis("roll", dim, x.ndim)
        n = x.shape[axis]
        k = arguments.integer("roll", "shifts", shift) % n if n else 0
        if k:
            x = concat([_slice(x, axis, n - k, n), _slice(x, axis, 0, n - k)], axis=axis)
    return x


def rot90(x: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees k times in the plane of dims (from the first toward the
    second), as numpy's rot90.

    >>> import eager
    >>> eager.rot90(eager.tensor([[1, 2], [3, 4]])).tolist()
    [[2, 4], [1, 3]]
    """
    x = arguments.tensor("rot90", "x", x)
    dims = arguments.varargs(dims)
    if len(dims) != 2:
        raise ShapeError(f"rot90: dims must name two dimensions, got {dims}")
    d0, d1 = (normalize_axis("rot90", d, x.ndim) for d in dims)
    if d0 == d1:
        raise ShapeError(f"rot90: the two dims must differ, both are {d0}")
    k = arguments.integer("rot90", "k", k) % 4
    if k == 1:
        return transpose(flip(x, (d1,)), d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return flip(transpose(x, d0, d1), (d1,))
    return x


def meshgrid(*tensors, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors; indexing "ij" (matrix, PyTorch's default) or
    "xy" (Cartesian: the first two grids' dims swapped).

    >>> import eager
    >>> a, b = eager.meshgrid(eager.arange(2), eager.arange(3), indexing="ij")
    >>> a.shape, b.tolist()
    ((2, 3), [[0, 1, 2], [0, 1, 2]])
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = arguments.tensors("meshgrid", "tensors", tensors)
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in tensors:
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expected 0-D or 1-D tensors, got shape {t.shape}")
    flat = [reshape(t, (-1,)) for t in tensors]
    if indexing == "xy" and len(flat) >= 2:
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(t.shape[0] for t in flat)
    grids = [expand(reshape(t, (1,) * i + (-1,) + (1,) * (len(flat) - i - 1)), shape)
             for i, t in enumerate(flat)]
    if indexing == "xy" and len(grids) >= 2:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def hstack(tensors) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors), as numpy's hstack.

    >>> import eager
    >>> eager.hstack([eager.ones(2, 1), eager.zeros(2, 2)]).shape
    (2, 3)
    """
    tensors = arguments.tensors("hstack", "tensors", tensors)
    return concat(tensors, axis=0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along dim 0, making 1-D tensors rows first, as numpy's vstack.

    >>> import eager
    >>> eager.vstack([eager.ones(3), eager.zeros(3)]).shape
    (2, 3)
    """
    tensors = arguments.tensors("vstack", "tensors", tensors)
    return concat([reshape(t, (1, -1)) if t.ndim < 2 else t for t in tensors], axis=0)


def movedim(x: Tensor, source, destination) -> Tensor:
    """Move dims `source` to positions `destination`, keeping the others in order.

    >>> import eager
    >>> eager.movedim(eager.zeros(2, 3, 4), (0, 1), (2, 0)).shape
    (3, 4, 2)
    """
    x = arguments.tensor("movedim", "x", x)
    src = [normalize_axis("movedim", a, x.ndim) for a in arguments.varargs(source)]
    dst = [normalize_axis("movedim", a, x.ndim) for a in arguments.varargs(destination)]
    if len(src) != len(dst):
        raise ShapeError(f"movedim: {len(src)} source dims but {len(dst)} destinations")
    order = [None] * x.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(a for a in range(x.ndim) if a not in src)
    return permute(x, tuple(a if a is not None else next(rest) for a in order))


def swapaxes(x: Tensor, axis0: int, axis1: int) -> Tensor:
    """Swap two dimensions (numpy's name for transpose(dim0, dim1)).

    >>> import eager
    >>> eager.swapaxes(eager.zeros(2, 3), 0, 1).shape
    (3, 2)
    """
    return transpose(arguments.tensor("swapaxes", "x", x), axis0, axis1)


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of x at `index` (a 1-D integer tensor) along dim. A negative or too
    large index raises IndexOutOfRangeError, as in PyTorch (never wraps around).

    >>> import eager
    >>> eager.arange(6).reshape(2, 3).index_select(1, eager.tensor([2, 0])).tolist()
    [[2, 0], [5, 3]]
    """
    x = arguments.tensor("index_select", "x", x)
    index = arguments.tensor("index_select", "index", index)
    axis = normalize_axis("index_select", dim, max(x.ndim, 1))
    if index.dtype.kind not in "iu":
        raise DTypeError(f"index_select: index must be a 0-D or 1-D integer tensor, got "
                         f"{index.dtype.name}{list(index.shape)}")
    if index.ndim > 1:
        raise ShapeError(f"index_select: index must be a 0-D or 1-D integer tensor, got "
                         f"{index.dtype.name}{list(index.shape)}; flatten it with "
                         f".reshape(-1)")
    if x.ndim == 0:
        x = reshape(x, (1,))
    check_index_range("index_select", index, x.shape[axis],
                      f"dim {axis} of a tensor of shape {x.shape}")
    return apply(OPS["index"], x, reshape(index, (-1,)), key=(_ALL,) * axis + (("t", 0),))


def _mask(op: str, mask) -> Tensor:
    mask = as_operand(mask, None, op)
    if type(mask) is not Tensor or mask.dtype != bool_:
        got = mask.dtype.name if type(mask) is Tensor else type(mask).__name__
        raise DTypeError(f"{op}: mask must be a bool tensor, got {got}; compare first, "
                         f"e.g. x.{op}(x > 0, ...)")
    return mask


def masked_fill(x: Tensor, mask: Tensor, value) -> Tensor:
    """x with `value` wherever mask (broadcast to x) is true; the dtype stays x's.

    >>> import eager
    >>> x = eager.tensor([1.0, 2.0, 3.0])
    >>> x.masked_fill(x > 1.5, float("-inf")).tolist()
    [1.0, -inf, -inf]
    """
    x = arguments.tensor("masked_fill", "x", x)
    mask = _mask("masked_fill", mask)
    if type(value) is Tensor and value.ndim:
        raise ShapeError(f"masked_fill: value must be a number or a 0-D tensor, got shape "
                         f"{value.shape}")
    if type(value) is Tensor:
        value = cast(value, x.dtype)
    elif x.dtype.kind in "iu":
        value = int(value)
    if broadcast_shapes("masked_fill", mask.shape, x.shape) != x.shape:
        raise ShapeError(f"masked_fill: mask of shape {mask.shape} does not broadcast to the "
                         f"tensor's shape {x.shape}")
    return cast(E.where(mask, value, x), x.dtype)


def masked_fill_(x: Tensor, mask: Tensor, value) -> Tensor:
    """In-place masked_fill.

    >>> import eager
    >>> x = eager.zeros(3); _ = x.masked_fill_(eager.tensor([True, False, True]), 1.0); x
    tensor([1., 0., 1.])
    """
    return inplace_update(x, masked_fill(x, mask, value), "masked_fill_")


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The 1-D tensor of the elements of x where mask is true (both broadcast). How many
    there are is a host read.

    >>> import eager
    >>> x = eager.tensor([[1, 2], [3, 4]])
    >>> eager.masked_select(x, x > 2).tolist()
    [3, 4]
    """
    x = arguments.tensor("masked_select", "x", x)
    mask = _mask("masked_select", mask)
    from kernels.shapes import broadcast_shapes

    shape = broadcast_shapes("masked_select", x.shape, mask.shape)
    return getitem(expand(x, shape), expand(mask, shape))


def swapdims(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """PyTorch's other name for transpose(dim0, dim1).

    >>> import eager
    >>> eager.swapdims(eager.zeros(2, 3, 4), 0, 2).shape
    (4, 3, 2)
    """
    return swapaxes(x, dim0, dim1)

