"""GPT-2's tanh GELU as a primitive: values, first and second derivatives, the jit's fused
C expressions, and PyTorch's F.gelu(approximate="tanh") as the reference."""
from __future__ import annotations

import math

import numpy as np
import pytest

import eager
import eager.nn.functional as F
from eager.autograd import gradcheck
from jit import jit
from kernels import OPS

POINTS = np.array([-6.0, -2.5, -1.0, -0.3, 0.0, 0.2, 0.9, 1.7, 4.0, 9.0])


def composite(x):
    """The formula spelled out in eager ops, as the benchmark model used to."""
    return 0.5 * x * (1.0 + (math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)).tanh())


def f64(values, grad=True):
    return eager.tensor(values, dtype=eager.float64, requires_grad=grad)


def test_forward_is_the_formula_and_one_op():
    x = f64(POINTS, grad=False)
    np.testing.assert_allclose(F.gelu(x, approximate="tanh").numpy(), composite(x).numpy(),
                               rtol=1e-14, atol=1e-15)
    y = F.gelu(f64(POINTS), approximate="tanh")
    assert y.grad_fn is not None and y.grad_fn.op is OPS.gelu_tanh


def test_dtype_is_kept_and_integers_are_promoted():
    assert F.gelu(eager.ones(3, dtype=eager.float32), approximate="tanh").dtype == eager.float32
    assert F.gelu(eager.ones(3, dtype=eager.float16), approximate="tanh").dtype == eager.float16
    assert F.gelu(eager.tensor([1, 2]), approximate="tanh").dtype == eager.get_default_dtype()


def test_gradient_matches_the_composite_and_finite_differences():
    x = f64(POINTS)
    F.gelu(x, approximate="tanh").sum().backward()
    ref = f64(POINTS)
    composite(ref).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), ref.grad.numpy(), rtol=1e-13, atol=1e-15)
    assert gradcheck(lambda t: F.gelu(t, approximate="tanh"), [f64(POINTS)])


def test_second_derivative_through_create_graph():
    def first(t, u):
        (g,) = eager.autograd.grad(F.gelu(t, approximate="tanh"), [t], grad_outputs=u,
                                   create_graph=True)
        return g

    weights = f64(np.linspace(-1.0, 2.0, len(POINTS)))
    assert gradcheck(first, [f64(POINTS), weights])
    x = f64(POINTS)
    (g,) = eager.autograd.grad(F.gelu(x, approximate="tanh").sum(), [x], create_graph=True)
    (gg,) = eager.autograd.grad(g.sum(), [x])
    ref = f64(POINTS)
    (rg,) = eager.autograd.grad(composite(ref).sum(), [ref], create_graph=True)
    (rgg,) = eager.autograd.grad(rg.sum(), [ref])
    np.testing.assert_allclose(gg.numpy(), rgg.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [eager.float32, eager.float64])
def test_jit_fused_forward_and_backward_match_eager(dtype):
    w = eager.tensor(np.linspace(-1.0, 1.0, 24).reshape(4, 6), dtype=dtype)

    def step(x):
        x.requires_grad_()
        y = F.gelu(x * 1.5 + 0.25, approximate="tanh")
        loss = (y * y * w).sum()
        loss.backward()
        return loss.detach(), x.grad

    data = np.linspace(-5.0, 5.0, 24).reshape(4, 6)
    want_loss, want_grad = step(eager.tensor(data, dtype=dtype))
    compiled = jit(step)
    for _ in range(2):
        loss, grad = compiled(eager.tensor(data, dtype=dtype))
    tol = 1e-5 if dtype == eager.float32 else 1e-12
    np.testing.assert_allclose(loss.numpy(), want_loss.numpy(), rtol=tol)
    np.testing.assert_allclose(grad.numpy(), want_grad.numpy(), rtol=tol, atol=tol)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).normal(0.0, 3.0, (5, 7))
    tx = torch.tensor(values, requires_grad=True)
    torch.nn.functional.gelu(tx, approximate="tanh").pow(2).sum().backward()
    x = f64(values)
    (F.gelu(x, approximate="tanh") ** 2).sum().backward()
    want = torch.nn.functional.gelu(torch.tensor(values), approximate="tanh").numpy()
    np.testing.assert_allclose(F.gelu(f64(values, grad=False), approximate="tanh").numpy(), want,
                               rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)
