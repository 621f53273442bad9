"""F.max_pool2d(x, k) runs max_pool_blocks, eager and traced, whose gradients are the
block_argmax_scatter / block_argmax_pick pair; other pools are the windows composite.
Both paths against each other (ties included), finite differences, the jit and
PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import eager
import eager.nn.functional as F
import tracer
from eager.autograd import gradcheck
from jit import jit
from kernels import OPS, TensorSpec
from kernels.errors import ShapeError

RNG = np.random.default_rng(7)


def f64(values, grad=True):
    return eager.tensor(values, dtype=eager.float64, requires_grad=grad)


def both_paths(data, kernel, weights):
    """(output, input gradient) from the primitive and from the composite."""
    results = []
    pair = (kernel, kernel) if isinstance(kernel, int) else kernel
    for blocks in (True, False):
        x = f64(data)
        if blocks:
            y = F.max_pool2d(x, kernel)
            assert y.grad_fn.op is OPS.max_pool_blocks
        else:
            y = F._max_pool_windows(x, pair, pair, (0, 0), (1, 1))
        (y * f64(weights, grad=False)).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    return results


@pytest.mark.parametrize("shape, kernel", [((2, 3, 6, 8), 2), ((1, 2, 7, 5), 2),
                                           ((2, 1, 6, 6), (3, 2)), ((1, 1, 4, 4), 4)])
def test_primitive_equals_the_composite_with_ties(shape, kernel):
    # relu-like data: many zeros, so most blocks tie and the first one must win
    data = np.maximum(np.round(RNG.normal(size=shape), 1), 0.0)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    out_shape = shape[:2] + (shape[2] // kh, shape[3] // kw)
    (y, gx), (want_y, want_gx) = both_paths(data, kernel, RNG.normal(size=out_shape))
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(gx, want_gx)


def test_non_finite_values_and_gradients_go_where_the_composite_sends_them():
    data = np.maximum(np.round(RNG.normal(size=(1, 2, 4, 4)), 1), 0.0)
    data[0, 0, 0, 1] = np.nan
    data[0, 1, 2, 2] = np.inf
    weights = RNG.normal(size=(1, 2, 2, 2))
    weights[0, 1, 0, 0] = np.inf
    with np.errstate(invalid="ignore"):
        (y, gx), (want_y, want_gx) = both_paths(data, 2, weights)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(gx, want_gx)
    assert np.isinf(gx).sum() == 1 and not np.isnan(gx).any()


def test_first_and_second_derivatives():
    data = RNG.permutation(2 * 2 * 4 * 6).reshape(2, 2, 4, 6) * 0.37  # distinct: no kinks
    assert gradcheck(lambda t: F.max_pool2d(t, 2), [f64(data)])

    def first(t, u):
        (g,) = eager.autograd.grad(F.max_pool2d(t * t, 2), [t], grad_outputs=u,
                                   create_graph=True)
        return g

    assert gradcheck(first, [f64(data), f64(RNG.normal(size=(2, 2, 2, 3)))])


def test_other_pools_keep_the_composite():
    x = f64(RNG.normal(size=(1, 1, 5, 5)))
    assert F.max_pool2d(x, 2, stride=1).grad_fn.op is not OPS.max_pool_blocks
    assert F.max_pool2d(x, 2, padding=1).grad_fn.op is not OPS.max_pool_blocks


@pytest.mark.parametrize("dtype", [eager.float32, eager.float64])
def test_jitted_step_matches_eager(dtype):
    conv = eager.nn.Conv2d(1, 2, 3).to(dtype)
    data = RNG.normal(size=(2, 1, 8, 8))

    def step(x):
        loss = (F.max_pool2d(F.relu(conv(x)), 2) ** 2).sum()
        loss.backward()
        grad = conv.weight.grad
        conv.zero_grad()
        return loss.detach(), grad

    want = step(eager.tensor(data, dtype=dtype))
    compiled = jit(step)
    for _ in range(2):
        got = compiled(eager.tensor(data, dtype=dtype))
    tol = 1e-5 if dtype == eager.float32 else 1e-12
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol)


def test_rules_refuse_bad_inputs():
    f32 = np.dtype("float32")
    with pytest.raises(ShapeError, match="max_pool_blocks: expected"):
        OPS.max_pool_blocks.infer(TensorSpec((4, 4), f32), kernel=(2, 2))
    with pytest.raises(ShapeError, match="block_argmax_scatter: gradient"):
        OPS.block_argmax_scatter.infer(TensorSpec((1, 1, 3, 3), f32),
                                       TensorSpec((1, 1, 4, 4), f32), kernel=(2, 2))


def test_matches_torch():
    torch = pytest.importorskip("torch")
    data = np.maximum(np.round(RNG.normal(size=(2, 3, 6, 6)), 1), 0.0)
    weights = RNG.normal(size=(2, 3, 3, 3))
    tx = torch.tensor(data, requires_grad=True)
    (torch.nn.functional.max_pool2d(tx, 2) * torch.tensor(weights)).sum().backward()
    x = f64(data)
    (F.max_pool2d(x, 2) * f64(weights, grad=False)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_a_traced_pool_records_the_block_primitives():
    x = f64(RNG.normal(size=(2, 3, 6, 6)))

    def pool_and_grad(x):
        y = F.max_pool2d(x, 2)
        (g,) = eager.autograd.grad(y.sum(), [x])
        return y, g

    names = [n.op.name for n in tracer.trace(pool_and_grad, x).nodes]
    assert "max_pool_blocks" in names and "block_argmax_scatter" in names
    assert "windows" not in names and "argmax" not in names
