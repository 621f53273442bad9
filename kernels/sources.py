"""Ops with no tensor inputs that make a tensor from attributes (fills and ranges)."""
from __future__ import annotations

from kernels.errors import ShapeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register


def _full_impl(xp):
    def full(*, shape, value, dtype):
        return xp.full(tuple(shape), value, dtype=dtype)
    return full


def _full_rule(*, shape, value, dtype):
    if any(d < 0 for d in shape):
        raise ShapeError(f"full: negative dimension in shape {tuple(shape)}")
    return TensorSpec(tuple(shape), dtype)


full = register(OpDef("full", OpKind.SOURCE, 0, _full_impl, _full_rule, differentiable=False))


def _arange_impl(xp):
    def arange(*, start, stop, step, dtype):
        return xp.arange(start, stop, step, dtype=dtype)
    return arange


def _arange_rule(*, start, stop, step, dtype):
    if step == 0:
        raise ShapeError("arange: step must not be zero")
    return TensorSpec((len(range(int(-(-(stop - start) // step)))) if (stop - start) * step > 0
                       else 0,), dtype)


arange = register(OpDef("arange", OpKind.SOURCE, 0, _arange_impl, _arange_rule,
                        differentiable=False))
