"""Activation primitives that eager would otherwise run as chains of small ops.

gelu_tanh is GPT-2's GELU, 0.5 x (1 + tanh(c (x + a x^3))) with c = sqrt(2/pi) and
a = 0.044715; gelu_tanh_grad(g, x) is g times its derivative, the op its backward rule
runs. As primitives, eager runs each as a few in-place numpy passes instead of a dozen
autograd nodes, and the fuser renders each as one C expression. relu (one pass) and
relu_grad are eager's short forms of where(x <= 0, 0, x) and its masked gradient.

>>> import numpy as np
>>> from kernels import OPS
>>> [round(float(v), 4) for v in OPS.gelu_tanh.cpu_kernel(np.array([-1.0, 0.0, 1.0]))]
[-0.1588, 0.0, 0.8412]
>>> round(float(OPS.gelu_tanh_grad.cpu_kernel(np.array([1.0]), np.array([0.0]))[0]), 4)
0.5
"""
from __future__ import annotations

import math

import numpy as np

from kernels.elementwise import _binary_rule, _same_dtype_rule
from kernels.opdef import OpDef, OpKind, register

GELU_C = math.sqrt(2.0 / math.pi)
GELU_A = 0.044715


def _in_float32(fn):
    """fn computed in float32 for float16 and bfloat16 inputs, rounded once at the end, as
    the generated C computes them."""
    def run(*arrays):
        dtype = arrays[-1].dtype
        if dtype.itemsize >= 4:
            return fn(*arrays)
        return fn(*(a.astype(np.float32) for a in arrays)).astype(dtype)
    return run


def _gelu_tanh_impl(xp):
    @_in_float32
    def gelu_tanh(x):
        t = x * x
        t *= GELU_C * GELU_A
        t += GELU_C
        t *= x
        xp.tanh(t, out=t)
        t += 1.0
        t *= x
        t *= 0.5
        return t
    return gelu_tanh


def _gelu_tanh_grad_impl(xp):
    @_in_float32
    def gelu_tanh_grad(g, x):
        # d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2), t = tanh(c (x + a x^3))
        x2 = x * x
        t = x2 * (GELU_C * GELU_A)
        t += GELU_C
        t *= x
        xp.tanh(t, out=t)
        slope = t * t
        xp.subtract(1.0, slope, out=slope)
        x2 *= 3.0 * GELU_C * GELU_A
        x2 += GELU_C
        slope *= x2
        slope *= x
        t += 1.0
        slope += t
        slope *= 0.5
        return slope * g
    return gelu_tanh_grad



def _c_tanh_of_inner(x: str) -> str:
    """C for tanh(c (x + a x^3)), x an operand placeholder such as "{0}"."""
    return (f"tanh{{f}}({GELU_C!r}{{f}} * {x} * (1.0{{f}} + {GELU_A!r}{{f}} * {x} * {x}))")


_T0, _T1 = _c_tanh_of_inner("{0}"), _c_tanh_of_inner("{1}")

gelu_tanh = register(OpDef(
    "gelu_tanh", OpKind.UNARY, 1, _gelu_tanh_impl, _same_dtype_rule("gelu_tanh", "f"),
    c_expr=f"(0.5{{f}} * {{0}} * (1.0{{f}} + {_T0}))", input_kinds="f"))

gelu_tanh_grad = register(OpDef(
    "gelu_tanh_grad", OpKind.BINARY, 2, _gelu_tanh_grad_impl,
    _binary_rule("gelu_tanh_grad", kinds="f"),
    c_expr=(f"({{0}} * 0.5{{f}} * (1.0{{f}} + {_T1} + {{1}} * (1.0{{f}} - {_T1} * {_T1})"
            f" * ({GELU_C!r}{{f}} + {3.0 * GELU_A * GELU_C!r}{{f}} * {{1}} * {{1}})))"),
    input_kinds="f"))


def _relu_impl(xp):
    def relu(x):
        # one pass; the same values as where(x <= 0, 0, x), NaN and the sign of zero too
        return xp.maximum(x, 0.0)
    return relu


def _relu_grad_impl(xp):
    def relu_grad(g, x):
        # where(x <= 0, 0, g) bit for bit: g's bits times "not x <= 0" (NaN x keeps g)
        keep = xp.less_equal(x, 0.0)
        xp.logical_not(keep, out=keep)
        if g.dtype.itemsize not in _BITS or g.shape != keep.shape:
            return xp.where(keep, g, g.dtype.type(0))
        return xp.multiply(g.view(_BITS[g.dtype.itemsize]), keep).view(g.dtype)
    return relu_grad


_BITS = {4: np.dtype(np.int32), 8: np.dtype(np.int64)}

# Eager-mode primitives (F.relu on float32 and float64 with nothing listening): a tracer
# sees relu's where(x <= 0, 0, x), which fuses.
relu = register(OpDef("relu", OpKind.OTHER, 1, _relu_impl,
                      _same_dtype_rule("relu", "f"), fusable=False))
relu_grad = register(OpDef("relu_grad", OpKind.OTHER, 2, _relu_grad_impl,
                           _binary_rule("relu_grad", kinds="f"), fusable=False,
                           differentiable=False))
