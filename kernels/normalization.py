"""Layer normalisation as two eager-mode primitives: `normalize_rows` (x to zero mean
and unit biased variance over trailing `axes`, before any weight or bias) and
`normalize_rows_grad` (its vector-Jacobian product). As composites they are ten ops
forward and twenty backward, each a numpy pass and an autograd node; these are four
and nine numpy passes, row sums streamed through kernels.rows.

Traced code never sees them: eager's layer_norm spells the same math as a composite
under a tracer, which the jit's row fuser turns into one C loop per row.

>>> import numpy as np
>>> from kernels import OPS
>>> OPS.normalize_rows.cpu_kernel(np.array([[1.0, 3.0]]), axes=(1,), eps=0.0).tolist()
[[-1.0, 1.0]]
"""
from __future__ import annotations

import math

from kernels.dtypes import FLOATING
from kernels.errors import DTypeError, ShapeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register
from kernels.rows import row_dot, row_mean


def _inverse_std(xp, x, axes, eps):
    centered = x - row_mean(xp, x, axes)
    var = row_dot(xp, centered, centered, axes)
    var *= 1.0 / math.prod(x.shape[a] for a in axes)
    var += eps
    xp.sqrt(var, out=var)
    return centered, xp.reciprocal(var, out=var)


def _normalize_rows_impl(xp):
    def normalize_rows(x, *, axes, eps):
        centered, inv_std = _inverse_std(xp, x, axes, eps)
        centered *= inv_std
        return centered
    return normalize_rows


def _normalize_rows_grad_impl(xp):
    def normalize_rows_grad(g, x, *, axes, eps):
        # dx = (g - mean(g) - xhat * mean(g * xhat)) / std
        xhat, inv_std = _inverse_std(xp, x, axes, eps)
        xhat *= inv_std
        projection = row_dot(xp, g, xhat, axes)
        projection *= 1.0 / math.prod(x.shape[a] for a in axes)
        xhat *= projection
        dx = g - row_mean(xp, g, axes)
        dx -= xhat
        dx *= inv_std
        return dx
    return normalize_rows_grad


def _check(name: str, specs, axes) -> None:
    for spec in specs:
        if spec.dtype not in FLOATING:
            raise DTypeError(f"{name}: dtype {spec.dtype.name} is not supported; expected "
                             "floating tensors")
    shape = specs[0].shape
    if any(s.shape != shape for s in specs) or any(not 0 <= a < len(shape) for a in axes):
        raise ShapeError(f"{name}: shapes {[s.shape for s in specs]} with axes {axes}: "
                         "expected equal shapes and axes within them")


def _normalize_rows_rule(x: TensorSpec, *, axes, eps):
    _check("normalize_rows", (x,), axes)
    return TensorSpec(x.shape, x.dtype)


def _normalize_rows_grad_rule(g: TensorSpec, x: TensorSpec, *, axes, eps):
    _check("normalize_rows_grad", (g, x), axes)
    return TensorSpec(x.shape, x.dtype)


normalize_rows = register(OpDef("normalize_rows", OpKind.OTHER, 1, _normalize_rows_impl,
                                _normalize_rows_rule, fusable=False))
# Its backward rule runs it only without create_graph; with it, the rule runs the composite.
normalize_rows_grad = register(OpDef(
    "normalize_rows_grad", OpKind.OTHER, 2, _normalize_rows_grad_impl,
    _normalize_rows_grad_rule, fusable=False, differentiable=False))


def _scale_shift_impl(xp):
    def scale_shift(x, weight, bias):
        out = x * weight
        out += bias
        return out
    return scale_shift


def _scale_shift_rule(x: TensorSpec, weight: TensorSpec, bias: TensorSpec):
    if not x.dtype == weight.dtype == bias.dtype or x.dtype not in FLOATING:
        raise DTypeError(f"scale_shift: dtypes {x.dtype.name}, {weight.dtype.name} and "
                         f"{bias.dtype.name}: expected one floating dtype")
    trailing = x.shape[len(x.shape) - len(weight.shape):]
    if weight.shape != bias.shape or len(weight.shape) > len(x.shape) or \
            trailing != weight.shape:
        raise ShapeError(f"scale_shift: input {x.shape}, weight {weight.shape} and bias "
                         f"{bias.shape}: expected weight and bias of the input's trailing "
                         "shape")
    return TensorSpec(x.shape, x.dtype)


# layer_norm's affine step x * weight + bias (weight and bias of x's trailing shape) in
# eager mode: one op and one backward rule instead of two of each.
scale_shift = register(OpDef("scale_shift", OpKind.OTHER, 3, _scale_shift_impl,
                             _scale_shift_rule, fusable=False))
