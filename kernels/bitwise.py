"""Bit-level primitives: and/or/xor of integer or bool tensors, shifts of integer ones,
and two float primitives that read a number's bits (signbit, nextafter).

The shifts are defined for every shift amount, as numpy defines them: shifting by at
least the type's width gives 0 (or -1 for a negative number shifted right), so the C
expression guards the count that C leaves undefined.

>>> import numpy as np
>>> from kernels import OPS
>>> OPS.bitwise_left_shift.cpu_kernel(np.array([1, -1]), np.array([3, 70])).tolist()
[8, 0]
"""
from __future__ import annotations

from kernels.dtypes import bool_
from kernels.elementwise import _binary, _same_dtype_rule
from kernels.opdef import OpDef, OpKind, TensorSpec, register

bitwise_and = _binary("bitwise_and", "bitwise_and", "({0} & {1})", kinds="biu",
                      differentiable=False, methods=("bitwise_and",))
bitwise_or = _binary("bitwise_or", "bitwise_or", "({0} | {1})", kinds="biu",
                     differentiable=False, methods=("bitwise_or",))
bitwise_xor = _binary("bitwise_xor", "bitwise_xor", "({0} ^ {1})", kinds="biu",
                      differentiable=False, methods=("bitwise_xor",))
bitwise_left_shift = _binary(
    "bitwise_left_shift", "left_shift",
    "(({1}) >= 0 && ({1}) < 8 * (long long)sizeof({0}) ? ({0} << {1}) : 0)", kinds="iu",
    differentiable=False, methods=("bitwise_left_shift",), symbol="<<")
bitwise_right_shift = _binary(
    "bitwise_right_shift", "right_shift",
    "(({1}) >= 0 && ({1}) < 8 * (long long)sizeof({0}) ? ({0} >> {1}) : ({0} < 0 ? -1 : 0))",
    kinds="iu", differentiable=False, methods=("bitwise_right_shift",), symbol=">>")
nextafter = _binary("nextafter", "nextafter", "nextafter{f}({0}, {1})", kinds="f",
                    differentiable=False, methods=())


def _signbit_rule(x, **_):
    _same_dtype_rule("signbit", "f")(x)
    return TensorSpec(x.shape, bool_)


signbit = register(OpDef("signbit", OpKind.UNARY, 1, lambda xp: xp.signbit, _signbit_rule,
                         c_expr="(signbit({0}) != 0)", input_kinds="f", differentiable=False,
                         functions=("signbit",), methods=("signbit",)))
