"""Functional collectives on Tensors: each runs one `kernels.collectives` op through
dispatch and returns a new tensor (like `torch.distributed._functional_collectives`).

Eager mode, the tracer and `@jit` see one op like any other: a jitted step replays its
collectives in traced order, and gradients flow through them. With `async_op=True` they
return a `Work` whose `wait()` gives the tensor; the exchange then overlaps whatever the
caller does meanwhile (under a tracer, or when the result needs a gradient, it
completes at once instead). The in-place forms of `eager.distributed` (PyTorch's
`dist.all_reduce(t)`) are built on these.

>>> import eager, eager.distributed as dist
>>> from eager.distributed import functional as fc
>>> dist.init()
>>> t = eager.tensor([1.0, 2.0])
>>> (fc.all_reduce(t) / dist.world_size()).tolist()
[1.0, 2.0]
"""
from __future__ import annotations

from eager import arguments
from eager.autograd.rules import NOTHING, backward
from eager.creation import from_array
from eager.dispatch import apply, get_hook, spec_of
from eager.distributed.state import _host, group_for
from eager.interpreters import grad_enabled
from eager.tensor import Tensor
from kernels import OPS
from kernels.errors import AutogradError


class ReduceOp:
    """The reductions, under PyTorch's names: `op=ReduceOp.SUM` is `op="sum"`.

    >>> ReduceOp.AVG
    'mean'
    """

    SUM = "sum"
    AVG = "mean"
    MAX = "max"
    MIN = "min"


class Work:
    """A collective in flight. `wait()` returns its result tensor."""

    def __init__(self, pending=None, device: str = "cpu", result: Tensor | None = None):
        self._pending, self._device, self._result = pending, device, result

    def is_completed(self) -> bool:
        """Whether the result is ready (never blocks)."""
        return self._result is not None or self._pending.is_completed()

    def wait(self) -> Tensor:
        """Block until done (at most the group's timeout) and return the result."""
        if self._result is None:
            self._result = from_array(self._pending.wait(), self._device)
            self._pending = None
        return self._result


def prepare(name: str, t, **attrs):
    """Check a collective's arguments on this rank (named errors before any exchange),
    start the cross-rank layout check, and return the group that will run it."""
    group = group_for(t._device, name)
    OPS[name].infer(spec_of(t), group=group, **attrs)
    if t._device == "cpu":
        group.announce(name, t._data, **attrs)
    return group


def _run(name: str, t, async_op: bool, **attrs):
    t = arguments.tensor(name, "tensor", t)
    group = prepare(name, t, **attrs)
    op = OPS[name]
    if not async_op:
        return apply(op, t, group=group, **attrs)
    if get_hook() is not None or (t._requires_grad and grad_enabled()):
        return Work(result=apply(op, t, group=group, **attrs))
    pending = getattr(group, f"{name}_async")(t._data, **attrs)
    return Work(pending, t._device)


def all_reduce(tensor: Tensor, op: str = ReduceOp.SUM, *, async_op: bool = False):
    """Elementwise `op` ("sum", "mean", "max", "min") of `tensor` over all ranks.

    >>> import eager, eager.distributed as dist
    >>> from eager.distributed import functional as fc
    >>> dist.init()
    >>> fc.all_reduce(eager.tensor([3.0, -1.0]), op="max").tolist()
    [3.0, -1.0]
    """
    return _run("all_reduce", tensor, async_op, reduce=op)


def broadcast(tensor: Tensor, src: int = 0, *, async_op: bool = False):
    """Rank `src`'s `tensor`, on every rank (all ranks pass the same shape and dtype).

    >>> import eager, eager.distributed as dist
    >>> from eager.distributed import functional as fc
    >>> dist.init()
    >>> fc.broadcast(eager.tensor([5, 6]), src=0).tolist()
    [5, 6]
    """
    return _run("broadcast", tensor, async_op, src=src)


def all_gather(tensor: Tensor, *, async_op: bool = False):
    """Every rank's `tensor` concatenated along axis 0, in rank order.

    >>> import eager, eager.distributed as dist
    >>> from eager.distributed import functional as fc
    >>> dist.init()
    >>> fc.all_gather(eager.ones(2, 3)).shape[0] == 2 * dist.world_size()
    True
    """
    return _run("all_gather", tensor, async_op)


def reduce_scatter(tensor: Tensor, op: str = ReduceOp.SUM, *, async_op: bool = False):
    """Reduce `tensor` over ranks and give rank r chunk r of world_size() along axis 0.

    >>> import eager, eager.distributed as dist
    >>> from eager.distributed import functional as fc
    >>> dist.init()
    >>> n = dist.world_size()
    >>> fc.reduce_scatter(eager.ones(2 * n), op="mean").tolist()
    [1.0, 1.0]
    """
    return _run("reduce_scatter", tensor, async_op, reduce=op)


def barrier() -> None:
    """Return once every rank has called barrier().

    >>> import eager.distributed as dist
    >>> dist.init(); dist.barrier()
    """
    _host().barrier()


# ---- gradients: each collective's adjoint is another collective ----------------------
@backward(OPS.all_reduce, saves=NOTHING)
def _all_reduce_grad(n, g, needs):
    reduce = n.attrs["reduce"]
    if reduce not in ("sum", "mean"):
        raise AutogradError(f"all_reduce: op={reduce!r} has no gradient; differentiate "
                            "through op='sum' or op='mean'")
    return (apply(OPS.all_reduce, g, group=n.attrs["group"], reduce=reduce),)


@backward(OPS.all_gather, saves=NOTHING)
def _all_gather_grad(n, g, needs):
    return (apply(OPS.reduce_scatter, g, group=n.attrs["group"], reduce="sum"),)


@backward(OPS.reduce_scatter, saves=NOTHING)
def _reduce_scatter_grad(n, g, needs):
    group = n.attrs["group"]
    gathered = apply(OPS.all_gather, g, group=group)
    return (gathered / group.size if n.attrs["reduce"] == "mean" else gathered,)
