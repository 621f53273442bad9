"""relu in eager mode (float32/float64, nothing listening) runs the relu primitive and
its relu_grad backward; under a tracer where(x <= 0, 0, x). Both against each other bit
for bit (NaN, infinities, the sign of zero), second order, in place, and the trace."""
from __future__ import annotations

import numpy as np
import pytest

import eager
import eager.nn.functional as F
import tracer
from eager.autograd import gradcheck
from eager.dispatch import DispatchHook
from eager.interpreters import interpreting
from kernels import OPS

RNG = np.random.default_rng(17)


class _Listening(DispatchHook):
    """A hook that records nothing: with it on, relu runs the composite."""

    def record(self, op, inputs, attrs, out):
        pass


def _values(dtype, n=5000):
    data = RNG.normal(size=n).astype(dtype)
    data[::7], data[1::11], data[2::13] = -0.0, 0.0, np.nan
    data[3::17], data[4::19] = np.inf, -np.inf
    return data


def _step(data, grad, composite):
    x = eager.tensor(data, requires_grad=True)
    if composite:
        with interpreting(_Listening()):
            y = F.relu(x)
            y.backward(eager.tensor(grad))
    else:
        y = F.relu(x)
        assert y.grad_fn.op is OPS.relu
        y.backward(eager.tensor(grad))
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [5000, 7])   # numpy's where below 2048 elements, bits above
def test_values_and_gradient_equal_the_composite_bit_for_bit(dtype, n):
    data, grad = _values(dtype, n), _values(dtype, n)[::-1].copy()
    got, want = _step(data, grad, False), _step(data, grad, True)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


def test_second_order_in_place_and_other_dtypes():
    x = eager.tensor(RNG.normal(size=(3, 4)), dtype=eager.float64, requires_grad=True)
    assert gradcheck(lambda t: F.relu(t) * t, [x])

    def first(t):
        (g,) = eager.autograd.grad((F.relu(t) * t).sum(), [t], create_graph=True)
        return g

    assert gradcheck(first, [x])
    y = eager.tensor([-1.0, 2.0])
    assert y.relu_() is y and y.tolist() == [0.0, 2.0]
    assert F.relu(eager.tensor([-2, 3])).tolist() == [0, 3]
    half = F.relu(eager.tensor([-1.0, 1.0], dtype=eager.float16, requires_grad=True))
    assert half.grad_fn.op is OPS.where


def test_traced_relu_is_the_composite():
    graph = tracer.trace(lambda t: F.relu(t), eager.ones(3))
    names = [n.op.name for n in graph.nodes]
    assert "relu" not in names and "where" in names
