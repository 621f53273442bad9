"""Matrix functions that need a LAPACK routine (numpy.linalg / cupy.linalg): inverse,
determinant, log-abs-determinant, Cholesky factor, linear solve, and one op per output of the
eigen, singular value and QR decompositions (eigh_values / eigh_vectors, svd_u / svd_s /
svd_vh, qr_q / qr_r) and the sign of the determinant, so every op has one output. Each
works on a stack of matrices (..., m, n) of a real or complex floating dtype; eigenvalues,
singular values and log|det| of a complex matrix are real.

>>> import numpy as np
>>> from kernels import OPS
>>> OPS.det.cpu_kernel(np.array([[2.0, 0.0], [0.0, 3.0]])).item()
6.0
"""
from __future__ import annotations

from kernels.complex_ops import real_dtype
from kernels.elementwise import check_kind
from kernels.errors import ShapeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register


def _matrices(name: str, x: TensorSpec, square: bool) -> tuple[int, int]:
    check_kind(name, x.dtype, "fc")
    if len(x.shape) < 2 or (square and x.shape[-1] != x.shape[-2]):
        kind = "square matrices" if square else "matrices"
        raise ShapeError(f"{name}: expected a stack of {kind} (..., n, n), got shape "
                         f"{x.shape}")
    return x.shape[-2], x.shape[-1]


def _rule(name: str, square: bool, out_shape, real: bool):
    def infer(x: TensorSpec, **attrs):
        m, n = _matrices(name, x, square)
        dtype = real_dtype(x.dtype) if real else x.dtype
        return TensorSpec(x.shape[:-2] + out_shape(m, n, **attrs), dtype)
    return infer


def _op(name: str, impl, square: bool, out_shape, real: bool = False):
    """Register a one-input matrix op; `real`: its result has the real dtype of x's."""
    return register(OpDef(name, OpKind.OTHER, 1, impl, _rule(name, square, out_shape, real),
                          fusable=False))


def _cast_like(fn, real: bool = False):
    # numpy.linalg returns float64 for float16/float32 batches in some routines.
    def run(x, *others, **attrs):
        out = fn(x, *others, **attrs)
        return out.astype(real_dtype(x.dtype) if real else x.dtype, copy=False)
    return run


inv = _op("inv", lambda xp: _cast_like(lambda x: xp.linalg.inv(x)), True,
          lambda m, n: (m, n))
det = _op("det", lambda xp: _cast_like(lambda x: xp.asarray(xp.linalg.det(x))), True,
          lambda m, n: ())
logabsdet = _op("logabsdet",
                lambda xp: _cast_like(lambda x: xp.asarray(xp.linalg.slogdet(x)[1]), True),
                True, lambda m, n: (), real=True)
det_sign = _op("det_sign",
               lambda xp: _cast_like(lambda x: xp.asarray(xp.linalg.slogdet(x)[0])), True,
               lambda m, n: ())
"""sign(det(x)): -1, 0 or 1 for a real x, det / |det| (or 0) for a complex one."""
cholesky = _op("cholesky", lambda xp: _cast_like(lambda x: xp.linalg.cholesky(x)), True,
               lambda m, n: (m, n))
eigh_values = _op("eigh_values",
                  lambda xp: _cast_like(lambda x: xp.linalg.eigh(x)[0], True), True,
                  lambda m, n: (n,), real=True)
eigh_vectors = _op("eigh_vectors", lambda xp: _cast_like(lambda x: xp.linalg.eigh(x)[1]),
                   True, lambda m, n: (m, n))


def _solve_rule(a: TensorSpec, b: TensorSpec):
    n, _ = _matrices("solve", a, True)
    check_kind("solve", b.dtype, "fc")
    if len(b.shape) < 2 or b.shape[-2] != n or b.shape[:-2] != a.shape[:-2] \
            or a.dtype != b.dtype:
        raise ShapeError(f"solve: expected x2 of shape {a.shape[:-2] + (n, 'k')} and dtype "
                         f"{a.dtype.name} for x1 of shape {a.shape}, got {b.shape} "
                         f"({b.dtype.name})")
    return TensorSpec(b.shape, a.dtype)


solve = register(OpDef("solve", OpKind.OTHER, 2,
                       lambda xp: _cast_like(lambda a, b: xp.linalg.solve(a, b)), _solve_rule,
                       fusable=False))


def _svd_part(part: int):
    def impl(xp):
        def svd(x, *, full_matrices: bool):
            if part == 1:
                return xp.linalg.svd(x, compute_uv=False)
            return xp.linalg.svd(x, full_matrices=full_matrices)[part]
        return _cast_like(svd, real=part == 1)
    return impl


svd_u = _op("svd_u", _svd_part(0), False,
            lambda m, n, full_matrices: (m, m if full_matrices else min(m, n)))
svd_s = _op("svd_s", _svd_part(1), False, lambda m, n, full_matrices: (min(m, n),),
            real=True)
svd_vh = _op("svd_vh", _svd_part(2), False,
             lambda m, n, full_matrices: (n if full_matrices else min(m, n), n))


def _qr_part(part: int):
    def impl(xp):
        def qr(x, *, mode: str):
            return xp.linalg.qr(x, mode=mode)[part]
        return _cast_like(qr)
    return impl


qr_q = _op("qr_q", _qr_part(0), False,
           lambda m, n, mode: (m, m if mode == "complete" else min(m, n)))
qr_r = _op("qr_r", _qr_part(1), False,
           lambda m, n, mode: (m if mode == "complete" else min(m, n), n))
