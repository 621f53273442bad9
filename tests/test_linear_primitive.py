"""F.linear with a bias in eager mode runs the linear primitive (kernels/affine.py) and
its three-op backward; under a tracer the composite (matmul, add). Values and gradients
against the composite bit for bit, finite differences, second order, the jit, and
PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import eager
import eager.nn.functional as F
import tracer
from eager.autograd import gradcheck
from eager.dispatch import DispatchHook
from eager.interpreters import interpreting
from jit import jit
from kernels import OPS, TensorSpec
from kernels.errors import DTypeError, ShapeError

RNG = np.random.default_rng(7)


class _Listening(DispatchHook):
    """A hook that records nothing: with it on, F.linear runs the composite."""

    def record(self, op, inputs, attrs, out):
        pass


def _run(shape, out_features, dtype, composite):
    x = eager.tensor(RNG.normal(size=shape).astype(dtype), requires_grad=True)
    w = eager.tensor(RNG.normal(size=(out_features, shape[-1])).astype(dtype),
                     requires_grad=True)
    b = eager.tensor(RNG.normal(size=(out_features,)).astype(dtype), requires_grad=True)
    g = eager.tensor(RNG.normal(size=shape[:-1] + (out_features,)).astype(dtype))
    if composite:
        with interpreting(_Listening()):
            y = F.linear(x, w, b)
            y.backward(g)
    else:
        y = F.linear(x, w, b)
        assert y.grad_fn.op is OPS.linear
        y.backward(g)
    return [t.detach().numpy() for t in (y, x.grad, w.grad, b.grad)]


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,), (2, 3, 4, 6)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_and_gradients_equal_the_composite_bit_for_bit(shape, dtype):
    state = RNG.bit_generator.state
    got = _run(shape, 7, dtype, composite=False)
    RNG.bit_generator.state = state
    want = _run(shape, 7, dtype, composite=True)
    for a, b in zip(got, want):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_a_non_contiguous_input_and_gradcheck_first_and_second_order():
    x = eager.tensor(RNG.normal(size=(4, 3, 2)), dtype=eager.float64, requires_grad=True)
    w = eager.tensor(RNG.normal(size=(5, 4)), dtype=eager.float64, requires_grad=True)
    b = eager.tensor(RNG.normal(size=(5,)), dtype=eager.float64, requires_grad=True)
    assert gradcheck(lambda t, u, v: F.linear(t.permute(1, 2, 0), u, v), [x, w, b])

    def first(t, u, v):
        y = F.linear(t, u, v)
        (gt, gu) = eager.autograd.grad((y * y).sum(), [t, u], create_graph=True)
        return (gt * gt).sum() + (gu * gu).sum()

    assert gradcheck(first, [eager.tensor(RNG.normal(size=(3, 4)), dtype=eager.float64,
                                          requires_grad=True), w, b])


def test_without_bias_or_in_other_dtypes_the_composite_runs():
    x, w = eager.ones(2, 3, requires_grad=True), eager.ones(4, 3, requires_grad=True)
    assert F.linear(x, w).grad_fn.op is not OPS.linear
    half = eager.ones(2, 3, dtype=eager.float16, requires_grad=True)
    y = F.linear(half, w.half(), eager.ones(4, dtype=eager.float16))
    assert y.grad_fn.op is OPS.add and y.dtype == eager.float16


def test_traced_linear_is_the_composite_and_the_jit_matches_eager():
    w = eager.tensor(RNG.normal(size=(3, 4)), requires_grad=True)
    b = eager.tensor(RNG.normal(size=(3,)), requires_grad=True)
    graph = tracer.trace(lambda x: F.linear(x, w, b), eager.ones(2, 4))
    names = [n.op.name for n in graph.nodes]
    assert "linear" not in names and "matmul" in names

    def step(x):
        loss = (F.linear(x, w, b) ** 2).sum()
        loss.backward()
        grads = (w.grad.clone(), b.grad.clone())
        w.grad = b.grad = None
        return loss.detach(), *grads

    data = RNG.normal(size=(5, 4)).astype(np.float32)
    want = step(eager.tensor(data))
    compiled = jit(step)
    for _ in range(2):
        got = compiled(eager.tensor(data))
    for a, c in zip(got, want):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-5, atol=1e-6)


def test_rule_refuses_bad_operands():
    f32, f64 = np.dtype("float32"), np.dtype("float64")
    with pytest.raises(DTypeError, match="linear: dtypes float32, float64 and float32"):
        OPS.linear.infer(TensorSpec((2, 3), f32), TensorSpec((4, 3), f64),
                         TensorSpec((4,), f32))
    with pytest.raises(ShapeError, match=r"linear: input \(2, 3\), weight \(4, 2\)"):
        OPS.linear.infer(TensorSpec((2, 3), f32), TensorSpec((4, 2), f32),
                         TensorSpec((4,), f32))


def test_matches_torch():
    torch = pytest.importorskip("torch")
    xv, wv, bv = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(5, 4)), RNG.normal(size=5)
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (xv, wv, bv))
    (torch.nn.functional.linear(tx, tw, tb) ** 2).sum().backward()
    x, w, b = (eager.tensor(v, dtype=eager.float64, requires_grad=True) for v in (xv, wv, bv))
    (F.linear(x, w, b) ** 2).sum().backward()
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("shape, weight", [((2, 3, 0), (4, 0)), ((2, 0, 3), (4, 3))])
def test_empty_inputs(shape, weight):
    x, w = eager.ones(*shape, requires_grad=True), eager.ones(*weight, requires_grad=True)
    b = eager.ones(weight[0], requires_grad=True)
    y = F.linear(x, w, b)
    y.sum().backward()
    assert y.shape == shape[:-1] + weight[:1] and x.grad.shape == shape
    assert w.grad.shape == weight and b.grad.tolist() == [float(np.prod(shape[:-1]))] * 4
