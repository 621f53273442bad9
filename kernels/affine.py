"""`linear`: x @ weight.T + bias as one eager-mode primitive (PyTorch's addmm).

As composites, a layer is five ops forward (reshape, transpose, matmul, reshape, add) and
about fifteen backward (their rules, the bias gradient's sum and reshapes), each a
dispatch and most an autograd node; this is one op, the bias added in place into the
product, and its backward rule three. Traced code never sees it: eager's F.linear
spells the composite under a tracer, which the jit's passes see through.

>>> import numpy as np
>>> from kernels import OPS
>>> OPS.linear.cpu_kernel(np.ones((1, 2)), np.array([[1.0, 2.0]]), np.array([0.5])).tolist()
[[3.5]]
"""
from __future__ import annotations

import math

import numpy as np

from kernels.errors import DTypeError, ShapeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register


def _linear_impl(xp):
    def linear(x, weight, bias):
        rows = x.reshape(math.prod(x.shape[:-1]), x.shape[-1])
        out = xp.matmul(rows, weight.T)
        out += bias
        return out.reshape(x.shape[:-1] + weight.shape[:1])
    return linear


_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
"""What the primitive takes; F.linear runs the composite for the rest (bfloat16 products
round as the matmul op rounds them)."""


def _linear_rule(x: TensorSpec, weight: TensorSpec, bias: TensorSpec):
    dtypes = {x.dtype, weight.dtype, bias.dtype}
    if len(dtypes) != 1 or not dtypes <= _DTYPES:
        raise DTypeError(f"linear: dtypes {x.dtype.name}, {weight.dtype.name} and "
                         f"{bias.dtype.name}: expected all float32 or all float64 (other "
                         "dtypes run the composite)")
    if not x.shape or len(weight.shape) != 2 or x.shape[-1] != weight.shape[1] or \
            bias.shape != weight.shape[:1]:
        raise ShapeError(f"linear: input {x.shape}, weight {weight.shape} and bias "
                         f"{bias.shape}: expected (..., in), (out, in) and (out,)")
    return TensorSpec(x.shape[:-1] + weight.shape[:1], x.dtype)


linear = register(OpDef("linear", OpKind.OTHER, 3, _linear_impl, _linear_rule,
                        fusable=False))
