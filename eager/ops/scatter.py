"""Writing at integer indices along a dim, as PyTorch spells it: scatter (with a tensor
or a value), index_add, index_fill, index_copy, each with its in-place form, and
take_along_dim. Composites of the `index_set` / `index_add` / `scatter_add` primitives
(so they are differentiable and traceable); indices out of range raise
IndexOutOfRangeError, never wrap.

>>> import eager
>>> eager.zeros(2, 3).scatter(1, eager.tensor([[2], [0]]), 1.0).tolist()
[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
"""
from __future__ import annotations

from eager import arguments
from eager.dispatch import apply
from eager.ops.indexing import check_index_range, gather
from eager.ops.inplace import inplace_update
from eager.ops.operands import cast
from eager.ops.shape import expand, reshape
from eager.tensor import Tensor
from kernels import OPS
from kernels.errors import DTypeError, ShapeError
from kernels.shapes import normalize_axis

_ALL = ("s", None, None, None)


def _integer_index(op: str, index) -> Tensor:
    index = arguments.tensor(op, "index", index)
    if index.dtype.kind not in "iu":
        raise DTypeError(f"{op}: index must be an integer tensor, got {index.dtype.name}")
    return index


def _along_dim_arrays(x: Tensor, axis: int, index: Tensor) -> list[Tensor]:
    """Index arrays naming x[i0, ..., index[i], ..., in] for every position i of index."""
    from eager.creation import arange

    arrays = []
    for d in range(index.ndim):
        if d == axis:
            arrays.append(index)
        else:
            shape = (1,) * d + (index.shape[d],) + (1,) * (index.ndim - d - 1)
            arrays.append(reshape(arange(index.shape[d], device=x.device), shape))
    return arrays


def scatter(x: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce: str | None = None) -> Tensor:
    """A copy of x with x[..., index[i], ...] = src[i] along dim (src a tensor or a
    number); reduce="add" adds instead (scatter_add). Where an index repeats, one of the
    values written wins, as in PyTorch.

    >>> import eager
    >>> eager.zeros(3).scatter(0, eager.tensor([2, 0]), eager.tensor([5.0, 6.0])).tolist()
    [6.0, 0.0, 5.0]
    """
    x = arguments.tensor("scatter", "x", x)
    index = _integer_index("scatter", index)
    src = value if src is None else src
    if src is None:
        raise ShapeError("scatter: give src (a tensor) or value (a number)")
    if index.ndim != x.ndim:
        raise ShapeError(f"scatter: index of shape {index.shape} must have as many dims as "
                         f"the tensor of shape {x.shape}")
    axis = normalize_axis("scatter", dim, x.ndim)
    check_index_range("scatter", index, x.shape[axis],
                      f"dim {axis} of a tensor of shape {x.shape}")
    if type(src) is Tensor:
        src = cast(src, x.dtype)
        if src.shape != index.shape:
            key = tuple(("s", 0, n, None) for n in index.shape)
            src = apply(OPS["slice"], src, key=key)
    else:
        src = expand(apply(OPS["full"], shape=(), value=src, dtype=x.dtype, device=x.device),
                     index.shape)
    if reduce == "add":
        return apply(OPS["scatter_add"], x, index, src, axis=axis)
    if reduce is not None:
        raise ShapeError(f"scatter: reduce must be None or 'add', got {reduce!r}")
    arrays = _along_dim_arrays(x, axis, index)
    key = tuple(("t", i) for i in range(len(arrays)))
    return apply(OPS["index_set"], x, src, *arrays, key=key)


def _one_d_index(op: str, x: Tensor, dim: int, index) -> tuple[int, Tensor]:
    index = _integer_index(op, index)
    if index.ndim > 1:
        raise ShapeError(f"{op}: index must be 0-D or 1-D, got shape {index.shape}")
    axis = normalize_axis(op, dim, x.ndim)
    check_index_range(op, index, x.shape[axis], f"dim {axis} of a tensor of shape {x.shape}")
    return axis, reshape(index, (-1,))


def index_add(x: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of x with alpha * source[i] added to x[..., index[i], ...] along dim
    (repeated indices add up).

    >>> import eager
    >>> eager.zeros(3).index_add(0, eager.tensor([0, 0, 2]), eager.ones(3)).tolist()
    [2.0, 0.0, 1.0]
    """
    x = arguments.tensor("index_add", "x", x)
    source = arguments.tensor("index_add", "source", source)
    axis, index = _one_d_index("index_add", x, dim, index)
    source = cast(source if alpha == 1 else source * alpha, x.dtype)
    return apply(OPS["index_add"], x, source, index, key=(_ALL,) * axis + (("t", 0),))


def index_fill(x: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """A copy of x with the entries at index along dim set to value.

    >>> import eager
    >>> eager.zeros(2, 3).index_fill(1, eager.tensor([0, 2]), -1.0).tolist()
    [[-1.0, 0.0, -1.0], [-1.0, 0.0, -1.0]]
    """
    x = arguments.tensor("index_fill", "x", x)
    axis, index = _one_d_index("index_fill", x, dim, index)
    if type(value) is Tensor:
        value = cast(value, x.dtype)
    return apply(OPS["index_set"], x, value, index, key=(_ALL,) * axis + (("t", 0),))


def index_copy(x: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of x with x[..., index[i], ...] = source[..., i, ...] along dim.

    >>> import eager
    >>> eager.zeros(3).index_copy(0, eager.tensor([2, 0]), eager.tensor([5.0, 6.0])).tolist()
    [6.0, 0.0, 5.0]
    """
    x = arguments.tensor("index_copy", "x", x)
    source = arguments.tensor("index_copy", "source", source)
    axis, index = _one_d_index("index_copy", x, dim, index)
    return apply(OPS["index_set"], x, cast(source, x.dtype), index,
                 key=(_ALL,) * axis + (("t", 0),))


def take_along_dim(x: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """PyTorch's take_along_dim: gather along dim (None: of the flattened tensor).

    >>> import eager
    >>> eager.take_along_dim(eager.tensor([[5, 6, 7]]), eager.tensor([[2, 0]]), 1).tolist()
    [[7, 5]]
    """
    x = arguments.tensor("take_along_dim", "x", x)
    if dim is None:
        return gather(reshape(x, (-1,)), 0, reshape(indices, (-1,)))
    return gather(x, dim, indices)


def _inplace(fn, name):
    def method(self, *args, **kwargs):
        return inplace_update(self, fn(self, *args, **kwargs), name)
    method.__name__ = name
    method.__doc__ = f"In-place {fn.__name__}: the result is written into self."
    return method


scatter_ = _inplace(scatter, "scatter_")
index_add_ = _inplace(index_add, "index_add_")
index_fill_ = _inplace(index_fill, "index_fill_")
index_copy_ = _inplace(index_copy, "index_copy_")
