"""Elementwise primitives: unary, binary, ternary, each with its scalar C expression.

Float-valued math (exp, log, tanh, div, ...) takes floating inputs only; `eager` casts
integer inputs to the default float dtype first, as PyTorch does, so the rule here stays
"output dtype = input dtype".

In c_expr, {0} {1} {2} are the operands and {f} the float suffix of the dtype ("f" for
float32, "" for float64), so `exp{f}({0})` is expf(x) or exp(x). Ops that take complex
operands also have a `complex_c_expr` over kernels/codegen/complex_c.py's helpers
(`ej_exp_{c}({0})` is ej_exp_c64(z) or ej_exp_c128(z)); complex tanh has the Array API's
special values (kernels/complex_special.py).
"""
from __future__ import annotations

import numpy as np

from kernels import blend, complex_special
from kernels.dtypes import FLOATING, bool_, result_dtype
from kernels.errors import DTypeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register
from kernels.shapes import broadcast_shapes


def _spec_dtype(spec):
    return spec.dtype if isinstance(spec, TensorSpec) else spec


def _spec_shape(spec):
    return spec.shape if isinstance(spec, TensorSpec) else ()


_KIND_WORDS = {"b": "bool", "i": "integer", "u": "integer", "f": "floating", "c": "complex"}


# What a user who applied arithmetic to masks most likely meant (PyTorch suggests the same).
_BOOL_HINTS = {"neg": "; to invert a mask use ~x or logical_not(x)",
               "sub": "; for the difference of two masks use a ^ b or logical_xor(a, b)"}


def check_kind(name: str, dtype, kinds: str | None) -> None:
    """DTypeError unless dtype's kind is one of `kinds` (None: any).

    >>> import numpy as np
    >>> from kernels.elementwise import check_kind
    >>> try:
    ...     check_kind("neg", np.dtype(bool), "iufc")
    ... except TypeError as exc:
    ...     print(str(exc).split(" (at")[0].split("; ")[-1])
    to invert a mask use ~x or logical_not(x)
    """
    if kinds is not None and ("f" if dtype in FLOATING else dtype.kind) not in kinds:
        wanted = " or ".join(dict.fromkeys(_KIND_WORDS[k] for k in kinds))
        hint = _BOOL_HINTS.get(name, "") if dtype.kind == "b" else ""
        raise DTypeError(f"{name}: dtype {dtype.name} is not supported; expected {wanted} "
                         f"tensors{hint}")


def _same_dtype_rule(name: str, kinds: str | None):
    def infer(x: TensorSpec, **_):
        check_kind(name, x.dtype, kinds)
        return TensorSpec(x.shape, x.dtype)
    return infer


def _abs_rule(x: TensorSpec, **_):
    """|z| of a complex tensor is real (float32 for complex64)."""
    check_kind("abs", x.dtype, "iufc")
    if x.dtype.kind == "c":
        return TensorSpec(x.shape, np.dtype(f"float{x.dtype.itemsize * 4}"))
    return TensorSpec(x.shape, x.dtype)


def _unary(name, fn_name, c_expr, kinds="f", functions=None, methods=None, rule=None, **kw):
    functions = (name,) if functions is None else functions
    return register(OpDef(
        name, OpKind.UNARY, 1, lambda xp, f=fn_name: getattr(xp, f),
        rule or _same_dtype_rule(name, kinds), c_expr=c_expr, input_kinds=kinds,
        functions=functions, methods=functions if methods is None else methods, **kw))


neg = _unary("neg", "negative", "(-{0})", kinds="iufc", complex_c_expr="ej_neg_{c}({0})", functions=("negative", "neg"),
             methods=("neg", "negative"), symbol="-")
exp = _unary("exp", "exp", "exp{f}({0})", kinds="fc", complex_c_expr="ej_exp_{c}({0})")
log = _unary("log", "log", "log{f}({0})", kinds="fc", complex_c_expr="ej_log_{c}({0})")
sin = _unary("sin", "sin", "sin{f}({0})", kinds="fc", complex_c_expr="ej_sin_{c}({0})")
cos = _unary("cos", "cos", "cos{f}({0})", kinds="fc", complex_c_expr="ej_cos_{c}({0})")


def _tanh_impl(xp):
    def tanh(x):
        return complex_special.tanh(xp, x) if x.dtype.kind == "c" else xp.tanh(x)
    return tanh


tanh = register(OpDef("tanh", OpKind.UNARY, 1, _tanh_impl, _same_dtype_rule("tanh", "fc"),
                      c_expr="tanh{f}({0})", complex_c_expr="ej_tanh_{c}({0})",
                      input_kinds="fc", functions=("tanh",), methods=("tanh",)))
sqrt = _unary("sqrt", "sqrt", "sqrt{f}({0})", kinds="fc", complex_c_expr="ej_sqrt_{c}({0})")
abs_ = _unary("abs", "abs", "fabs{f}({0})", kinds="iufc", symbol="abs", rule=_abs_rule,
              complex_c_expr="hypot{p}({0}.re, {0}.im)")
sign = _unary("sign", "sign", "({0} != {0} ? {0} : ({0} > 0) - ({0} < 0))", kinds="iufc",
             complex_c_expr="ej_sign_{c}({0})")
# Integers only: `~` on a bool tensor is logical_not, and on a float one an error.
bitwise_invert = _unary("bitwise_invert", "invert", "(~{0})", kinds="iu", differentiable=False,
                        methods=("bitwise_not",), symbol="~")


def _copy_impl(xp):
    def copy(x):
        # C order, as compiled kernels write it: a clone of a transposed tensor is
        # contiguous, so .contiguous().view(...) works as in PyTorch.
        return xp.copy(x, order="C")
    return copy


copy = register(OpDef("copy", OpKind.UNARY, 1, _copy_impl, _same_dtype_rule("copy", None),
                      c_expr="{0}", complex_c_expr="{0}", methods=("clone",)))
floor = _unary("floor", "floor", "floor{f}({0})")   # gradient zero, as torch
ceil = _unary("ceil", "ceil", "ceil{f}({0})")


def _sigmoid_impl(xp):
    def sigmoid(x):
        # The tanh form never overflows, unlike 1 / (1 + exp(-x)) for large negative x.
        return xp.tanh(x * 0.5) * 0.5 + 0.5
    return sigmoid


sigmoid = register(OpDef(
    "sigmoid", OpKind.UNARY, 1, _sigmoid_impl, _same_dtype_rule("sigmoid", "f"),
    c_expr="(tanh{f}({0} * 0.5{f}) * 0.5{f} + 0.5{f})", input_kinds="f",
    functions=("sigmoid",), methods=("sigmoid",)))

logical_not = register(OpDef(
    "logical_not", OpKind.UNARY, 1, lambda xp: xp.logical_not,
    lambda x, **_: TensorSpec(x.shape, bool_), c_expr="(!{0})", differentiable=False,
    functions=("logical_not",), methods=("logical_not",)))


def int_bounds(dtype) -> tuple[float, float]:
    """(low, high) for a float -> `dtype` (integer) cast: below or at `low` gives the
    minimum, at or above `high` the maximum. Both are powers of two (or 0), exact in every
    float type.

    >>> int_bounds(np.dtype("int8")), int_bounds(np.dtype("uint8"))
    ((-128.0, 128.0), (0.0, 256.0))
    """
    info = np.iinfo(dtype)
    return float(info.min), float(info.max) + 1.0


def _cast_impl(xp):
    def cast(x, *, dtype):
        dtype = np.dtype(dtype)
        if x.dtype.kind == "c" and dtype.kind not in "bc":
            raise DTypeError(f"astype: casting complex ({x.dtype.name}) to {dtype.name} would "
                             "drop the imaginary part; take eager.real(x) (or eager.abs(x)) "
                             "first")
        if x.dtype.kind != "f" or dtype.kind not in "iu":
            return x.astype(dtype)
        # Float -> integer saturates (NaN -> 0) instead of C's undefined behaviour, so
        # numpy, cupy and the generated C agree bit for bit (see render_step).
        low, high = int_bounds(dtype)
        wide = x if x.dtype.itemsize >= 4 else x.astype(np.float32)  # bounds overflow f16
        over, under = wide >= high, wide <= low
        out = xp.where(over | under | xp.isnan(x), 0, x).astype(dtype)
        info = np.iinfo(dtype)
        out = xp.where(under, dtype.type(info.min), out)
        return xp.where(over, dtype.type(info.max), out)
    return cast


cast = register(OpDef(
    "cast", OpKind.UNARY, 1, _cast_impl, lambda x, *, dtype: TensorSpec(x.shape, dtype),
    c_expr="(({ctype}){0})", functions=("astype",), methods=("astype",)))


def _check_int_scalars(name: str, dtype, operands) -> None:
    # numpy refuses a Python int that does not fit the integer tensor's dtype.
    if dtype.kind not in "iu":
        return
    info = np.iinfo(dtype)
    for v in operands:
        if type(v) is int and not info.min <= v <= info.max:
            raise DTypeError(f"{name}: Python integer {v} is out of range for a {dtype.name} "
                             f"tensor ([{info.min}, {info.max}]); cast the tensor first")


def _no_negative_int_power(dtype, a, b) -> None:
    if dtype.kind in "iu" and type(b) is int and b < 0:
        raise DTypeError(f"pow: integers to negative integer powers ({b}) are not "
                         "allowed; use a floating tensor")


def _binary_rule(name: str, out_dtype=None, kinds: str | None = None, check=None):
    def infer(a, b, **_):
        shape = broadcast_shapes(name, _spec_shape(a), _spec_shape(b))
        dtype = result_dtype(_spec_dtype(a), _spec_dtype(b))
        check_kind(name, dtype, kinds)
        _check_int_scalars(name, dtype, (a, b))
        if check is not None:
            check(dtype, a, b)
        return TensorSpec(shape, out_dtype or dtype)
    return infer


def _binary(name, fn_name, c_expr, out_dtype=None, kinds=None, check=None, functions=None,
            methods=None, **kw):
    """Register a broadcasting binary op. `check(dtype, a, b)` is the op's own extra
    refusal (pow's negative integer exponent), run by its rule after promotion."""
    functions = (name,) if functions is None else functions
    return register(OpDef(
        name, OpKind.BINARY, 2, lambda xp, f=fn_name: getattr(xp, f),
        _binary_rule(name, out_dtype, kinds, check), c_expr=c_expr, input_kinds=kinds,
        functions=functions, methods=functions if methods is None else methods, **kw))


def _comparison(name, fn_name, c_op, symbol, kinds=None, **kw):
    return _binary(name, fn_name, f"({{0}} {c_op} {{1}})", out_dtype=bool_, kinds=kinds,
                   differentiable=False, functions=(fn_name,), methods=(name,), symbol=symbol,
                   **kw)


add = _binary("add", "add", "({0} + {1})", kinds="biufc", identities={0: -0.0, 1: -0.0},
              methods=("add", "add_"), symbol="+", complex_c_expr="ej_add_{c}({0}, {1})")
sub = _binary("sub", "subtract", "({0} - {1})", kinds="iufc", identities={1: 0.0},
              functions=("subtract", "sub"), methods=("sub", "subtract", "sub_"), symbol="-",
              complex_c_expr="ej_sub_{c}({0}, {1})")
mul = _binary("mul", "multiply", "({0} * {1})", identities={0: 1, 1: 1},
              functions=("multiply", "mul"), methods=("mul", "multiply", "mul_"), symbol="*",
              complex_c_expr="ej_mul_{c}({0}, {1})")
div = _binary("div", "true_divide", "({0} / {1})", kinds="fc", identities={1: 1},
              functions=("divide", "div"), methods=("div", "divide", "div_"), symbol="/",
              complex_c_expr="ej_div_{c}({0}, {1})")
pow_ = _binary("pow", "power", "pow{f}({0}, {1})", kinds="iufc", check=_no_negative_int_power,
               identities={1: 1}, methods=("pow", "pow_"), symbol="**",
               complex_c_expr="ej_pow_{c}({0}, {1})")
maximum = _binary("maximum", "maximum", "({0} > {1} || {0} != {0} ? {0} : {1})", kinds="biuf")
minimum = _binary("minimum", "minimum", "({0} < {1} || {0} != {0} ? {0} : {1})", kinds="biuf")


def _floor_divide_impl(xp):
    def floor_divide(a, b):
        out = xp.floor_divide(a, b)
        if out.dtype.kind != "f":
            return out
        # numpy's divmod-based result is NaN for inf // 2 and -1 for -5 // inf; the Array
        # API asks floor(a / b) wherever an operand is infinite (inf and -0 there).
        infinite = xp.isinf(a) | xp.isinf(b)
        return xp.where(infinite, xp.floor(xp.true_divide(a, b)), out)
    return floor_divide


floor_divide = register(OpDef(
    "floor_divide", OpKind.BINARY, 2, _floor_divide_impl,
    _binary_rule("floor_divide", None, "iuf"), input_kinds="iuf", differentiable=False,
    fusable=False, functions=("floor_divide",), methods=(), symbol="//"))
remainder = _binary("remainder", "remainder", None, kinds="iuf", fusable=False, methods=(),
                    symbol="%")
eq = _comparison("eq", "equal", "==", "==", complex_c_expr="ej_eq_{c}({0}, {1})")
ne = _comparison("ne", "not_equal", "!=", "!=", complex_c_expr="ej_ne_{c}({0}, {1})")
lt = _comparison("lt", "less", "<", "<", kinds="biuf")  # complex has no order
le = _comparison("le", "less_equal", "<=", "<=", kinds="biuf")  # complex has no order
gt = _comparison("gt", "greater", ">", ">", kinds="biuf")  # complex has no order
ge = _comparison("ge", "greater_equal", ">=", ">=", kinds="biuf")  # complex has no order
# input_kinds "b": the operators `&`, `|`, `^` take bool tensors only; the namespace
# functions convert their operands to bool first.
logical_and = _binary("logical_and", "logical_and", "({0} && {1})", out_dtype=bool_,
                      kinds="b", differentiable=False, methods=(), symbol="&")
logical_or = _binary("logical_or", "logical_or", "({0} || {1})", out_dtype=bool_,
                     kinds="b", differentiable=False, methods=(), symbol="|")
logical_xor = _binary("logical_xor", "logical_xor", "(!{0} != !{1})", out_dtype=bool_,
                      kinds="b", differentiable=False, methods=(), symbol="^")


def _where_rule(cond, a, b, **_):
    if isinstance(cond, TensorSpec) and cond.dtype != bool_:
        raise DTypeError(f"where: condition must be bool, got {cond.dtype.name}")
    shape = broadcast_shapes("where", _spec_shape(cond), _spec_shape(a), _spec_shape(b))
    return TensorSpec(shape, result_dtype(_spec_dtype(a), _spec_dtype(b)))


where = register(OpDef("where", OpKind.TERNARY, 3,
                       lambda xp: blend.where if xp is np else xp.where, _where_rule,
                       c_expr="({0} ? {1} : {2})", complex_c_expr="({0} ? {1} : {2})",
                       functions=("where",)))
