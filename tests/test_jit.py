"""@jit: equal to eager on generated programs (values, gradients, side effects) with every
pass on and each pass off; caching, retracing, guards, training, introspection."""
import logging
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import eager
import jit as jit_package
import tracer
from eager import nn
from eager.nn import functional as F
from jit import jit
from jit.executable import ReplayError
from jit.passes import ALL_PASSES
from tests.jit_programs import (
    make_inputs,
    make_typed_inputs,
    programs,
    run_program,
    run_typed_program,
    typed_programs,
)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def close(a, b, tol=1e-9):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def _program_fn(program, acc):
    def fn(*xs):
        y = run_program(program, xs)
        total = (y * y).sum()
        total.backward()
        with eager.no_grad():
            acc.add_(total)          # a side effect on a bound tensor
        return y.detach(), total.detach()
    return fn


@settings(max_examples=15)
@given(programs(), st.sampled_from((None,) + ALL_PASSES))
@example(([(1,)], [("unary", (0,), "exp"), ("unary", (0,), "exp"), ("transpose", (1, 0))]),
         "simplify")  # a pooled buffer read later through a chain of views
def test_generated_programs_match_eager_values_gradients_and_side_effects(prog, off):
    shapes, program = prog
    acc_jit, acc_eager = (eager.zeros((), dtype=eager.float64) for _ in range(2))
    jitted = jit(_program_fn(program, acc_jit), disable=() if off is None else (off,))
    reference = _program_fn(program, acc_eager)
    for seed in range(3):        # trace, then two replays
        xs_jit = make_inputs(shapes, seed, requires_grad=True)
        xs_eager = make_inputs(shapes, seed, requires_grad=True)
        y_jit, t_jit = jitted(*xs_jit)
        y_eager, t_eager = reference(*xs_eager)
        close(y_jit.numpy(), y_eager.numpy())
        close(t_jit.item(), t_eager.item())
        close(acc_jit.item(), acc_eager.item())
        for a, b in zip(xs_jit, xs_eager):
            assert (a.grad is None) == (b.grad is None)
            if b.grad is not None:
                close(a.grad.numpy(), b.grad.numpy())
    assert jitted.cache_info().misses == 1
    assert jitted.cache_info().hits == 2


def _sgd_program_step(program, params):
    def step(*xs):
        y = run_program(program, params + list(xs))
        loss = (y * y).mean() + sum((p * p).mean() for p in params)   # every p gets a grad
        loss.backward()
        with eager.no_grad():
            for p in params:
                if p.grad is not None:
                    p.sub_(0.1 * p.grad)
                    p.grad = None
        return loss.detach()
    return step


@settings(max_examples=10)
@given(programs(max_len=6))
def test_generated_training_steps_update_parameters_like_eager(prog):
    shapes, program = prog
    params_jit = make_inputs(shapes, 7, requires_grad=True)
    params_eager = make_inputs(shapes, 7, requires_grad=True)
    jitted = jit(_sgd_program_step(program, params_jit))
    reference = _sgd_program_step(program, params_eager)
    for seed in range(4):
        close(jitted(*make_inputs(shapes, seed)).item(),
              reference(*make_inputs(shapes, seed)).item())
        for a, b in zip(params_jit, params_eager):
            close(a.detach().numpy(), b.detach().numpy())
            assert a.grad is None and b.grad is None


@settings(max_examples=10)
@given(programs(max_len=10))
def test_generated_float32_programs_match_eager(prog):
    shapes, program = prog
    jitted = jit(lambda *xs: run_program(program, xs))
    for seed in range(3):
        xs = make_inputs(shapes, seed, dtype=np.float32)
        close(jitted(*xs).numpy(), run_program(program, xs).numpy(), 2e-5)
    assert jitted.cache_info().hits == 2


@settings(max_examples=20)
@given(typed_programs(max_len=10), st.sampled_from((None,) + ALL_PASSES))
def test_generated_int_bool_float16_programs_match_eager(prog, off):
    """Exact: integer and bool arithmetic does not round, and float16 graphs run the ops'
    own kernels (the fuser leaves float16 alone; fused code with wider intermediates would
    have to round each one as eager does to keep passing)."""
    dtype, shapes, program = prog
    jitted = jit(lambda *xs: run_typed_program(program, xs),
                 disable=() if off is None else (off,))
    for seed in range(3):
        xs = make_typed_inputs(dtype, shapes, seed)
        got, want = jitted(*xs).numpy(), run_typed_program(program, xs).numpy()
        assert got.dtype == want.dtype == dtype
        np.testing.assert_array_equal(got, want)
    info = jitted.cache_info()
    assert (info.hits, info.variants, info.eager_calls) == (2, 1, 0)


def test_first_call_is_eager_and_later_calls_replay():
    calls = []

    @jit
    def f(x, y):
        calls.append(1)
        return (x * y + 1.0).tanh()

    x, y = eager.tensor([0.5, -1.0]), eager.tensor([2.0, 3.0])
    first = f(x, y)
    second = f(eager.tensor([1.0, 1.0]), eager.tensor([0.0, 2.0]))
    assert len(calls) == 1
    close(first.numpy(), np.tanh(np.array([0.5, -1.0]) * [2.0, 3.0] + 1), 1e-6)
    close(second.numpy(), np.tanh(np.array([0.0, 2.0]) + 1), 1e-6)
    info = f.cache_info()
    assert (info.hits, info.misses, info.variants) == (1, 1, 1)


def test_retrace_on_shape_dtype_and_static_arg_change_only(caplog):
    f = jit(lambda x, n: x * n)
    caplog.set_level(logging.INFO, logger="jit")
    f(eager.ones(3), 2)
    f(eager.ones(3), 2)
    f(eager.zeros(3), 2)
    assert f.cache_info().misses == 1
    f(eager.ones(4), 2)
    f(eager.ones(4, dtype=eager.float64), 2)
    f(eager.ones(4, dtype=eager.float64), 5)
    f(eager.ones(4, dtype=eager.float64), 5.0)
    info = f.cache_info()
    assert info.misses == 5
    assert info.reasons == ("first call", "x.shape[0]: 3 -> 4", "x.dtype: float32 -> float64",
                            "n: 2 -> 5", "n: 5 -> 5.0")
    logged = [r.getMessage() for r in caplog.records if r.name == "jit"]
    assert logged == [f"jit(<lambda>): retracing because {r}" for r in info.reasons[1:]]
    assert f(eager.ones(4, dtype=eager.float64), 5).tolist() == [5.0] * 4


def test_grad_mode_and_requires_grad_are_part_of_the_key():
    f = jit(lambda x: x * 2)
    with eager.no_grad():
        f(eager.ones(2))
    f(eager.ones(2))
    assert f.cache_info().reasons[1] == "grad mode: disabled -> enabled"


def test_branch_on_tensor_value_gives_variants_both_correct():
    @jit
    def f(x):
        if x.sum() > 0:
            return x * 2
        return x - 100

    pos, neg = eager.tensor([1.0, 2.0]), eager.tensor([-5.0, 1.0])
    assert f(pos).tolist() == [2.0, 4.0]
    assert f(neg).tolist() == [-105.0, -99.0]
    assert f(pos).tolist() == [2.0, 4.0]
    assert f(neg).tolist() == [-105.0, -99.0]
    info = f.cache_info()
    assert info.variants == 2 and info.misses == 2 and info.hits == 2
    assert "guard failed" in info.reasons[1]


def _mlp_step(seed):
    eager.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))
    opt = eager.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()
    return model, step


def test_jitted_training_step_equals_eager_over_many_steps():
    model_e, step_e = _mlp_step(0)
    model_j, step_j = _mlp_step(0)
    step_j = jit(step_j)
    rng = np.random.default_rng(1)
    for i in range(25):
        x = eager.tensor(rng.standard_normal((16, 8)).astype(np.float32))
        y = eager.tensor(rng.integers(0, 3, 16))
        close(step_j(x, y).item(), step_e(x, y).item(), 1e-5)
    for pe, pj in zip(model_e.parameters(), model_j.parameters()):
        close(pj.detach().numpy(), pe.detach().numpy(), 1e-5)
    assert step_j.cache_info().misses == 1 and step_j.cache_info().hits == 24


def test_fusion_launches_one_kernel_for_an_elementwise_chain():
    f = jit(lambda w, x, b: (w * x + b).tanh() * 0.5 + 0.5)
    args = [eager.ones(64) for _ in range(3)]
    f(*args)
    exe = f._variant_for(tuple(args), {}).executable
    assert (exe.kernel_launches, exe.fused_kernels) == (1, 1)
    unfused = jit(lambda w, x, b: (w * x + b).tanh() * 0.5 + 0.5, disable=("fuse",))
    unfused(*args)
    assert unfused._variant_for(tuple(args), {}).executable.kernel_launches == 5


def test_reduction_splits_groups_and_matmul_is_its_own_kernel():
    f = jit(lambda a, b: ((a @ b).exp() / (a @ b).exp().sum(axis=0, keepdims=True)).tanh())
    a, b = eager.ones(4, 5), eager.ones(5, 6)
    f(a, b)
    exe = f._variant_for((a, b), {}).executable
    # matmul (CSE'd), exp, sum (a small reduction: a C kernel of its own), then div+tanh
    assert exe.kernel_launches == 4 and exe.fused_kernels == 3
    # over the last axis the reduction joins: matmul, then one kernel per row
    f = jit(lambda a, b: ((a @ b).exp() / (a @ b).exp().sum(axis=1, keepdims=True)).tanh())
    f(a, b)
    exe = f._variant_for((a, b), {}).executable
    assert exe.kernel_launches == 2 and exe.fused_kernels == 1


def test_memory_planning_reuses_buffers():
    def f(x):
        a = x.exp() @ x          # each elementwise result is read only by a matmul,
        b = a.tanh() @ x         # so one buffer serves all three, and another the two
        return b.sin() @ x       # internal matmul results (the last one is returned)

    jitted = jit(f)
    x = eager.tensor(np.linspace(-1, 1, 32 * 32, dtype=np.float32).reshape(32, 32))
    jitted(x)
    plan = jitted._variant_for((x,), {}).executable.buffers
    assert plan.bytes_before == 5 * 32 * 32 * 4
    assert plan.bytes_after == 2 * 32 * 32 * 4
    close(jitted(x).numpy(), f(x).numpy(), 1e-4)


def test_reduction_joins_the_group_that_feeds_it():
    f = jit(lambda x: ((x * 2.0).exp() - 1.0).sum(axis=1))
    x = eager.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
    f(x)
    exe = f._variant_for((x,), {}).executable
    assert (exe.kernel_launches, exe.fused_kernels) == (1, 1)
    close(f(x).numpy(), (np.exp(x.numpy() * 2) - 1).sum(axis=1), 1e-5)


def test_explain_and_graph_for_describe_the_compiled_variant():
    f = jit(lambda x: (x * 1.0 - 0.0).exp())
    x = eager.ones(3)
    text = f.explain(x)
    assert "simplify" in text and "fused group" in text and "kernels per call: 1" in text
    g = f.graph_for(x)   # the fused group is a Kernel node holding its members
    assert [n.op.name for n in tracer.walk(g)] == ["kernel", "exp"]


def test_disabled_context_runs_eagerly():
    f = jit(lambda x: x + 1)
    with jit_package.disabled():
        assert f(eager.ones(2)).tolist() == [2.0, 2.0]
    assert f.cache_info().misses == 0
    f(eager.ones(2))
    assert f.cache_info().misses == 1


def test_jit_0_in_the_environment_runs_eagerly():
    script = ("import eager\nfrom jit import jit\nf = jit(lambda x: x + 1)\n"
              "f(eager.ones(2)); f(eager.ones(2))\nprint(f.cache_info().misses)\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for value, misses in (("0", "0"), ("1", "1")):
        env = dict(os.environ, JIT=value)
        out = subprocess.run([sys.executable, "-c", script], env=env, cwd=root,
                             capture_output=True, text=True, check=True).stdout.split()
        assert out == [misses]


def test_decorator_carries_package_names():
    assert jit.jit is jit and jit.disabled is jit_package.disabled
    assert jit_package.jit is jit


def test_nested_jit_inlines_into_the_outer_trace():
    inner = jit(lambda x: x.exp())
    outer = jit(lambda x: inner(x) + 1.0)
    x = eager.zeros(3)
    outer(x)
    outer(x)
    assert inner.cache_info().misses == 0
    assert [n.op.name for n in tracer.walk(outer.graph_for(x))] == ["kernel", "exp", "add"]


def test_bound_methods_have_a_cache_per_instance():
    class Scaler:
        def __init__(self, k):
            self.k = k

        @jit
        def __call__(self, x):
            return x * self.k

    a, b = Scaler(2.0), Scaler(3.0)
    x = eager.ones(2)
    assert a(x).tolist() == [2.0, 2.0] and b(x).tolist() == [3.0, 3.0]
    assert a(x).tolist() == [2.0, 2.0] and b(x).tolist() == [3.0, 3.0]
    assert a.__call__.cache_info().misses == 1 and b.__call__.cache_info().misses == 1


def test_jit_of_a_module_reads_parameters_by_reference():
    eager.manual_seed(0)
    layer = nn.Linear(3, 2)
    fast = jit(layer)
    x = eager.ones(4, 3)
    with eager.no_grad():
        first = fast(x)
        layer.bias.add_(1.0)
        second = fast(x)
    close(second.numpy(), first.numpy() + 1.0, 1e-6)
    assert fast.cache_info().hits == 1
    assert len(list(fast.parameters())) == 2


def test_outputs_that_need_autograd_run_eagerly_with_a_warning():
    eager.manual_seed(0)
    layer = nn.Linear(3, 1)
    fast = jit(layer)
    with pytest.warns(RuntimeWarning, match="require grad"):
        out = fast(eager.ones(2, 3))
    out.sum().backward()
    assert layer.weight.grad is not None
    assert fast.cache_info().variants == 0


def test_check_mode_catches_a_frozen_python_value():
    state = [2.0] * 40     # a list longer than 32 entries is not guarded (a short one is)
    f = jit(lambda x: x * state[0], check=True)
    x = eager.ones(2)
    f(x)
    assert f(x).tolist() == [2.0, 2.0]
    state[0] = 3.0
    with pytest.raises(jit_package.JitCheckError, match="differs from eager"):
        f(x)


def test_check_mode_restores_state_so_side_effects_happen_once():
    w = eager.zeros(2)

    def f(x):
        w.add_(x)
        return w * 1.0

    jitted = jit(f, check=True)
    for _ in range(4):
        jitted(eager.ones(2))
    assert w.tolist() == [4.0, 4.0]


def test_too_many_variants_warns_once_and_stays_eager():
    f = jit(lambda x: x + 1, max_variants=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 7):
            assert f(eager.ones(n)).tolist() == [2.0] * n
    messages = [str(w.message) for w in caught if "variants" in str(w.message)]
    assert len(messages) == 1
    assert "x.shape[0]: 3 -> 4" in messages[0] and "static_argnames" in messages[0]
    assert f.cache_info().variants == 3 and f.cache_info().eager_calls == 3


def test_unhashable_static_argument_raises_naming_it():
    f = jit(lambda x, opts: x * opts[0])
    with pytest.raises(jit_package.UnhashableArgument, match="opts"):
        f(eager.ones(2), np.array([1.0]))


def test_static_argnames_are_checked():
    with pytest.raises(ValueError, match="not parameters"):
        jit(lambda x: x, static_argnames=("n",))
    f = jit(lambda x, n: x * n, static_argnames="n")
    with pytest.raises(TypeError, match="static argument 'n' is a tensor"):
        f(eager.ones(2), eager.ones(2))


def test_unknown_pass_name_is_rejected():
    with pytest.raises(ValueError, match="unknown pass"):
        jit(lambda x: x, disable=("fusion",))


def test_random_ops_draw_fresh_numbers_each_replay():
    gen = eager.Generator(seed=0)
    f = jit(lambda x: x + eager.rand(3, generator=gen))
    x = eager.zeros(3)
    draws = [f(x).tolist() for _ in range(3)]
    assert draws[0] != draws[1] != draws[2]
    ref = eager.Generator(seed=0)
    expected = [eager.rand(3, generator=ref).tolist() for _ in range(3)]
    close(draws, expected, 1e-7)


def test_compiled_kernels_load_from_disk_in_a_fresh_process(tmp_path):
    script = (
        "import eager\n"
        "from jit import jit\n"
        "from kernels.codegen import compiler\n"
        "f = jit(lambda x: (x * 3.0).tanh() + 1.0)\n"
        "print(f(eager.ones(5)).tolist()[0], compiler.stats['builds'],"
        " compiler.stats['disk_hits'])\n")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    runs = [subprocess.run([sys.executable, "-c", script], env=env, cwd=root,
                           capture_output=True, text=True, check=True).stdout.split()
            for _ in range(2)]
    assert runs[0][1:] == ["1", "0"] and runs[1][1:] == ["0", "1"]
    assert runs[0][0] == runs[1][0]


def test_missing_compiler_still_gives_correct_results(tmp_path, monkeypatch):
    from kernels.codegen import compiler

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "missing-cc"))
    monkeypatch.setattr(compiler, "_warned", False)
    f = jit(lambda x: (x * 2.0).tanh())
    x = eager.tensor([0.1, 0.2])
    with pytest.warns(RuntimeWarning, match="cannot build compiled kernels"):
        f(x)
    close(f(x).numpy(), np.tanh(x.numpy() * 2), 1e-6)
    exe = f._variant_for((x,), {}).executable
    assert exe.fused_kernels == 1 and not exe.cpu_kernels[0].compiled


def test_fused_kernels_read_expanded_inputs_with_broadcast_strides():
    def f(x, y):
        return (eager.broadcast_to(x, (6, 5)) * y).exp()

    jitted = jit(f)
    x, y = eager.tensor(np.arange(6.0).reshape(6, 1) / 6), eager.ones(6, 5)
    jitted(x, y)
    exe = jitted._variant_for((x, y), {}).executable
    group = exe.cpu_kernels[0].group
    assert sorted(spec.shape for spec in group.inputs) == [(6, 1), (6, 5)]
    close(jitted(x, y).numpy(), f(x, y).numpy(), 1e-6)


def test_transposed_inputs_to_fused_kernels_are_handled():
    f = jit(lambda a, b: (a.T + b).tanh())
    a, b = eager.tensor(np.arange(6.0).reshape(2, 3)), eager.ones(3, 2)
    f(a, b)
    close(f(a, b).numpy(), np.tanh(a.numpy().T + 1), 1e-12)
    close(f(a.T.T, b).numpy(), np.tanh(a.numpy().T + 1), 1e-12)


def test_a_compiler_bug_leaves_the_call_eager_with_a_warning(monkeypatch):
    from jit import variant as jit_variant

    def broken(*args, **kwargs):
        raise RuntimeError("codegen exploded")

    monkeypatch.setattr(jit_variant, "Executable", broken)
    f = jit(lambda x: x * 2)
    with pytest.warns(RuntimeWarning, match="codegen exploded"):
        assert f(eager.ones(2)).tolist() == [2.0, 2.0]
    assert f(eager.ones(2)).tolist() == [2.0, 2.0]
    assert f.cache_info().variants == 0 and f.cache_info().eager_calls == 1


def test_small_reductions_alone_are_compiled_large_ones_use_numpy():
    small = jit(lambda x: (x @ x).sum(axis=0))
    x = eager.tensor(np.linspace(-1, 1, 64, dtype=np.float32).reshape(8, 8))
    small(x)
    assert small._variant_for((x,), {}).executable.fused_kernels == 1
    close(small(x).numpy(), (x.numpy() @ x.numpy()).sum(axis=0), 1e-5)
    large = jit(lambda x: (x @ x).max(axis=1))
    y = eager.ones(300, 300)
    large(y)
    assert large._variant_for((y,), {}).executable.fused_kernels == 0


def test_a_replay_that_fails_where_eager_succeeds_warns_and_returns_eager():
    f = jit(lambda x: x + 1)
    x = eager.ones(2)
    f(x)
    variant = f._variant_for((x,), {})

    def broken(leaves):   # a replay reports a kernel's error as its outcome
        return ReplayError(RuntimeError("bad replay"))

    variant.run = broken
    with pytest.warns(RuntimeWarning, match="bad replay"):
        assert f(x).tolist() == [2.0, 2.0]
    assert f.cache_info().eager_calls == 1


def test_updates_are_written_straight_into_bound_tensors_when_safe():
    w = eager.ones(4)

    def sgd(g):
        with eager.no_grad():
            w.sub_(g * 0.5)
        return w.sum()

    f = jit(sgd)
    data = w._data
    for _ in range(3):
        f(eager.ones(4))
    assert w.tolist() == [-0.5] * 4 and w._data is data
    exe = f._variant_for((eager.ones(4),), {}).executable
    assert list(exe.in_place.values()) == [exe.graph.refs[0].id]


def test_no_in_place_update_when_the_old_value_is_read_afterwards():
    w = eager.ones(4)

    def f(g):
        with eager.no_grad():
            new = w - g               # the update is computed first ...
            total = w.sum()           # ... the old value is read after it ...
            w.copy_(new)              # ... and only then written back
        return total

    jitted = jit(f)
    totals = [jitted(eager.ones(4)).item() for _ in range(3)]
    assert totals == [4.0, 0.0, -4.0] and w.tolist() == [-2.0] * 4


def test_an_update_reading_its_target_transposed_is_not_done_in_place():
    w = eager.tensor(np.arange(9.0, dtype=np.float32).reshape(3, 3))
    w_eager = w.clone()

    def make(t):
        def f(g):
            with eager.no_grad():
                t.copy_(t.T + g)
            return t.sum()
        return f

    jitted, reference = jit(make(w)), make(w_eager)
    for _ in range(3):
        close(jitted(eager.ones(3, 3)).item(), reference(eager.ones(3, 3)).item())
        close(w.numpy(), w_eager.numpy())
    assert jitted._variant_for((eager.ones(3, 3),), {}).executable.in_place == {}


def test_transposed_inputs_are_read_with_strides_not_copied():
    f = jit(lambda a, b: (a * b).T.exp() + 1.0)   # ((a @ b).T is simplified away)
    a, b = eager.tensor(np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3)), eager.ones(2, 3)
    f(a, b)
    exe = f._variant_for((a, b), {}).executable
    assert exe.cpu_kernels[1].group.input_axes == ((1, 0),)
    close(f(a, b).numpy(), np.exp((a.numpy() * b.numpy()).T) + 1.0, 1e-6)


def test_no_in_place_update_before_a_guard_so_a_fallback_sees_untouched_state():
    def make(w):
        def f(g):
            with eager.no_grad():
                w.sub_(g)
            if w.sum() > 0:          # a guard on the updated value
                return w * 2
            return w * 3
        return f

    w, w_eager = eager.ones(4), eager.ones(4)
    jitted, reference = jit(make(w)), make(w_eager)
    for _ in range(6):               # the branch flips on the fourth call
        close(jitted(eager.full((4,), 0.25)).numpy(), reference(eager.full((4,), 0.25)).numpy())
        close(w.numpy(), w_eager.numpy())
    assert jitted.cache_info().variants == 2


def test_in_place_update_is_refused_when_a_later_step_reads_the_old_value():
    from jit.lowering import FusedStep, OpStep, group_of_nodes
    from jit.passes.memory import in_place_updates
    from tracer.graph import Graph, WriteBack
    from tracer.subgraph import Kernel

    w = eager.ones(4)
    g = Graph("update")
    t = g.add_input("ref", (4,), eager.float32, "cpu", ref=w)
    new = g.add_node("neg", (t,), {}, (4,), eager.float32, "cpu")
    total = g.add_node("sum", (t,), {"axis": (0,), "keepdims": False}, (), eager.float32, "cpu")
    g.outputs = total
    g.writebacks.append(WriteBack(t, new))
    g.verify()
    group, reads, writes = group_of_nodes([g.nodes[0]], {new.id})
    kernel = Kernel.of(g, [g.nodes[0]], [new])
    update, read = FusedStep(kernel, group, tuple(reads), tuple(writes)), OpStep(g.nodes[1])
    assert in_place_updates(g, [update, read], set()) == {}
    assert in_place_updates(g, [read, update], set()) == {new.id: t.id}
