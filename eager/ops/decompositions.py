"""The Array API `linalg` functions that need LAPACK (inv, det, slogdet, cholesky, eigh,
svd, qr and what derives from them: solve, pinv, matrix_rank, matrix_power, eigvalsh,
svdvals), written on the primitives of kernels/decompositions.py, for real and complex
matrices; inv, det, slogdet, cholesky, solve, eigh, svd, qr, eigvalsh, svdvals and pinv
are differentiable (their rules: eager/autograd/linalg_rules.py).

>>> import eager
>>> eager.linalg.det(eager.tensor([[2.0, 1.0], [1.0, 2.0]])).item()
3.0
"""
from __future__ import annotations

from typing import NamedTuple

from eager import arguments
from eager.autograd import linalg_rules as _linalg_rules  # noqa: F401  (registers the rules)
from eager.dispatch import apply
from eager.ops.operands import promote
from eager.tensor import Tensor
from kernels import OPS, result_dtype
from kernels.errors import ShapeError


class SlogdetResult(NamedTuple):
    """What `slogdet` returns."""

    sign: Tensor
    logabsdet: Tensor


class EighResult(NamedTuple):
    """What `eigh` returns."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class SVDResult(NamedTuple):
    """What `svd` returns."""

    U: Tensor
    S: Tensor
    Vh: Tensor


class QRResult(NamedTuple):
    """What `qr` returns."""

    Q: Tensor
    R: Tensor


def _floating(name: str, x) -> Tensor:
    x = arguments.tensor(name, "x", x)
    if x.dtype.kind not in "fc":
        (x,) = promote("f", x)
    return x


def _h(x: Tensor) -> Tensor:
    """The conjugate transpose of the matrices in x."""
    return x.mT.conj() if x.dtype.kind == "c" else x.mT


def inv(x: Tensor, /) -> Tensor:
    """The inverse of each square matrix in x (..., n, n).

    >>> import eager
    >>> eager.linalg.inv(eager.tensor([[2.0, 0.0], [0.0, 4.0]])).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    return apply(OPS.inv, _floating("inv", x))


def det(x: Tensor, /) -> Tensor:
    """The determinant of each square matrix in x (..., n, n), shape (...).

    >>> import eager
    >>> eager.linalg.det(eager.eye(3) * 2).item()
    8.0
    """
    return apply(OPS.det, _floating("det", x))


def slogdet(x: Tensor, /) -> SlogdetResult:
    """(sign, log|det|) of each square matrix in x; log|det| does not overflow where det
    would. For a complex x, sign is det / |det|; both parts are differentiable.

    >>> import eager
    >>> r = eager.linalg.slogdet(eager.tensor([[-2.0, 0.0], [0.0, 1.0]]))
    >>> r.sign.item(), round(r.logabsdet.item(), 4)
    (-1.0, 0.6931)
    """
    x = _floating("slogdet", x)
    return SlogdetResult(apply(OPS.det_sign, x), apply(OPS.logabsdet, x))


def cholesky(x: Tensor, /, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of each symmetric (complex: Hermitian) positive-definite matrix
    in x: lower L with x = L @ L.mH, or with upper=True the upper U = L.mH.

    >>> import eager
    >>> eager.linalg.cholesky(eager.tensor([[4.0, 2.0], [2.0, 2.0]])).tolist()
    [[2.0, 0.0], [1.0, 1.0]]
    """
    low = apply(OPS.cholesky, _floating("cholesky", x))
    return _h(low) if upper else low


def eigh(x: Tensor, /) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix in x,
    both differentiable (the eigenvectors where the eigenvalues are distinct).

    >>> import eager
    >>> eager.linalg.eigh(eager.tensor([[2.0, 0.0], [0.0, 1.0]])).eigenvalues.tolist()
    [1.0, 2.0]
    """
    x = _floating("eigh", x)
    return EighResult(apply(OPS.eigh_values, x), apply(OPS.eigh_vectors, x))


def eigvalsh(x: Tensor, /) -> Tensor:
    """The eigenvalues (ascending) of each symmetric matrix in x.

    >>> import eager
    >>> eager.linalg.eigvalsh(eager.tensor([[0.0, 1.0], [1.0, 0.0]])).tolist()
    [-1.0, 1.0]
    """
    return apply(OPS.eigh_values, _floating("eigvalsh", x))


def svd(x: Tensor, /, *, full_matrices: bool = True) -> SVDResult:
    """U, S, Vh with x = U @ diag(S) @ Vh for each matrix in x (S descending), all
    differentiable where the singular values are distinct and non-zero (U and Vh of a
    non-square x with full_matrices=True are not: their extra columns are arbitrary).

    >>> import eager
    >>> eager.linalg.svd(eager.tensor([[3.0, 0.0], [0.0, -4.0]])).S.tolist()
    [4.0, 3.0]
    """
    x = _floating("svd", x)
    return SVDResult(apply(OPS.svd_u, x, full_matrices=full_matrices),
                     apply(OPS.svd_s, x, full_matrices=full_matrices),
                     apply(OPS.svd_vh, x, full_matrices=full_matrices))


def svdvals(x: Tensor, /) -> Tensor:
    """The singular values of each matrix in x, descending.

    >>> import eager
    >>> eager.linalg.svdvals(eager.tensor([[0.0, 2.0], [1.0, 0.0]])).tolist()
    [2.0, 1.0]
    """
    return apply(OPS.svd_s, _floating("svdvals", x), full_matrices=False)


def qr(x: Tensor, /, *, mode: str = "reduced") -> QRResult:
    """Q (orthonormal columns) and upper-triangular R with x = Q @ R; mode "reduced" or
    "complete". Differentiable for full-rank x (mode "complete" only when m <= n).

    >>> import eager
    >>> q, r = eager.linalg.qr(eager.tensor([[1.0, 0.0], [0.0, 2.0]]))
    >>> (q @ r).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}")
    x = _floating("qr", x)
    return QRResult(apply(OPS.qr_q, x, mode=mode), apply(OPS.qr_r, x, mode=mode))


def solve(x1: Tensor, x2: Tensor, /) -> Tensor:
    """The solution X of x1 @ X = x2 for square x1 (..., n, n) by LU (LAPACK gesv, not
    through inv); x2 is a stack of matrices (..., n, k) or, when 1-D, one vector (n,).
    Batch dims broadcast; differentiable in both.

    >>> import eager
    >>> eager.linalg.solve(eager.tensor([[2.0, 0.0], [0.0, 4.0]]), eager.tensor([2.0, 2.0])).tolist()
    [1.0, 0.5]
    """
    from kernels.shapes import broadcast_shapes

    x1, x2 = promote("f", _floating("solve", x1), arguments.tensor("solve", "x2", x2))
    if x1.dtype != x2.dtype:
        target = result_dtype(x1.dtype, x2.dtype)
        x1, x2 = x1.astype(target, copy=False), x2.astype(target, copy=False)
    if x1.ndim < 2 or x1.shape[-1] != x1.shape[-2]:
        raise ShapeError(f"solve: x1 must be a stack of square matrices (..., n, n), got "
                         f"shape {x1.shape}")
    vector = x2.ndim == 1
    b = x2[:, None] if vector else x2
    if b.shape[-2] != x1.shape[-1]:
        raise ShapeError(f"solve: x1 of shape {x1.shape} and x2 of shape {x2.shape} do not "
                         "match")
    batch = broadcast_shapes("solve", x1.shape[:-2], b.shape[:-2])
    a = x1.expand(batch + x1.shape[-2:]) if x1.shape[:-2] != batch else x1
    b = b.expand(batch + b.shape[-2:]) if b.shape[:-2] != batch else b
    out = apply(OPS.solve, a, b)
    return out[..., 0] if vector else out


def _rtol_cutoff(name: str, x: Tensor, s: Tensor, rtol) -> Tensor:
    """rtol * max(S) per matrix, shape (..., 1); rtol is a number or a tensor that
    broadcasts against x's batch dims (default: max(m, n) * eps of x's dtype)."""
    import numpy as np

    if rtol is None:
        rtol = max(x.shape[-2:]) * float(np.finfo(s.dtype).eps)
    largest = s.amax(dim=-1, keepdim=True)
    if type(rtol) is Tensor:
        return largest * rtol.astype(s.dtype, copy=False)[..., None]
    return largest * arguments.real(name, "rtol", rtol)


def pinv(x: Tensor, /, *, rtol: float | Tensor | None = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse: singular values at or below rtol * max(S) count
    as zero (default rtol: max(m, n) * eps of x's dtype; a tensor rtol broadcasts
    against the batch dims).

    >>> import eager
    >>> eager.linalg.pinv(eager.tensor([[2.0, 0.0], [0.0, 0.0]])).tolist()
    [[0.5, 0.0], [0.0, 0.0]]
    """
    from eager.ops.elementwise import where

    x = _floating("pinv", x)
    m, n = x.shape[-2:] if x.ndim >= 2 else (0, 0)
    if x.ndim >= 2 and not min(m, n):
        from eager.creation import zeros

        return zeros(x.shape[:-2] + (n, m), dtype=x.dtype, device=x.device)
    u, s, vh = svd(x, full_matrices=False)
    keep = s > _rtol_cutoff("pinv", x, s, rtol) if s.size else s > 0
    s_inv = where(keep, 1.0 / where(keep, s, 1.0), 0.0)
    return (_h(vh) * s_inv[..., None, :]) @ _h(u)


def matrix_rank(x: Tensor, /, *, rtol: float | Tensor | None = None) -> Tensor:
    """The number of singular values above rtol * max(S) of each matrix in x (int64).

    >>> import eager
    >>> eager.linalg.matrix_rank(eager.tensor([[1.0, 2.0], [2.0, 4.0]])).item()
    1
    """
    x = _floating("matrix_rank", x)
    s = svdvals(x)
    if not s.shape[-1] or not s.size:
        return (s > 0).sum(dim=-1)
    return (s > _rtol_cutoff("matrix_rank", x, s, rtol)).sum(dim=-1)


def matrix_power(x: Tensor, n: int, /) -> Tensor:
    """x raised to the integer power n by repeated squaring (n < 0: of inv(x); n = 0:
    the identity).

    >>> import eager
    >>> eager.linalg.matrix_power(eager.tensor([[1, 1], [0, 1]]), 3).tolist()
    [[1, 3], [0, 1]]
    """
    from eager.creation import eye

    x = arguments.tensor("matrix_power", "x", x)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ShapeError(f"matrix_power: expected square matrices (..., n, n), got shape "
                         f"{x.shape}")
    if n < 0:
        x, n = inv(x), -n
    result = eye(x.shape[-1], dtype=x.dtype, device=x.device).expand(x.shape)
    power = x
    while n:
        if n & 1:
            result = result @ power
        n >>= 1
        if n:
            power = power @ power
    return result
