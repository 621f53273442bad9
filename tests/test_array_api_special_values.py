"""Special values (NaN, infinities, signed zeros) of the elementwise functions and
operators: the Array API's tables, in eager and in the fused C that @jit replays.

Each jitted replay must give exactly what eager gives wherever the result is special
(NaN, an infinity or a zero, with its sign), on a grid of special and ordinary inputs;
ordinary results may differ in the last bits (numpy's float32 exp is not libm's expf)."""
import math

import numpy as np
import pytest

import eager
from jit import jit

INF, NAN = math.inf, math.nan
SPECIAL = [NAN, INF, -INF, 0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0, 1e-30, -1e-30,
           1e30, -1e30, 2.0 ** 27, -(2.0 ** 27)]

UNARY = ["abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "ceil", "cos", "cosh",
         "exp", "expm1", "floor", "log", "log1p", "log2", "log10", "negative", "positive",
         "round", "sign", "signbit", "sin", "sinh", "sqrt", "square", "tan", "tanh", "trunc",
         "isnan", "isinf", "isfinite"]
BINARY = ["add", "subtract", "multiply", "divide", "pow", "atan2", "maximum", "minimum",
          "copysign", "hypot", "logaddexp", "floor_divide", "equal", "less", "greater_equal"]


def _same_bits(got: np.ndarray, want: np.ndarray, what: str) -> None:
    """Exactly equal where `want` is special (NaN, inf, a signed zero), within a few
    units in the last place elsewhere."""
    assert got.dtype == want.dtype, what
    if got.dtype.kind != "f":
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{what}: NaNs")
    special = ~np.isfinite(want) | (want == 0)
    number = ~np.isnan(want)
    np.testing.assert_array_equal(got[special & number], want[special & number],
                                  err_msg=f"{what}: infinities and zeros")
    np.testing.assert_array_equal(np.signbit(got[number]), np.signbit(want[number]),
                                  err_msg=f"{what}: signs")
    ordinary = ~special
    np.testing.assert_allclose(got[ordinary], want[ordinary],
                               rtol=4 * float(np.finfo(want.dtype).eps), err_msg=what)


def _replay(fn, *args):
    compiled = jit(fn)
    compiled(*args)
    out = compiled(*args)
    assert compiled.cache_info().hits == 1
    return out, compiled.graph_for(*args)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_jit_replay_matches_eager_on_special_values(name, dtype):
    fn = getattr(eager, name)
    x = eager.tensor(SPECIAL, dtype=getattr(eager, dtype))
    expected = fn(x).numpy()
    got, graph = _replay(lambda t: fn(t), x)
    _same_bits(got.numpy(), expected, f"{name}({dtype}) replayed")
    if name != "positive":
        assert "kernel" in str(graph), f"{name} did not fuse into generated code"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", BINARY)
def test_binary_jit_replay_matches_eager_on_special_values(name, dtype):
    fn = getattr(eager, name)
    grid = np.array(SPECIAL[:12], dtype=dtype)
    a = eager.tensor(np.repeat(grid, len(grid)))
    b = eager.tensor(np.tile(grid, len(grid)))
    expected = fn(a, b).numpy()
    got, _ = _replay(lambda s, t: fn(s, t), a, b)
    _same_bits(got.numpy(), expected, f"{name}({dtype}) replayed")


# (function, inputs, expected), from the standard's special-cases sections.
TABLE = [
    ("expm1", [-INF], [-1.0]), ("expm1", [INF], [INF]), ("expm1", [-0.0], [-0.0]),
    ("asinh", [-0.0], [-0.0]), ("asinh", [INF], [INF]), ("asinh", [-INF], [-INF]),
    ("asinh", [NAN], [NAN]),
    ("acosh", [0.5], [NAN]), ("acosh", [-INF], [NAN]), ("acosh", [1.0], [0.0]),
    ("acosh", [INF], [INF]),
    ("sinh", [INF], [INF]), ("sinh", [-INF], [-INF]), ("sinh", [-0.0], [-0.0]),
    ("cosh", [-INF], [INF]), ("cosh", [-0.0], [1.0]),
    ("tanh", [INF], [1.0]), ("tanh", [-INF], [-1.0]), ("tanh", [-0.0], [-0.0]),
    ("atanh", [1.0], [INF]), ("atanh", [-1.0], [-INF]), ("atanh", [2.0], [NAN]),
    ("log1p", [-1.0], [-INF]), ("log1p", [-2.0], [NAN]), ("log1p", [-0.0], [-0.0]),
    ("log", [0.0], [-INF]), ("log", [-1.0], [NAN]), ("log2", [INF], [INF]),
    ("sqrt", [-0.0], [-0.0]), ("sqrt", [-1.0], [NAN]),
    ("sign", [-0.0], [0.0]), ("sign", [NAN], [NAN]),
    ("round", [-0.5], [-0.0]), ("trunc", [-0.5], [-0.0]), ("ceil", [-0.5], [-0.0]),
]
BINARY_TABLE = [
    ("floor_divide", INF, 2.0, INF), ("floor_divide", INF, -2.0, -INF),
    ("floor_divide", -INF, 2.0, -INF), ("floor_divide", -INF, -2.0, INF),
    ("floor_divide", 5.0, -INF, -0.0), ("floor_divide", -5.0, INF, -0.0),
    ("floor_divide", 5.0, INF, 0.0), ("floor_divide", INF, INF, NAN),
    ("divide", 1.0, -0.0, -INF), ("divide", 0.0, 0.0, NAN),
    ("pow", NAN, 0.0, 1.0), ("pow", 1.0, NAN, 1.0), ("pow", -0.0, -1.0, -INF),
    ("atan2", 0.0, -0.0, math.pi), ("atan2", -0.0, 0.0, -0.0),
    ("hypot", INF, NAN, INF), ("copysign", 2.0, -0.0, -2.0),
    ("maximum", NAN, 1.0, NAN), ("minimum", 1.0, NAN, NAN),
    ("logaddexp", INF, NAN, NAN), ("logaddexp", -INF, -INF, -INF),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, inputs, expected", TABLE)
def test_standard_unary_special_cases(name, inputs, expected, dtype):
    x = eager.tensor(inputs, dtype=getattr(eager, dtype))
    _same_bits(getattr(eager, name)(x).numpy(), np.array(expected, dtype=dtype),
               f"{name}({inputs})")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, a, b, expected", BINARY_TABLE)
def test_standard_binary_special_cases(name, a, b, expected, dtype):
    fn = getattr(eager, name)
    x1, x2 = (eager.tensor([v], dtype=getattr(eager, dtype)) for v in (a, b))
    want = np.array([expected], dtype=dtype)
    _same_bits(fn(x1, x2).numpy(), want, f"{name}({a}, {b})")
    got, _ = _replay(lambda s, t: fn(s, t), x1, x2)
    _same_bits(got.numpy(), want, f"{name}({a}, {b}) replayed")


def test_floor_divide_operator_and_in_place_follow_the_standard():
    x = eager.tensor([INF, -5.0])
    y = eager.tensor([2.0, INF])
    _same_bits((x // y).numpy(), np.array([INF, -0.0], dtype="float32"), "x // y")
    x //= y
    _same_bits(x.numpy(), np.array([INF, -0.0], dtype="float32"), "x //= y")
