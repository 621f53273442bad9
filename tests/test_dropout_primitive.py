"""F.dropout in eager mode draws its mask in one primitive and scales in one each way
(the composite under a tracer): the same random stream, values and gradients bit for
bit as the composite, NaN and -0.0 inputs, inplace, and the tracer."""
from __future__ import annotations

import numpy as np
import pytest

import eager
import eager.nn.functional as F
import tracer
from eager.autograd import gradcheck
from kernels import OPS, TensorSpec
from kernels.errors import DTypeError, ShapeError

RNG = np.random.default_rng(8)


def composite(x, p, generator):
    keep = eager.uniform(0.0, 1.0, x.shape, dtype=x.dtype, generator=generator) >= p
    return eager.where(keep, x * (1.0 / (1.0 - p)), 0.0)


def data():
    values = RNG.normal(size=(40, 30))
    values[0, :3] = np.nan, -0.0, np.inf
    return values


@pytest.mark.parametrize("p", [0.1, 0.5, 1 / 3])
@pytest.mark.parametrize("dtype", [eager.float32, eager.float64])
def test_same_values_and_gradients_bit_for_bit(p, dtype):
    values, weights = data(), eager.tensor(RNG.normal(size=(40, 30)), dtype=dtype)
    x = eager.tensor(values, dtype=dtype, requires_grad=True)
    y = eager.tensor(values, dtype=dtype, requires_grad=True)
    got = F.dropout(x, p, generator=eager.Generator(seed=3))
    want = composite(y, p, eager.Generator(seed=3))
    assert got.grad_fn.op is OPS.masked_scale
    assert got.detach().numpy().tobytes() == want.detach().numpy().tobytes()
    (got * weights).sum().backward()
    (want * weights).sum().backward()
    assert x.grad.numpy().tobytes() == y.grad.numpy().tobytes()


def test_the_default_generator_stream_is_unchanged():
    eager.manual_seed(11)
    got, after = F.dropout(eager.ones(500), 0.3), eager.rand(4)
    eager.manual_seed(11)
    want, want_after = composite(eager.ones(500), 0.3, None), eager.rand(4)
    assert got.tolist() == want.tolist() and after.tolist() == want_after.tolist()


def test_inplace_and_second_derivatives():
    x = eager.tensor(RNG.normal(size=(5, 4)))
    F.dropout(x, 0.5, inplace=True, generator=eager.Generator(seed=1))
    want = composite(eager.tensor(RNG.normal(size=(5, 4))) * 0 + 1, 0.5, eager.Generator(seed=1))
    assert ((x.numpy() == 0) == (want.numpy() == 0)).all()
    t = eager.tensor(RNG.normal(size=(3, 4)), dtype=eager.float64, requires_grad=True)

    def first(t):
        y = F.dropout(t, 0.4, generator=eager.Generator(seed=2))
        (g,) = eager.autograd.grad((y * y).sum(), [t], create_graph=True)
        return g

    assert gradcheck(first, [t])


def test_other_dtypes_and_the_tracer_keep_the_composite():
    half = F.dropout(eager.ones(4, dtype=eager.float16, requires_grad=True), 0.5)
    assert half.grad_fn.op is not OPS.masked_scale
    graph = tracer.trace(lambda x: F.dropout(x, 0.5), eager.ones(2, 3))
    names = {n.op.name for n in graph.nodes}
    assert not names & {"dropout_keep", "masked_scale"} and {"uniform", "where"} <= names


def test_rules_refuse_bad_inputs():
    f32 = np.dtype("float32")
    with pytest.raises(DTypeError, match="dropout_keep: dtype int64"):
        OPS.dropout_keep.infer(None, shape=(2,), dtype=np.dtype("int64"), p=0.5)
    with pytest.raises(ShapeError, match=r"masked_scale: input \(2,\) and mask \(3,\)"):
        OPS.masked_scale.infer(TensorSpec((2,), f32), TensorSpec((3,), np.dtype("bool")),
                               scale=2.0)
