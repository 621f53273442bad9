"""`eager.linalg`: norms as PyTorch's `torch.linalg` spells them (vector_norm, norm,
matrix_norm), composites of abs, pow, sum and max.

>>> import eager
>>> eager.linalg.norm(eager.tensor([3.0, 4.0])).item()
5.0
"""
from __future__ import annotations

import math

from eager import arguments
from eager.ops import elementwise as E
from eager.ops import reductions as R
from eager.tensor import Tensor
from kernels.errors import ArgumentError, DTypeError
from kernels.shapes import normalize_axes


def _safe_sqrt(total: Tensor) -> Tensor:
    # sqrt'(0) is infinite; PyTorch takes the norm's gradient at 0 as 0 (a subgradient).
    positive = total > 0
    return E.where(positive, E.sqrt(E.where(positive, total, 1.0)), 0.0)


def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """The ord-norm of x over dim (None: all elements): ord 2 (default), 1, inf, -inf,
    0 (the count of non-zeros) or any real p.

    >>> import eager
    >>> x = eager.tensor([[3.0, -4.0]])
    >>> eager.linalg.vector_norm(x).item(), eager.linalg.vector_norm(x, 1, dim=1).tolist()
    (5.0, [7.0])
    """
    x = arguments.tensor("vector_norm", "x", x)
    if x.dtype.kind != "f":
        raise DTypeError(f"vector_norm: expected a floating tensor, got {x.dtype.name}; "
                         "call .float() first")
    if dtype is not None:
        x = x.astype(dtype, copy=False)
    ord = arguments.real("vector_norm", "ord", ord, finite=False)
    if math.isnan(ord):
        raise ArgumentError("vector_norm: ord must be a number, got nan")
    axes = normalize_axes("vector_norm", dim, x.ndim)
    a = E.abs(x)
    if ord == math.inf:
        return R.max(a, axis=axes, keepdims=keepdim)
    if ord == -math.inf:
        return R.min(a, axis=axes, keepdims=keepdim)
    if ord == 0:
        return R.sum((x != 0).astype(x.dtype), axis=axes, keepdims=keepdim)
    if ord == 2:
        return _safe_sqrt(R.sum(x * x, axis=axes, keepdims=keepdim))
    if ord == 1:
        return R.sum(a, axis=axes, keepdims=keepdim)
    total = R.sum(a ** ord, axis=axes, keepdims=keepdim)
    return total ** (1.0 / ord)


def matrix_norm(x: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False) -> Tensor:
    """The Frobenius norm (ord="fro") of the matrices in the last two dims (or `dim`).

    >>> import eager
    >>> eager.linalg.matrix_norm(eager.ones(2, 2)).item()
    2.0
    """
    x = arguments.tensor("matrix_norm", "x", x)
    if ord != "fro":
        raise ArgumentError(f"matrix_norm: only ord='fro' is supported, got {ord!r}")
    return vector_norm(x, 2, dim=dim, keepdim=keepdim)


def norm(x: Tensor, ord=None, dim=None, keepdim: bool = False, *, p=None, dtype=None) -> Tensor:
    """`torch.linalg.norm` / `torch.norm` / `Tensor.norm`: the 2-norm of all elements by
    default, a vector norm over `dim`, or `p="fro"` for the Frobenius norm.

    >>> import eager
    >>> eager.norm(eager.tensor([[1.0, 2.0], [2.0, 4.0]]), dim=1).tolist()
    [2.2360680103302, 4.4721360206604]
    """
    order = p if p is not None else ord
    if order is None or order == "fro":
        return vector_norm(x, 2, dim=dim, keepdim=keepdim, dtype=dtype)
    if isinstance(order, str):
        raise ArgumentError(f"norm: ord {order!r} is not supported; use a number or 'fro'")
    return vector_norm(x, order, dim=dim, keepdim=keepdim, dtype=dtype)


__all__ = ["matrix_norm", "norm", "vector_norm"]
