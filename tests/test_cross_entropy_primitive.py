"""F.cross_entropy with (N, C) logits, integer targets and a mean or sum runs one
primitive forward and one backward in eager mode (the composite under a tracer and for
weight / label_smoothing / other layouts): values, gradients, ignore_index, errors, the
jit, and PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import eager
import eager.nn.functional as F
import tracer
from eager.autograd import gradcheck
from eager.nn.errors import TargetError
from eager.nn.loss_functions import cross_entropy_general
from jit import jit
from kernels import OPS, TensorSpec
from kernels.errors import DTypeError, ShapeError

RNG = np.random.default_rng(12)
TARGETS = [0, 4, -100, 2, 2, 1]


def logits(dtype=eager.float64, data=None):
    data = RNG.normal(0.0, 3.0, (6, 5)) if data is None else data
    return eager.tensor(data, dtype=dtype, requires_grad=True)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype", [eager.float32, eager.float64])
def test_one_op_each_way_matches_the_composite(reduction, dtype):
    data, target = RNG.normal(0.0, 3.0, (6, 5)), eager.tensor(TARGETS)
    x, y = logits(dtype, data), logits(dtype, data)
    ran = []
    seen = OPS.cross_entropy_rows_grad.cpu_kernel
    OPS.cross_entropy_rows_grad.cpu_kernel = lambda *a, **k: ran.append(1) or seen(*a, **k)
    try:
        loss = F.cross_entropy(x, target, reduction=reduction)
        loss.backward()
    finally:
        OPS.cross_entropy_rows_grad.cpu_kernel = seen
    assert loss.grad_fn.op is OPS.cross_entropy_rows and ran == [1]
    want = cross_entropy_general(y, target, None, -100, reduction, 0.0)
    want.backward()
    assert loss.dtype == want.dtype and loss.shape == ()
    tol = 1e-6 if dtype == eager.float32 else 1e-13
    np.testing.assert_allclose(loss.item(), want.item(), rtol=tol)
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=tol, atol=tol)
    assert x.grad.numpy()[2].tolist() == [0.0] * 5   # the ignored row


def test_first_and_second_derivatives():
    target = eager.tensor([0, 2, -100, 1])
    assert gradcheck(lambda t: F.cross_entropy(t, target), [logits(data=RNG.normal(size=(4, 3)))])
    assert gradcheck(lambda t: F.cross_entropy(t, target * 0 + 2 - target.abs() % 3,
                                               reduction="sum", ignore_index=2),
                     [logits(data=RNG.normal(size=(4, 3)))])

    def first(t, u):
        (g,) = eager.autograd.grad(F.cross_entropy(t, target), [t], create_graph=True)
        return (g * u).sum()

    assert gradcheck(first, [logits(data=RNG.normal(size=(4, 3))),
                             logits(data=RNG.normal(size=(4, 3)))])


def test_every_target_ignored_is_nan_for_the_mean_and_zero_for_the_sum():
    x = logits()
    every = eager.tensor([-100] * 6)
    assert np.isnan(F.cross_entropy(x, every).item())
    loss = F.cross_entropy(x, every, reduction="sum")
    loss.backward()
    assert loss.item() == 0.0 and not x.grad.numpy().any()


def test_a_target_outside_the_classes_is_refused_as_before():
    with pytest.raises(TargetError, match=r"cross_entropy: a target is outside \[0, 5\) and is "
                                          r"not ignore_index -100 \(the first is -1\)"):
        F.cross_entropy(logits(), eager.tensor([0, 1, -1, 5, 0, 0]))
    with pytest.raises(TargetError, match="the first is 5"):
        F.cross_entropy(logits(), eager.tensor([0, 1, 5, 0, 0, 0]))


@pytest.mark.parametrize("kwargs", [{"label_smoothing": 0.1}, {"reduction": "none"},
                                    {"weight": eager.ones(5)}])
def test_other_arguments_keep_the_composite(kwargs):
    loss = F.cross_entropy(logits(), eager.tensor(TARGETS), **kwargs)
    assert loss.grad_fn.op is not OPS.cross_entropy_rows


def test_traced_code_sees_the_composite():
    graph = tracer.trace(lambda x: F.cross_entropy(x, eager.tensor([0, 1])), eager.ones(2, 3))
    names = {n.op.name for n in graph.nodes}
    assert not names & {"cross_entropy_rows", "cross_entropy_rows_grad"}
    assert "log_softmax" not in names and {"exp", "sum"} <= names


def test_jitted_step_matches_eager():
    data = RNG.normal(size=(6, 5))

    def step(x):
        x.requires_grad_()
        loss = F.cross_entropy(x, eager.tensor(TARGETS))
        loss.backward()
        return loss.detach(), x.grad

    want = step(eager.tensor(data))
    compiled = jit(step)
    for _ in range(2):
        got = compiled(eager.tensor(data))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)


def test_rules_refuse_bad_inputs():
    f32, i64 = np.dtype("float32"), np.dtype("int64")
    with pytest.raises(DTypeError, match="cross_entropy_rows: logits int64"):
        OPS.cross_entropy_rows.infer(TensorSpec((2, 3), i64), TensorSpec((2,), i64),
                                     ignore_index=-100, mean=True)
    with pytest.raises(ShapeError, match=r"cross_entropy_rows: logits \(2, 3\) and target"):
        OPS.cross_entropy_rows.infer(TensorSpec((2, 3), f32), TensorSpec((3,), i64),
                                     ignore_index=-100, mean=True)
    with pytest.raises(ShapeError, match="cross_entropy_rows_grad: gradient"):
        OPS.cross_entropy_rows_grad.infer(TensorSpec((2,), f32), TensorSpec((2, 3), f32),
                                          TensorSpec((2,), i64), ignore_index=-100, mean=True)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    data = RNG.normal(size=(6, 5))
    tx = torch.tensor(data, requires_grad=True)
    torch.nn.functional.cross_entropy(tx, torch.tensor(TARGETS), reduction=reduction).backward()
    x = logits(data=data)
    F.cross_entropy(x, eager.tensor(TARGETS), reduction=reduction).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("path", ["primitive", "composite", "jit"])
def test_every_target_ignored_gives_nan_loss_and_zero_gradients_as_torch(path):
    """torch: a mean over no counted position is NaN, and the ignored positions get
    exactly zero gradient (a fully padded batch must not put NaN into the parameters);
    the product `-picked * 0` alone turned the mean's 1/0 into NaN gradients."""
    w = eager.randn(4, 4, dtype=eager.float64, requires_grad=True)
    x = eager.randn(3, 4, dtype=eager.float64)
    ignored, partly = eager.tensor([-100, -100, -100]), eager.tensor([-100, 1, -100])

    def loss(t):
        logits = x @ w
        if path == "composite":
            return F.nll_loss(F.log_softmax(logits, 1), t)
        return F.cross_entropy(logits, t)

    def step(t):
        value = loss(t)
        value.backward()
        return value

    run = jit(step) if path == "jit" else step
    for t in (ignored, partly, ignored):
        w.grad = None
        value = run(t)
        if t is ignored:
            assert np.isnan(value.item())
            assert np.array_equal(w.grad.numpy(), np.zeros((4, 4)))
        else:
            assert np.isfinite(value.item()) and np.isfinite(w.grad.numpy()).all()
            assert np.abs(w.grad.numpy()).sum() > 0
