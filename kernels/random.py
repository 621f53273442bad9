"""Random draws from an explicit generator passed as the first input.

The generator is a numpy (or cupy) `Generator`; in a graph it is state bound by
reference, so every replay draws fresh numbers, as eager code does.
"""
from __future__ import annotations

import numpy as np

from kernels.errors import DTypeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register


def _float_rule(name):
    def infer(rng, *, shape, dtype, **_):
        if dtype.kind != "f":
            raise DTypeError(f"{name}: dtype must be floating, got {dtype.name}")
        return TensorSpec(tuple(shape), dtype)
    return infer


def _draw_dtype(dtype):
    return dtype if dtype.itemsize >= 4 else np.dtype("float32")


def _uniform_impl(xp):
    def uniform(rng, *, shape, dtype, low=0.0, high=1.0):
        draw = rng.random(tuple(shape), dtype=_draw_dtype(dtype))
        if (low, high) != (0.0, 1.0):
            draw = draw * (high - low) + low
        return draw.astype(dtype, copy=False)
    return uniform


def _normal_impl(xp):
    def normal(rng, *, shape, dtype, mean=0.0, std=1.0):
        draw = rng.standard_normal(tuple(shape), dtype=_draw_dtype(dtype))
        if (mean, std) != (0.0, 1.0):
            draw = draw * std + mean
        return draw.astype(dtype, copy=False)
    return normal


uniform = register(OpDef("uniform", OpKind.RANDOM, 1, _uniform_impl, _float_rule("uniform"),
                         differentiable=False))
normal = register(OpDef("normal", OpKind.RANDOM, 1, _normal_impl, _float_rule("normal"),
                        differentiable=False))
