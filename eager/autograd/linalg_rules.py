"""Backward rules of the decompositions' vector outputs (eigh eigenvectors, svd U and Vh,
qr Q and R) and of solve, written with eager ops like those in rules.py.

Each output of a decomposition is its own op (kernels/decompositions.py), so each rule
takes the gradient of its own output only; the gradient of a whole decomposition is the
sum of its outputs' rules, as the formulas are linear in the output gradients. Like
PyTorch's, the eigh rules return the symmetric-form gradient (they assume x is
symmetric); the eigenvector, U and Vh rules divide by eigenvalue (singular value) gaps,
so they are infinite where two coincide.

>>> import eager
>>> a = eager.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> eager.linalg.solve(a, eager.tensor([1.0, 0.0])).sum().backward()
>>> [[round(v, 4) for v in row] for row in a.grad.tolist()]
[[-0.24, 0.08], [-0.12, 0.04]]
"""
from __future__ import annotations

from eager.autograd.node import OUT
from eager.autograd.rules import backward
from eager.dispatch import apply
from eager.ops import elementwise as E
from eager.tensor import Tensor
from kernels import OPS
from kernels.errors import AutogradError


def _off_diagonal(n: int, like: Tensor) -> Tensor:
    from eager.creation import eye

    return eye(n, dtype=like.dtype, device=like.device) == 0


def _over_gaps(numerator: Tensor, values: Tensor) -> Tensor:
    """numerator[..., i, j] / (values[j] - values[i]) off the diagonal, 0 on it."""
    off = _off_diagonal(values.shape[-1], values)
    gaps = values[..., None, :] - values[..., :, None]
    return E.where(off, numerator / E.where(off, gaps, 1.0), 0.0)


@backward(OPS.eigh_vectors, saves=((0, OUT),))
def _eigh_vectors(node, g, needs):
    vectors = node.out
    values = apply(OPS.eigh_values, node.inputs[0])
    vtg = vectors.mT @ g
    return (vectors @ _over_gaps((vtg - vtg.mT) * 0.5, values) @ vectors.mT,)


def _reduced_svd(node):
    a = node.inputs[0]
    m, n = a.shape[-2:]
    if node.attrs["full_matrices"] and m != n:
        raise AutogradError(f"svd: the gradient of U or Vh of a {m}x{n} matrix with "
                            "full_matrices=True is not defined (their extra columns are "
                            "arbitrary); call svd(x, full_matrices=False)")
    return (apply(OPS.svd_u, a, full_matrices=False), apply(OPS.svd_s, a, full_matrices=False),
            apply(OPS.svd_vh, a, full_matrices=False))


@backward(OPS.svd_u, saves=((0,),))
def _svd_u(node, g, needs):
    u, s, vh = _reduced_svd(node)
    utg = u.mT @ g
    inner = _over_gaps((utg - utg.mT) * s[..., None, :], s * s)
    grad = u @ inner @ vh
    if u.shape[-2] > u.shape[-1]:  # the part of g outside U's column space
        scaled = g / s[..., None, :]
        grad = grad + (scaled - u @ (u.mT @ scaled)) @ vh
    return (grad,)


@backward(OPS.svd_vh, saves=((0,),))
def _svd_vh(node, g, needs):
    u, s, vh = _reduced_svd(node)
    vtg = vh @ g.mT
    inner = _over_gaps(s[..., :, None] * (vtg - vtg.mT), s * s)
    grad = u @ inner @ vh
    if vh.shape[-1] > vh.shape[-2]:  # the part of g outside V's column space
        scaled = g.mT / s[..., None, :]
        grad = grad + u @ (scaled - vh.mT @ (vh @ scaled)).mT
    return (grad,)


def _qr_square_or_tall(q: Tensor, r: Tensor, dq: Tensor | None, dr: Tensor | None) -> Tensor:
    # For m >= n (Q: m x n, R: n x n): with M = skew(Q^T dQ) + skew(R dR^T),
    # dA = Q (dR + tril(M) R^-T) + (dQ - Q Q^T dQ) R^-T.
    from eager.ops.matrices import tril

    r_inv_t = apply(OPS.inv, r).mT
    grad = None
    skew = None
    if dq is not None:
        qdq = q.mT @ dq
        skew = qdq - qdq.mT
        grad = (dq - q @ qdq) @ r_inv_t
    if dr is not None:
        rdr = r @ dr.mT
        skew = rdr - rdr.mT if skew is None else skew + rdr - rdr.mT
    inner = tril(skew) @ r_inv_t
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
        dq = y @ dv.mT if dq is None else dq + y @ dv.mT
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


@backward(OPS.solve, saves=((0, OUT), (0,)))
def _solve(node, g, needs):
    a = node.inputs[0]
    grad_b = apply(OPS.solve, a.mT, g)
    return (-(grad_b @ node.out.mT) if needs[0] else None), grad_b
