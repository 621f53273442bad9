"""softmax and log_softmax along one axis as eager-mode primitives: four or five numpy
passes each instead of five or six autograd nodes. Their backward rules are short
composites over the output (y (g - sum(g y)) and g - exp(y) sum(g)).

Traced code never sees them: eager's F.softmax and F.log_softmax spell the same math as
composites under a tracer, which the jit's row fuser turns into one C loop per row.

>>> import numpy as np
>>> from kernels import OPS
>>> OPS.softmax.cpu_kernel(np.array([[0.0, 0.0]]), axis=1).tolist()
[[0.5, 0.5]]
>>> OPS.log_softmax.cpu_kernel(np.array([[0.0, 1000.0]]), axis=1).tolist()
[[-1000.0, 0.0]]
"""
from __future__ import annotations

from kernels.dtypes import FLOATING
from kernels.errors import DTypeError, ShapeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register


def _softmax_impl(xp):
    def softmax(x, *, axis):
        e = x - x.max(axis=axis, keepdims=True)
        xp.exp(e, out=e)
        e /= e.sum(axis=axis, keepdims=True)
        return e
    return softmax


def _log_softmax_impl(xp):
    def log_softmax(x, *, axis):
        shift = x.max(axis=axis, keepdims=True)
        # an all -inf (or inf) row: shift by 0, as logsumexp does, so the row stays -inf
        shift = xp.where(xp.isfinite(shift), shift, 0.0).astype(x.dtype, copy=False)
        shifted = x - shift
        total = xp.exp(shifted).sum(axis=axis, keepdims=True)
        shifted -= xp.log(total, out=total)
        return shifted
    return log_softmax


def _rule(name: str):
    def infer(x: TensorSpec, *, axis):
        if x.dtype not in FLOATING:
            raise DTypeError(f"{name}: dtype {x.dtype.name} is not supported; expected "
                             "floating tensors")
        if not 0 <= axis < len(x.shape) or x.shape[axis] == 0:
            raise ShapeError(f"{name}: axis {axis} of shape {x.shape}: expected a non-empty "
                             "axis of the input")
        return TensorSpec(x.shape, x.dtype)
    return infer


softmax = register(OpDef("softmax", OpKind.OTHER, 1, _softmax_impl, _rule("softmax"),
                         fusable=False))
log_softmax = register(OpDef("log_softmax", OpKind.OTHER, 1, _log_softmax_impl,
                             _rule("log_softmax"), fusable=False))
