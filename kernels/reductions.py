"""Reductions over a tuple of axes (already normalised by the caller), with keepdims."""
from __future__ import annotations

import math

import numpy as np

from kernels.dtypes import bfloat16, float32, int64, sum_dtype
from kernels.errors import ShapeError
from kernels.opdef import OPS, OpDef, OpKind, TensorSpec, register


def _reduced_shape(shape, axis, keepdims):
    if keepdims:
        return tuple(1 if i in axis else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axis)


_accumulating_dtype = sum_dtype


def _reduce_rule(name, out_dtype, needs_elements):
    def infer(x: TensorSpec, *, axis: tuple[int, ...], keepdims: bool = False):
        if needs_elements and any(x.shape[a] == 0 for a in axis):
            raise ShapeError(f"{name}: cannot reduce over an empty axis of shape {x.shape}")
        return TensorSpec(_reduced_shape(x.shape, axis, keepdims), out_dtype(x.dtype))
    return infer


def short_rows_first(fn, x, *, axis, keepdims=False):
    """fn (numpy's maximum/minimum.reduce) of x over `axis`, reducing a short last axis
    of many rows over the transposed rows instead: numpy pays about 130 ns per row for
    the last-axis loop (softmax's max over 32 keys: 290 us for 2048 rows, 11x PyTorch),
    while a reduction over the leading axis of the (n, rows) copy streams (70 us, copy
    included). The comparisons are the same, so NaN propagates as before.

    >>> short_rows_first(np.maximum.reduce, np.arange(8192.0).reshape(-1, 4), axis=(1,))[:2]
    array([3., 7.])
    """
    if len(axis) == 1 and x.ndim >= 2 and axis[0] == x.ndim - 1 and \
            1 < x.shape[-1] <= _SHORT_ROW and x.size >= 4096 and x.flags.c_contiguous:
        rows = np.ascontiguousarray(x.reshape(-1, x.shape[-1]).T)
        return fn(rows, axis=0).reshape(x.shape[:-1] + ((1,) if keepdims else ()))
    return fn(x, axis=axis, keepdims=keepdims)


def _short_rows_first(fn):
    def reduce(x, *, axis, keepdims=False):
        return short_rows_first(fn, x, axis=axis, keepdims=keepdims)
    return reduce


_SHORT_ROW = 64
"""Longest last axis that short_rows_first transposes (beyond it the copy costs more)."""


def _reduce(name, fn_name, ufunc_name, out_dtype, needs_elements, c_combine, identity):
    def impl(xp, accumulate=out_dtype is _accumulating_dtype):
        # On numpy, ufunc.reduce skips np.sum's Python wrapper (a third of the time of a
        # small reduction); it has the same results, NaN propagation included.
        fn = getattr(np, ufunc_name).reduce if xp is np else getattr(xp, fn_name)
        if xp is np and ufunc_name in ("maximum", "minimum"):
            return _short_rows_first(fn)
        if accumulate:
            def reduce(x, *, axis, keepdims=False):
                dtype = _accumulating_dtype(x.dtype)
                if dtype is bfloat16:   # numpy would add in bfloat16, where 256 + 1 == 256
                    return fn(x, axis=axis, keepdims=keepdims, dtype=float32).astype(dtype)
                return fn(x, axis=axis, keepdims=keepdims, dtype=dtype)
            return reduce
        return fn
    return register(OpDef(name, OpKind.REDUCE, 1, impl,
                          _reduce_rule(name, out_dtype, needs_elements), c_expr=c_combine,
                          identity=identity, functions=(name,), methods=(name,)))


def _same(dtype):
    return dtype


# c_expr of a reduction combines accumulator {0} with element {1}; it starts at the op's
# identity.
sum_ = _reduce("sum", "sum", "add", _accumulating_dtype, False, "({0} + {1})", 0)
prod = _reduce("prod", "prod", "multiply", _accumulating_dtype, False, "({0} * {1})", 1)
max_ = _reduce("max", "max", "maximum", _same, True, "({1} > {0} || {1} != {1} ? {1} : {0})",
               -math.inf)
min_ = _reduce("min", "min", "minimum", _same, True, "({1} < {0} || {1} != {1} ? {1} : {0})",
               math.inf)


def c_identity(value: float) -> str:
    """A reduction identity as C source.

    >>> c_identity(-math.inf), c_identity(1)
    ('(-INFINITY)', '1')
    """
    if math.isinf(value):
        return "INFINITY" if value > 0 else "(-INFINITY)"
    return repr(value)


REDUCTION_IDENTITY = {op.name: c_identity(op.identity) for op in OPS.values()
                      if op.identity is not None}
"""C starting value of each fusable reduction, read off the ops' `identity`."""


def _arg_impl(fn_name):
    def impl(xp):
        fn = getattr(xp, fn_name)

        def arg_reduce(x, *, axis, keepdims=False):
            return fn(x, axis=axis, keepdims=keepdims).astype(int64, copy=False)
        return arg_reduce
    return impl


def _arg_rule(name):
    def infer(x: TensorSpec, *, axis: int | None, keepdims: bool = False):
        if x.shape and 0 in (x.shape if axis is None else (x.shape[axis],)):
            raise ShapeError(f"{name}: cannot reduce over an empty axis of shape {x.shape}")
        if axis is None:
            shape = (1,) * len(x.shape) if keepdims else ()
        else:
            shape = _reduced_shape(x.shape, (axis,), keepdims)
        return TensorSpec(shape, int64)
    return infer


argmax = register(OpDef("argmax", OpKind.REDUCE, 1, _arg_impl("argmax"), _arg_rule("argmax"),
                        differentiable=False, functions=("argmax",), methods=("argmax",)))
argmin = register(OpDef("argmin", OpKind.REDUCE, 1, _arg_impl("argmin"), _arg_rule("argmin"),
                        differentiable=False, functions=("argmin",), methods=("argmin",)))
