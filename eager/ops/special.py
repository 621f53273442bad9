"""Elementwise functions beyond the Array API core that models use, each a composite of
primitives (so autograd, tracing and fusion see through them): inverse trigonometric and
hyperbolic functions, log1p/expm1, reciprocals, erfc, logaddexp, lerp, addcmul/addcdiv,
rounding, nan_to_num and closeness tests. (erf and atan2 are primitives: kernels/special.py.)

>>> import eager
>>> eager.sinh(eager.tensor([0.0, 1.0])).tolist()
[0.0, 1.175201177597046]
"""
from __future__ import annotations

import functools
import math

from eager.ops import elementwise as E
from eager.ops.complex_math import complex_unary, is_complex
from eager.ops.elementwise import _tensor_operand, binary, unary, where
from eager.ops.operands import promote
from eager.tensor import Tensor
from kernels.dtypes import FLOATING


def _complex_as(numpy_name: str):
    """Decorator: a complex input goes to numpy's own complex function instead of the
    real-valued composite (atan2, sign and friends have no complex meaning)."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(x):
            if is_complex(x):
                return complex_unary(numpy_name, x)
            return fn(x)
        return wrapper
    return decorate


def _float(x) -> Tensor:
    x = _tensor_operand(x)
    if x.dtype not in FLOATING:
        (x,) = promote("f", x)
    return x


def erfc(x) -> Tensor:
    """1 - erf(x).

    >>> import eager
    >>> eager.erfc(eager.tensor([0.0])).tolist()
    [1.0]
    """
    return 1 - unary("erf", x)


@_complex_as("expm1")
def expm1(x) -> Tensor:
    """exp(x) - 1, accurate for tiny x (Kahan's correction: (u - 1) * x / log(u)).

    >>> import eager
    >>> eager.expm1(eager.tensor([1e-10], dtype=eager.float64)).item()
    1.00000000005e-10
    """
    x = _float(x)
    u = unary("exp", x)
    um1 = u - 1
    # Where u rounds to 1, x itself is the answer; the second where keeps log(u) = 0 out
    # of the division (and its gradient), and large x (u = inf) keeps u - 1 = inf.
    # u = 0 (x = -inf or very negative) gives exactly -1.
    exact = binary("eq", um1, 0.0) | binary("eq", u, math.inf) | binary("eq", u, 0.0)
    safe_u = where(exact, 2.0, u)
    corrected = (safe_u - 1) * (x / unary("log", safe_u))  # no overflow near the top
    corrected = where(binary("eq", u, 0.0), -1.0, corrected)
    return where(binary("eq", um1, 0.0), x, where(binary("eq", u, math.inf), um1, corrected))


@_complex_as("log1p")
def log1p(x) -> Tensor:
    """log(1 + x), accurate for tiny x (Goldberg's correction: log(u) * x / (u - 1)).

    >>> import eager
    >>> eager.log1p(eager.tensor([1e-10], dtype=eager.float64)).item()
    9.999999999500001e-11
    """
    x = _float(x)
    u = x + 1
    um1 = u - 1
    exact = binary("eq", um1, 0.0) | binary("eq", u, math.inf)
    safe_u = where(exact, 2.0, u)
    corrected = unary("log", safe_u) * (x / (safe_u - 1))  # no overflow near the top
    return where(binary("eq", um1, 0.0), x, where(binary("eq", u, math.inf), u, corrected))


@_complex_as("sinh")
def sinh(x) -> Tensor:
    """Hyperbolic sine, (expm1(x) - expm1(-x)) / 2 (accurate near 0).

    >>> import eager
    >>> eager.sinh(eager.tensor([0.0])).tolist()
    [0.0]
    """
    x = _float(x)
    return (expm1(x) - expm1(-x)) * 0.5


@_complex_as("cosh")
def cosh(x) -> Tensor:
    """Hyperbolic cosine, (exp(x) + exp(-x)) / 2.

    >>> import eager
    >>> eager.cosh(eager.tensor([0.0])).tolist()
    [1.0]
    """
    x = _float(x)
    return (unary("exp", x) + unary("exp", -x)) * 0.5


@_complex_as("tan")
def tan(x) -> Tensor:
    """Tangent, sin(x) / cos(x).

    >>> import eager
    >>> eager.tan(eager.tensor([0.0])).tolist()
    [0.0]
    """
    x = _float(x)
    return unary("sin", x) / unary("cos", x)


_LARGE = 2.0 ** 26  # beyond it sqrt(x**2 +- 1) == |x| in float32 and float64 alike


@_complex_as("arcsinh")
def asinh(x) -> Tensor:
    """Inverse hyperbolic sine, sign(x) * log1p(|x| + x**2 / (1 + sqrt(1 + x**2))), and
    sign(x) * (log|x| + log 2) for |x| > 2**26, where x**2 would overflow; keeps -0.

    >>> import eager
    >>> f"{eager.asinh(eager.tensor(1.0)).item():.6f}", eager.asinh(eager.tensor(-0.0)).item()
    ('0.881374', -0.0)
    """
    x = _float(x)
    a = unary("abs", x)
    large = binary("gt", a, _LARGE)
    small = where(large, 1.0, a)
    magnitude = where(large, unary("log", a) + math.log(2.0),
                      log1p(small + small * small / (1 + unary("sqrt", 1 + small * small))))
    return where(binary("lt", x, 0.0), -magnitude, where(binary("eq", x, 0.0), x, magnitude))


@_complex_as("arccosh")
def acosh(x) -> Tensor:
    """Inverse hyperbolic cosine, log(x + sqrt(x**2 - 1)) for 1 <= x <= 2**26 and
    log(x) + log 2 above, where x**2 would overflow; NaN below 1.

    >>> import eager
    >>> eager.acosh(eager.tensor([1.0, 0.5])).tolist()
    [0.0, nan]
    """
    x = _float(x)
    large = binary("gt", x, _LARGE)
    inside = where(large | binary("lt", x, 1.0), 1.0, x)
    out = where(large, unary("log", x) + math.log(2.0),
                unary("log", inside + unary("sqrt", (inside - 1) * (inside + 1))))
    return where(binary("lt", x, 1.0), math.nan, out)


@_complex_as("arctanh")
def atanh(x) -> Tensor:
    """Inverse hyperbolic tangent, (log1p(x) - log1p(-x)) / 2.

    >>> import eager
    >>> eager.atanh(eager.tensor([0.0])).tolist()
    [0.0]
    """
    x = _float(x)
    return (log1p(x) - log1p(-x)) * 0.5


@_complex_as("arctan")
def atan(x) -> Tensor:
    """Inverse tangent, atan2(x, 1).

    >>> import eager
    >>> f"{eager.atan(eager.tensor(1.0)).item():.6f}"
    '0.785398'
    """
    return binary("atan2", _float(x), 1.0)


@_complex_as("arcsin")
def asin(x) -> Tensor:
    """Inverse sine, atan2(x, sqrt(1 - x**2)) (NaN outside [-1, 1]).

    >>> import eager
    >>> f"{eager.asin(eager.tensor(1.0)).item():.6f}"
    '1.570796'
    """
    x = _float(x)
    return binary("atan2", x, unary("sqrt", (1 - x) * (1 + x)))


@_complex_as("arccos")
def acos(x) -> Tensor:
    """Inverse cosine, atan2(sqrt(1 - x**2), x) (NaN outside [-1, 1]).

    >>> import eager
    >>> eager.acos(eager.tensor([1.0])).tolist()
    [0.0]
    """
    x = _float(x)
    return binary("atan2", unary("sqrt", (1 - x) * (1 + x)), x)


def reciprocal(x) -> Tensor:
    """1 / x (integer inputs give float32, as in PyTorch).

    >>> import eager
    >>> eager.reciprocal(eager.tensor([2, 4])).tolist()
    [0.5, 0.25]
    """
    return binary("div", 1.0, _float(x))


def rsqrt(x) -> Tensor:
    """1 / sqrt(x).

    >>> import eager
    >>> eager.rsqrt(eager.tensor([4.0])).tolist()
    [0.5]
    """
    return binary("div", 1.0, unary("sqrt", _float(x)))


@_complex_as("log2")
def log2(x) -> Tensor:
    """Base-2 logarithm.

    >>> import eager
    >>> eager.log2(eager.tensor([8.0])).tolist()
    [3.0]
    """
    return unary("log", _float(x)) * (1 / math.log(2))


@_complex_as("log10")
def log10(x) -> Tensor:
    """Base-10 logarithm.

    >>> import eager
    >>> f"{eager.log10(eager.tensor(1000.0)).item():.5f}"
    '3.00000'
    """
    return unary("log", _float(x)) * (1 / math.log(10))


def exp2(x) -> Tensor:
    """2 ** x.

    >>> import eager
    >>> eager.exp2(eager.tensor([3.0])).tolist()
    [8.0]
    """
    return unary("exp", _float(x) * math.log(2))


def logaddexp(a, b) -> Tensor:
    """log(exp(a) + exp(b)) without overflow: max + log1p(exp(-|a - b|)).

    >>> import eager
    >>> eager.logaddexp(eager.tensor([1000.0]), eager.tensor([1000.0])).tolist()
    [1000.6931762695312]
    """
    a, b = _float(a), _float(b)
    high = E.maximum(a, b)
    gap = unary("abs", a - b)
    # Equal infinities give a NaN gap; the sum is then that infinity.
    return where(binary("eq", a, b), a + math.log(2.0),
                 high + log1p(unary("exp", -where(E.isnan(gap), 0.0, gap))))


def lerp(start, end, weight) -> Tensor:
    """start + weight * (end - start) (PyTorch's lerp).

    >>> import eager
    >>> eager.lerp(eager.tensor([0.0, 10.0]), eager.tensor([10.0, 20.0]), 0.5).tolist()
    [5.0, 15.0]
    """
    return start + weight * (end - start)


def addcmul(x, tensor1, tensor2, *, value=1) -> Tensor:
    """x + value * tensor1 * tensor2.

    >>> import eager
    >>> eager.addcmul(eager.ones(2), eager.tensor([2.0, 3.0]), eager.tensor([4.0, 5.0]),
    ...               value=0.5).tolist()
    [5.0, 8.5]
    """
    product = tensor1 * tensor2
    return x + (product if value == 1 else product * value)


def addcdiv(x, tensor1, tensor2, *, value=1) -> Tensor:
    """x + value * tensor1 / tensor2.

    >>> import eager
    >>> eager.addcdiv(eager.zeros(2), eager.tensor([1.0, 3.0]), eager.tensor([2.0, 4.0]),
    ...               value=2).tolist()
    [1.0, 1.5]
    """
    quotient = binary("div", tensor1, tensor2)
    return x + (quotient if value == 1 else quotient * value)


def trunc(x) -> Tensor:
    """Round toward zero (integers are returned unchanged).

    >>> import eager
    >>> eager.trunc(eager.tensor([1.7, -1.7])).tolist()
    [1.0, -1.0]
    """
    x = _tensor_operand(x)
    if x.dtype.kind in "biu":
        return x
    return where(binary("lt", x, 0), E.ceil(x), E.floor(x))


def round(x, *, decimals: int = 0) -> Tensor:
    """Round half to even, as PyTorch and numpy do; `decimals` scales by 10**decimals.

    >>> import eager
    >>> eager.round(eager.tensor([0.5, 1.5, 2.5, -0.5, 2.567])).tolist()
    [0.0, 2.0, 2.0, -0.0, 3.0]
    """
    x = _tensor_operand(x)
    if x.dtype.kind in "biu":
        return x
    if is_complex(x):  # the Array API rounds both parts
        return (round(unary("real", x), decimals=decimals)
                + round(unary("imag", x), decimals=decimals) * 1j)
    if decimals:
        scale = 10.0 ** decimals
        return round(x * scale) / scale
    down = E.floor(x)
    nearest = E.floor(x + 0.5)
    tie = binary("eq", x - down, 0.5)
    odd = binary("ne", E.remainder(nearest, 2.0), 0.0)
    out = where(tie & odd, nearest - 1, nearest)
    # A zero result keeps x's sign (-0.4 -> -0.0), as numpy does.
    return where(binary("eq", out, 0.0), x * 0.0, out)


def frac(x) -> Tensor:
    """x - trunc(x), the fractional part with x's sign.

    >>> import eager
    >>> eager.frac(eager.tensor([1.25, -1.25])).tolist()
    [0.25, -0.25]
    """
    x = _tensor_operand(x)
    return x - trunc(x).detach() if x.dtype.kind == "f" else x * 0


def nan_to_num(x, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN, +inf and -inf replaced by finite numbers (default: 0 and the dtype's extremes).

    >>> import eager
    >>> eager.nan_to_num(eager.tensor([float("nan"), float("inf"), 1.0]), posinf=9.0).tolist()
    [0.0, 9.0, 1.0]
    """
    import numpy as np

    x = _tensor_operand(x)
    if x.dtype.kind != "f":
        return x
    info = np.finfo(x.dtype)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    x = where(E.isnan(x), nan, x)
    x = where(binary("eq", x, math.inf), posinf, x)
    return where(binary("eq", x, -math.inf), neginf, x)


def isclose(a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|a - b| <= atol + rtol * |b| elementwise (infinities equal only to themselves).

    >>> import eager
    >>> eager.isclose(eager.tensor([1.0, 2.0]), eager.tensor([1.0 + 1e-7, 2.1])).tolist()
    [True, False]
    """
    a, b = _tensor_operand(a), _tensor_operand(b)
    if a.dtype.kind != "f" and b.dtype.kind != "f":
        return binary("eq", a, b)
    diff = unary("abs", binary("sub", a, b))
    # diff is inf or NaN when either side is: such pairs are close only when equal.
    within = binary("le", diff, atol + rtol * unary("abs", b)) & E.isfinite(diff)
    close = within | binary("eq", a, b)
    if equal_nan:
        close = close | (E.isnan(a) & E.isnan(b))
    return close


def allclose(a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether every element of a is close to b (a host read: a Python bool).

    >>> import eager
    >>> eager.allclose(eager.tensor([1.0, 2.0]), eager.tensor([1.0, 2.0 + 1e-7]))
    True
    """
    from eager.ops.reductions import all as all_

    return bool(all_(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))

