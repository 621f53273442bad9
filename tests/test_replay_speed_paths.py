"""The replay's fast paths for training steps give eager's results: kernels with many
pointers still vectorize, views of pooled buffers are made once, and index_add chains
into zeros store instead of adding (jit.executable, jit.passes.memory, c_render)."""
import re
import shutil
import subprocess

import numpy as np
import pytest

import eager
import tracer
from jit import jit
from jit.lowering import FusedStep, OpStep, lower
from jit.passes import optimize
from kernels import TensorSpec, float32
from kernels.codegen import ElementwiseGroup, Step, compiler
from kernels.codegen.c_render import render
from kernels.codegen.fastmath import preamble


def _adam_like_group() -> ElementwiseGroup:
    """m, v and the step of an Adam update: 3 arrays and 2 scalars in, 3 arrays out."""
    n = 4096
    ins = (TensorSpec((n,), float32),) * 3 + (TensorSpec((), float32),) * 2
    steps = (Step("mul", (("in", 1), ("lit", 0.9)), float32),
             Step("mul", (("in", 0), ("lit", 0.1)), float32),
             Step("add", (("step", 0), ("step", 1)), float32),
             Step("mul", (("in", 0), ("in", 0)), float32),
             Step("mul", (("in", 2), ("lit", 0.999)), float32),
             Step("add", (("step", 3), ("step", 4)), float32),
             Step("sqrt", (("step", 5),), float32),
             Step("div", (("step", 6), ("in", 3)), float32),
             Step("mul", (("in", 4), ("step", 2)), float32),
             Step("div", (("step", 8), ("step", 7)), float32))
    return ElementwiseGroup(ins, steps, (2, 5, 9), (n,))


def _vectorized_lines(source: str, tmp_path) -> set[int]:
    path = tmp_path / "k.c"
    path.write_text(source)
    command = compiler.compiler_command()
    done = subprocess.run([*command, *compiler.FLAGS, "-fopt-info-vec-optimized", "-c",
                           str(path), "-o", str(tmp_path / "k.o")],
                          capture_output=True, text=True, check=True)
    if "optimized" not in done.stderr and "vectorized" not in done.stderr:
        pytest.skip("the compiler does not report vectorized loops")
    return {int(m) for m in re.findall(r"k\.c:(\d+):\d+: optimized: loop vectorized",
                                       done.stderr)}


def _is_gcc() -> bool:
    command = compiler.compiler_command()
    if not command or shutil.which(command[0]) is None:
        return False
    version = subprocess.run([*command, "--version"], capture_output=True, text=True,
                             check=False).stdout
    return "Free Software Foundation" in version


@pytest.mark.skipif(not _is_gcc(), reason="needs gcc (reads its vectorizer report)")
def test_elementwise_kernel_with_many_pointers_vectorizes(tmp_path):
    # Eight pointers: without the ivdep mark gcc gives up on its alias checks and the
    # Adam update ran 3.5x slower, scalar.
    source = preamble() + render(_adam_like_group(), "k")
    loop = next(i for i, line in enumerate(source.splitlines(), 1) if "for (" in line)
    assert loop in _vectorized_lines(source, tmp_path)


def test_elementwise_kernel_updating_its_input_in_place_is_exact():
    # The ivdep mark promises no element is read after another iteration wrote it: an
    # output written over its own input at the same element keeps that promise.
    from kernels.codegen import compile_groups

    group = _adam_like_group()
    (kernel,) = compile_groups([group])
    rng = np.random.default_rng(0)
    g, m, v = (rng.random(4096, dtype=np.float32) for _ in range(3))
    lr, bias = np.float32(0.01), np.float32(0.9)
    want_m = m * np.float32(0.9) + g * np.float32(0.1)
    want_v = g * g + v * np.float32(0.999)
    want_step = lr * want_m / (np.sqrt(want_v) / bias)
    step = np.empty_like(g)
    kernel.run([g, m, v, lr, bias], [m, v, step])
    np.testing.assert_allclose(m, want_m, rtol=1e-6)
    np.testing.assert_allclose(v, want_v, rtol=1e-6)
    np.testing.assert_allclose(step, want_step, rtol=1e-5)


def _replay_of(fn, *args):
    jitted = jit(fn)
    jitted(*args)
    return jitted, jitted._variant_for(args, {}).executable


def test_views_of_pooled_buffers_are_made_once():
    def f(x):
        y = (x * 2.0).exp()                 # a pooled buffer
        flat = y.reshape(-1)                # views of it: made once
        moved = y.T.reshape(-1)
        return (flat * 3.0 + moved).sum(), (moved + 1.0)

    x = eager.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) / 10)
    jitted, exe = _replay_of(f, x)
    views = [s.node for s in exe.steps if isinstance(s, OpStep) and s.node.op.is_view]
    assert views and all(f"env[{n.out.id}] =" not in exe.source for n in views)
    for scale in (0.5, 1.5, -2.0):
        x = eager.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) * scale)
        for a, b in zip(jitted(x), f(x)):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    assert jitted.cache_info().hits == 3


def test_a_reshape_that_copies_a_pooled_view_runs_every_call():
    # Unfused, a matmul writes a pooled buffer; its transpose is a view made once, but
    # reshaping that transpose copies, and the copy must be taken from this call's data.
    def f(a, b):
        return (a @ b).T.reshape(-1) * 2.0

    rng = np.random.default_rng(0)
    a, b = (eager.tensor(rng.standard_normal((3, 3)).astype(np.float32)) for _ in range(2))
    jitted = jit(f, disable=("fuse",))
    jitted(a, b)
    exe = jitted._variant_for((a, b), {}).executable
    reshape = next(s.node for s in exe.steps
                   if isinstance(s, OpStep) and s.node.op.name == "reshape")
    assert f"env[{reshape.out.id}] =" in exe.source
    for _ in range(3):
        a, b = (eager.tensor(rng.standard_normal((3, 3)).astype(np.float32)) for _ in range(2))
        np.testing.assert_allclose(jitted(a, b).numpy(), f(a, b).numpy(), rtol=1e-6)


def _unpack_grad(rows_used):
    def f(x):
        parts = x.reshape(4, 3)
        picked = [parts[i] for i in rows_used]
        total = picked[0] * 2.0
        for k, p in enumerate(picked[1:]):
            total = total + p * float(k + 3)
        (total * total).sum().backward()
        grad = x.grad
        x.grad = None
        return grad
    return f


@pytest.mark.parametrize("rows_used, role", [((1, 0, 3, 2), "empty"), ((2, 0), "zeros"),
                                             ((1, 1, 0), None)])
def test_index_add_chains_into_zeros_store_their_sources(rows_used, role):
    fn = _unpack_grad(rows_used)
    x = eager.tensor(np.linspace(-1, 1, 12, dtype=np.float32), requires_grad=True)
    jitted, exe = _replay_of(fn, x)
    roles = set(exe.index_sets.values())
    if role is None:   # a repeated row adds up twice: no stores
        assert "empty" not in roles and "zeros" not in roles
    else:
        assert role in roles and "set" in roles
    for seed in range(3):
        data = np.random.default_rng(seed).standard_normal(12).astype(np.float32)
        a = eager.tensor(data, requires_grad=True)
        b = eager.tensor(data, requires_grad=True)
        np.testing.assert_allclose(jitted(a).numpy(), fn(b).numpy(), rtol=1e-6)
    assert jitted.cache_info().hits == 3


def test_lowered_transformer_block_has_no_materialised_view_calls():
    # Every view in the jitted step of a small attention block either feeds a matmul of
    # a parameter (read afresh each call) or is preset: none is a replay statement of a
    # pooled value.
    import eager.nn.functional as F

    eager.manual_seed(0)
    w = eager.randn(8, 24, requires_grad=True)

    def step(x):
        q, k, v = (x @ w).reshape(2, 4, 3, 2, 4).permute(2, 0, 3, 1, 4)
        y = F.softmax(q @ k.mT, dim=-1) @ v
        loss = y.permute(0, 2, 1, 3).reshape(2, 4, 8).sum()
        loss.backward()
        grad = w.grad
        w.grad = None
        return grad

    x = eager.randn(2, 4, 8)
    jitted, exe = _replay_of(step, x)
    graph = exe.graph
    static = exe._static
    for s in exe.steps:
        if isinstance(s, OpStep) and s.node.op.is_view:
            source = s.node.inputs[0]
            assert source.id not in static or s.node.out.id in static
    np.testing.assert_allclose(jitted(x).numpy(), step(x).numpy(), rtol=1e-4, atol=1e-5)
    assert len(graph.nodes) and any(isinstance(s, FusedStep) for s in lower(graph))


def test_optimized_graph_of_unpacking_is_unchanged_by_the_replay_paths():
    # The fast paths live in the replay: the optimized graph still says index_add.
    fn = _unpack_grad((1, 0, 3, 2))
    x = eager.tensor(np.ones(12, np.float32), requires_grad=True)
    g, _ = optimize(tracer.trace(fn, x))
    assert sum(1 for n in g.nodes if n.op.name == "index_add") == 4


def test_optimizer_updates_after_zero_grad_are_written_in_place():
    # zero_grad(set_to_none) leaves `grad_defined(p) == False` guards on the parameters:
    # checked on entry, they do not keep the update from going straight into p.
    from eager import nn, optim

    def build():
        eager.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
        return model, optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.01)

    def make_step(model, opt):
        def step(x):
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss.detach()
        return step

    model, opt = build()
    reference, ref_opt = build()
    jitted = jit(make_step(model, opt))
    eager_step = make_step(reference, ref_opt)
    data = [p._data for p in model.parameters()]
    x = eager.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
    for _ in range(4):
        np.testing.assert_allclose(jitted(x).item(), eager_step(x).item(), rtol=1e-5)
    exe = jitted._variant_for((x,), {}).executable
    params = {id(p) for p in model.parameters()}
    targets = {v.id for v in exe.graph.inputs if v.kind == "ref" and id(v.ref) in params}
    assert targets <= set(exe.in_place.values())
    for p, q, array in zip(model.parameters(), reference.parameters(), data):
        assert p._data is array
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_concat_sources_are_computed_into_its_buffer():
    # A flat optimizer's concat of every gradient: the matmul and the kernel write their
    # results into the concat's buffer; the argument is copied in.
    def f(a, b):
        flat = eager.concat([(a @ b).reshape(-1), (a * 2.0).exp().reshape(-1), b.reshape(-1)])
        return (flat * flat).sum(), flat[3:9] + 1.0

    rng = np.random.default_rng(1)
    a, b = (eager.tensor(rng.standard_normal((3, 3)).astype(np.float32)) for _ in range(2))
    jitted, exe = _replay_of(f, a, b)
    assert [len(offsets) for offsets in exe.concat_in_place.values()] == [2]
    concat = next(s.node for s in exe.steps
                  if isinstance(s, OpStep) and s.node.op.name == "concat")
    assert f"env[{concat.out.id}] =" not in exe.source
    for _ in range(3):
        a, b = (eager.tensor(rng.standard_normal((3, 3)).astype(np.float32)) for _ in range(2))
        for got, want in zip(jitted(a, b), f(a, b)):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)


def test_a_concat_the_caller_sees_gets_fresh_memory_every_call():
    def f(a, b):
        return eager.concat([(a @ b).reshape(-1), (a * 2.0).reshape(-1)])

    a, b = eager.ones(2, 2), eager.ones(2, 2)
    jitted, exe = _replay_of(f, a, b)
    assert not exe.concat_in_place
    first = jitted(a, b)
    kept = first.numpy().copy()
    jitted(a * 3.0, b)
    np.testing.assert_array_equal(first.numpy(), kept)


def _halve_until_small(x):
    while x.abs().max() > 1.0:
        x = x * 0.5
    return x


def test_graphs_with_scripted_control_flow_still_compile():
    import jit as jit_package

    halve = jit_package.script(_halve_until_small)
    w = eager.tensor([2.0, -3.0])

    @jit
    def model(x):
        return halve((x * w).tanh() * 4.0) + 1.0

    for values in ([1.0, 1.0], [0.1, 0.1], [0.3, -2.0]):
        x = eager.tensor(values)
        want = _halve_until_small((x * w).tanh() * 4.0) + 1.0
        np.testing.assert_allclose(model(x).numpy(), want.numpy(), rtol=1e-6)
    info = model.cache_info()
    assert (info.variants, info.hits, info.eager_calls) == (1, 2, 0)


def test_concat_in_place_casts_copied_sources_as_concat_does():
    def f(a, n):
        flat = eager.concat([(a * 2.0).reshape(-1), n])   # int64 n joins as float32
        return (flat * 1.5).sum()

    a = eager.tensor(np.arange(4, dtype=np.float32))
    n = eager.tensor(np.array([3, -7], dtype=np.int64))
    jitted, exe = _replay_of(f, a, n)
    assert exe.concat_in_place
    for k in range(3):
        m = eager.tensor(np.array([k, 2 * k + 1], dtype=np.int64))
        assert jitted(a, m).item() == f(a, m).item()
