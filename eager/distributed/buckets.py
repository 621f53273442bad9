"""Gradient buckets: average parameter gradients over ranks, one all-reduce per bucket.

Parameters are grouped in reverse registration order (about the order backward
finishes them) into buckets of at most `cap_bytes`. A gradient-ready hook in the
autograd engine counts each bucket's finished gradients; once a bucket is complete and
every bucket before it has started, its all-reduce starts, so communication overlaps
the rest of backward and every rank issues the buckets in the same order (PyTorch's
rule: a rank whose gradients finish in another order must not pair its bucket 2 with a
peer's bucket 1). At the end of backward the reducer waits for every bucket and hands
each parameter the mean of its gradient over all ranks.

A parameter that got no gradient in this backward takes part with zeros, so every rank
still issues the same all-reduces (a peer never waits for a bucket that never comes).
Without `find_unused_parameters` the reducer then raises UnusedParametersError naming
those parameters. With it, PyTorch's rule holds: the ranks also all-reduce which
parameters each one used; a parameter some rank used gets the mean on every rank, one
no rank used keeps its `.grad` untouched (None stays None).

Eager mode flattens each bucket with numpy (dividing by the world size on the way, as
PyTorch does, so the average costs no pass of its own) and starts a non-blocking
all-reduce. Under a tracer (a `@jit` step being recorded), the same bucket is flattened
and averaged with eager ops and the all_reduce op, so the graph holds one collective
per bucket, in bucket order, and the replay keeps that bucketing.
"""
from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from eager.autograd.engine import register_backward_end_hook, register_grad_ready_hook
from eager.creation import from_array
from eager.dispatch import apply, get_hook
from eager.distributed.errors import UnusedParametersError
from eager.distributed.functional import ReduceOp, all_reduce
from eager.ops.shape import concat, reshape
from eager.tensor import Tensor
from kernels import OPS


class Bucket:
    """Parameters whose gradients travel in one all-reduce."""

    def __init__(self, params: Sequence[Tensor]) -> None:
        self.params = list(params)
        self.sizes = [int(np.prod(p.shape)) for p in self.params]
        self.ready: set[int] = set()
        self.pending = None
        self.buffer = None

    def reset(self) -> None:
        """Forget this pass: nothing ready, nothing in flight."""
        self.ready, self.pending = set(), None


def plan_buckets(params: Sequence[Tensor], cap_bytes: int) -> list[Bucket]:
    """Group params (given in backward order) into buckets of at most cap_bytes each
    (one parameter larger than that gets a bucket of its own); a bucket holds one dtype
    and device.

    >>> import eager
    >>> ps = [eager.zeros(10), eager.zeros(10), eager.zeros(30)]
    >>> [len(b.params) for b in plan_buckets(ps, cap_bytes=80)]
    [2, 1]
    """
    buckets: list[list[Tensor]] = []
    used = 0
    for p in params:
        nbytes = p._data.nbytes
        last = buckets[-1] if buckets else None
        if last is None or used + nbytes > cap_bytes or (
                last[0].dtype, last[0].device) != (p.dtype, p.device):
            buckets.append([p])
            used = nbytes
        else:
            last.append(p)
            used += nbytes
    return [Bucket(b) for b in buckets]


class Reducer:
    """Starts each bucket's all-reduce when its gradients are final; finishes them at the
    end of backward. `enabled` False (DistributedDataParallel.no_sync) lets gradients
    accumulate locally.

    names maps id(param) to its name for error messages; find_unused_parameters lets
    parameters go without a gradient; as_views leaves each averaged .grad a view of the
    bucket's buffer (rewritten by the next backward) instead of memory of its own."""

    def __init__(self, buckets: list[Bucket], groups, *, names: dict[int, str],
                 find_unused_parameters: bool = False, as_views: bool = False) -> None:
        self.buckets = buckets
        self.groups = groups
        self.enabled = True
        self.names = names
        self.find_unused_parameters = find_unused_parameters
        self.as_views = as_views
        self._bucket_of = {id(p): b for b in buckets for p in b.params}
        self._next = 0
        me = weakref.ref(self)
        self.handles = [register_grad_ready_hook(p, _call(me, "grad_ready"))
                        for b in buckets for p in b.params]
        self.handles.append(register_backward_end_hook(_call(me, "finish")))

    def grad_ready(self, param: Tensor) -> None:
        """Engine hook: param's gradient is final for this backward."""
        if not self.enabled:
            return
        bucket = self._bucket_of[id(param)]
        bucket.ready.add(id(param))
        if len(bucket.ready) == len(bucket.params):
            self._launch_in_order(complete_only=True)

    def finish(self) -> None:
        """Engine hook at the end of backward: start the buckets still waiting (their
        missing gradients as zeros), wait for all, store the averaged gradients."""
        if not self.enabled or not any(b.ready for b in self.buckets):
            return
        self._launch_in_order(complete_only=False)
        self._next = 0
        ready = set().union(*(b.ready for b in self.buckets))
        unused = [key for key in self.names if key not in ready]
        untouched = self._globally_unused(unused) if self.find_unused_parameters else set()
        for bucket in self.buckets:
            flat = bucket.pending
            if not isinstance(flat, Tensor):
                array = flat.wait()
                flat = from_array(array if self.as_views else array.copy(),
                                  bucket.params[0].device)
            self._store(bucket, flat, untouched)
            bucket.reset()
        if unused and not self.find_unused_parameters:
            raise UnusedParametersError(
                f"DistributedDataParallel: {len(unused)} parameter(s) got no gradient in "
                f"this backward: {', '.join(self.names[k] for k in unused)}; they were "
                "averaged as zeros. Pass find_unused_parameters=True if the forward does "
                "not use every parameter every step, or leave the unused ones out of the "
                "module")

    def _launch_in_order(self, *, complete_only: bool) -> None:
        while self._next < len(self.buckets):
            bucket = self.buckets[self._next]
            if complete_only and len(bucket.ready) < len(bucket.params):
                return
            self._launch(bucket)
            self._next += 1

    def _globally_unused(self, unused: list[int]) -> set[int]:
        """ids of the parameters no rank used in this backward (every rank joins this
        one small all-reduce of used flags, whether or not it has unused ones)."""
        order, missing = list(self.names), set(unused)
        used = np.array([key not in missing for key in order], np.uint8)
        flags = all_reduce(from_array(used, "cpu"), ReduceOp.MAX).numpy()
        return {key for key, flag in zip(order, flags) if not flag}

    def _launch(self, bucket: Bucket) -> None:
        group = self.groups(bucket.params[0].device)
        if get_hook() is not None:
            # Recorded: the graph gets the flatten and one all_reduce op; finish splits.
            flat = concat([reshape(_grad_or_zeros(p), (-1,)) for p in bucket.params])
            bucket.pending = apply(OPS.all_reduce, flat, group=group, reduce="mean")
            return
        xp = np if bucket.params[0].device == "cpu" else _cupy()
        if bucket.buffer is None:
            bucket.buffer = xp.empty(sum(bucket.sizes), bucket.params[0].dtype)
        # One buffer per bucket, reduced in place; each gradient is divided by the world
        # size as it is copied in, so the all-reduce is a plain sum.
        offset = 0
        for p, n in zip(bucket.params, bucket.sizes):
            grad = p.grad
            view = bucket.buffer[offset:offset + n]
            if grad is None:
                view.fill(0)
            else:
                xp.divide(grad._data.reshape(-1), group.size, out=view)
            offset += n
        bucket.pending = group.all_reduce_async(bucket.buffer, "sum", in_place=True)

    @staticmethod
    def _store(bucket: Bucket, flat: Tensor, untouched: set[int]) -> None:
        offset = 0
        for p, n in zip(bucket.params, bucket.sizes):
            if id(p) not in untouched:
                p.grad = reshape(flat[offset:offset + n], p.shape)
            offset += n

    def remove(self) -> None:
        """Unregister the engine hooks."""
        for handle in self.handles:
            handle.remove()


def _call(ref, method: str):
    def hook(*args):
        reducer = ref()
        if reducer is not None:
            getattr(reducer, method)(*args)
    return hook


def _grad_or_zeros(p: Tensor) -> Tensor:
    grad = p.grad
    if grad is not None:
        return grad
    return apply(OPS.full, shape=p.shape, value=0, dtype=p.dtype, device=p.device)


def _cupy():
    import cupy

    return cupy
