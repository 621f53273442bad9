"""Complex primitives: the parts of a complex number (real, imag, conj, angle) and
`complex_math`, numpy's own complex elementwise function named by an attribute, for the
math whose real-valued composites (acos from atan2, expm1 from exp and log, ...) do not
carry over to complex.

On a real tensor real and conj are copies, imag is zeros and angle is 0 or pi, as numpy
says. Each op has a scalar expression for fused kernels over complex operands
(`complex_c_expr`, over the helpers of kernels/codegen/complex_c.py), and real, imag,
conj and angle one over real operands too. expm1 follows the Array API's special values
where numpy's differs (kernels/complex_special.py).

>>> import numpy as np
>>> from kernels import OPS
>>> z = np.array([3 + 4j], dtype=np.complex64)
>>> OPS.real.cpu_kernel(z).dtype, OPS.imag.cpu_kernel(z).tolist(), OPS.conj.cpu_kernel(z).tolist()
(dtype('float32'), [4.0], [(3-4j)])
>>> OPS.complex_math.cpu_kernel(z, fn="sqrt").tolist()
[(2+1j)]
"""
from __future__ import annotations

import numpy as np

from kernels import complex_special
from kernels.dtypes import complex64, complex128, float32, float64
from kernels.elementwise import check_kind
from kernels.errors import DTypeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register

_REAL_OF = {complex64: float32, complex128: float64}

COMPLEX_MATH = ("arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "cosh",
                "sinh", "tan", "expm1", "log1p", "log2", "log10", "exp", "log", "sqrt",
                "sin", "cos", "tanh", "square", "reciprocal")
"""The numpy functions `complex_math` runs (by their numpy names)."""


def real_dtype(dtype: np.dtype) -> np.dtype:
    """The real dtype of a complex one's parts (a real dtype maps to itself).

    >>> real_dtype(np.dtype("complex128")), real_dtype(np.dtype("float32"))
    (dtype('float64'), dtype('float32'))
    """
    return _REAL_OF.get(np.dtype(dtype), np.dtype(dtype))


def _part_rule(name: str, kinds: str):
    def infer(x: TensorSpec, **_):
        check_kind(name, x.dtype, kinds)
        return TensorSpec(x.shape, real_dtype(x.dtype))
    return infer


def _copied(fn):
    # np.real / np.imag return views (or a read-only zeros array); an op's result owns
    # its memory.
    def impl(xp):
        def part(x):
            return xp.array(fn(xp)(x), copy=True)
        return part
    return impl


def _angle_impl(xp):
    def angle(x):
        out = xp.angle(x)
        return out.astype(x.dtype) if x.dtype.kind == "f" else out
    return angle


real = register(OpDef("real", OpKind.UNARY, 1, _copied(lambda xp: xp.real), _part_rule("real", "biufc"),
                      c_expr="{0}", complex_c_expr="{0}.re", input_kinds="biufc",
                      functions=("real",)))
imag = register(OpDef("imag", OpKind.UNARY, 1, _copied(lambda xp: xp.imag), _part_rule("imag", "biufc"),
                      c_expr="(({ctype})0)", complex_c_expr="{0}.im", input_kinds="biufc",
                      functions=("imag",)))
# numpy's angle of a real x is atan2(0, x): pi for x < 0 and for -0.0.
angle = register(OpDef("angle", OpKind.UNARY, 1, _angle_impl, _part_rule("angle", "fc"),
                       c_expr="atan2{f}(({ctype})0, {0})", complex_c_expr="atan2{p}({0}.im, {0}.re)",
                       input_kinds="fc", functions=("angle",), methods=("angle",)))


def _conj_rule(x: TensorSpec, **_):
    return TensorSpec(x.shape, x.dtype)


def _conj_impl(xp):
    def conj(x):
        return xp.conj(x) if x.dtype.kind == "c" else x.copy()  # numpy's conj(bool) is int8
    return conj


conj = register(OpDef("conj", OpKind.UNARY, 1, _conj_impl, _conj_rule, c_expr="{0}",
                      complex_c_expr="ej_conj_{c}({0})", functions=("conj",), methods=("conj",)))


def _complex_math_rule(x: TensorSpec, *, fn: str):
    if fn not in COMPLEX_MATH:
        raise DTypeError(f"complex_math: unknown function {fn!r}; expected one of "
                         f"{', '.join(COMPLEX_MATH)}")
    check_kind(fn, x.dtype, "c")
    return TensorSpec(x.shape, x.dtype)


# Where numpy's complex function misses the Array API's special values.
_SPECIAL = {"expm1": complex_special.expm1, "tanh": complex_special.tanh}


def _complex_math_impl(xp):
    def complex_math(x, *, fn):
        special = _SPECIAL.get(fn)
        return special(xp, x) if special is not None else getattr(xp, fn)(x)
    return complex_math


complex_math = register(OpDef("complex_math", OpKind.UNARY, 1, _complex_math_impl,
                              _complex_math_rule, complex_c_expr="ej_{fn}_{c}({0})",
                              input_kinds="c", methods=()))
