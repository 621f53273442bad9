"""Complex values in fused C kernels: @jit replays of complex elementwise programs equal
eager mode (values, special values, gradients), and the complex nodes really run as
compiled C, not through numpy."""
from __future__ import annotations

import math
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eager
from jit import jit
from kernels import OPS, TensorSpec
from kernels.codegen import complex_c, cuda
from kernels.codegen.c_render import can_render, render_group
from kernels.codegen.group import ElementwiseGroup, Step
from kernels.opdef import GroupOp

C64, C128 = np.dtype("complex64"), np.dtype("complex128")
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 100.0, math.inf, -math.inf, math.nan]

UNARY = {
    "negative": eager.negative, "exp": eager.exp, "log": eager.log, "sin": eager.sin,
    "cos": eager.cos, "tanh": eager.tanh, "sqrt": eager.sqrt, "abs": eager.abs,
    "real": eager.real, "imag": eager.imag, "conj": eager.conj, "angle": eager.angle,
    "expm1": eager.expm1, "log1p": eager.log1p, "log2": eager.log2, "log10": eager.log10,
    "sinh": eager.sinh, "cosh": eager.cosh, "tan": eager.tan, "acos": eager.acos,
    "asin": eager.asin, "atan": eager.atan, "acosh": eager.acosh, "asinh": eager.asinh,
    "atanh": eager.atanh, "square": eager.square, "reciprocal": eager.reciprocal,
    "bool": lambda z: z.astype(eager.bool), "sign": eager.sign,
}
BINARY = {
    "add": eager.add, "subtract": eager.subtract, "multiply": eager.multiply,
    "divide": eager.divide, "pow": eager.pow, "equal": eager.equal,
    "not_equal": eager.not_equal,
    "where": lambda a, b: eager.where(eager.real(a) > eager.imag(b), a, b),
}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def grid(dtype) -> np.ndarray:
    """Every pair of SPECIAL values as (real, imag)."""
    return np.array([complex(a, b) for a in SPECIAL for b in SPECIAL], dtype=dtype)


def assert_same(got: np.ndarray, want: np.ndarray, rtol: float, scale=None) -> None:
    """Equal dtypes; per part: both NaN, or equal with the same sign of zero and of
    infinity, or finite, not both zero, and within rtol of the larger part of `want`
    (rounding in a cancellation leaves a tiny part where the other rounds to zero)."""
    assert got.dtype == want.dtype
    if want.dtype.kind == "c":
        with np.errstate(invalid="ignore"):
            scale = np.maximum(np.abs(want.real), np.abs(want.imag))
        assert_same(got.real, want.real, rtol, scale)
        assert_same(got.imag, want.imag, rtol, scale)
        return
    if want.dtype.kind == "b":
        np.testing.assert_array_equal(got, want)
        return
    scale = np.abs(want) if scale is None else np.maximum(scale, np.abs(want))
    nan = np.isnan(got) & np.isnan(want)
    exact = (got == want) & (np.signbit(got) == np.signbit(want))
    with np.errstate(invalid="ignore"):
        near = (np.isfinite(got) & np.isfinite(want) & ((got != 0) | (want != 0))
                & (np.abs(got - want) <= rtol * scale))
    bad = ~(nan | exact | near)
    assert not bad.any(), f"{np.flatnonzero(bad)[:5]}: {got[bad][:5]} != {want[bad][:5]}"


def compiled_plan(fn, *args):
    """The jitted variant's graph and executable, after checking every elementwise node
    was fused into a kernel compiled to C."""
    graph = fn.graph_for(*args)
    left = [n for n in graph.nodes if n.op.name != "kernel" and n.op.kind in GroupOp.ELEMENTWISE]
    assert not left, left
    exe = fn._variant_for(args, {}).executable
    assert exe.cpu_kernels and all(k.compiled for k in exe.cpu_kernels)
    return graph, exe


def complex_steps(exe) -> list[str]:
    """Names of the compiled steps that compute with complex operands or results."""
    names = []
    for kernel in exe.cpu_kernels:
        group = kernel.group.prologue if hasattr(kernel.group, "prologue") else kernel.group
        dtypes = {k: s.dtype for k, s in enumerate(group.inputs)}
        for step in group.steps:
            refs = [dtypes[r[1]] if r[0] == "in" else group.steps[r[1]].dtype
                    for r in step.args if r[0] in ("in", "step")]
            if step.dtype.kind == "c" or any(d.kind == "c" for d in refs):
                names.append(step.op)
    return names


@pytest.mark.parametrize("dtype", [C64, C128])
def test_unary_special_value_grid_replays_as_eager(dtype):
    def all_unary(z):
        return tuple(f(z) for f in UNARY.values())

    z = eager.tensor(grid(dtype))
    jitted = jit(all_unary)
    want = all_unary(z)
    for _ in range(2):
        got = jitted(z)
    _, exe = compiled_plan(jitted, z)
    assert {"exp", "complex_math", "abs", "angle", "cast"} <= set(complex_steps(exe))
    rtol = 1e-5 if dtype == C64 else 1e-12
    for name, g, w in zip(UNARY, got, want):
        try:
            assert_same(g.numpy(), w.numpy(), rtol)
        except AssertionError as exc:
            raise AssertionError(f"{name} ({dtype.name}): {exc}") from None


@pytest.mark.parametrize("dtype", [C64, C128])
def test_binary_special_value_grid_replays_as_eager(dtype):
    def all_binary(a, b):
        return tuple(f(a, b) for f in BINARY.values())

    values = grid(dtype)
    a = eager.tensor(np.repeat(values, len(values)))
    b = eager.tensor(np.tile(values, len(values)))
    jitted = jit(all_binary)
    want = all_binary(a, b)
    for _ in range(2):
        got = jitted(a, b)
    _, exe = compiled_plan(jitted, a, b)
    assert {"mul", "div", "pow", "eq", "ne", "where"} <= set(complex_steps(exe))
    rtol = 1e-5 if dtype == C64 else 1e-12
    for name, g, w in zip(BINARY, got, want):
        try:
            assert_same(g.numpy(), w.numpy(), rtol)
        except AssertionError as exc:
            raise AssertionError(f"{name} ({dtype.name}): {exc}") from None


EXPONENTS = [0, 1, 2, 3, -1, -2, 7, 0.5, 2.5j, 1 - 1j, 150]   # numpy's special paths


def test_complex_power_by_scalars_replays_as_eager():
    def powers(z):
        return tuple(z ** e for e in EXPONENTS)

    z = eager.tensor(grid(C128))
    jitted = jit(powers)
    want = powers(z)
    for _ in range(2):
        got = jitted(z)
    compiled_plan(jitted, z)
    for e, g, w in zip(EXPONENTS, got, want):
        try:
            assert_same(g.numpy(), w.numpy(), 1e-12)
        except AssertionError as exc:
            raise AssertionError(f"z ** {e}: {exc}") from None


def test_mixed_real_and_complex_values_fuse_into_one_kernel():
    # n * 0.5 at shape (3, 1) is its own small kernel (the fuser's choice); the rest is one
    def f(z, x, n):
        w = z * x + n * 0.5 - 1j          # float32 and int64 tensors meet complex64
        return eager.abs(w) * x, eager.real(w) + eager.imag(w), w.astype(eager.complex128)

    rng = np.random.default_rng(0)
    z = eager.tensor((rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))).astype(C64))
    x = eager.tensor(rng.normal(size=(4,)).astype(np.float32))
    n = eager.tensor(np.arange(3, dtype=np.int64).reshape(3, 1))
    jitted = jit(f)
    want = f(z, x, n)
    for _ in range(2):
        got = jitted(z, x, n)
    _, exe = compiled_plan(jitted, z, x, n)
    kinds = [{step.dtype.kind for step in k.group.steps} for k in exe.cpu_kernels]
    assert any({"c", "f"} <= k for k in kinds), kinds
    assert [g.dtype for g in got] == [np.float32, np.float32, C128]
    for g, w in zip(got, want):
        assert_same(g.numpy(), w.numpy(), 1e-5)


UNARY_OPS = ["tanh", "sin", "cos", "conj", "neg", "sqrt", "exp_tanh", "abs_c", "square",
             "expm1", "log1p_abs", "reciprocal_shift", "angle_c"]
BINARY_OPS = ["add", "sub", "mul", "div", "where", "with_real", "scalar"]


def _unary(name: str, z):
    if name == "neg":
        return -z
    if name == "exp_tanh":
        return eager.exp(eager.tanh(z))
    if name == "abs_c":
        return eager.abs(z) + 0j        # back to complex: a real step inside the chain
    if name == "angle_c":
        return eager.angle(z) * 1j
    if name == "log1p_abs":
        return eager.log1p(z * eager.conj(z))
    if name == "reciprocal_shift":
        return eager.reciprocal(z * z + 2.0)
    if name == "square":
        return eager.square(eager.tanh(z))
    if name == "expm1":
        return eager.expm1(eager.tanh(z))
    return getattr(eager, name)(z)


def _binary(name: str, a, b, x):
    if name == "div":
        return a / (b * eager.conj(b) + 1.0)
    if name == "where":
        return eager.where(eager.abs(a) > eager.abs(b), a, b * 0.5)
    if name == "with_real":
        return a * x - eager.real(b)
    if name == "scalar":
        return a * (0.5 - 0.25j) + 1.5
    return getattr(eager, {"sub": "subtract", "mul": "multiply"}.get(name, name))(a, b)


@st.composite
def complex_programs(draw):
    """(dtype, shapes of two complex inputs and one real, instructions)."""
    dtype = draw(st.sampled_from([C64, C128]))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    def broadcastable():
        return tuple(d if draw(st.booleans()) else 1 for d in shape)[
            draw(st.integers(0, len(shape))):]
    shapes = (shape, broadcastable(), broadcastable())
    program = []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            program.append(("unary", draw(st.integers(0, 20)), draw(st.sampled_from(UNARY_OPS))))
        else:
            program.append(("binary", draw(st.integers(0, 20)), draw(st.integers(0, 20)),
                            draw(st.sampled_from(BINARY_OPS))))
    return dtype, shapes, program


def run_complex_program(program, a, b, x):
    values = [a, b]
    for instr in program:
        pick = [values[i % len(values)] for i in instr[1:-1]]
        if instr[0] == "unary":
            values.append(_unary(instr[-1], pick[0]))
        else:
            values.append(_binary(instr[-1], pick[0], pick[1], x))
    last = values[-1]
    return last, eager.abs(last), last.sum(axis=-1) if last.ndim else last * 1.0


def _inputs(dtype, shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (eager.tensor((rng.uniform(-1.5, 1.5, s) + 1j * rng.uniform(-1.5, 1.5, s))
                         .astype(dtype)) for s in shapes[:2])
    real = np.float32 if dtype == C64 else np.float64
    return a, b, eager.tensor(rng.uniform(-2, 2, shapes[2]).astype(real))


@settings(max_examples=25, deadline=None)
@given(complex_programs())
def test_generated_complex_programs_replay_as_eager(prog):
    dtype, shapes, program = prog
    jitted = jit(lambda a, b, x: run_complex_program(program, a, b, x))
    for seed in range(3):                # trace, then two replays
        args = _inputs(dtype, shapes, seed)
        got = jitted(*args)
        want = run_complex_program(program, *args)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            tol = 2e-4 if dtype == C64 else 1e-10
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=tol, atol=tol)
    compiled_plan(jitted, *args)
    assert jitted.cache_info().misses == 1


@pytest.mark.parametrize("dtype", [C64, C128])
def test_gradients_through_a_jitted_complex_program_equal_eager(dtype):
    def step(z, w, x):
        y = eager.tanh(z * w) + eager.conj(z) * x - eager.exp(w / (z * z + 2.0))
        loss = (eager.abs(y) ** 2).sum() + eager.real(y * 1j).sum()
        loss.backward()
        return loss.detach()

    rng = np.random.default_rng(1)
    real = np.float32 if dtype == C64 else np.float64
    def make():
        return [eager.tensor((rng.normal(size=s) + 1j * rng.normal(size=s)).astype(dtype),
                             requires_grad=True) for s in ((2, 3), (3,))] + \
            [eager.tensor(rng.normal(size=(2, 1)).astype(real), requires_grad=True)]
    jitted = jit(step)
    tol = 1e-4 if dtype == C64 else 1e-10
    for _ in range(3):
        args = make()
        copies = [eager.tensor(a.detach().numpy(), requires_grad=True) for a in args]
        got = jitted(*args)
        want = step(*copies)
        np.testing.assert_allclose(got.item(), want.item(), rtol=tol)
        for a, c in zip(args, copies):
            np.testing.assert_allclose(a.grad.numpy(), c.grad.numpy(), rtol=tol, atol=tol)
    _, exe = compiled_plan(jitted, *args)
    assert {"mul", "div", "tanh", "exp", "conj"} <= set(complex_steps(exe))


@pytest.mark.parametrize("dtype", [C64, C128])
def test_complex_sums_and_products_compile_and_replay_as_eager(dtype):
    def f(z):
        return ((z * z).sum(axis=1), (z * 0.5).prod(axis=1), z.sum(axis=0),
                (z.sum(axis=-1, keepdims=True) * z).sum(axis=-1), (eager.abs(z) * 2.0).sum())

    z = eager.tensor(grid(dtype).reshape(11, 11))
    jitted = jit(f)
    want = f(z)
    for _ in range(2):
        got = jitted(z)
    _, exe = compiled_plan(jitted, z)
    assert not [n for n in jitted.graph_for(z).nodes if n.op.name != "kernel"]
    assert {"ReduceGroup", "RowGroup"} <= {type(k.group).__name__ for k in exe.cpu_kernels}
    for g, w in zip(got, want):
        assert_same(g.numpy(), w.numpy(), 1e-5 if dtype == C64 else 1e-12)


@pytest.mark.parametrize("case, want", [
    (complex(math.inf, 2.0), complex(1.0, 0.0)),
    (complex(math.inf, -2.0), complex(1.0, -0.0)),
    (complex(-math.inf, 2.0), complex(-1.0, 0.0)),
])
def test_eager_complex_tanh_at_infinity_has_the_standards_signed_zero(case, want):
    got = eager.tanh(eager.tensor([case], dtype=eager.complex128)).numpy()[0]
    assert got == want and math.copysign(1, got.imag) == math.copysign(1, want.imag)


@pytest.mark.parametrize("case, want", [
    (complex(-0.0, 0.0), complex(0.0, 0.0)),
    (complex(math.inf, 0.0), complex(math.inf, 0.0)),
    (complex(-math.inf, math.inf), complex(-1.0, 0.0)),
    (complex(-math.inf, math.nan), complex(-1.0, 0.0)),
    (complex(math.inf, math.inf), complex(math.inf, math.nan)),
    (complex(math.inf, math.nan), complex(math.inf, math.nan)),
    (complex(math.nan, 0.0), complex(math.nan, 0.0)),
])
def test_eager_complex_expm1_special_values_follow_the_standard(case, want):
    got = eager.expm1(eager.tensor([case], dtype=eager.complex128)).numpy()[0]
    for g, w in ((got.real, want.real), (got.imag, want.imag)):
        assert (math.isnan(g) and math.isnan(w)) or \
            (g == w and math.copysign(1, g) == math.copysign(1, w))


def test_codegen_refuses_what_has_no_complex_expression():
    assert not can_render("cast", [C64, np.dtype("float32")])      # drops the imaginary part
    assert not can_render("maximum", [C64, C64, C64])
    assert can_render("complex_math", [C128, C128])


def _exp_group(dtype) -> ElementwiseGroup:
    return ElementwiseGroup((TensorSpec((4,), dtype), TensorSpec((4,), np.dtype("float32"))),
                            (Step("mul", (("in", 0), ("in", 1)), dtype),
                             Step("exp", (("step", 0),), dtype),
                             Step("abs", (("step", 1),), np.dtype(f"float{dtype.itemsize * 4}"))),
                            (1, 2), (4,))


def test_c_kernel_reads_complex_buffers_through_the_struct_types():
    source = render_group(_exp_group(C128), "k")
    assert "const ej_c128 *in0 = (const ej_c128 *)in0_;" in source
    assert "ej_mul_c128(x0, ej_c128_from_real(x1))" in source
    assert "hypot(t1.re, t1.im)" in source


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
@pytest.mark.parametrize("dtype", [C64, C128])
def test_cuda_kernel_for_a_complex_group_renders_as_valid_cuda_cpp(tmp_path, dtype):
    # No GPU here: the CUDA source is checked by g++ against stand-ins for cupy's
    # complex<T>, thrust's functions and CUDA's qualifiers.
    group = _exp_group(dtype)
    body = cuda.kernel_body(group)
    assert "ej_exp_" in body and ".real()" in body
    params = ", ".join([f"{t} in{k}" for k, t in enumerate(
        [f"complex<{'float' if dtype == C64 else 'double'}>", "float"])] +
        [f"complex<{'float' if dtype == C64 else 'double'}> &out0", "float &out1"])
    source = "\n".join([
        "#include <math.h>", "#include <complex>", "#define __device__", "#define __forceinline__",
        "template <class T> using complex = std::complex<T>;",
        "namespace thrust { using std::exp; using std::log; using std::sqrt; using std::sin;",
        "using std::cos; using std::tan; using std::sinh; using std::cosh; using std::tanh;",
        "using std::asin; using std::acos; using std::atan; using std::asinh; using std::acosh;",
        "using std::atanh; using std::pow; }",
        cuda.preamble(group), f"void kernel({params}) {{", body, "}"])
    path = tmp_path / "kernel.cpp"
    path.write_text(source)
    done = subprocess.run(["g++", "-std=c++17", "-fsyntax-only", str(path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_every_complex_capable_elementwise_op_has_a_complex_expression():
    for op in OPS.values():
        if op.kind in GroupOp.ELEMENTWISE and "c" in (op.input_kinds or ""):
            assert op.complex_c_expr is not None, op.name
    assert "ej_expm1_c64" in complex_c.preamble()


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [C64, C128])
def test_complex_cuda_kernel_on_a_gpu_matches_cupy(dtype):
    import cupy

    from kernels.codegen.cuda import compile_group
    from kernels.codegen.group import evaluate

    real = np.dtype(f"float{dtype.itemsize * 4}")
    steps = (Step("mul", (("in", 0), ("in", 1)), dtype),
             Step("exp", (("step", 0),), dtype),
             Step("div", (("step", 1), ("in", 0)), dtype),
             Step("complex_math", (("step", 2),), dtype, (("fn", "expm1"),)),
             Step("tanh", (("step", 3),), dtype),
             Step("abs", (("step", 4),), real))
    # finite values: cupy's own complex kernels (thrust) are the reference there, and
    # their special values are not numpy's
    rng = np.random.default_rng(0)
    z = (rng.uniform(-2, 2, 256) + 1j * rng.uniform(-2, 2, 256)).astype(dtype)
    group = ElementwiseGroup((TensorSpec(z.shape, dtype), TensorSpec(z.shape, dtype)), steps,
                             (4, 5), z.shape)
    args = [cupy.asarray(z), cupy.asarray(z[::-1].copy())]
    outs = [cupy.empty(z.shape, dtype), cupy.empty(z.shape, real)]
    compile_group(group).run(args, outs)
    for got, want in zip(outs, evaluate(group, args, cupy)):
        assert_same(got.get(), want.get(), 1e-5 if dtype == C64 else 1e-12)
