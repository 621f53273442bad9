"""Collective ops: every rank of a process group joins, and each gets a result.

The `group` attribute is the communicator (`eager.distributed` makes one over MPI or
NCCL); it carries out the exchange on the arrays of its namespace, so these definitions
stay free of any transport. In a graph a collective is an op with an effect: passes
never drop, merge or fold it, and the replay runs it in traced order, which is the same
order on every rank (no deadlock from reordering).

>>> class Solo:
...     size = 1
...     def all_reduce(self, x, reduce): return x.copy()
>>> OPS.all_reduce.infer(TensorSpec((4,), np.dtype("float32")), group=Solo(), reduce="sum")
TensorSpec(shape=(4,), dtype=dtype('float32'))
"""
from __future__ import annotations

import numpy as np

from kernels.errors import DTypeError, ShapeError
from kernels.opdef import OPS, OpDef, OpKind, TensorSpec, register  # noqa: F401  (doctest)

REDUCE_OPS = ("sum", "mean", "max", "min")


def _check_reduce_op(name: str, reduce: str, dtype: np.dtype) -> None:
    if reduce not in REDUCE_OPS:
        raise DTypeError(f"{name}: op must be one of {', '.join(REDUCE_OPS)}, got {reduce!r}")
    if reduce == "mean" and np.dtype(dtype).kind != "f":
        raise DTypeError(f"{name}: op='mean' needs a floating tensor, got "
                         f"{np.dtype(dtype).name}; use op='sum' on integers")


def _all_reduce_rule(x, *, group, reduce):
    _check_reduce_op("all_reduce", reduce, x.dtype)
    return TensorSpec(tuple(x.shape), x.dtype)


def _broadcast_rule(x, *, group, src):
    if not 0 <= src < group.size:
        raise ShapeError(f"broadcast: src must be a rank in [0, {group.size}), got {src}")
    return TensorSpec(tuple(x.shape), x.dtype)


def _all_gather_rule(x, *, group):
    if not x.shape:
        raise ShapeError("all_gather: needs a tensor with at least one dimension, got a 0-d "
                         "one; reshape it to (1,) first")
    return TensorSpec((x.shape[0] * group.size, *x.shape[1:]), x.dtype)


def _reduce_scatter_rule(x, *, group, reduce):
    _check_reduce_op("reduce_scatter", reduce, x.dtype)
    if not x.shape or x.shape[0] % group.size:
        raise ShapeError(f"reduce_scatter: the first dimension of shape {tuple(x.shape)} "
                         f"must be divisible by the world size {group.size}")
    return TensorSpec((x.shape[0] // group.size, *x.shape[1:]), x.dtype)


def _method(name: str):
    def impl(xp):
        def run(x, *, group, **attrs):
            return getattr(group, name)(x, **attrs)
        return run
    return impl


all_reduce = register(OpDef("all_reduce", OpKind.COLLECTIVE, 1, _method("all_reduce"),
                            _all_reduce_rule, fusable=False))
broadcast = register(OpDef("broadcast", OpKind.COLLECTIVE, 1, _method("broadcast"),
                           _broadcast_rule, fusable=False, differentiable=False))
all_gather = register(OpDef("all_gather", OpKind.COLLECTIVE, 1, _method("all_gather"),
                            _all_gather_rule, fusable=False))
reduce_scatter = register(OpDef("reduce_scatter", OpKind.COLLECTIVE, 1,
                                _method("reduce_scatter"), _reduce_scatter_rule,
                                fusable=False))
