"""Generated C kernels agree with the ops' numpy kernels; layout, cache and fallback."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernels import TensorSpec, bool_, float32, float64, int32
from kernels.codegen import (
    ElementwiseGroup,
    ReduceGroup,
    Step,
    compile_groups,
    compiler,
    evaluate,
    layout,
)
from kernels.codegen.cpu import CpuKernel, NumpyKernel
from kernels.opdef import OPS
from kernels.threads import kernel_threads


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def run(group, arrays):
    (kernel,) = compile_groups([group])
    if isinstance(group, ReduceGroup):
        outs = [np.empty(group.shape, group.dtype)]
    else:
        outs = [np.empty(group.shape, group.steps[j].dtype) for j in group.outputs]
    kernel.run(arrays, outs)
    return kernel, outs


FLOAT_UNARY = ["neg", "exp", "tanh", "sigmoid", "sin", "cos", "abs", "floor", "ceil"]
FLOAT_BINARY = ["add", "sub", "mul", "maximum", "minimum"]


@st.composite
def float_programs(draw):
    dtype = draw(st.sampled_from([float32, float64]))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=0, max_size=3)))
    n_in = draw(st.integers(1, 3))
    in_shapes = []
    for _ in range(n_in):
        keep = draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)))
        drop = draw(st.integers(0, len(shape)))
        s = tuple(d if k else 1 for d, k in zip(shape, keep))[drop:]
        in_shapes.append(s)
    in_shapes[0] = shape
    steps = []
    for _ in range(draw(st.integers(1, 8))):
        refs = [("in", k) for k in range(n_in)] + [
            ("step", i) for i, s in enumerate(steps) if s.dtype == dtype]
        pick = st.sampled_from(refs)
        kind = draw(st.sampled_from(["unary", "binary", "lit", "div", "where"]))
        if kind == "unary":
            steps.append(Step(draw(st.sampled_from(FLOAT_UNARY)), (draw(pick),), dtype))
        elif kind == "binary":
            steps.append(Step(draw(st.sampled_from(FLOAT_BINARY)), (draw(pick), draw(pick)),
                              dtype))
        elif kind == "lit":
            value = draw(st.sampled_from([0.5, -2.0, 3, 1e-3]))
            steps.append(Step(draw(st.sampled_from(FLOAT_BINARY)), (draw(pick), ("lit", value)),
                              dtype))
        elif kind == "div":
            steps.append(Step("abs", (draw(pick),), dtype))
            steps.append(Step("add", (("step", len(steps) - 1), ("lit", 1.0)), dtype))
            steps.append(Step("div", (draw(pick), ("step", len(steps) - 1)), dtype))
        else:
            steps.append(Step("gt", (draw(pick), draw(pick)), bool_))
            steps.append(Step("where", (("step", len(steps) - 1), draw(pick), draw(pick)),
                              dtype))
    outputs = tuple(sorted({len(steps) - 1, draw(st.integers(0, len(steps) - 1))}))
    group = ElementwiseGroup(tuple(TensorSpec(s, dtype) for s in in_shapes), tuple(steps),
                             outputs, shape)
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-3, 3, s).astype(dtype) for s in in_shapes]
    return group, arrays


@given(float_programs())
def test_compiled_float_programs_match_numpy(program):
    group, arrays = program
    kernel, outs = run(group, arrays)
    assert isinstance(kernel, CpuKernel)
    tol = 2e-5 if group.inputs[0].dtype == float32 else 1e-12
    for got, want in zip(outs, evaluate(group, arrays, np)):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@given(float_programs(), st.sampled_from(["sum", "max", "min", "prod"]), st.booleans(),
       st.data())
def test_reductions_with_fused_prologue_match_numpy(program, op, keepdims, data):
    group, arrays = program
    last = len(group.steps) - 1
    axes = data.draw(st.sets(st.integers(0, max(len(group.shape) - 1, 0))))
    axis = tuple(sorted(a for a in axes if a < len(group.shape)))
    prologue = ElementwiseGroup(group.inputs, group.steps, (last,), group.shape)
    dtype = group.steps[last].dtype
    reduce = ReduceGroup(prologue, op, axis, keepdims, dtype)
    if op == "prod":
        arrays = [np.clip(a, -1.5, 1.5) for a in arrays]
    kernel, (got,) = run(reduce, arrays)
    assert isinstance(kernel, CpuKernel)
    (want,) = evaluate(reduce, arrays, np)
    assert got.shape == want.shape == reduce.shape
    tol = 1e-4 if dtype == float32 else 1e-10
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@given(st.lists(st.integers(-50, 50), min_size=1, max_size=12), st.integers(-5, 5))
def test_integer_and_bool_programs_are_exact(values, k):
    x = np.array(values, np.int32)
    y = x[::-1].copy()
    steps = (
        Step("mul", (("in", 0), ("in", 1)), int32),
        Step("sub", (("step", 0), ("lit", k)), int32),
        Step("maximum", (("step", 1), ("in", 0)), int32),
        Step("lt", (("step", 2), ("in", 1)), bool_),
        Step("logical_not", (("step", 3),), bool_),
        Step("add", (("step", 3), ("step", 4)), bool_),   # bool + bool is logical or
        Step("where", (("step", 3), ("step", 2), ("lit", 7)), int32),
        Step("cast", (("step", 6),), float64, (("dtype", float64),)),
        Step("cast", (("step", 7),), bool_, (("dtype", bool_),)),
    )
    group = ElementwiseGroup((TensorSpec(x.shape, int32),) * 2, steps, (5, 6, 7, 8), x.shape)
    _, outs = run(group, [x, y])
    for got, want in zip(outs, evaluate(group, [x, y], np)):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_casts_to_bool_and_sign_of_nan_follow_numpy():
    x = np.array([0.5, 0.0, -0.0, np.nan, -2.0, np.inf], np.float32)
    g = ElementwiseGroup((TensorSpec((6,), float32),),
                         (Step("cast", (("in", 0),), bool_, (("dtype", bool_),)),
                          Step("sign", (("in", 0),), float32)), (0, 1), (6,))
    _, (as_bool, sign) = run(g, [x])
    np.testing.assert_array_equal(as_bool, x.astype(bool))
    np.testing.assert_array_equal(sign, np.sign(x))


def test_integer_results_never_go_through_double_math():
    from kernels.codegen.c_render import can_render

    assert not can_render("pow", [int32, int32, int32])
    assert not can_render("abs", [np.dtype("int64"), np.dtype("int64")])
    assert can_render("pow", [float32, float32, float32])
    assert can_render("abs", [int32, int32]) is False and can_render("neg", [int32, int32])


def test_nan_and_inf_follow_numpy():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0], np.float32)
    y = np.array([1.0, np.nan, 2.0, -0.0, 0.0, np.nan], np.float32)
    for op in ("maximum", "minimum", "add", "mul"):
        g = ElementwiseGroup((TensorSpec((6,), float32),) * 2,
                             (Step(op, (("in", 0), ("in", 1)), float32),), (0,), (6,))
        _, (out,) = run(g, [x, y])
        np.testing.assert_array_equal(out, OPS[op].kernel(np)(x, y), err_msg=op)


def test_layout_collapses_contiguous_dims_and_keeps_broadcast_dims():
    flat = layout([(2, 3, 4), (2, 3, 4)], (2, 3, 4))
    assert flat.dims == (24,) and flat.strides == ((1,), (1,), (1,))
    row = layout([(2, 3, 4), (4,)], (2, 3, 4))
    assert row.dims == (6, 4) and row.strides == ((4, 1), (0, 1), (4, 1))
    col = layout([(5, 1), ()], (5, 7))
    assert col.dims == (5, 7) and col.strides == ((1, 0), (0, 0), (7, 1))
    scalar = layout([()], ())
    assert scalar.dims == (1,)


def test_big_groups_split_across_threads_give_the_same_result():
    n = 1 << 19
    x = np.linspace(-4, 4, n, dtype=np.float32)
    g = ElementwiseGroup((TensorSpec((n,), float32),),
                         (Step("tanh", (("in", 0),), float32),), (0,), (n,))
    kernel, (out,) = run(g, [x])
    if kernel_threads() > 1:   # os.cpu_count() unless affinity or OMP_NUM_THREADS say less
        assert kernel.chunks is not None
    np.testing.assert_allclose(out, np.tanh(x), rtol=1e-6, atol=1e-7)


def test_non_contiguous_inputs_are_read_correctly():
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    x = base[:, ::2]
    g = ElementwiseGroup((TensorSpec(x.shape, float32),),
                         (Step("neg", (("in", 0),), float32),), (0,), x.shape)
    _, (out,) = run(g, [x])
    np.testing.assert_array_equal(out, -x)


def _neg_group(n=5):
    return ElementwiseGroup((TensorSpec((n,), float32),),
                            (Step("neg", (("in", 0),), float32),), (0,), (n,))


def test_compiled_library_is_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    builds = compiler.stats["builds"]
    compile_groups([_neg_group(7)])
    assert compiler.stats["builds"] == builds + 1
    files = sorted(os.listdir(tmp_path / "eager-jit"))   # one library and its manifest
    assert len(files) == 2 and files[0].endswith(".so") and files[1].endswith(".json")
    compile_groups([_neg_group(7)])
    assert compiler.stats["builds"] == builds + 1


def test_fresh_process_loads_the_library_from_disk(tmp_path):
    script = (
        "from kernels.codegen import compile_groups, compiler\n"
        "from tests.test_codegen import _neg_group\n"
        "compile_groups([_neg_group(9)])\n"
        "print(compiler.stats['builds'], compiler.stats['disk_hits'])\n")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    first = subprocess.run([sys.executable, "-c", script], env=env, cwd=root,
                           capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", script], env=env, cwd=root,
                            capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["1", "0"]
    assert second.stdout.split() == ["0", "1"]


def test_missing_compiler_falls_back_to_numpy_with_one_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.setattr(compiler, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (k1,) = compile_groups([_neg_group(3)])
        (k2,) = compile_groups([_neg_group(4)])
    assert isinstance(k1, NumpyKernel) and isinstance(k2, NumpyKernel)
    messages = [str(w.message) for w in caught if "C compiler" in str(w.message)]
    assert len(messages) == 1 and "no-such-cc" in messages[0]
    out = np.empty(3, np.float32)
    k1.run([np.array([1, -2, 3], np.float32)], [out])
    assert out.tolist() == [-1.0, 2.0, -3.0]


def test_compile_error_shows_the_generated_source(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(compiler.CompileError, match="--- source ---"):
        compiler.load_library("this is not C", "void f(void);")


def test_unwritable_cache_directory_falls_back_to_numpy(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setattr(compiler, "_warned", False)
    with pytest.warns(RuntimeWarning, match="writable"):
        (kernel,) = compile_groups([_neg_group(11)])
    assert isinstance(kernel, NumpyKernel)


@pytest.mark.parametrize("op", ["sum", "max", "min", "prod"])
@pytest.mark.parametrize("shape,axis,by_columns", [
    ((64, 128), (0,), True), ((3, 5, 7), (0, 1), True), ((9, 2), (0,), True),
    ((6, 1, 4), (0,), False),  # two kept dims: the usual loop order
])
def test_column_reductions_loop_kept_dims_innermost_and_match_numpy(op, shape, axis,
                                                                    by_columns):
    rng = np.random.default_rng(len(shape))
    x = rng.uniform(0.5, 1.5, shape).astype(np.float32)
    x.flat[7] = np.nan if op in ("max", "min") else x.flat[7]   # NaN wins, as in numpy
    b = rng.uniform(-1, 1, shape[-1:]).astype(np.float32)
    prologue = ElementwiseGroup((TensorSpec(shape, float32), TensorSpec(shape[-1:], float32)),
                                (Step("mul", (("in", 0), ("in", 1)), float32),), (0,), shape)
    group = ReduceGroup(prologue, op, axis, False, float32)
    assert ("acc[o0 - start]" in compiler_source(group)) == by_columns
    _, (got,) = run(group, [x, b])
    want = getattr(np, op)(x * b, axis=axis)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    split = CpuKernel(group, compile_groups([group])[0].fn)
    split.chunks = [(0, 1), (1, split.extent)]       # two threads' ranges
    out = np.empty(group.shape, np.float32)
    split.run([x, b], [out])
    np.testing.assert_allclose(out, want, rtol=1e-5)


def compiler_source(group):
    from kernels.codegen.c_render import render

    return render(group, "k")
