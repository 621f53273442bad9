"""F.layer_norm in eager mode runs the normalize_rows primitive and its one-op backward;
under a tracer (and with create_graph=True) the same math as fusable composites. Each
path against the composite written out here, finite differences and PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import eager
import eager.nn.functional as F
import tracer
from eager.autograd import gradcheck
from eager.dispatch import apply
from jit import jit
from kernels import OPS, TensorSpec
from kernels.errors import DTypeError, ShapeError

RNG = np.random.default_rng(3)


def f64(values, grad=True):
    return eager.tensor(values, dtype=eager.float64, requires_grad=grad)


def composite(x, axes, w, b, eps=1e-5):
    centered = x - x.mean(axis=axes, keepdims=True)
    var = (centered * centered).mean(axis=axes, keepdims=True)
    return centered / (var + eps).sqrt() * w + b


@pytest.mark.parametrize("shape, normalized", [((4, 6), (6,)), ((2, 3, 5), (3, 5)),
                                               ((7,), (7,))])
def test_values_and_gradients_match_the_composite(shape, normalized):
    data = RNG.normal(2.0, 3.0, shape)
    wv, bv = RNG.normal(size=normalized), RNG.normal(size=normalized)
    axes = tuple(range(len(shape) - len(normalized), len(shape)))
    x, w, b = f64(data), f64(wv), f64(bv)
    y = F.layer_norm(x, normalized, w, b)
    (y * y).sum().backward()
    rx, rw, rb = f64(data), f64(wv), f64(bv)
    want = composite(rx, axes, rw, rb)
    (want * want).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), want.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    for got, ref in ((x, rx), (w, rw), (b, rb)):
        np.testing.assert_allclose(got.grad.numpy(), ref.grad.numpy(), rtol=1e-10,
                                   atol=1e-10)


def test_eager_records_one_primitive_and_its_backward_one_op():
    x = f64(RNG.normal(size=(3, 4)))
    y = F.layer_norm(x, (4,))
    assert y.grad_fn.op is OPS.normalize_rows
    ran = []
    g = eager.ones(3, 4, dtype=eager.float64)
    seen = OPS.normalize_rows_grad.cpu_kernel
    OPS.normalize_rows_grad.cpu_kernel = lambda *a, **k: ran.append(1) or seen(*a, **k)
    try:
        (dx,) = eager.autograd.grad(y, [x], grad_outputs=g)
    finally:
        OPS.normalize_rows_grad.cpu_kernel = seen
    assert ran == [1]
    np.testing.assert_allclose(dx.numpy(), 0.0, atol=1e-12)   # the rows' mean is removed


def test_gradcheck_first_and_second_order():
    x, w = f64(RNG.normal(size=(3, 5))), f64(RNG.normal(size=(5,)))
    assert gradcheck(lambda t, u: F.layer_norm(t, (5,), u), [x, w])

    def first(t, u):
        (g,) = eager.autograd.grad(F.layer_norm(t, (5,)), [t], grad_outputs=u,
                                   create_graph=True)
        return g

    assert gradcheck(first, [f64(RNG.normal(size=(3, 5))), f64(RNG.normal(size=(3, 5)))])


def test_traced_layer_norm_is_the_fusable_composite():
    def fwd(x):
        return F.layer_norm(x, (6,))

    graph = tracer.trace(fwd, eager.ones(2, 6))
    names = {n.op.name for n in graph.nodes}
    assert "normalize_rows" not in names and {"sum", "sqrt"} <= names


@pytest.mark.parametrize("dtype", [eager.float32, eager.float64])
def test_jitted_training_step_matches_eager(dtype):
    ln = eager.nn.LayerNorm(6).to(dtype)
    data = RNG.normal(1.0, 2.0, (4, 6))

    def step(x):
        loss = (ln(x) ** 3).sum()
        loss.backward()
        grad = ln.weight.grad
        ln.zero_grad()
        return loss.detach(), grad

    want_loss, want_grad = step(eager.tensor(data, dtype=dtype))
    compiled = jit(step)
    for _ in range(2):
        loss, grad = compiled(eager.tensor(data, dtype=dtype))
    tol = 1e-4 if dtype == eager.float32 else 1e-10
    np.testing.assert_allclose(loss.numpy(), want_loss.numpy(), rtol=tol)
    np.testing.assert_allclose(grad.numpy(), want_grad.numpy(), rtol=tol, atol=tol)


def test_float32_is_kept_and_rules_refuse_bad_inputs():
    x = eager.tensor(RNG.normal(size=(2, 8)), dtype=eager.float32)
    assert F.layer_norm(x, (8,)).dtype == eager.float32
    with pytest.raises(DTypeError, match="normalize_rows: dtype int64"):
        OPS.normalize_rows.infer(TensorSpec((2,), np.dtype("int64")), axes=(0,), eps=1e-5)
    with pytest.raises(ShapeError, match="normalize_rows_grad"):
        OPS.normalize_rows_grad.infer(TensorSpec((2, 3), np.dtype("float32")),
                                      TensorSpec((3, 2), np.dtype("float32")), axes=(1,),
                                      eps=1e-5)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    data, wv, bv = RNG.normal(size=(3, 4, 5)), RNG.normal(size=(4, 5)), RNG.normal(size=(4, 5))
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (data, wv, bv))
    torch.nn.functional.layer_norm(tx, (4, 5), tw, tb).pow(3).sum().backward()
    x, w, b = f64(data), f64(wv), f64(bv)
    (F.layer_norm(x, (4, 5), w, b) ** 3).sum().backward()
    for got, ref in ((x, tx), (w, tw), (b, tb)):
        np.testing.assert_allclose(got.grad.numpy(), ref.grad.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_affine_step_is_one_op_with_the_mul_and_add_gradients_bit_for_bit(dtype):
    data, g = RNG.normal(size=(4, 3, 6)).astype(dtype), RNG.normal(size=(4, 3, 6)).astype(dtype)
    wv, bv = RNG.normal(size=(3, 6)).astype(dtype), RNG.normal(size=(3, 6)).astype(dtype)
    results = []
    for fused in (True, False):
        x, w, b = (eager.tensor(v, requires_grad=True) for v in (data, wv, bv))
        y = apply(OPS.scale_shift, x, w, b) if fused else x * w + b
        y.backward(eager.tensor(g))
        results.append([t.detach().numpy() for t in (y, x.grad, w.grad, b.grad)])
    for got, want in zip(*results):
        np.testing.assert_array_equal(got, want)
    x = eager.tensor(data, requires_grad=True)
    assert F.layer_norm(x, (3, 6), eager.tensor(wv), eager.tensor(bv)).grad_fn.op \
        is OPS.scale_shift
    graph = tracer.trace(lambda t: F.layer_norm(t, (6,), eager.tensor(wv[0]),
                                                eager.tensor(bv[0])), eager.ones(2, 6))
    assert "scale_shift" not in {n.op.name for n in graph.nodes}


def test_affine_rule_refuses_bad_operands():
    f32 = np.dtype("float32")
    with pytest.raises(ShapeError, match="scale_shift: input \\(2, 3\\), weight \\(2,\\)"):
        OPS.scale_shift.infer(TensorSpec((2, 3), f32), TensorSpec((2,), f32),
                              TensorSpec((2,), f32))
    with pytest.raises(DTypeError, match="scale_shift: dtypes float32, float64"):
        OPS.scale_shift.infer(TensorSpec((2, 3), f32), TensorSpec((3,), np.dtype("float64")),
                              TensorSpec((3,), f32))
