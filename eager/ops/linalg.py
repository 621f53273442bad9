"""Matrix products: matmul (batched, broadcasting), matrix_transpose, outer, tensordot.

>>> import eager
>>> (eager.ones(2, 3) @ eager.ones(3)).tolist()
[3.0, 3.0]
"""
from __future__ import annotations

from eager import arguments
from eager.dispatch import apply
from eager.ops.operands import as_operand, promote
from eager.ops.public import implements
from eager.ops.shape import permute, reshape
from eager.tensor import Tensor
from kernels import OPS, bool_
from kernels.errors import DTypeError, ShapeError
from kernels.shapes import normalize_axis, size_of


@implements(OPS.matmul)
def matmul(x1: Tensor, x2: Tensor, /) -> Tensor:
    """Matrix product with numpy's rules for 1-D operands and batch broadcasting.

    >>> import eager
    >>> (eager.ones(5, 2, 3) @ eager.ones(3, 4)).shape
    (5, 2, 4)
    """
    x1, x2 = as_operand(x1, None, "matmul"), as_operand(x2, x1, "matmul")
    if type(x1) is not Tensor or type(x2) is not Tensor:
        raise ShapeError("matmul: both operands must be tensors, not scalars")
    if x1.dtype == bool_ or x2.dtype == bool_:
        raise DTypeError(f"matmul: bool tensors are not supported (got {x1.dtype.name} and "
                         f"{x2.dtype.name})")
    if x1.dtype != x2.dtype:
        x1, x2 = promote(None, x1, x2)
    return apply(OPS["matmul"], x1, x2)


def matrix_transpose(x: Tensor, /) -> Tensor:
    """Swap the last two dimensions.

    >>> import eager
    >>> eager.matrix_transpose(eager.zeros(5, 2, 3)).shape
    (5, 3, 2)
    """
    arguments.tensor("matrix_transpose", "x", x)
    if x.ndim < 2:
        raise ShapeError(f"matrix_transpose: needs at least 2 dims, got shape {x.shape}")
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return permute(x, axes)


def outer(x1: Tensor, x2: Tensor, /) -> Tensor:
    """Outer product of two vectors.

    >>> import eager
    >>> eager.outer(eager.tensor([1, 2]), eager.tensor([1, 10]))
    tensor([[ 1, 10],
            [ 2, 20]])
    """
    arguments.tensors("outer", "(x1, x2)", (x1, x2))
    return reshape(x1, (-1, 1)) * reshape(x2, (1, -1))


def vecdot(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """Dot product along axis (counted from the end of the broadcast shape; both operands
    must have the same size there), broadcasting the other dims; a complex x1 is
    conjugated (the Array API's sum of conj(x1) * x2); the result keeps the promoted dtype
    (int8 . int8 is int8, as the standard says).

    >>> import eager
    >>> eager.vecdot(eager.tensor([1., 2.]), eager.tensor([3., 4.]))
    tensor(11.)
    """
    x1, x2 = arguments.tensors("vecdot", "(x1, x2)", (x1, x2))
    ndim = max(x1.ndim, x2.ndim)
    axis = normalize_axis("vecdot", axis, ndim) - ndim
    padded1, padded2 = ((1,) * (ndim - t.ndim) + t.shape for t in (x1, x2))
    if padded1[axis] != padded2[axis]:
        raise ShapeError(f"vecdot: shapes {x1.shape} and {x2.shape} do not have the same "
                         f"size along axis {axis}")
    if x1.dtype != x2.dtype:
        x1, x2 = promote(None, x1, x2)
    if x1.dtype.kind == "c":
        x1 = x1.conj()
    product = x1 * x2
    return product.sum(axis=axis, dtype=product.dtype)


def tensordot(x1: Tensor, x2: Tensor, /, *, axes=2) -> Tensor:
    """Sum products over the last `axes` dims of x1 and the first of x2 (or given pairs).

    >>> import eager
    >>> eager.tensordot(eager.ones(2, 3), eager.ones(3, 4), axes=1).shape
    (2, 4)
    """
    arguments.tensors("tensordot", "(x1, x2)", (x1, x2))
    if isinstance(axes, (tuple, list)) and len(axes) == 2:
        a_axes, b_axes = ([normalize_axis("tensordot", a, t.ndim) for a in arguments.varargs(ax)]
                          for ax, t in ((axes[0], x1), (axes[1], x2)))
    else:
        axes = arguments.integer("tensordot", "axes", axes, minimum=0)
        if axes > min(x1.ndim, x2.ndim):
            raise ShapeError(f"tensordot: axes={axes} is more than the dims of shapes "
                             f"{x1.shape} and {x2.shape}")
        a_axes = list(range(x1.ndim - axes, x1.ndim))
        b_axes = list(range(axes))
    a_free = [a for a in range(x1.ndim) if a not in a_axes]
    b_free = [b for b in range(x2.ndim) if b not in b_axes]
    k = 1
    for a in a_axes:
        k *= x1.shape[a]
    for a, b in zip(a_axes, b_axes):
        if x1.shape[a] != x2.shape[b]:
            raise ShapeError(f"tensordot: dim {a} of shape {x1.shape} ({x1.shape[a]}) and "
                             f"dim {b} of shape {x2.shape} ({x2.shape[b]}) differ")
    a_shape = tuple(x1.shape[a] for a in a_free)
    b_shape = tuple(x2.shape[b] for b in b_free)
    # Explicit sizes, not -1: a zero-size operand leaves -1 undetermined.
    a2 = reshape(permute(x1, a_free + a_axes), (size_of(a_shape), k))
    b2 = reshape(permute(x2, b_axes + b_free), (k, size_of(b_shape)))
    return reshape(matmul(a2, b2), a_shape + b_shape)
