"""Gradients of eager.linalg's eigh eigenvectors, svd U / Vh, qr Q / R and solve: checked
against finite differences in float64 (gradcheck) on losses that do not depend on the
decompositions' sign choices, and against torch when it is installed."""
import numpy as np
import pytest

import eager
import tracer
from eager.autograd import gradcheck
from jit import jit

LA = eager.linalg


def _matrix(shape, seed=0):
    rng = np.random.default_rng(seed)
    return eager.tensor(rng.standard_normal(shape), dtype=eager.float64, requires_grad=True)


def _weights(n):
    return eager.tensor(np.linspace(0.5, 2.0, n), dtype=eager.float64)


def _sym(a):
    return (a + a.mT) * 0.5


def _eigh_loss(a):
    values, vectors = LA.eigh(_sym(a))
    w = _weights(vectors.shape[-1])
    return (vectors * w) @ vectors.mT, vectors[..., 0, :] * vectors[..., 1, :], values


def _svd_loss(a):
    u, s, vh = LA.svd(a, full_matrices=False)
    w = _weights(s.shape[-1])
    return (u * w) @ u.mT, vh.mT * w @ vh, (u * w) @ vh, s


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_eigh_eigenvectors_gradcheck(shape):
    assert gradcheck(_eigh_loss, [_matrix(shape, 1)])


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)])
def test_svd_u_vh_gradcheck(shape):
    assert gradcheck(_svd_loss, [_matrix(shape, 2)])


def test_svd_u_only_and_vh_only():
    a = _matrix((4, 3), 3)
    w = _weights(3)

    def u_only(t):
        u = LA.svd(t, full_matrices=False).U
        return (u * w) @ u.mT

    def vh_only(t):
        vh = LA.svd(t, full_matrices=False).Vh
        return (vh.mT * w) @ vh

    assert gradcheck(u_only, [a])
    assert gradcheck(vh_only, [a])


def test_svd_full_matrices_of_a_square_matrix_is_differentiable():
    a = _matrix((3, 3), 4)

    def loss(t):
        u, _, vh = LA.svd(t)
        return (u * _weights(3)) @ vh

    assert gradcheck(loss, [a])


def test_svd_full_matrices_of_a_tall_matrix_refuses_a_gradient():
    a = _matrix((4, 2), 5)
    with pytest.raises(eager.AutogradError, match="full_matrices=False"):
        LA.svd(a).U.sum().backward()


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5), (2, 4, 3)])
def test_qr_gradcheck(shape):
    assert gradcheck(lambda t: tuple(LA.qr(t)), [_matrix(shape, 6)])
    assert gradcheck(lambda t: LA.qr(t).Q, [_matrix(shape, 7)])
    assert gradcheck(lambda t: LA.qr(t).R, [_matrix(shape, 8)])


def test_qr_complete_of_a_tall_matrix_refuses_a_gradient():
    with pytest.raises(eager.AutogradError, match="mode='reduced'"):
        LA.qr(_matrix((4, 2), 9), mode="complete").Q.sum().backward()


@pytest.mark.parametrize("a_shape, b_shape", [((3, 3), (3, 2)), ((3, 3), (3,)),
                                              ((2, 3, 3), (3, 1)), ((3, 3), (4, 3, 2))])
def test_solve_gradcheck(a_shape, b_shape):
    a = eager.tensor(np.eye(3) * 3 + np.random.default_rng(10).standard_normal(a_shape) * 0.3,
                     dtype=eager.float64, requires_grad=True)
    b = _matrix(b_shape, 11)
    assert gradcheck(LA.solve, [a, b])
    a_np, b_np = a.detach().numpy(), b.detach().numpy()
    expected = np.linalg.solve(a_np, b_np[:, None])[..., 0] if b.ndim == 1 else \
        np.linalg.solve(a_np, b_np)
    np.testing.assert_allclose(LA.solve(a, b).detach().numpy(), expected, rtol=1e-12)


def test_solve_is_its_own_primitive_not_inv():
    a = eager.tensor([[2.0, 1.0], [1.0, 3.0]])
    graph = tracer.trace(lambda x, y: LA.solve(x, y), a, eager.tensor([1.0, 2.0]))
    ops = {node.op.name for node in graph.nodes if getattr(node, "op", None) is not None}
    assert "solve" in ops and "inv" not in ops


def test_solve_and_its_gradient_under_jit_match_eager():
    def step(a, b):
        a = a.detach().requires_grad_()
        out = LA.solve(a, b).sum()
        (g,) = eager.grad(out, [a])
        return out.detach(), g

    a = eager.tensor([[4.0, 1.0], [2.0, 3.0]])
    b = eager.tensor([[1.0], [2.0]])
    expected = step(a, b)
    compiled = jit(step)
    for _ in range(2):
        got = compiled(a, b)
        for e, o in zip(expected, got):
            np.testing.assert_allclose(o.numpy(), e.numpy(), rtol=1e-6)
    assert compiled.cache_info().hits >= 1


def test_gradients_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    data = rng.standard_normal((4, 3))
    sym = data[:3] + data[:3].T
    w = np.linspace(0.5, 2.0, 3)

    def ours(fn, array):
        x = eager.tensor(array, dtype=eager.float64, requires_grad=True)
        fn(x, eager.tensor(w)).backward()
        return x.grad.numpy()

    def theirs(fn, array):
        x = torch.tensor(array, dtype=torch.float64, requires_grad=True)
        fn(x, torch.tensor(w)).backward()
        return x.grad.numpy()

    cases = [
        (lambda x, w: ((LA.eigh(x).eigenvectors * w) @ LA.eigh(x).eigenvectors.mT)[0].sum(),
         lambda x, w: ((torch.linalg.eigh(x)[1] * w) @ torch.linalg.eigh(x)[1].mT)[0].sum(),
         sym),
        (lambda x, w: ((LA.svd(x, full_matrices=False).U * w) @ LA.svd(x, full_matrices=False).Vh
                       ).sum(),
         lambda x, w: ((torch.linalg.svd(x, full_matrices=False)[0] * w)
                       @ torch.linalg.svd(x, full_matrices=False)[2]).sum(),
         data),
        (lambda x, w: (LA.qr(x).Q * w).sum() + LA.qr(x).R.sum(),
         lambda x, w: (torch.linalg.qr(x)[0] * w).sum() + torch.linalg.qr(x)[1].sum(), data),
        (lambda x, w: LA.solve(x, w).sum(),
         lambda x, w: torch.linalg.solve(x, w).sum(), sym + 4 * np.eye(3)),
    ]
    for mine, torch_fn, array in cases:
        np.testing.assert_allclose(ours(mine, array), theirs(torch_fn, array), rtol=1e-8,
                                   atol=1e-10)
