"""softmax and log_softmax along one axis as eager-mode primitives: four or five numpy
passes each instead of five or six autograd nodes. softmax's backward rule runs
`softmax_grad` (y (g - sum(g y)) in three passes), log_softmax's a short composite over
the output (g - exp(y) sum(g)). Rows reduce through kernels.rows (short rows stream).

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
from kernels.rows import row_dot, row_max, row_sum


def _softmax_impl(xp):
    def softmax(x, *, axis):
        axes = (axis,)
        e = x - row_max(xp, x, axes)
        xp.exp(e, out=e)
        e /= row_sum(xp, e, axes)
        return e
    return softmax


def _softmax_grad_impl(xp):
    def softmax_grad(g, y, *, axis):
        # y (g - sum(g y)): the row sum without the product's array
        dx = g - row_dot(xp, g, y, (axis,))
        dx *= y
        return dx
    return softmax_grad


def _log_softmax_impl(xp):
    def log_softmax(x, *, axis):
        axes = (axis,)
        shift = row_max(xp, x, axes)
        # an all -inf (or inf) row: shift by 0, as logsumexp does, so the row stays -inf
        shift = xp.where(xp.isfinite(shift), shift, 0.0).astype(x.dtype, copy=False)
        shifted = x - shift
        total = row_sum(xp, xp.exp(shifted), axes)
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


def _softmax_grad_rule(g: TensorSpec, y: TensorSpec, *, axis):
    _rule("softmax_grad")(y, axis=axis)
    if g.shape != y.shape or g.dtype != y.dtype:
        raise ShapeError(f"softmax_grad: gradient {g.dtype.name}{list(g.shape)} and output "
                         f"{y.dtype.name}{list(y.shape)}: expected the same shape and dtype")
    return TensorSpec(y.shape, y.dtype)


# Its backward rule runs it only without create_graph; with it, the rule runs the composite.
softmax_grad = register(OpDef("softmax_grad", OpKind.OTHER, 2, _softmax_grad_impl,
                              _softmax_grad_rule, fusable=False, differentiable=False))
