"""`eager.linalg`: norms as PyTorch's `torch.linalg` spells them (vector_norm, norm,
matrix_norm), composites of abs, pow, sum and max, and the rest of the Array API's
linalg extension (decompositions in eager/ops/decompositions.py; matmul, outer,
tensordot, vecdot, matrix_transpose shared with the main namespace).

>>> import eager
>>> eager.linalg.norm(eager.tensor([3.0, 4.0])).item()
5.0
"""
from __future__ import annotations

import math

from eager import arguments
from eager.ops import elementwise as E
from eager.ops import reductions as R
from eager.ops.decompositions import (  # noqa: F401  (the linalg namespace)
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    matrix_power,
    matrix_rank,
    pinv,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
)
from eager.ops.linalg import matrix_transpose, outer, tensordot, vecdot  # noqa: F401
from eager.tensor import Tensor
from kernels.errors import ArgumentError, DTypeError
from kernels.shapes import normalize_axes, normalize_axis


def _safe_sqrt(total: Tensor) -> Tensor:
    # sqrt'(0) is infinite; PyTorch takes the norm's gradient at 0 as 0 (a subgradient).
    positive = total > 0
    return E.where(positive, E.sqrt(E.where(positive, total, 1.0)), 0.0)


def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *,
                dtype=None, axis=None, keepdims: bool | None = None) -> Tensor:
    """The ord-norm of x over dim (None: all elements): ord 2 (default), 1, inf, -inf,
    0 (the count of non-zeros) or any real p, of |x| (a complex x gives a real norm).
    `axis` and `keepdims` are the Array API spellings of dim and keepdim.

    >>> import eager
    >>> x = eager.tensor([[3.0, -4.0]])
    >>> eager.linalg.vector_norm(x).item(), eager.linalg.vector_norm(x, 1, dim=1).tolist()
    (5.0, [7.0])
    """
    x = arguments.tensor("vector_norm", "x", x)
    dim = axis if axis is not None else dim
    keepdim = keepdims if keepdims is not None else keepdim
    if x.dtype.kind not in "fc":
        raise DTypeError(f"vector_norm: expected a floating or complex tensor, got "
                         f"{x.dtype.name}; call .float() first")
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
        return R.sum((x != 0).astype(a.dtype), axis=axes, keepdims=keepdim)
    if ord == 2:
        # x * conj(x), not |x| ** 2: abs has no gradient at 0 + 0j.
        squares = E.real(x * E.conj(x)) if x.dtype.kind == "c" else x * x
        return _safe_sqrt(R.sum(squares, axis=axes, keepdims=keepdim))
    if ord == 1:
        return R.sum(a, axis=axes, keepdims=keepdim)
    total = R.sum(a ** ord, axis=axes, keepdims=keepdim)
    return total ** (1.0 / ord)


def matrix_norm(x: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,
                keepdims: bool | None = None) -> Tensor:
    """A norm of the matrices in dims `dim` (default the last two): "fro" (Frobenius),
    1 / -1 (largest / smallest column sum of |x|), inf / -inf (row sums), 2 / -2
    (largest / smallest singular value) or "nuc" (their sum). keepdims is the Array API
    spelling of keepdim.

    >>> import eager
    >>> m = eager.tensor([[1.0, -2.0], [3.0, 4.0]])
    >>> eager.linalg.matrix_norm(eager.ones(2, 2)).item(), eager.linalg.matrix_norm(m, 1).item()
    (2.0, 6.0)
    """
    x = arguments.tensor("matrix_norm", "x", x)
    keepdim = keepdims if keepdims is not None else keepdim
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ArgumentError(f"matrix_norm: dim must name two dims, got {dim!r}")
    rows, cols = (normalize_axis("matrix_norm", d, x.ndim) for d in dim)
    if rows == cols:
        raise ArgumentError(f"matrix_norm: the two dims must differ, got {dim!r}")
    if ord == "fro":
        return vector_norm(x, 2, dim=(rows, cols), keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        planes = x.moveaxis((rows, cols), (-2, -1))
        s = svdvals(planes)
        out = s.sum(dim=-1) if ord == "nuc" else (s.amax if ord == 2 else s.amin)(dim=-1)
        return out.unsqueeze(-1).unsqueeze(-1).moveaxis((-2, -1), (rows, cols)) if keepdim \
            else out
    if isinstance(ord, str) or ord not in (1, -1, math.inf, -math.inf):
        raise ArgumentError(f"matrix_norm: ord {ord!r} is not supported; use 'fro', "
                            "'nuc', 1, -1, 2, -2, inf or -inf")
    if x.dtype.kind not in "fc":
        raise DTypeError(f"matrix_norm: expected a floating or complex tensor, got "
                         f"{x.dtype.name}")
    summed, across = (rows, cols) if ord in (1, -1) else (cols, rows)
    sums = R.sum(E.abs(x), axis=summed, keepdims=True)
    out = (R.max if ord > 0 else R.min)(sums, axis=across, keepdims=True)
    return out if keepdim else out.squeeze((rows, cols))


def norm(x: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """`torch.linalg.norm`: with ord=None, the 2-norm of all elements (or over dim); a
    numeric ord is a vector norm for a 1-D x or one dim, and a matrix norm (see
    matrix_norm) for a 2-D x without dim or a pair of dims.

    >>> import eager
    >>> m = eager.tensor([[1.0, 2.0], [2.0, 4.0]])
    >>> eager.linalg.norm(m, dim=1).tolist(), eager.linalg.norm(m, float("inf")).item()
    ([2.2360680103302, 4.4721360206604], 6.0)
    """
    x = arguments.tensor("norm", "x", x)
    pair = isinstance(dim, (tuple, list)) and len(dim) == 2
    if isinstance(ord, str) or (ord is not None and (pair or dim is None and x.ndim == 2)):
        return matrix_norm(x, ord, dim=(-2, -1) if dim is None else dim, keepdim=keepdim)
    return vector_norm(x, 2 if ord is None else ord, dim=dim, keepdim=keepdim, dtype=dtype)


def tensor_norm(x: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """`torch.norm` and `Tensor.norm`: a vector p-norm of all elements (or over dim),
    whatever x's shape; p="fro" is the 2-norm.

    >>> import eager
    >>> eager.norm(eager.tensor([[3.0, 0.0], [0.0, 4.0]])).item()
    5.0
    >>> eager.tensor([[1.0, -2.0]]).norm(1, dim=1).tolist()
    [3.0]
    """
    x = arguments.tensor("norm", "x", x)
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise ArgumentError(f"norm: p={p!r} is not supported; use a number or 'fro'")
    return vector_norm(x, p, dim=dim, keepdim=keepdim, dtype=dtype)


__all__ = ["matrix_norm", "norm", "tensor_norm", "vector_norm"]


def matmul(x1: Tensor, x2: Tensor, /) -> Tensor:
    """`eager.matmul` (the Array API lists it in linalg too).

    >>> import eager
    >>> eager.linalg.matmul(eager.eye(2), eager.tensor([1.0, 2.0])).tolist()
    [1.0, 2.0]
    """
    return x1 @ x2


def diagonal(x: Tensor, /, *, offset: int = 0) -> Tensor:
    """The diagonals (offset above the main one; negative: below) of the matrices in the
    last two dims of x.

    >>> import eager
    >>> eager.linalg.diagonal(eager.arange(4).reshape(2, 2), offset=1).tolist()
    [1]
    """
    from eager.ops.matrices import diagonal as diagonal_of

    return diagonal_of(x, offset, -2, -1)


def trace(x: Tensor, /, *, offset: int = 0, dtype=None) -> Tensor:
    """Sums of the diagonals of the matrices in the last two dims of x.

    >>> import eager
    >>> eager.linalg.trace(eager.ones(3, 2, 2)).tolist()
    [2.0, 2.0, 2.0]
    """
    d = diagonal(x, offset=offset)
    return R.sum(d, axis=-1, dtype=dtype)


def cross(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """Cross product of 3-vectors along axis (counted in the broadcast shape, where both
    must have size 3), broadcasting the other dims; the Array API spelling of
    `eager.cross`.

    >>> import eager
    >>> eager.linalg.cross(eager.tensor([0., 1., 0.]), eager.tensor([[0., 0., 1.]])).tolist()
    [[1.0, 0.0, 0.0]]
    """
    from eager.ops.matrices import cross as cross_product
    from eager.ops.operands import promote

    x1, x2 = arguments.tensors("cross", "(x1, x2)", (x1, x2))
    if x1.dtype != x2.dtype:
        x1, x2 = promote(None, x1, x2)
    return cross_product(x1, x2, axis)
