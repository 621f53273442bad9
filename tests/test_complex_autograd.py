"""Complex autograd: PyTorch's conjugate-Wirtinger convention (a complex tensor's .grad
is dL/d(conj z) = dL/dx + i dL/dy for a real loss L), checked against finite differences
(gradcheck) and, when it is installed, against torch."""
import numpy as np
import pytest

import eager
from kernels.errors import AutogradError

Z = np.array([1 + 2j, -0.5 + 0.25j, 3 - 1j])
W = np.array([0.5 - 1j, 2 + 0.5j, -1 + 1j])

# name -> f(lib, z, w) giving a complex or real tensor; lib is eager or torch.
FUNCTIONS = {
    "mul": lambda L, z, w: z * w,
    "div": lambda L, z, w: z / w,
    "add_sub": lambda L, z, w: z + w - 2 * z,
    "exp": lambda L, z, w: L.exp(z) * w,
    "log": lambda L, z, w: L.log(z) + w,
    "sqrt": lambda L, z, w: L.sqrt(z) * L.conj(w),
    "sin_cos": lambda L, z, w: L.sin(z) - L.cos(w),
    "tanh": lambda L, z, w: L.tanh(z) * w,
    "abs": lambda L, z, w: L.abs(z * w),
    "real_imag": lambda L, z, w: L.real(z) * L.imag(w),
    "angle": lambda L, z, w: L.angle(z * w),
    "pow": lambda L, z, w: z ** 2 + z ** w,
    "matmul": lambda L, z, w: L.reshape(z, (3, 1)) @ L.reshape(w, (1, 3)),
    "sum_prod_mean": lambda L, z, w: L.prod(z) + L.sum(w) * L.mean(z),
    "acos_expm1_log1p": lambda L, z, w: L.acos(z) + L.expm1(w) + L.log1p(z),
    "tan_sinh_asinh": lambda L, z, w: L.tan(z) * L.sinh(w) + L.asinh(z),
    "reciprocal_square": lambda L, z, w: L.reciprocal(z) + L.square(w),
    "mixed_real": lambda L, z, w: z * L.real(w) + L.abs(w),
}


def _eager_loss(out):
    loss = eager.abs(out).sum()
    return loss + eager.real(out).sum() if out.dtype.kind == "c" else loss


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_gradcheck(name):
    z = eager.tensor(Z, dtype=eager.complex128, requires_grad=True)
    w = eager.tensor(W, dtype=eager.complex128, requires_grad=True)
    assert eager.autograd.gradcheck(lambda a, b: FUNCTIONS[name](eager, a, b), [z, w])


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    z = eager.tensor(Z, dtype=eager.complex128, requires_grad=True)
    w = eager.tensor(W, dtype=eager.complex128, requires_grad=True)
    tz = torch.tensor(Z, dtype=torch.complex128, requires_grad=True)
    tw = torch.tensor(W, dtype=torch.complex128, requires_grad=True)
    _eager_loss(FUNCTIONS[name](eager, z, w)).backward()
    out = FUNCTIONS[name](torch, tz, tw)
    loss = out.abs().sum() + (out.real.sum() if out.is_complex() else 0)
    loss.backward()
    for mine, theirs in ((z, tz), (w, tw)):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.resolve_conj().numpy(),
                                   rtol=1e-9, atol=1e-12)


def test_real_input_of_a_complex_result_gets_the_real_part():
    torch = pytest.importorskip("torch")
    x = eager.tensor([1.0, 2.0], dtype=eager.float64, requires_grad=True)
    tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    eager.abs(x * (1 + 2j) + eager.astype(x, eager.complex128) * 1j).sum().backward()
    (tx * (1 + 2j) + tx.to(torch.complex128) * 1j).abs().sum().backward()
    assert x.grad.dtype == eager.float64
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_grad_of_abs_squared_is_2z():
    # |z|^2 = x^2 + y^2: dL/dx + i dL/dy = 2x + 2iy = 2z.
    z = eager.tensor(Z, dtype=eager.complex128, requires_grad=True)
    eager.real(z * eager.conj(z)).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), 2 * Z)


def test_gradcheck_catches_a_wrong_complex_rule():
    z = eager.tensor(Z, dtype=eager.complex128, requires_grad=True)
    # Detaching the imaginary part drops half of the gradient: gradcheck must notice.
    wrong = lambda t: eager.real(t) * eager.imag(t).detach()
    assert not eager.autograd.gradcheck(wrong, [z], raise_exception=False)
    with pytest.raises(AutogradError, match="differs from finite differences"):
        eager.autograd.gradcheck(wrong, [z])


def test_gradcheck_wants_double_precision():
    z = eager.tensor(Z, dtype=eager.complex64, requires_grad=True)
    with pytest.raises(AutogradError, match="float64 or complex128"):
        eager.autograd.gradcheck(lambda t: t * 2, [z])


def test_complex_tensors_can_require_grad():
    assert eager.tensor([1j], requires_grad=True).requires_grad


def test_jitted_complex_gradient_step_matches_eager():
    from jit import jit

    z = eager.tensor(Z, dtype=eager.complex64, requires_grad=True)
    x = eager.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def step(a):
        loss = (eager.abs(z * a + x) ** 2).sum() + eager.real(eager.fft.fft(z)).sum()
        gz, gx = eager.grad(loss, [z, x])
        return gz, gx, loss.detach()

    fast = jit(step)
    a = eager.tensor(W, dtype=eager.complex64)
    want = step(a)
    for _ in range(2):
        for got, expected in zip(fast(a), want):
            np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5)
    assert fast.cache_info().hits == 1


def test_sign_of_a_complex_tensor_refuses_a_gradient_instead_of_a_wrong_zero():
    z = eager.tensor([1 + 1j, -2j], requires_grad=True)
    with pytest.raises(AutogradError, match=r"sign: no gradient for complex inputs"):
        eager.real(eager.sign(z)).sum().backward()
