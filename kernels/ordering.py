"""Order-dependent ops: argsort and cumulative sum along one axis."""
from __future__ import annotations

import numpy as np

from kernels.dtypes import bfloat16, default_int, float32, int64, uint64
from kernels.opdef import OpDef, OpKind, TensorSpec, register


def _argsort_impl(xp):
    # cupy's argsort is always stable and takes no `kind`.
    stable_argsort = ((lambda a, axis: np.argsort(a, axis=axis, kind="stable")) if xp is np
                      else xp.argsort)

    def argsort(x, *, axis, descending=False):
        if descending:
            # Negating keeps equal elements in their original order (stable), unlike
            # reversing an ascending sort.
            key = -x if x.dtype.kind in "if" else ~x if x.dtype.kind == "b" else -x.astype(int64)
            return stable_argsort(key, axis=axis).astype(int64, copy=False)
        return stable_argsort(x, axis=axis).astype(int64, copy=False)
    return argsort


argsort = register(OpDef(
    "argsort", OpKind.OTHER, 1, _argsort_impl,
    lambda x, *, axis, descending=False: TensorSpec(x.shape, int64), differentiable=False,
    functions=("argsort",), methods=("argsort",)))


def _cumsum_dtype(dtype):
    # PyTorch's cumsum: integers and bool accumulate in int64; uint64, which int64 cannot
    # hold, in itself (eager.cumulative_sum casts to the Array API's dtype first).
    return dtype if dtype == uint64 else default_int if dtype.kind in "biu" else dtype


def _cumsum_impl(xp):
    def cumsum(x, *, axis):
        dtype = _cumsum_dtype(x.dtype)
        if dtype is bfloat16:   # accumulate in float32, as torch: bfloat16 has 8 bits
            return xp.cumsum(x, axis=axis, dtype=float32).astype(dtype)
        return xp.cumsum(x, axis=axis, dtype=dtype)
    return cumsum


cumsum = register(OpDef(
    "cumsum", OpKind.OTHER, 1, _cumsum_impl,
    lambda x, *, axis: TensorSpec(x.shape, _cumsum_dtype(x.dtype)),
    functions=("cumsum",), methods=("cumsum",)))
