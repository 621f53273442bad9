"""Complex matrices in eager.linalg: values against numpy, gradients with PyTorch's
conjugate-Wirtinger convention checked against finite differences in complex128
(gradcheck perturbs the real and the imaginary part of every entry) and, when torch is
installed, against torch. The losses of eigh, svd and qr do not depend on the phase
choices of their vectors (a singular vector pair times e^(i phi) is one too)."""
import numpy as np
import pytest

import eager
import tracer
from eager.autograd import gradcheck
from jit import jit

LA = eager.linalg


def _complex(shape, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return eager.tensor(data, dtype=eager.complex128, requires_grad=True)


def _herm(a):
    return (a + a.mH) * 0.5


def _weights(n):
    return eager.tensor(np.linspace(0.5, 2.0, n), dtype=eager.float64)


def _positive_definite(a):
    return a @ a.mH + eager.eye(a.shape[-1], dtype=a.dtype)


def _svd_loss(a):
    u, s, vh = LA.svd(a, full_matrices=False)
    w = _weights(s.shape[-1])
    return (u * w) @ u.mH, (vh.mH * w) @ vh, (u * w) @ vh, s


def _svd_square_full_loss(a):
    u, _, vh = LA.svd(a)
    return (u * _weights(3)) @ vh


def _svd_u_only_loss(a):
    u = LA.svd(a, full_matrices=False).U
    return (u * _weights(2)) @ u.mH


def _eigh_loss(a):
    values, vectors = LA.eigh(_herm(a))
    return (vectors * _weights(vectors.shape[-1])) @ vectors.mH, values


# name -> (function of the inputs, input shapes)
CASES = {
    "inv": (LA.inv, [(3, 3)]),
    "det": (LA.det, [(2, 3, 3)]),
    "slogdet": (lambda a: tuple(LA.slogdet(a)), [(3, 3)]),
    "slogdet_sign": (lambda a: LA.slogdet(a).sign, [(3, 3)]),
    "cholesky": (lambda a: LA.cholesky(_positive_definite(a)), [(3, 3)]),
    "cholesky_upper": (lambda a: LA.cholesky(_positive_definite(a), upper=True), [(3, 3)]),
    "solve": (LA.solve, [(3, 3), (3, 2)]),
    "solve_vector": (LA.solve, [(3, 3), (3,)]),
    "eigh": (_eigh_loss, [(3, 3)]),
    "eigvalsh": (lambda a: LA.eigvalsh(_herm(a)), [(2, 3, 3)]),
    "svd_tall": (_svd_loss, [(4, 2)]),
    "svd_wide": (_svd_loss, [(2, 4)]),
    "svd_square_full": (_svd_square_full_loss, [(3, 3)]),
    "svd_u_only": (_svd_u_only_loss, [(4, 2)]),
    "svdvals": (LA.svdvals, [(2, 3, 2)]),
    "qr_tall": (lambda a: tuple(LA.qr(a)), [(4, 3)]),
    "qr_square": (lambda a: tuple(LA.qr(a)), [(3, 3)]),
    "qr_wide": (lambda a: tuple(LA.qr(a)), [(2, 4)]),
    "qr_q_only": (lambda a: LA.qr(a).Q, [(4, 3)]),
    "qr_r_only": (lambda a: LA.qr(a).R, [(2, 4)]),
    "pinv": (LA.pinv, [(3, 2)]),
    "vector_norm": (LA.vector_norm, [(2, 3)]),
    "vector_norm_3": (lambda a: LA.vector_norm(a, ord=3, axis=1), [(2, 3)]),
    "matrix_norm_fro": (LA.matrix_norm, [(2, 3)]),
    "matrix_norm_nuc": (lambda a: LA.matrix_norm(a, ord="nuc"), [(3, 2)]),
    "matrix_norm_2": (lambda a: LA.matrix_norm(a, ord=2), [(3, 2)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_complex128(name):
    fn, shapes = CASES[name]
    assert gradcheck(fn, [_complex(s, i + 1) for i, s in enumerate(shapes)])


def test_vector_norm_of_zeros_has_a_zero_gradient():
    z = eager.zeros(3, dtype=eager.complex128, requires_grad=True)
    LA.vector_norm(z).backward()
    assert z.grad.tolist() == [0j, 0j, 0j]


@pytest.mark.parametrize("dtype", [eager.complex64, eager.complex128])
def test_values_and_dtypes_match_numpy(dtype):
    a = _complex((2, 3, 3), 5).detach().astype(dtype)
    h = _herm(a)
    x, hx = a.numpy(), h.numpy()
    real = np.float32 if dtype == eager.complex64 else np.float64
    tol = 1e-4 if dtype == eager.complex64 else 1e-10
    sign, logabs = np.linalg.slogdet(x)
    expected = {
        "inv": (LA.inv(a), np.linalg.inv(x)),
        "det": (LA.det(a), np.linalg.det(x)),
        "sign": (LA.slogdet(a).sign, sign),
        "logabsdet": (LA.slogdet(a).logabsdet, logabs),
        "eigvalsh": (LA.eigvalsh(h), np.linalg.eigvalsh(hx)),
        "svdvals": (LA.svdvals(a), np.linalg.svd(x, compute_uv=False)),
        "pinv": (LA.pinv(a), np.linalg.pinv(x)),
        "vector_norm": (LA.vector_norm(a, axis=(-2, -1)), np.linalg.norm(x, axis=(-2, -1))),
        "matrix_norm_1": (LA.matrix_norm(a, ord=1), np.linalg.norm(x, 1, axis=(-2, -1))),
    }
    for name, (got, want) in expected.items():
        kind = "c" if np.iscomplexobj(want) else "f"
        assert got.dtype.kind == kind and got.dtype.itemsize == (
            np.dtype(dtype).itemsize // (1 if kind == "c" else 2)), name
        np.testing.assert_allclose(got.numpy(), want.astype(got.dtype), rtol=tol, atol=tol,
                                   err_msg=name)
    assert LA.eigh(h).eigenvalues.dtype == real
    assert LA.matrix_rank(a).tolist() == [3, 3]


def test_cholesky_upper_is_the_conjugate_transpose_of_lower():
    a = _positive_definite(_complex((3, 3), 6).detach())
    low, up = LA.cholesky(a), LA.cholesky(a, upper=True)
    np.testing.assert_allclose(up.numpy(), low.numpy().conj().T, rtol=1e-12)
    np.testing.assert_allclose((low @ low.mH).numpy(), a.numpy(), rtol=1e-12)


def test_complex_linalg_traces_and_jits():
    def step(a, b):
        a = a.detach().requires_grad_()
        out = LA.vector_norm(LA.solve(a, b)) + LA.slogdet(a).logabsdet
        (g,) = eager.grad(out, [a])
        return out.detach(), g

    a = _complex((3, 3), 7).detach() + 3 * eager.eye(3, dtype=eager.complex128)
    b = _complex((3, 1), 8).detach()
    graph = tracer.trace(lambda x: (LA.eigvalsh(x), LA.svdvals(x), LA.inv(x)), _herm(a))
    assert [v.dtype for v in graph.output_values()] == [np.float64, np.float64, np.complex128]
    expected = step(a, b)
    compiled = jit(step)
    for _ in range(2):
        for want, got in zip(expected, compiled(a, b)):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)
    assert compiled.cache_info().hits >= 1


def test_complex_gradients_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    data = rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))
    square = data[:3] + 2 * np.eye(3)
    w = np.linspace(0.5, 2.0, 3)

    def run(lib, fn, array):
        if lib is eager:
            x = eager.tensor(array, dtype=eager.complex128, requires_grad=True)
            weights = eager.tensor(w, dtype=eager.float64)
        else:
            x = torch.tensor(array, dtype=torch.complex128, requires_grad=True)
            weights = torch.tensor(w, dtype=torch.float64)
        out = fn(lib.linalg, x, weights)
        (out.real.sum() + out.imag.sum() if out.is_complex() else out.sum()).backward()
        return x.grad.resolve_conj().numpy()

    def eigh_case(L, x, w):
        values, vectors = L.eigh(x + x.mH)
        return (vectors * w) @ vectors.mH + values

    def svd_case(L, x, w):
        u, s, vh = L.svd(x, full_matrices=False)
        return (u * w) @ vh + s.sum()

    def svd_wide_case(L, x, w):
        u, _, vh = L.svd(x.mT, full_matrices=False)
        return (u * w) @ vh

    cases = [
        (lambda L, x, w: L.inv(x) * w, square),
        (lambda L, x, w: L.det(x), square),
        (lambda L, x, w: L.slogdet(x)[0] * 2 + L.slogdet(x)[1], square),
        (lambda L, x, w: L.cholesky(x @ x.mH + 0 * w.sum()) * w, square),
        (lambda L, x, w: L.solve(x, x.mH @ x) * w, square),
        (eigh_case, square),
        (svd_case, data),
        (svd_wide_case, data),
        (lambda L, x, w: L.qr(x)[0] * w + L.qr(x)[1].sum(), data),
        (lambda L, x, w: L.pinv(x) * w.sum(), data),
        (lambda L, x, w: L.vector_norm(x, dim=0) * w, data),
        (lambda L, x, w: L.matrix_norm(x, ord="nuc") + L.matrix_norm(x), data),
    ]
    for i, (fn, array) in enumerate(cases):
        np.testing.assert_allclose(run(eager, fn, array), run(torch, fn, array), rtol=1e-7,
                                   atol=1e-9, err_msg=f"case {i}")
