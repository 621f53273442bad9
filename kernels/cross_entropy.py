"""`cross_entropy_rows`: the mean or summed cross-entropy of (N, C) logits against
integer class targets as one eager-mode primitive, and `cross_entropy_rows_grad`, its
gradient (softmax minus one-hot, over the count for the mean) as one more.

As a composite, F.cross_entropy is about fifteen dispatches forward (log-softmax, the
targets' mask, a gather, casts, sums, a division) and as many autograd rules backward;
these are one op each way. Positions whose target is `ignore_index` add nothing and are
left out of the mean's count, as in the composite. Traced code never sees them: eager's
F.cross_entropy spells the composite under a tracer, which the jit's passes see through.

>>> import numpy as np
>>> from kernels import OPS
>>> x, t = np.zeros((2, 4)), np.array([1, 3])
>>> round(float(OPS.cross_entropy_rows.cpu_kernel(x, t, ignore_index=-100, mean=True)), 4)
1.3863
>>> OPS.cross_entropy_rows_grad.cpu_kernel(np.array(1.0), x, t, ignore_index=-100,
...                                        mean=False).tolist()[0]
[0.25, -0.75, 0.25, 0.25]
"""
from __future__ import annotations

import numpy as np

from kernels.errors import DTypeError, ShapeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register
from kernels.softmax import log_softmax as _log_softmax_op
from kernels.softmax import softmax as _softmax_op

_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
"""What the primitives take; F.cross_entropy runs the composite for the rest."""


def _picks(xp, target, ignore_index: int):
    """(mask of the positions not ignored, target with those set to class 0)."""
    valid = target != ignore_index
    return valid, xp.where(valid, target, 0)


def _scale(xp, valid, dtype, mean: bool):
    """1, or 1 / the count of positions not ignored (NaN when every one is)."""
    if not mean:
        return dtype.type(1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return dtype.type(1.0) / dtype.type(int(valid.sum()))


def _cross_entropy_rows_impl(xp):
    log_softmax = _log_softmax_op.kernel(xp)

    def cross_entropy_rows(x, target, *, ignore_index, mean):
        valid, safe = _picks(xp, target, ignore_index)
        logp = log_softmax(x, axis=1)
        picked = xp.take_along_axis(logp, safe[:, None], axis=1)[:, 0]
        total = -(picked * valid).sum(dtype=x.dtype)
        if not mean:
            return xp.asarray(total, dtype=x.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.asarray(total / valid.sum(dtype=x.dtype), dtype=x.dtype)
    return cross_entropy_rows


def _cross_entropy_rows_grad_impl(xp):
    softmax = _softmax_op.kernel(xp)

    def cross_entropy_rows_grad(g, x, target, *, ignore_index, mean):
        valid, safe = _picks(xp, target, ignore_index)
        dx = softmax(x, axis=1)
        dx[xp.arange(x.shape[0]), safe] -= 1
        # ignored rows get exactly zero, also when every row is (the scale is then 1/0)
        coef = xp.where(valid, g.astype(x.dtype, copy=False) * _scale(xp, valid, x.dtype, mean),
                        x.dtype.type(0))
        dx *= coef[:, None]
        return dx
    return cross_entropy_rows_grad


def _check(name: str, x: TensorSpec, target: TensorSpec) -> None:
    if x.dtype not in _DTYPES or target.dtype.kind not in "iu":
        raise DTypeError(f"{name}: logits {x.dtype.name} and target {target.dtype.name}: "
                         "expected float32 or float64 logits and integer targets (other "
                         "dtypes run the composite)")
    if len(x.shape) != 2 or not x.shape[1] or target.shape != x.shape[:1]:
        raise ShapeError(f"{name}: logits {x.shape} and target {target.shape}: expected "
                         "(N, C) with C > 0 and (N,)")


def _rows_rule(x: TensorSpec, target: TensorSpec, *, ignore_index, mean):
    _check("cross_entropy_rows", x, target)
    return TensorSpec((), x.dtype)


def _rows_grad_rule(g: TensorSpec, x: TensorSpec, target: TensorSpec, *, ignore_index,
                    mean):
    _check("cross_entropy_rows_grad", x, target)
    if g.shape != () or g.dtype != x.dtype:
        raise ShapeError(f"cross_entropy_rows_grad: gradient {g.dtype.name}{list(g.shape)}: "
                         f"expected a 0-d {x.dtype.name} tensor, as the loss")
    return TensorSpec(x.shape, x.dtype)


cross_entropy_rows = register(OpDef("cross_entropy_rows", OpKind.OTHER, 2,
                                    _cross_entropy_rows_impl, _rows_rule, fusable=False))
# Its backward rule runs it only without create_graph; with it, the rule runs a composite.
cross_entropy_rows_grad = register(OpDef("cross_entropy_rows_grad", OpKind.OTHER, 3,
                                         _cross_entropy_rows_grad_impl, _rows_grad_rule,
                                         fusable=False, differentiable=False))
