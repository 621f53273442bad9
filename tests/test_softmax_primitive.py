"""F.softmax and F.log_softmax in eager mode run one primitive each (composites under a
tracer): values, edge rows, first and second derivatives, the jit, and PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import eager
import eager.nn.functional as F
import tracer
from eager.autograd import gradcheck
from jit import jit
from kernels import OPS, TensorSpec
from kernels.errors import DTypeError, ShapeError

RNG = np.random.default_rng(5)
FUNCTIONS = {"softmax": F.softmax, "log_softmax": F.log_softmax}


def f64(values, grad=True):
    return eager.tensor(values, dtype=eager.float64, requires_grad=grad)


def reference(name, x, dim):
    shifted = x - x.max(axis=dim, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    return np.exp(logp) if name == "softmax" else logp


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_values_and_one_primitive(name, dim):
    data = RNG.normal(0.0, 4.0, (3, 4, 5))
    y = FUNCTIONS[name](f64(data), dim=dim)
    assert y.grad_fn.op is OPS[name]
    np.testing.assert_allclose(y.detach().numpy(), reference(name, data, dim), rtol=1e-12,
                               atol=1e-14)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_first_and_second_derivatives(name):
    fn = FUNCTIONS[name]
    assert gradcheck(lambda t: fn(t, dim=1), [f64(RNG.normal(size=(3, 4)))])

    def first(t, u):
        (g,) = eager.autograd.grad(fn(t, dim=-1), [t], grad_outputs=u, create_graph=True)
        return g

    assert gradcheck(first, [f64(RNG.normal(size=(2, 5))), f64(RNG.normal(size=(2, 5)))])


def test_edge_rows_keep_the_composites_values():
    big = eager.tensor([[1000.0, 1000.0], [-np.inf, 0.0]])
    assert F.softmax(big).tolist() == [[0.5, 0.5], [0.0, 1.0]]
    np.testing.assert_allclose(F.log_softmax(big).numpy(), [[-np.log(2), -np.log(2)],
                                                            [-np.inf, 0.0]], rtol=1e-6)
    with np.errstate(all="ignore"):   # an all -inf row is NaN, as in PyTorch
        assert np.isnan(F.log_softmax(eager.tensor([[-np.inf, -np.inf]])).numpy()).all()
        assert np.isnan(F.softmax(eager.tensor([[-np.inf, -np.inf]])).numpy()).all()
    assert F.softmax(eager.ones(2, 0), dim=1).shape == (2, 0)
    assert F.log_softmax(eager.tensor([1, 2])).dtype == eager.get_default_dtype()


def test_traced_code_sees_the_composites():
    graph = tracer.trace(lambda x: F.softmax(x, dim=-1) + F.log_softmax(x, dim=-1),
                         eager.ones(2, 3))
    names = {n.op.name for n in graph.nodes}
    assert not names & {"softmax", "log_softmax"} and {"max", "exp", "sum"} <= names


@pytest.mark.parametrize("dtype", [eager.float32, eager.float64])
def test_jitted_step_matches_eager(dtype):
    w = eager.tensor(RNG.normal(size=(4, 6)), dtype=dtype)
    data = RNG.normal(size=(4, 6))

    def step(x):
        x.requires_grad_()
        loss = (F.softmax(x, dim=-1) * w).sum() + F.cross_entropy(x, eager.tensor([0, 5, 2, 1]))
        loss.backward()
        return loss.detach(), x.grad

    want = step(eager.tensor(data, dtype=dtype))
    compiled = jit(step)
    for _ in range(2):
        got = compiled(eager.tensor(data, dtype=dtype))
    tol = 1e-5 if dtype == eager.float32 else 1e-12
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol)


def test_rules_refuse_bad_inputs():
    with pytest.raises(DTypeError, match="softmax: dtype int64"):
        OPS.softmax.infer(TensorSpec((2,), np.dtype("int64")), axis=0)
    with pytest.raises(ShapeError, match="log_softmax: axis 1 of shape"):
        OPS.log_softmax.infer(TensorSpec((2, 0), np.dtype("float32")), axis=1)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    data, weights = RNG.normal(size=(3, 7)), RNG.normal(size=(3, 7))
    tx = torch.tensor(data, requires_grad=True)
    (getattr(torch.nn.functional, name)(tx, dim=1) * torch.tensor(weights)).sum().backward()
    x = f64(data)
    (FUNCTIONS[name](x, dim=1) * f64(weights, grad=False)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(3, 5), (8, 4, 16, 32)])   # the second streams its rows
def test_eager_backward_runs_one_softmax_grad_matching_the_composite(shape):
    data, weights = RNG.normal(0.0, 3.0, shape), RNG.normal(size=shape)
    x = f64(data)
    ran = []
    seen = OPS.softmax_grad.cpu_kernel
    OPS.softmax_grad.cpu_kernel = lambda *a, **k: ran.append(1) or seen(*a, **k)
    try:
        (F.softmax(x, dim=-1) * f64(weights, grad=False)).sum().backward()
    finally:
        OPS.softmax_grad.cpu_kernel = seen
    assert ran == [1]
    y = reference("softmax", data, -1)
    want = y * (weights - (weights * y).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-10, atol=1e-13)


def test_short_rows_keep_values_and_nan_rows():
    data = RNG.normal(0.0, 3.0, (64, 4, 32)).astype(np.float32)
    data[0, 0, :5] = -np.inf
    data[1, 2, 7] = np.nan
    with np.errstate(invalid="ignore"):
        got = F.softmax(eager.tensor(data), dim=-1).numpy()
        logp = F.log_softmax(eager.tensor(data), dim=-1).numpy()
        want = reference("softmax", data.astype(np.float64), -1)
    assert np.isnan(got[1, 2]).all() and np.isnan(logp[1, 2]).all()
    assert (got[0, 0, :5] == 0).all() and (logp[0, 0, :5] == -np.inf).all()
    finite = ~np.isnan(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=2e-6, atol=1e-7)


def test_softmax_grad_rule_refuses_mismatched_operands():
    with pytest.raises(ShapeError, match="softmax_grad: gradient float32\\[2, 3\\]"):
        OPS.softmax_grad.infer(TensorSpec((2, 3), np.dtype("float32")),
                               TensorSpec((2, 4), np.dtype("float32")), axis=1)
