"""Dropout in eager mode as two primitives: `dropout_keep` draws the mask of kept
elements from the generator in one op (the uniform draw and the comparison with p), and
`masked_scale` is where(keep, x * scale, 0) in one pass; masked_scale is linear in x, so
its backward is masked_scale of the gradient (the same bits as where's and mul's rules).

The draw is the `uniform` kernel's, so the generator's stream and the mask are exactly
those of the composite (uniform, compare, mul, where: four ops forward, two backward).
Traced code never sees them: eager's F.dropout spells the composite under a tracer.

>>> import numpy as np
>>> from kernels import OPS
>>> OPS.masked_scale.cpu_kernel(np.array([1.0, 2.0]), np.array([True, False]),
...                             scale=2.0).tolist()
[2.0, 0.0]
"""
from __future__ import annotations

import numpy as np

from kernels.errors import DTypeError, ShapeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register
from kernels.random import uniform as _uniform_op

_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
"""What the primitives take; F.dropout runs the composite for the rest."""


def _dropout_keep_impl(xp):
    uniform = _uniform_op.kernel(xp)

    def dropout_keep(rng, *, shape, dtype, p):
        draw = uniform(rng, shape=shape, dtype=dtype)
        return draw >= dtype.type(p)
    return dropout_keep


_BITS = {np.dtype(np.float32): np.dtype(np.int32), np.dtype(np.float64): np.dtype(np.int64)}


def _masked_scale_impl(xp):
    def masked_scale(x, keep, *, scale):
        out = x * x.dtype.type(scale)
        if xp is not np or out.dtype not in _BITS or keep.shape != out.shape:
            return xp.where(keep, out, x.dtype.type(0))
        # where(keep, out, 0) without a branch per element (a random mask mispredicts
        # half of them): the bit pattern times 0 or 1, the +0.0 of where's zeros included
        bits = out.view(_BITS[out.dtype])
        np.multiply(bits, keep, out=bits)
        return out
    return masked_scale


def _keep_rule(rng, *, shape, dtype, p):
    if dtype not in _DTYPES:
        raise DTypeError(f"dropout_keep: dtype {dtype.name}: expected float32 or float64 "
                         "(other dtypes run the composite)")
    return TensorSpec(tuple(shape), np.dtype(np.bool_))


def _masked_scale_rule(x: TensorSpec, keep: TensorSpec, *, scale):
    if x.dtype not in _DTYPES or keep.dtype != np.dtype(np.bool_):
        raise DTypeError(f"masked_scale: input {x.dtype.name} and mask {keep.dtype.name}: "
                         "expected float32 or float64 and bool")
    if keep.shape != x.shape:
        raise ShapeError(f"masked_scale: input {x.shape} and mask {keep.shape}: expected "
                         "the same shape")
    return TensorSpec(x.shape, x.dtype)


dropout_keep = register(OpDef("dropout_keep", OpKind.RANDOM, 1, _dropout_keep_impl,
                              _keep_rule, differentiable=False))
masked_scale = register(OpDef("masked_scale", OpKind.OTHER, 2, _masked_scale_impl,
                              _masked_scale_rule, fusable=False))
