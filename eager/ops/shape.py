"""Shape and movement ops: reshape/view, permute/transpose, expand, squeeze/unsqueeze,
flatten, concat/cat, stack, split, flip, pad, broadcast_to, moveaxis.

reshape, permute/transpose, expand and slicing return views sharing memory.

>>> import eager
>>> eager.tensor([[1, 2], [3, 4]]).T.tolist()
[[1, 3], [2, 4]]
"""
from __future__ import annotations

from collections.abc import Sequence

from eager import arguments
from eager.dispatch import apply
from eager.ops.operands import cast
from eager.ops.public import implements
from eager.tensor import Tensor
from kernels import OPS, result_dtype
from kernels.errors import IndexOutOfRangeError, ShapeError
from kernels.shapes import normalize_axes, normalize_axis, reshape_is_view, size_of


def _shape_arg(op: str, shape) -> tuple[int, ...]:
    return arguments.shape(op, shape, minimum=-1)  # -1: infer (reshape) / keep (expand)


@implements(OPS.reshape, "reshape")
def reshape(x: Tensor, /, shape=(), *size, copy=None) -> Tensor:
    """x with a new shape of the same number of elements; one dimension may be -1.
    `reshape(x, (2, 3))`, `reshape(x, shape=(2, 3))` or PyTorch's `x.reshape(2, 3)`.

    A view of x where its strides allow (as in numpy and PyTorch), else a view of a
    copy, so an in-place change to the result reaches x exactly when memory is shared.
    copy=True always copies; copy=False raises ShapeError where a copy is needed.

    >>> import eager
    >>> eager.arange(6).reshape(2, -1)
    tensor([[0, 1, 2],
            [3, 4, 5]])
    """
    arguments.tensor("reshape", "x", x)
    shape = _resolve_shape(x, _shape_arg("reshape", (shape, *size)))
    if shape == x.shape and not copy:
        return x
    if copy or not _shares_on_reshape(x, shape):
        if copy is False:
            raise ShapeError(f"reshape: shape {x.shape} cannot become {shape} without a "
                             f"copy (the tensor is not contiguous); "
                             f"pass copy=None or call .clone() first")
        x = apply(OPS["copy"], x)
    return apply(OPS["reshape"], x, shape=shape)


@implements(OPS.reshape, "view")
def view(x: Tensor, /, *shape) -> Tensor:
    """PyTorch's view: reshape that always shares memory with x, or raises ShapeError
    when x's strides do not allow it (use reshape or clone() then).

    >>> import eager
    >>> eager.arange(6).view(3, 2).tolist()
    [[0, 1], [2, 3], [4, 5]]
    """
    arguments.tensor("view", "x", x)
    shape = _resolve_shape(x, _shape_arg("view", shape))
    if size_of(shape) != x.size:
        raise ShapeError(f"view: cannot view tensor of shape {x.shape} "
                         f"({x.size} elements) as shape {shape}")
    if not _shares_on_reshape(x, shape):
        raise ShapeError(f"view: a tensor of shape {x.shape} whose memory is not contiguous "
                         f"cannot be viewed as {shape}; use reshape() "
                         f"(which copies) or call .contiguous() first")
    return reshape(x, shape)


def _shares_on_reshape(x: Tensor, shape: tuple[int, ...]) -> bool:
    return x._data.flags.c_contiguous or reshape_is_view(x.shape, x._data.strides, shape)


def _resolve_shape(x: Tensor, shape: tuple[int, ...]) -> tuple[int, ...]:
    if shape.count(-1) > 1:
        raise ShapeError(f"reshape: only one dimension can be -1, got {shape}")
    if -1 in shape:
        known = size_of(tuple(d for d in shape if d != -1))
        if known == 0 or x.size % known:
            raise ShapeError(f"reshape: cannot reshape tensor of shape {x.shape} "
                             f"({x.size} elements) into shape {shape}")
        shape = tuple(x.size // known if d == -1 else d for d in shape)
    return shape


@implements(OPS.permute, "permute")
def permute(x: Tensor, /, *axes) -> Tensor:
    """Reorder dimensions: out.shape[i] == x.shape[axes[i]].

    >>> import eager
    >>> eager.zeros(2, 3, 4).permute(2, 0, 1).shape
    (4, 2, 3)
    """
    arguments.tensor("permute", "x", x)
    axes = tuple(normalize_axis("permute", a, x.ndim) for a in arguments.varargs(axes))
    return apply(OPS["permute"], x, axes=axes)


@implements(OPS.permute, "permute_dims")
def permute_dims(x: Tensor, /, axes) -> Tensor:
    """Array API spelling of permute.

    >>> import eager
    >>> eager.permute_dims(eager.zeros(2, 3), (1, 0)).shape
    (3, 2)
    """
    arguments.tensor("permute_dims", "x", x)
    return permute(x, arguments.varargs(axes))


@implements(OPS.permute, "transpose")
def transpose(x: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two dimensions (PyTorch's transpose).

    >>> import eager
    >>> eager.zeros(2, 3, 4).transpose(0, 2).shape
    (4, 3, 2)
    """
    arguments.tensor("transpose", "x", x)
    if x.ndim < 2:
        return x
    axes = list(range(x.ndim))
    d0, d1 = normalize_axis("transpose", dim0, x.ndim), normalize_axis("transpose", dim1, x.ndim)
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return apply(OPS["permute"], x, axes=tuple(axes))


@implements(OPS.permute, "moveaxis")
def moveaxis(x: Tensor, source, destination, /) -> Tensor:
    """Move the axes `source` (an int or a tuple) to positions `destination`, keeping the
    others in order; repeated axes raise ShapeError.

    >>> import eager
    >>> eager.moveaxis(eager.zeros(2, 3, 4), 0, -1).shape
    (3, 4, 2)
    >>> eager.moveaxis(eager.zeros(2, 3, 4), (0, 1), (2, 0)).shape
    (3, 4, 2)
    """
    arguments.tensor("moveaxis", "x", x)
    src = [normalize_axis("moveaxis", a, x.ndim) for a in arguments.varargs(source)]
    dst = [normalize_axis("moveaxis", a, x.ndim) for a in arguments.varargs(destination)]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ShapeError(f"moveaxis: source {source!r} and destination {destination!r} must "
                         "name as many distinct axes each")
    order: list[int | None] = [None] * x.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(a for a in range(x.ndim) if a not in src)
    return apply(OPS["permute"], x, axes=tuple(next(rest) if a is None else a for a in order))


@implements(OPS.expand, "expand")
def expand(x: Tensor, /, *shape) -> Tensor:
    """Broadcast x to shape (a read-only view); -1 keeps a dimension.

    >>> import eager
    >>> eager.tensor([[1], [2]]).expand(2, 3)
    tensor([[1, 1, 1],
            [2, 2, 2]])
    """
    arguments.tensor("expand", "x", x)
    shape = _shape_arg("expand", shape)
    offset = len(shape) - x.ndim
    shape = tuple(x.shape[i - offset] if d == -1 and i >= offset else d
                  for i, d in enumerate(shape))
    if shape == x.shape:
        return x
    return apply(OPS["expand"], x, shape=shape)


@implements(OPS.expand, "broadcast_to")
def broadcast_to(x: Tensor, /, shape) -> Tensor:
    """Array API spelling of expand.

    >>> import eager
    >>> eager.broadcast_to(eager.tensor([1, 2]), (2, 2))
    tensor([[1, 2],
            [1, 2]])
    """
    arguments.tensor("broadcast_to", "x", x)
    return expand(x, _shape_arg("broadcast_to", shape))


def broadcast_arrays(*arrays: Tensor) -> list[Tensor]:
    """Broadcast tensors against each other.

    >>> import eager
    >>> [t.shape for t in eager.broadcast_arrays(eager.zeros(3, 1), eager.zeros(4))]
    [(3, 4), (3, 4)]
    """
    from kernels.shapes import broadcast_shapes

    arrays = arguments.tensors("broadcast_arrays", "arrays", arrays)
    shape = broadcast_shapes("broadcast_arrays", *(a.shape for a in arrays))
    return [expand(a, shape) for a in arrays]


def squeeze(x: Tensor, /, axis=None, *, dim=None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or those in axis).

    >>> import eager
    >>> eager.zeros(1, 3, 1).squeeze().shape, eager.zeros(1, 3, 1).squeeze(0).shape
    ((3,), (3, 1))
    """
    arguments.tensor("squeeze", "x", x)
    axis = dim if axis is None else axis
    if axis is None:
        axes = tuple(i for i, d in enumerate(x.shape) if d == 1)
    else:
        axes = normalize_axes("squeeze", axis, x.ndim)
        for a in axes:
            if x.shape[a] != 1:
                raise ShapeError(f"squeeze: cannot remove axis {a} of size {x.shape[a]} "
                                 f"(shape {x.shape})")
    return reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))


def unsqueeze(x: Tensor, /, dim: int) -> Tensor:
    """Insert a dimension of size 1 at position dim.

    >>> import eager
    >>> eager.zeros(3).unsqueeze(0).shape
    (1, 3)
    """
    arguments.tensor("unsqueeze", "x", x)
    if type(dim) is int and not -x.ndim - 1 <= dim <= x.ndim:
        # normalize_axis would count the new axis among the tensor's dims
        raise IndexOutOfRangeError(f"unsqueeze: axis {dim} is out of range for a tensor with "
                                   f"{x.ndim} dims (a new axis goes in [{-x.ndim - 1}, "
                                   f"{x.ndim}])")
    dim = normalize_axis("unsqueeze", dim, x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def expand_dims(x: Tensor, /, axis: int = 0) -> Tensor:
    """Array API spelling of unsqueeze; an axis outside [-x.ndim - 1, x.ndim] raises
    IndexOutOfRangeError (an IndexError, as the standard asks).

    >>> import eager
    >>> eager.expand_dims(eager.zeros(3), axis=-1).shape, eager.expand_dims(eager.zeros(3), 0).shape
    ((3, 1), (1, 3))
    """
    arguments.tensor("expand_dims", "x", x)
    if type(axis) is int and not -x.ndim - 1 <= axis <= x.ndim:
        raise IndexOutOfRangeError(f"expand_dims: axis {axis} is out of range for a tensor "
                                   f"with {x.ndim} dims (valid: {-x.ndim - 1}..{x.ndim})")
    return unsqueeze(x, axis)


def flatten(x: Tensor, /, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one.

    >>> import eager
    >>> eager.zeros(2, 3, 4).flatten(1).shape
    (2, 12)
    """
    arguments.tensor("flatten", "x", x)
    if x.ndim == 0:
        return reshape(x, (1,))
    s = normalize_axis("flatten", start_dim, x.ndim)
    e = normalize_axis("flatten", end_dim, x.ndim)
    return reshape(x, x.shape[:s] + (size_of(x.shape[s:e + 1]),) + x.shape[e + 1:])


@implements(OPS.concat)
def concat(arrays: Sequence[Tensor], /, axis: int | None = 0, *, dim=None) -> Tensor:
    """Join tensors along an existing axis (None: flatten first); PyTorch's
    `cat(tensors, 1)` passes it by position.

    >>> import eager
    >>> eager.concat([eager.tensor([1, 2]), eager.tensor([3])])
    tensor([1, 2, 3])
    """
    arrays = arguments.tensors("concat", "arrays", arrays)
    if not arrays:
        raise ShapeError("concat: expected a non-empty sequence of tensors")
    axis = dim if dim is not None else axis
    if axis is None:
        arrays, axis = [reshape(a, (-1,)) for a in arrays], 0
    if any(a.ndim == 0 for a in arrays):
        raise ShapeError(f"concat: 0-d tensors cannot be concatenated (shapes "
                         f"{[a.shape for a in arrays]}); use stack")
    axis = normalize_axis("concat", axis, arrays[0].ndim)
    dtype = result_dtype(*(a.dtype for a in arrays))
    arrays = [cast(a, dtype) for a in arrays]
    if len(arrays) == 1:
        return apply(OPS["copy"], arrays[0])  # a new tensor, never the input itself
    return apply(OPS["concat"], *arrays, axis=axis)


def stack(arrays: Sequence[Tensor], /, axis: int = 0, *, dim=None) -> Tensor:
    """Join tensors of one shape along a new axis (by keyword or, as in PyTorch's
    `stack(tensors, 1)`, by position).

    >>> import eager
    >>> eager.stack([eager.tensor([1, 2]), eager.tensor([3, 4])], axis=1)
    tensor([[1, 3],
            [2, 4]])
    """
    arrays = arguments.tensors("stack", "arrays", arrays)
    if not arrays:
        raise ShapeError("stack: expected a non-empty sequence of tensors")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ShapeError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    axis = normalize_axis("stack", dim if dim is not None else axis, arrays[0].ndim + 1)
    return concat([unsqueeze(a, axis) for a in arrays], axis=axis)


def split(x: Tensor, split_size_or_sections, dim: int = 0, *, axis=None) -> list[Tensor]:
    """Split into pieces along dim: an int gives chunks of that size (PyTorch), a list of
    ints gives those sizes.

    >>> import eager
    >>> [t.tolist() for t in eager.arange(5).split(2)]
    [[0, 1], [2, 3], [4]]
    """
    arguments.tensor("split", "x", x)
    axis = normalize_axis("split", dim if axis is None else axis, x.ndim)
    n = x.shape[axis]
    if not isinstance(split_size_or_sections, (tuple, list)):
        split_size_or_sections = arguments.integer("split", "split_size_or_sections",
                                                   split_size_or_sections)
        if split_size_or_sections <= 0:
            raise ShapeError(f"split: chunk size must be positive, got {split_size_or_sections}")
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        if n % split_size_or_sections:
            sizes.append(n % split_size_or_sections)
    else:
        sizes = [arguments.integer("split", "sections", d, minimum=0)
                 for d in split_size_or_sections]
        if sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} do not add up to {n} (axis {axis} of "
                             f"shape {x.shape})")
    pieces, start = [], 0
    for size in sizes:
        key = tuple(("s", None, None, None) for _ in range(axis)) + (("s", start, start + size,
                                                                      None),)
        pieces.append(apply(OPS["slice"], x, key=key))
        start += size
    return pieces


def chunk(x: Tensor, chunks: int, dim: int = 0) -> list[Tensor]:
    """Split into `chunks` nearly equal pieces along dim.

    >>> import eager
    >>> [t.tolist() for t in eager.arange(5).chunk(2)]
    [[0, 1, 2], [3, 4]]
    """
    arguments.tensor("chunk", "x", x)
    n = x.shape[normalize_axis("chunk", dim, x.ndim)]
    chunks = arguments.integer("chunk", "chunks", chunks)
    if chunks <= 0:
        raise ShapeError(f"chunk: number of chunks must be positive, got {chunks}")
    return split(x, -(-n // chunks) if n else 1, dim)


@implements(OPS.flip)
def flip(x: Tensor, /, *dims_given, axis=None, dims=None) -> Tensor:
    """Reverse the order of elements along axis (None: all); PyTorch's `x.flip(0, 1)`
    and `flip(x, [0, 1])` name the dims by position.

    >>> import eager
    >>> eager.flip(eager.tensor([1, 2, 3])), eager.tensor([[1, 2]]).flip(0, 1)
    (tensor([3, 2, 1]), tensor([[2, 1]]))
    """
    arguments.tensor("flip", "x", x)
    if dims_given:
        dims = arguments.varargs(dims_given)
    axes = normalize_axes("flip", dims if dims is not None else axis, x.ndim)
    return apply(OPS["flip"], x, axes=axes)


@implements(OPS.pad)
def pad(x: Tensor, widths, value: float = 0.0) -> Tensor:
    """Constant padding; widths is ((before, after), ...) per dim, numpy style.

    >>> import eager
    >>> eager.pad(eager.tensor([1, 2]), ((1, 2),))
    tensor([0, 1, 2, 0, 0])
    """
    arguments.tensor("pad", "x", x)
    widths = arguments.pad_widths("pad", widths)
    if len(widths) != x.ndim:
        raise ShapeError(f"pad: {len(widths)} (before, after) pairs for a tensor of shape "
                         f"{x.shape}; give one pair per dimension")
    return apply(OPS["pad"], x, widths=widths, value=value)
