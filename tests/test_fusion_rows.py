"""Row kernels: reductions over the last axis fused with the elementwise ops before and
after them (softmax, log-softmax, LayerNorm, cross-entropy, their backward), and values
recomputed by the groups that read them instead of stored (jit.passes.remat).

Fused results are checked against the same graph unfused (`disable=("fuse",)`) and
against eager, on generated programs and on the compiled kernels directly.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eager
import eager.nn.functional as F
import tracer
from jit import jit
from jit.executable import Executable
from jit.lowering import FusedStep, lower
from jit.passes import optimize
from jit.passes.fusion import fuse, fusion_groups
from kernels import TensorSpec, float32, float64
from kernels.codegen import RowGroup, Step, compile_groups, evaluate


def _groups(fn, *args):
    return [[n.op.name for n in grp] for grp in fusion_groups(fuse(tracer.trace(fn, *args)))]


def _row_groups(fn, *args):
    graph, _ = optimize(tracer.trace(fn, *args))
    return [s.group for s in lower(graph)
            if isinstance(s, FusedStep) and isinstance(s.group, RowGroup)]


# ---- what fuses ------------------------------------------------------------------------

def test_softmax_with_its_scale_and_mask_is_one_kernel():
    mask = eager.tensor(np.triu(np.full((4, 4), -np.inf, np.float32), 1))
    groups = _groups(lambda s: F.softmax(s * 0.5 + mask, dim=-1), eager.ones(2, 4, 4))
    assert groups == [["mul", "add", "max", "sub", "exp", "sum", "div"]]


def test_layer_norm_forward_is_one_kernel_and_its_backward_another():
    w, b = eager.ones(8, requires_grad=True), eager.zeros(8, requires_grad=True)

    def step(x):
        x.requires_grad_()
        F.layer_norm(x, (8,), w, b).tanh().sum().backward()
        return x.grad

    rows = _row_groups(step, eager.ones(4, 8))
    sums = [sum(1 for st in g.steps if st.op == "sum") for g in rows]
    assert len(rows) == 2 and sums == [2, 2]   # mean and variance; their two gradients


def test_cross_entropy_fuses_log_softmax_per_row():
    rows = _row_groups(lambda z: F.cross_entropy(z, eager.tensor([0, 2, 1])), eager.ones(3, 5))
    assert any({"max", "exp", "log", "sum"} <= {st.op for st in g.steps} for g in rows)


def test_a_large_reduction_alone_still_goes_to_numpy():
    assert _groups(lambda x: x.sum(axis=-1, keepdims=True), eager.ones(300, 300)) == []


def test_row_groups_stay_off_other_devices():
    g = tracer.trace(lambda x: F.softmax(x, dim=-1), eager.ones(2, 3))
    assert all(isinstance(s.group, RowGroup) for s in lower(optimize(g)[0])
               if isinstance(s, FusedStep))  # cpu: fused
    # the rule itself: a cuda node never starts or joins a row group
    from jit.passes.fusion import _row_target

    node = next(n for n in g.nodes if n.op.name == "max")
    node.out.device = "cuda"
    try:
        assert _row_target(node, set(), [], [], [], [], {}) is None
    finally:
        node.out.device = "cpu"


def test_gelu_backward_recomputes_instead_of_loading_saved_values():
    fc = eager.nn.Linear(8, 16)

    def step(x):
        h = fc(x)
        y = 0.5 * h * (1.0 + (0.7978845608 * (h + 0.044715 * h * h * h)).tanh())
        loss = (y @ eager.ones(16, 2)).sum()
        loss.backward()
        return loss, fc.weight.grad

    graph, _ = optimize(tracer.trace(step, eager.ones(4, 8)))
    tanh_kernels = [s for s in lower(graph) if isinstance(s, FusedStep)
                    and any(st.op == "tanh" for st in getattr(s.group, "steps", ()))]
    # the forward writes only what the next op reads; the backward reads the input again
    assert all(len(s.writes) == 1 for s in tanh_kernels)
    assert len(tanh_kernels) == 2


# ---- the compiled kernel against its reference -----------------------------------------

def _softmax_group(rows: int, width: int, dtype) -> RowGroup:
    red = (("axis", (1,)), ("keepdims", True))
    return RowGroup(
        inputs=(TensorSpec((rows, width), dtype),),
        steps=(Step("max", (("in", 0),), dtype, red),
               Step("sub", (("in", 0), ("step", 0)), dtype),
               Step("exp", (("step", 1),), dtype),
               Step("sum", (("step", 2),), dtype, red),
               Step("div", (("step", 2), ("step", 3)), dtype)),
        step_shapes=((rows, 1), (rows, width), (rows, width), (rows, 1), (rows, width)),
        outputs=(0, 3, 4), shape=(rows, width))


def _run(group: RowGroup, arrays: list[np.ndarray]) -> list[np.ndarray]:
    (kernel,) = compile_groups([group])
    outs = [np.empty(group.step_shapes[j], group.steps[j].dtype) for j in group.outputs]
    kernel.run(arrays, outs)
    return outs


@pytest.mark.parametrize("width", [1 + 1, 3, 8, 13, 64])
def test_compiled_row_kernel_matches_its_reference_for_any_row_width(width):
    x = np.random.default_rng(width).normal(size=(5, width))
    group = _softmax_group(5, width, float64)
    for got, want in zip(_run(group, [x]), evaluate(group, [x], np)):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    # the max is order-free: bit for bit
    assert np.array_equal(_run(group, [x])[0], x.max(axis=1, keepdims=True))


def test_compiled_row_max_propagates_nan_like_numpy():
    x = np.arange(30, dtype=np.float32).reshape(3, 10)
    x[1, 7] = np.nan
    m = _run(_softmax_group(3, 10, float32), [x])[0]
    assert np.isnan(m[1, 0]) and m[0, 0] == 9 and m[2, 0] == 29


def test_row_kernel_reads_a_transposed_input_with_strides():
    x = eager.tensor(np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32))
    f = jit(lambda a: F.softmax(a.T * 2.0, dim=-1))
    np.testing.assert_allclose(f(x).numpy(), F.softmax(x.T * 2.0, dim=-1).numpy(), rtol=1e-6)


def test_row_kernel_split_across_threads_gives_the_same_result():
    x = eager.tensor(np.random.default_rng(1).normal(size=(512, 600)).astype(np.float32))
    f = jit(lambda a: F.log_softmax(a * 1.5, dim=-1))
    f(x)  # the tracing call runs eagerly; the next ones replay the kernel
    before = eager.get_num_threads()
    try:
        eager.set_num_threads(1)
        one = f(x).numpy()
        eager.set_num_threads(2)
        two = f(x).numpy()
    finally:
        eager.set_num_threads(before)
    assert np.array_equal(one, two)
    np.testing.assert_allclose(one, F.log_softmax(x * 1.5, dim=-1).numpy(), atol=2e-6)


# ---- generated programs: fused == unfused == eager -------------------------------------

ROW_OPS = ["softmax", "log_softmax", "layer_norm", "center", "rms", "gelu", "scale", "exp"]


def _apply(kind: str, x, w):
    if kind == "softmax":
        return F.softmax(x, dim=-1)
    if kind == "log_softmax":
        return F.log_softmax(x, dim=-1)
    if kind == "layer_norm":
        return F.layer_norm(x, (x.shape[-1],), w, None)
    if kind == "center":
        return x - x.sum(axis=-1, keepdims=True) / x.shape[-1]
    if kind == "rms":
        return x / ((x * x).sum(axis=-1, keepdims=True) + 1.0).sqrt()
    if kind == "gelu":
        return 0.5 * x * (1.0 + (math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)).tanh())
    if kind == "scale":
        return x * w + 0.25
    return (x * 0.5).exp()


@st.composite
def row_programs(draw):
    rows = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    width = draw(st.integers(2, 11))
    ops = draw(st.lists(st.sampled_from(ROW_OPS), min_size=1, max_size=5))
    return rows + (width,), ops, draw(st.integers(0, 2**16))


def _program(ops, w):
    def run(x):
        x.requires_grad_()
        y = x
        for kind in ops:
            y = _apply(kind, y, w)
        loss = (y * y * w).sum()
        loss.backward()
        return loss, x.grad, w.grad

    return run


@settings(max_examples=40, deadline=None)
@given(row_programs(), st.sampled_from([np.float64, np.float32]))
def test_generated_row_programs_fused_match_unfused_and_eager(prog, dtype):
    shape, ops, seed = prog
    rng = np.random.default_rng(seed)
    data = rng.uniform(-2, 2, shape).astype(dtype)
    w = eager.tensor(rng.uniform(0.5, 1.5, shape[-1]).astype(dtype), requires_grad=True)
    results = []
    for run in (None, ("fuse",), ()):
        w.grad = None
        fn = _program(ops, w)
        if run is not None:
            fn = jit(fn, disable=run)
            fn(eager.tensor(data))      # trace (runs eagerly); the next call replays
            w.grad = None
        out = fn(eager.tensor(data))
        results.append([t.detach().numpy() for t in out])
    tol = {"rtol": 1e-9, "atol": 1e-9} if dtype == np.float64 else {"rtol": 2e-4, "atol": 2e-4}
    eager_out, unfused, fused = results
    for a, b, c in zip(eager_out, unfused, fused):
        scale = max(1.0, float(np.max(np.abs(a))))
        np.testing.assert_allclose(c, b, rtol=tol["rtol"], atol=tol["atol"] * scale)
        np.testing.assert_allclose(c, a, rtol=tol["rtol"], atol=tol["atol"] * scale)


def test_executable_of_a_softmax_backward_is_fewer_kernels_than_unfused():
    def step(x):
        x.requires_grad_()
        (F.softmax(x, dim=-1) * eager.arange(6.0)).sum().backward()
        return x.grad

    graph = tracer.trace(step, eager.ones(3, 6))
    fused = Executable(optimize(graph)[0])
    unfused = Executable(optimize(graph, disable=("fuse",))[0])
    assert fused.kernel_launches < unfused.kernel_launches / 2


def test_attention_is_blas_then_one_softmax_kernel_then_blas_forward_and_backward():
    q, k, v = (eager.randn(2, 3, 5, 4) for _ in range(3))

    def step(q, k, v):
        for t in (q, k, v):
            t.requires_grad_()
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        (y * y).sum().backward()
        return y, q.grad, k.grad, v.grad

    graph, _ = optimize(tracer.trace(step, q, k, v))
    steps = [s for s in lower(graph)
             if isinstance(s, FusedStep) or s.node.op.name == "matmul"]
    kinds = ["matmul" if not isinstance(s, FusedStep) else
             "softmax" if isinstance(s.group, RowGroup) else "ew" for s in steps]
    # forward: scores, then scale+mask+softmax in one kernel, then the weighted sum
    assert kinds[:3] == ["matmul", "softmax", "matmul"]
    # backward: the softmax gradient (with the mask and the scale) is one kernel too
    assert kinds.count("softmax") == 2
    soft_bwd = [s for s in steps if isinstance(s, FusedStep)
                and isinstance(s.group, RowGroup)][1]
    assert {"sum", "where", "mul"} <= {st.op for st in soft_bwd.group.steps}
    f = jit(step)

    def fresh():  # new leaves per call: their grads accumulate
        return [t.detach().clone() for t in (q, k, v)]

    f(*fresh())
    got = f(*fresh())
    want = step(*fresh())
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
