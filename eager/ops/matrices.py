"""Matrix helpers PyTorch programs call by name: t, mm, bmm, addmm, baddbmm, dot, diag,
diagonal, trace, tril, triu, tril_indices, triu_indices, cross, kron, cdist; each a
composite of matmul, indexing and where.

>>> import eager
>>> eager.mm(eager.ones(2, 3), eager.ones(3, 4)).shape
(2, 4)
"""
from __future__ import annotations

import numpy as np

from eager import arguments
from eager.dispatch import apply
from eager.ops import elementwise as E
from eager.ops.linalg import matmul
from eager.ops.shape import permute, transpose, unsqueeze
from eager.tensor import Tensor
from kernels import OPS
from kernels.errors import ShapeError
from kernels.shapes import normalize_axis


def _ndim(op: str, name: str, x, ndim: int) -> Tensor:
    x = arguments.tensor(op, name, x)
    if x.ndim != ndim:
        raise ShapeError(f"{op}: {name} must be {ndim}-D, got shape {x.shape}")
    return x


def t(x: Tensor) -> Tensor:
    """Transpose of a matrix; 0-D and 1-D tensors are returned as they are (PyTorch's t).

    >>> import eager
    >>> eager.t(eager.tensor([[1, 2]])).tolist()
    [[1], [2]]
    """
    x = arguments.tensor("t", "x", x)
    if x.ndim > 2:
        raise ShapeError(f"t: expects a tensor with at most 2 dims, got shape {x.shape}; "
                         "use transpose(dim0, dim1) or .mT")
    return transpose(x, 0, 1) if x.ndim == 2 else x


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices (2-D only, as in PyTorch).

    >>> import eager
    >>> eager.mm(eager.tensor([[1., 2.]]), eager.tensor([[3.], [4.]])).tolist()
    [[11.0]]
    """
    a, b = _ndim("mm", "input", input, 2), _ndim("mm", "mat2", mat2, 2)
    if a.shape[1] != b.shape[0]:
        raise ShapeError(f"mm: shapes {a.shape} and {b.shape} cannot be multiplied")
    return matmul(a, b)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched product of (b, n, m) and (b, m, p) tensors, giving (b, n, p).

    >>> import eager
    >>> eager.bmm(eager.ones(5, 2, 3), eager.ones(5, 3, 4)).shape
    (5, 2, 4)
    """
    a, b = _ndim("bmm", "input", input, 3), _ndim("bmm", "mat2", mat2, 3)
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ShapeError(f"bmm: shapes {a.shape} and {b.shape} cannot be multiplied "
                         "batch by batch; expected (b, n, m) and (b, m, p)")
    return matmul(a, b)


def _scaled_sum(input, product, beta, alpha) -> Tensor:
    product = product if alpha == 1 else product * alpha
    if beta == 0:  # as in PyTorch: input is ignored, so its NaNs do not propagate
        return product
    return (input if beta == 1 else input * beta) + product


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2).

    >>> import eager
    >>> eager.addmm(eager.ones(2, 2), eager.eye(2), eager.eye(2), alpha=2).tolist()
    [[3.0, 1.0], [1.0, 3.0]]
    """
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2).

    >>> import eager
    >>> eager.baddbmm(eager.zeros(3, 2, 2), eager.ones(3, 2, 4), eager.ones(3, 4, 2)).shape
    (3, 2, 2)
    """
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors.

    >>> import eager
    >>> eager.dot(eager.tensor([1., 2.]), eager.tensor([3., 4.])).item()
    11.0
    """
    a, b = _ndim("dot", "input", input, 1), _ndim("dot", "other", other, 1)
    if a.shape != b.shape:
        raise ShapeError(f"dot: vectors of shapes {a.shape} and {b.shape} differ in length")
    return matmul(a, b)


def _constant(array: np.ndarray, like: Tensor) -> Tensor:
    from eager.creation import asarray

    return asarray(array, device=like.device)


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, moved to the last dimension.

    >>> import eager
    >>> eager.diagonal(eager.arange(9).reshape(3, 3), 1).tolist()
    [1, 5]
    """
    x = arguments.tensor("diagonal", "x", x)
    offset = arguments.integer("diagonal", "offset", offset)
    d1, d2 = normalize_axis("diagonal", dim1, x.ndim), normalize_axis("diagonal", dim2, x.ndim)
    if d1 == d2:
        raise ShapeError(f"diagonal: dim1 and dim2 must differ, both are {d1}")
    rest = [a for a in range(x.ndim) if a not in (d1, d2)]
    moved = permute(x, tuple(rest) + (d1, d2))
    rows, cols = moved.shape[-2:]
    start_r, start_c = max(-offset, 0), max(offset, 0)
    n = max(min(rows - start_r, cols - start_c), 0)
    r = _constant(np.arange(start_r, start_r + n), x)
    c = _constant(np.arange(start_c, start_c + n), x)
    key = (("s", None, None, None),) * len(rest) + (("t", 0), ("t", 1))
    return apply(OPS["index"], moved, r, c, key=key)


_diagonal_of = diagonal  # diag's `diagonal` argument shadows the function


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D x becomes a square matrix with x on the given diagonal; a 2-D x gives its
    diagonal.

    >>> import eager
    >>> eager.diag(eager.tensor([1, 2])).tolist()
    [[1, 0], [0, 2]]
    """
    x = arguments.tensor("diag", "x", x)
    k = arguments.integer("diag", "diagonal", diagonal)
    if x.ndim == 2:
        return _diagonal_of(x, k)
    if x.ndim != 1:
        raise ShapeError(f"diag: expected a 1-D or 2-D tensor, got shape {x.shape}")
    n = x.shape[0] + abs(k)
    zeros = apply(OPS["full"], shape=(n, n), value=0, dtype=x.dtype, device=x.device)
    r = _constant(np.arange(x.shape[0]) + max(-k, 0), x)
    c = _constant(np.arange(x.shape[0]) + max(k, 0), x)
    return apply(OPS["index_add"], zeros, x, r, c, key=(("t", 0), ("t", 1)))


def trace(x: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix.

    >>> import eager
    >>> eager.trace(eager.arange(9.0).reshape(3, 3)).item()
    12.0
    """
    return diagonal(_ndim("trace", "x", x, 2)).sum()


def _triangle(op: str, x, diagonal: int, lower: bool) -> Tensor:
    x = arguments.tensor(op, "x", x)
    k = arguments.integer(op, "diagonal", diagonal)
    if x.ndim < 2:
        raise ShapeError(f"{op}: needs at least 2 dims, got shape {x.shape}")
    rows, cols = x.shape[-2:]
    offsets = np.arange(cols)[None, :] - np.arange(rows)[:, None]
    keep = offsets <= k if lower else offsets >= k
    zero = False if x.dtype.kind == "b" else 0
    return E.where(_constant(keep, x), x, zero)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (elements with col - row <= diagonal).

    >>> import eager
    >>> eager.tril(eager.ones(3, 3)).tolist()
    [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    """
    return _triangle("tril", x, diagonal, lower=True)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (elements with col - row >= diagonal).

    >>> import eager
    >>> eager.triu(eager.ones(2, 3), 1).tolist()
    [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]
    """
    return _triangle("triu", x, diagonal, lower=False)


def _triangle_indices(op: str, row: int, col: int, offset: int, lower: bool, dtype, device):
    row = arguments.integer(op, "row", row, minimum=0)
    col = arguments.integer(op, "col", col, minimum=0)
    offset = arguments.integer(op, "offset", offset)
    r, c = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    from eager.creation import asarray

    return asarray(np.stack([r, c]).astype(np.int64), dtype=dtype, device=device)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The (2, N) coordinates of the lower triangle of a row x col matrix, row by row.

    >>> import eager
    >>> eager.tril_indices(3, 3).tolist()
    [[0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2]]
    """
    return _triangle_indices("tril_indices", row, col, offset, True, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The (2, N) coordinates of the upper triangle of a row x col matrix, row by row.

    >>> import eager
    >>> eager.triu_indices(2, 3, 1).tolist()
    [[0, 0, 1], [1, 2, 2]]
    """
    return _triangle_indices("triu_indices", row, col, offset, False, dtype, device)


def cross(a: Tensor, b: Tensor, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along dim, counted in the broadcast shape of a and b (as
    torch, operands of different ranks broadcast first).

    >>> import eager
    >>> eager.cross(eager.tensor([1., 0., 0.]), eager.tensor([0., 1., 0.])).tolist()
    [0.0, 0.0, 1.0]
    >>> eager.cross(eager.tensor([[1.], [0.], [0.]]), eager.ones(2, 3, 1), dim=1).tolist()
    [[[0.0], [-1.0], [1.0]], [[0.0], [-1.0], [1.0]]]
    """
    from eager.ops.shape import broadcast_arrays, concat

    a, b = arguments.tensor("cross", "a", a), arguments.tensor("cross", "b", b)
    ndim = max(a.ndim, b.ndim)
    axis = normalize_axis("cross", dim, ndim) - ndim
    if -axis > min(a.ndim, b.ndim) or a.shape[axis] != 3 or b.shape[axis] != 3:
        raise ShapeError(f"cross: dim {dim} must have size 3 in both, got shapes {a.shape} "
                         f"and {b.shape}")
    a, b = broadcast_arrays(a, b)
    a1, a2, a3 = (a.narrow(axis, i, 1) for i in range(3))
    b1, b2, b3 = (b.narrow(axis, i, 1) for i in range(3))

    return concat([a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1],
                  axis=axis)


def kron(a: Tensor, b: Tensor) -> Tensor:
    """Kronecker product: blocks a[i, j] * b, for tensors of any (matching) rank.

    >>> import eager
    >>> eager.kron(eager.eye(2), eager.tensor([[1., 2.]])).tolist()
    [[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 2.0]]
    """
    a, b = arguments.tensor("kron", "a", a), arguments.tensor("kron", "b", b)
    ndim = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (ndim - a.ndim) + a.shape)
    b = b.reshape((1,) * (ndim - b.ndim) + b.shape)
    spread_a = a.reshape(tuple(d for n in a.shape for d in (n, 1)))
    spread_b = b.reshape(tuple(d for n in b.shape for d in (1, n)))
    return (spread_a * spread_b).reshape(tuple(m * n for m, n in zip(a.shape, b.shape)))


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0) -> Tensor:
    """p-norm distances between the rows of x1 (..., n, d) and x2 (..., m, d): (..., n, m).

    >>> import eager
    >>> eager.cdist(eager.tensor([[0., 0.]]), eager.tensor([[3., 4.], [0., 1.]])).tolist()
    [[5.0, 1.0]]
    """
    x1, x2 = arguments.tensor("cdist", "x1", x1), arguments.tensor("cdist", "x2", x2)
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist: expected (..., n, d) and (..., m, d) with the same d, got "
                         f"{x1.shape} and {x2.shape}")
    from eager.linalg import vector_norm

    diff = unsqueeze(x1, -2) - unsqueeze(x2, -3)
    return vector_norm(diff, p, dim=-1)
