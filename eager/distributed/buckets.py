"""Gradient buckets: average parameter gradients over ranks, one all-reduce per bucket.

Parameters are grouped in reverse registration order (about the order backward
finishes them) into buckets of at most `cap_bytes`. A gradient-ready hook in the
autograd engine counts each bucket's finished gradients; the moment the last one lands
the bucket's all-reduce starts, so communication overlaps the rest of backward. At the
end of backward the reducer waits for every bucket and hands each parameter the mean
of its gradient over all ranks.

A parameter that got no gradient in this backward takes part with zeros, so every rank
still issues the same all-reduces (a peer never waits for a bucket that never comes);
unless `find_unused_parameters` is on, the reducer then raises UnusedParametersError
naming those parameters, as PyTorch does.

Eager mode flattens each bucket with numpy and starts a non-blocking all-reduce. Under
a tracer (a `@jit` step being recorded), the same bucket is flattened and averaged
with eager ops and the all_reduce op, so the graph holds one collective per bucket, in
the order backward produced them, and the replay keeps that bucketing.
"""
from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from eager.autograd.engine import register_backward_end_hook, register_grad_ready_hook
from eager.creation import from_array
from eager.dispatch import apply, get_hook
from eager.distributed.errors import UnusedParametersError
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
        self._launched: list[Bucket] = []
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
            self._launch(bucket)

    def finish(self) -> None:
        """Engine hook at the end of backward: start buckets whose parameters got no
        gradient this pass (as zeros), wait for all, store the averaged gradients."""
        if not self.enabled or not any(b.ready for b in self.buckets):
            return
        ready = set().union(*(b.ready for b in self.buckets))
        unused = [name for key, name in self.names.items() if key not in ready]
        for bucket in self.buckets:
            if bucket.pending is None:
                self._launch(bucket)
        for bucket in self._launched:
            if bucket.pending is not True:
                flat = bucket.pending.wait()
                self._store(bucket, from_array(flat if self.as_views else flat.copy(),
                                               bucket.params[0].device))
            bucket.reset()
        self._launched = []
        if unused and not self.find_unused_parameters:
            raise UnusedParametersError(
                f"DistributedDataParallel: {len(unused)} parameter(s) got no gradient in "
                f"this backward: {', '.join(unused)}; they were averaged as zeros. Pass "
                "find_unused_parameters=True if the forward does not use every parameter "
                "every step, or leave the unused ones out of the module")

    def _launch(self, bucket: Bucket) -> None:
        self._launched.append(bucket)
        group = self.groups(bucket.params[0].device)
        if get_hook() is not None:
            # Recorded: the graph gets the flatten, one all_reduce op and the split.
            flat = concat([reshape(_grad_or_zeros(p), (-1,)) for p in bucket.params])
            self._store(bucket, apply(OPS.all_reduce, flat, group=group, reduce="mean"))
            bucket.pending = True
            return
        xp = np if bucket.params[0].device == "cpu" else _cupy()
        grads = [_grad_or_zeros(p)._data.reshape(-1) for p in bucket.params]
        if bucket.buffer is None:
            bucket.buffer = xp.empty(sum(bucket.sizes), grads[0].dtype)
        # One buffer per bucket, reduced in place; the averaged .grad are views of it (as
        # PyTorch's gradient_as_bucket_view), so a step allocates no gradient memory.
        xp.concatenate(grads, out=bucket.buffer)
        bucket.pending = group.all_reduce_async(bucket.buffer, "mean", in_place=True)

    @staticmethod
    def _store(bucket: Bucket, flat: Tensor) -> None:
        offset = 0
        for p, n in zip(bucket.params, bucket.sizes):
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
