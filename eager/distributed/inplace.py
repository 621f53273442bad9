"""PyTorch's collectives, in place: `dist.all_reduce(t)` leaves the result in `t`.

Each call returns None, or with `async_op=True` a `Work` whose `wait()` finishes the
write. On CPU tensors in eager mode MPI reduces straight into the tensor's memory (no
copy); otherwise (a tracer or `@jit` listening, a gradient to record, a GPU tensor or
a strided view) the call is the functional collective plus an in-place write, which a
trace records as the op and a write-back, replayed in order.

>>> import eager, eager.distributed as dist
>>> dist.init_process_group("gloo")
>>> t = eager.tensor([1.0, 2.0])
>>> dist.all_reduce(t, op=dist.ReduceOp.AVG)
>>> t.tolist()
[1.0, 2.0]
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from eager import arguments
from eager.dispatch import get_hook
from eager.distributed import functional as fc
from eager.distributed.functional import ReduceOp
from eager.distributed.state import _default_group_only, group_for
from eager.interpreters import grad_enabled
from eager.ops.inplace import inplace_update
from eager.ops.shape import reshape
from eager.tensor import Tensor
from kernels.errors import ShapeError


class InPlaceWork:
    """An in-place collective in flight (PyTorch's `Work`): `wait()` completes it."""

    def __init__(self, finish: Callable[[], None], is_completed: Callable[[], bool]):
        self._finish, self._is_completed = finish, is_completed

    def is_completed(self) -> bool:
        """Whether the exchange has finished (never blocks)."""
        return self._finish is None or self._is_completed()

    def wait(self) -> bool:
        """Block until the result is in the tensor (at most the group's timeout); True."""
        if self._finish is not None:
            self._finish()
            self._finish = None
        return True


def _direct(t: Tensor) -> bool:
    """Whether MPI may write into t's memory itself: nobody records this op."""
    return (t._device == "cpu" and t._data.flags.c_contiguous and t._data.flags.writeable
            and get_hook() is None and not (t._requires_grad and grad_enabled()))


def _written(t: Tensor) -> None:
    root = t if t._base is None else t._base
    root._version += 1


def _finish(async_op: bool, wait: Callable[[], None], is_completed: Callable[[], bool]):
    work = InPlaceWork(wait, is_completed)
    if async_op:
        return work
    work.wait()
    return None


def _via_functional(work, write: Callable[[Tensor], None], async_op: bool):
    if not async_op:
        write(work)
        return None
    return InPlaceWork(lambda: write(work.wait()), work.is_completed)


def _in_place(name: str, tensor: Tensor, async_op: bool, functional: Callable,
              direct: Callable, **signature):
    """Run collective `name` on `tensor` in place: straight into its memory where nobody
    records the op (`direct(exchange)` starts it), else `functional()` plus a write-back."""
    if not _direct(tensor):
        return _via_functional(functional(), lambda r: inplace_update(tensor, r, name),
                               async_op)
    pending = direct(fc.prepare(name, tensor, **signature))
    _written(tensor)
    return _finish(async_op, pending.wait, pending.is_completed)


def all_reduce(tensor: Tensor, op: str = ReduceOp.SUM, group=None, async_op: bool = False):
    """Replace `tensor` on every rank with the elementwise `op` of it over all ranks.

    >>> import eager, eager.distributed as dist
    >>> dist.init_process_group()
    >>> t = eager.tensor([3.0, -1.0])
    >>> work = dist.all_reduce(t, op=dist.ReduceOp.MAX, async_op=True)
    >>> work.wait(), t.tolist()
    (True, [3.0, -1.0])
    """
    _default_group_only("all_reduce", group)
    tensor = arguments.tensor("all_reduce", "tensor", tensor)
    return _in_place("all_reduce", tensor, async_op,
                     lambda: fc.all_reduce(tensor, op, async_op=async_op),
                     lambda exchange: exchange.all_reduce_async(tensor._data, op, in_place=True),
                     reduce=op)


def broadcast(tensor: Tensor, src: int = 0, group=None, async_op: bool = False):
    """Replace `tensor` on every rank with rank `src`'s.

    >>> import eager, eager.distributed as dist
    >>> dist.init_process_group()
    >>> t = eager.tensor([5, 6]); dist.broadcast(t, src=0); t.tolist()
    [5, 6]
    """
    _default_group_only("broadcast", group)
    tensor = arguments.tensor("broadcast", "tensor", tensor)
    return _in_place("broadcast", tensor, async_op,
                     lambda: fc.broadcast(tensor, src, async_op=async_op),
                     lambda exchange: exchange.broadcast_async(tensor._data, src, in_place=True),
                     src=src)


def all_gather(tensor_list: Sequence[Tensor], tensor: Tensor, group=None,
               async_op: bool = False):
    """Fill `tensor_list[r]` with rank r's `tensor`, for every rank r.

    >>> import eager, eager.distributed as dist
    >>> dist.init_process_group()
    >>> out = [eager.zeros(2) for _ in range(dist.get_world_size())]
    >>> dist.all_gather(out, eager.tensor([1.0, 2.0])); out[0].tolist()
    [1.0, 2.0]
    """
    _default_group_only("all_gather", group)
    tensor = arguments.tensor("all_gather", "tensor", tensor)
    outputs = arguments.tensors("all_gather", "tensor_list", tensor_list)
    world = group_for(tensor._device, "all_gather").size
    if len(outputs) != world or any(o.shape != tensor.shape for o in outputs):
        raise ShapeError(f"all_gather: tensor_list must hold world_size() = {world} tensors "
                         f"of the input's shape {tensor.shape}, got "
                         f"{[o.shape for o in outputs]}")

    def write(gathered: Tensor) -> None:
        for r, out in enumerate(outputs):
            inplace_update(out, gathered[r], "all_gather")

    stacked = fc.all_gather(reshape(tensor, (1, *tensor.shape)), async_op=async_op)
    return _via_functional(stacked, write, async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None,
                           async_op: bool = False):
    """Write every rank's `input_tensor`, concatenated along dim 0 in rank order (or
    stacked, if `output_tensor` has shape (world_size, *input.shape)), into
    `output_tensor`.

    >>> import eager, eager.distributed as dist
    >>> dist.init_process_group()
    >>> out = eager.zeros(2 * dist.get_world_size())
    >>> dist.all_gather_into_tensor(out, eager.tensor([1.0, 2.0])); out[:2].tolist()
    [1.0, 2.0]
    """
    _default_group_only("all_gather_into_tensor", group)
    inp = arguments.tensor("all_gather_into_tensor", "input_tensor", input_tensor)
    out = arguments.tensor("all_gather_into_tensor", "output_tensor", output_tensor)
    world = group_for(inp._device, "all_gather_into_tensor").size
    stacked = (world, *inp.shape)
    concatenated = (world * inp.shape[0], *inp.shape[1:]) if inp.shape else None
    if out.shape not in (stacked, concatenated):
        raise ShapeError(f"all_gather_into_tensor: output_tensor must have shape "
                         f"{concatenated or stacked} (or {stacked}) for an input of shape "
                         f"{inp.shape} on {world} ranks, got {out.shape}")
    gathered = fc.all_gather(reshape(inp, (1, *inp.shape)), async_op=async_op)
    return _via_functional(
        gathered,
        lambda r: inplace_update(out, reshape(r, out.shape), "all_gather_into_tensor"),
        async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: str = ReduceOp.SUM,
                          group=None, async_op: bool = False):
    """Reduce `input` over ranks and write chunk r (of world_size() along dim 0) into
    rank r's `output`.

    >>> import eager, eager.distributed as dist
    >>> dist.init_process_group()
    >>> n = dist.get_world_size(); out = eager.zeros(2)
    >>> dist.reduce_scatter_tensor(out, eager.ones(2 * n), op=dist.ReduceOp.AVG)
    >>> out.tolist()
    [1.0, 1.0]
    """
    _default_group_only("reduce_scatter_tensor", group)
    out = arguments.tensor("reduce_scatter_tensor", "output", output)
    inp = arguments.tensor("reduce_scatter_tensor", "input", input)
    return _via_functional(
        fc.reduce_scatter(inp, op, async_op=async_op),
        lambda r: inplace_update(out, r, "reduce_scatter_tensor"), async_op)
