"""`DistributedDataParallel`: train one model replica per rank, gradients averaged.

PyTorch's name and behaviour: at construction rank 0's parameters and buffers are
copied to every rank; during backward each bucket of about `bucket_cap_mb` of gradients
is averaged over all ranks as soon as it is complete (overlapping the rest of
backward); when backward returns every rank holds the same averaged `.grad`, so the same
optimizer step keeps the replicas identical. `no_sync()` skips the averaging, to
accumulate gradients locally over several micro-batches. A backward must reach every
parameter unless find_unused_parameters=True (PyTorch's rule).

>>> import eager, eager.distributed as dist
>>> from eager import nn
>>> dist.init()
>>> model = DistributedDataParallel(nn.Linear(3, 2))
>>> model(eager.ones(4, 3)).sum().backward()
>>> model.module.weight.grad.shape
(2, 3)
"""
from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from eager.distributed.buckets import Reducer, plan_buckets
from eager.distributed.functional import broadcast
from eager.distributed.state import group_for
from eager.nn.errors import ArgumentError
from eager.nn.module import Module
from eager.tensor import Tensor

DEFAULT_BUCKET_CAP_MB = 25.0


class DistributedDataParallel(Module):
    """Wrap `module` so backward averages its gradients over all ranks.

    PyTorch's keywords: bucket_cap_mb bounds the bytes of gradients per all-reduce;
    broadcast_buffers copies rank 0's buffers to every rank at the start of each
    forward; find_unused_parameters lets a backward leave parameters without a gradient
    (as in PyTorch: one that some rank used gets the mean, a zero standing in for the
    ranks that did not, on every rank; one that no rank used keeps its .grad as it was,
    None if it was None; without it such a backward raises UnusedParametersError naming
    them); gradient_as_bucket_view makes each averaged
    .grad a view of its bucket (no copy, but the next backward rewrites it);
    static_graph is accepted (the reducer already adapts to each backward, so it
    changes nothing here). device_ids and output_device are accepted for PyTorch
    scripts: the module's parameters already say where it runs, so they must be None
    or name that one device.
    """

    def __init__(self, module: Module, device_ids: Sequence[int | str] | None = None,
                 output_device: int | str | None = None, *,
                 broadcast_buffers: bool = True,
                 bucket_cap_mb: float = DEFAULT_BUCKET_CAP_MB,
                 find_unused_parameters: bool = False,
                 gradient_as_bucket_view: bool = False,
                 static_graph: bool = False) -> None:
        if not isinstance(module, Module):
            raise ArgumentError(f"DistributedDataParallel: module must be an nn.Module, got "
                                f"{type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ArgumentError(f"DistributedDataParallel: bucket_cap_mb must be positive, "
                                f"got {bucket_cap_mb}")
        super().__init__()
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        named = _unique((n, p) for n, p in module.named_parameters() if p.requires_grad)
        params = [p for _, p in named]
        _check_devices(params, device_ids, output_device)
        buckets = plan_buckets(params[::-1], int(bucket_cap_mb * 2**20))
        _verify_layout(params, buckets, find_unused_parameters)
        for t in (*params, *(b for _, b in module.named_buffers())):
            _copy_from_rank0(t)
        # the layout was verified across ranks above; the buckets need no per-call check
        reducer = Reducer(buckets, lambda device: group_for(
            device, "DistributedDataParallel").unchecked(),
            names={id(p): n for n, p in named},
            find_unused_parameters=find_unused_parameters,
            as_views=gradient_as_bucket_view)
        object.__setattr__(self, "reducer", reducer)
        weakref.finalize(self, reducer.remove)

    @property
    def bucket_sizes(self) -> list[int]:
        """How many parameters each bucket holds, in the order they are reduced."""
        return [len(b.params) for b in self.reducer.buckets]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Run the wrapped module (after syncing buffers from rank 0 if asked to)."""
        if self.broadcast_buffers:
            for _, buf in self.module.named_buffers():
                _copy_from_rank0(buf)
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Within this block backward leaves gradients local (they accumulate); the first
        backward after it averages the accumulated sums.

        >>> import eager, eager.distributed as dist
        >>> from eager import nn
        >>> dist.init(); model = DistributedDataParallel(nn.Linear(2, 1))
        >>> with model.no_sync():
        ...     model(eager.ones(1, 2)).sum().backward()
        >>> model.module.bias.grad.tolist()
        [1.0]
        """
        enabled = self.reducer.enabled
        self.reducer.enabled = False
        try:
            yield
        finally:
            self.reducer.enabled = enabled

    def extra_repr(self) -> str:
        return f"buckets={self.bucket_sizes}"


def _unique(named) -> list[tuple[str, Tensor]]:
    seen, out = set(), []
    for name, t in named:
        if id(t) not in seen:
            seen.add(id(t))
            out.append((name, t))
    return out


def _check_devices(params: list[Tensor], device_ids, output_device) -> None:
    devices = {p.device for p in params}
    wanted = {_device_name(d) for d in (*(device_ids or ()), output_device) if d is not None}
    if len(devices) > 1 or (wanted and wanted != devices) or (
            device_ids is not None and len(device_ids) != 1):
        raise ArgumentError(f"DistributedDataParallel: device_ids={device_ids!r}, "
                            f"output_device={output_device!r} do not match the module, "
                            f"whose parameters are on {sorted(devices)}; one replica runs "
                            "on one device: move the module there and leave device_ids out")


def _device_name(device: int | str) -> str:
    # a GPU index names this rank's GPU ("cuda"), as "cuda:1" does
    if isinstance(device, int) or str(device).startswith("cuda"):
        return "cuda"
    return str(device)


def _verify_layout(params: list[Tensor], buckets, find_unused_parameters: bool) -> None:
    """Every rank must wrap a model of the same parameter shapes, dtypes and devices, cut
    into the same buckets (a different bucket_cap_mb would pair unlike all-reduces, which
    run unchecked) and agree on find_unused_parameters (which adds one all-reduce)."""
    layout = tuple((p.device, tuple(p.shape), p.dtype.str) for p in params)
    total = sum(int(np.prod(p.shape)) for p in params)
    dtype = params[0].dtype.str if params else "<f4"
    detail = (f"{len(params)} parameters in buckets of {[len(b.params) for b in buckets]}, "
              f"find_unused_parameters={find_unused_parameters}")
    group_for("cpu", "DistributedDataParallel").verify(
        ("DistributedDataParallel", detail, (total,), dtype, layout))


def _copy_from_rank0(t: Tensor) -> None:
    # Setup, not a step: the copy goes straight into the tensor's memory, like
    # Parameter initialisation, so it is no autograd or tracer event.
    t._data[...] = broadcast(t.detach(), src=0)._data
    t._version += 1
