"""Backward rules of the matrix functions (kernels/decompositions.py): inv, det, the sign
and log|det| of slogdet, cholesky, solve, and each output of eigh, svd and qr, written
with eager ops like those in rules.py.

Complex matrices follow PyTorch's conjugate-Wirtinger convention (a gradient is
dL/d(conj A)): the real formulas hold with every transpose a conjugate transpose (mH)
and, where an output of a real input is real (det, eigenvalues of a symmetric matrix),
the derivative conjugated. Complex eigh, svd and qr have phase choices (an eigenvector
times e^(i phi) is one too); the rules take the gradient of losses that do not depend on
them, as PyTorch's do, and svd puts the phase's share on U.

Each output of a decomposition is its own op, so each rule takes the gradient of its own
output only; the gradient of a whole decomposition is the sum of its outputs' rules, as
the formulas are linear in the output gradients. Like PyTorch's, the eigh and cholesky
rules return the symmetric (Hermitian) form of the gradient; the eigenvector, U and Vh
rules divide by eigenvalue (singular value) gaps, so they are infinite where two
coincide.

>>> import eager
>>> a = eager.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> eager.linalg.solve(a, eager.tensor([1.0, 0.0])).sum().backward()
>>> [[round(v, 4) for v in row] for row in a.grad.tolist()]
[[-0.24, 0.08], [-0.12, 0.04]]
"""
from __future__ import annotations

from eager.autograd.node import OUT
from eager.autograd.rules import _c, backward
from eager.dispatch import apply
from eager.ops import elementwise as E
from eager.tensor import Tensor
from kernels import OPS
from kernels.errors import AutogradError


def _h(x: Tensor) -> Tensor:
    """The conjugate transpose of the matrices in x (the transpose of real ones)."""
    return _c(x.mT)


def _is_complex(x: Tensor) -> bool:
    return x.dtype.kind == "c"


def _eye_like(n: int, like: Tensor) -> Tensor:
    from eager.creation import eye

    return eye(n, dtype=like.dtype, device=like.device)


def _over_gaps(numerator: Tensor, values: Tensor) -> Tensor:
    """numerator[..., i, j] / (values[j] - values[i]) off the diagonal, 0 on it."""
    off = _eye_like(values.shape[-1], values) == 0
    gaps = values[..., None, :] - values[..., :, None]
    return E.where(off, numerator / E.where(off, gaps, 1.0), 0.0)


def _inv_h(a: Tensor) -> Tensor:
    return _h(apply(OPS.inv, a))


@backward(OPS.inv, saves=((OUT,),))
def _inv(node, g, needs):
    inv_h = _h(node.out)
    return (-(inv_h @ g @ inv_h),)


@backward(OPS.det, saves=((0, OUT),))
def _det(node, g, needs):
    return ((g * _c(node.out))[..., None, None] * _inv_h(node.inputs[0]),)


@backward(OPS.logabsdet, saves=((0,),))
def _logabsdet(node, g, needs):
    return (g[..., None, None] * _inv_h(node.inputs[0]),)


@backward(OPS.det_sign, saves=((0, OUT),))
def _det_sign(node, g, needs):
    # A real sign is piecewise constant. A complex one, det / |det|, turns with the phase
    # of det, Im(tr(A^-1 dA)); the adjoint of that is -i Im(conj(g) sign) A^-H.
    a = node.inputs[0]
    if not _is_complex(a):
        return (None,)
    turn = apply(OPS.imag, _c(g) * node.out)
    return ((turn * -1j)[..., None, None] * _inv_h(a),)


@backward(OPS.cholesky, saves=((OUT,),))
def _cholesky(node, g, needs):
    # Murray (2016): with Phi taking the lower triangle and halving the diagonal,
    # dA = herm(L^-H Phi(L^H dL) L^-1).
    from eager.ops.matrices import tril

    low = node.out
    p = _h(low) @ g
    p = tril(p) - 0.5 * tril(tril(p).mT)
    low_inv = apply(OPS.inv, low)
    s = _h(low_inv) @ p @ low_inv
    return ((s + _h(s)) * 0.5,)


@backward(OPS.solve, saves=((0, OUT), (0,)))
def _solve(node, g, needs):
    a = node.inputs[0]
    grad_b = apply(OPS.solve, _h(a), g)
    return (-(grad_b @ _h(node.out)) if needs[0] else None), grad_b


@backward(OPS.eigh_values, saves=((0,),))
def _eigh_values(node, g, needs):
    vectors = apply(OPS.eigh_vectors, node.inputs[0])
    return ((vectors * g[..., None, :]) @ _h(vectors),)


@backward(OPS.eigh_vectors, saves=((0, OUT),))
def _eigh_vectors(node, g, needs):
    vectors = node.out
    values = apply(OPS.eigh_values, node.inputs[0])
    vhg = _h(vectors) @ g
    return (vectors @ _over_gaps((vhg - _h(vhg)) * 0.5, values) @ _h(vectors),)


def _reduced_svd(node):
    a = node.inputs[0]
    m, n = a.shape[-2:]
    if node.attrs["full_matrices"] and m != n:
        raise AutogradError(f"svd: the gradient of U or Vh of a {m}x{n} matrix with "
                            "full_matrices=True is not defined (their extra columns are "
                            "arbitrary); call svd(x, full_matrices=False)")
    return (apply(OPS.svd_u, a, full_matrices=False), apply(OPS.svd_s, a, full_matrices=False),
            apply(OPS.svd_vh, a, full_matrices=False))


@backward(OPS.svd_s, saves=((0,),))
def _svd_s(node, g, needs):
    a = node.inputs[0]
    u = apply(OPS.svd_u, a, full_matrices=False)
    vh = apply(OPS.svd_vh, a, full_matrices=False)
    return ((u * g[..., None, :]) @ vh,)


@backward(OPS.svd_u, saves=((0,),))
def _svd_u(node, g, needs):
    from eager.ops.matrices import diagonal

    u, s, vh = _reduced_svd(node)
    uhg = _h(u) @ g
    inner = _over_gaps((uhg - _h(uhg)) * s[..., None, :], s * s)
    if _is_complex(u):  # the phase of each pair of singular vectors, put on U
        phase = apply(OPS.imag, diagonal(uhg, 0, -2, -1)) / s
        inner = inner + _eye_like(s.shape[-1], u) * (phase * 1j)[..., None, :]
    grad = u @ inner @ vh
    if u.shape[-2] > u.shape[-1]:  # the part of g outside U's column space
        scaled = g / s[..., None, :]
        grad = grad + (scaled - u @ (_h(u) @ scaled)) @ vh
    return (grad,)


@backward(OPS.svd_vh, saves=((0,),))
def _svd_vh(node, g, needs):
    u, s, vh = _reduced_svd(node)
    vhg = vh @ _h(g)
    inner = _over_gaps(s[..., :, None] * (vhg - _h(vhg)), s * s)
    grad = u @ inner @ vh
    if vh.shape[-1] > vh.shape[-2]:  # the part of g outside V's column space
        scaled = _h(g) / s[..., None, :]
        grad = grad + u @ _h(scaled - _h(vh) @ (vh @ scaled))
    return (grad,)


def _qr_square_or_tall(q: Tensor, r: Tensor, dq: Tensor | None, dr: Tensor | None) -> Tensor:
    # For m >= n (Q: m x n, R: n x n): with M = skew(Q^H dQ) + skew(R dR^H) and tril' the
    # lower triangle with the diagonal halved (it is 0 for real matrices),
    # dA = Q (dR + tril'(M) R^-H) + (dQ - Q Q^H dQ) R^-H.
    from eager.ops.matrices import tril

    r_inv_h = _h(apply(OPS.inv, r))
    grad = None
    skew = None
    if dq is not None:
        qdq = _h(q) @ dq
        skew = qdq - _h(qdq)
        grad = (dq - q @ qdq) @ r_inv_h
    if dr is not None:
        rdr = r @ _h(dr)
        skew = rdr - _h(rdr) if skew is None else skew + rdr - _h(rdr)
    lower = tril(skew)
    if _is_complex(skew):
        lower = lower - 0.5 * skew * _eye_like(skew.shape[-1], skew)
    inner = lower @ r_inv_h
    if dr is not None:
        inner = inner + dr
    part = q @ inner
    return part if grad is None else grad + part


def _qr_grad(node, dq: Tensor | None, dr: Tensor | None) -> Tensor:
    from eager.ops.shape import concat

    a = node.inputs[0]
    m, n = a.shape[-2:]
    if node.attrs["mode"] == "complete" and m > n:
        raise AutogradError(f"qr: the gradient of mode='complete' for a {m}x{n} matrix "
                            "(m > n) is not defined (Q's extra columns are arbitrary); "
                            "use mode='reduced'")
    q = apply(OPS.qr_q, a, mode="reduced")
    r = apply(OPS.qr_r, a, mode="reduced")
    if m >= n:
        return _qr_square_or_tall(q, r, dq, dr)
    # Wide: a = [x | y] with x = Q U square, R = [U | V]; y = Q V.
    y = a[..., :, m:]
    du = dv = None
    if dr is not None:
        du, dv = dr[..., :, :m], dr[..., :, m:]
        dq = y @ _h(dv) if dq is None else dq + y @ _h(dv)
    dx = _qr_square_or_tall(q, r[..., :, :m], dq, du)
    if dv is None:
        from eager.creation import zeros_like

        return concat([dx, zeros_like(y)], axis=-1)
    return concat([dx, q @ dv], axis=-1)


@backward(OPS.qr_q, saves=((0,),))
def _qr_q(node, g, needs):
    return (_qr_grad(node, g, None),)


@backward(OPS.qr_r, saves=((0,),))
def _qr_r(node, g, needs):
    return (_qr_grad(node, None, g),)
