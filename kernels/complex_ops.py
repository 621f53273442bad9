"""Complex primitives: the parts of a complex number (real, imag, conj, angle) and
`complex_math`, numpy's own complex elementwise function named by an attribute, for the
math whose real-valued composites (acos from atan2, expm1 from exp and log, ...) do not
carry over to complex.

On a real tensor real and conj are copies, imag is zeros and angle is 0 or pi, as numpy
says. The ops run through numpy/cupy in a jitted graph: fused C code takes real dtypes
only (kernels/codegen/c_render.py), so a complex step is never compiled wrongly.

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
                      fusable=False, input_kinds="biufc", functions=("real",)))
imag = register(OpDef("imag", OpKind.UNARY, 1, _copied(lambda xp: xp.imag), _part_rule("imag", "biufc"),
                      fusable=False, input_kinds="biufc", functions=("imag",)))
angle = register(OpDef("angle", OpKind.UNARY, 1, _angle_impl, _part_rule("angle", "fc"),
                       fusable=False, input_kinds="fc", functions=("angle",), methods=("angle",)))


def _conj_rule(x: TensorSpec, **_):
    return TensorSpec(x.shape, x.dtype)


def _conj_impl(xp):
    def conj(x):
        return xp.conj(x) if x.dtype.kind == "c" else x.copy()  # numpy's conj(bool) is int8
    return conj


conj = register(OpDef("conj", OpKind.UNARY, 1, _conj_impl, _conj_rule, fusable=False,
                      functions=("conj",), methods=("conj",)))


def _complex_math_rule(x: TensorSpec, *, fn: str):
    if fn not in COMPLEX_MATH:
        raise DTypeError(f"complex_math: unknown function {fn!r}; expected one of "
                         f"{', '.join(COMPLEX_MATH)}")
    check_kind(fn, x.dtype, "c")
    return TensorSpec(x.shape, x.dtype)


def _complex_math_impl(xp):
    def complex_math(x, *, fn):
        return getattr(xp, fn)(x)
    return complex_math


complex_math = register(OpDef("complex_math", OpKind.UNARY, 1, _complex_math_impl,
                              _complex_math_rule, fusable=False, input_kinds="c", methods=()))
