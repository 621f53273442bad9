"""Replaying a Graph through eager dispatch, for when someone must see every op.

The fast interpreter runs kernels on raw arrays, which neither a hook nor autograd sees.
Two callers need more:

- a graph called inside a function that is itself being traced (or jit-recorded): the
  outer tracer must see each op, each host read and each write-back, or its own graph
  would silently treat the results as constants;
- a graph whose outputs eager autograd would have recorded (gradients on, and a
  returned value required grad while tracing): the caller may call `backward()` on it.

So these replays run node by node through `eager.dispatch.apply`, with gradients on
exactly for the nodes whose outputs required grad while tracing (the graph already holds
any backward pass it recorded; optimizer updates ran under no_grad), write back with the
eager in-place path under no_grad, and check guards through the Tensor methods that
report host reads.

>>> import eager, tracer
>>> inner = tracer.trace(lambda x: x.exp(), eager.zeros(2))
>>> outer = tracer.trace(lambda x: inner(x) + 1, eager.zeros(2))
>>> [n.op.name for n in outer.nodes]
['exp', 'add']
>>> w = eager.tensor([1., 2.], requires_grad=True)
>>> loss = tracer.trace(lambda x: (x * w).sum(), eager.ones(2))
>>> out = loss(eager.tensor([3., 4.]))
>>> out.backward(); w.grad.tolist()
[3.0, 4.0]
"""
from __future__ import annotations

from typing import Any

from eager.autograd.grad_mode import enable_grad, no_grad
from eager.creation import from_array
from eager.dispatch import apply, get_hook
from eager.ops.inplace import inplace_update
from eager.tensor import Tensor
from tracer.errors import GuardFailure
from tracer.graph import GradOf, Guard, Value


def run_through_dispatch(plan, leaves: list, differentiable: bool) -> Any:
    """Run `plan.graph` with eager ops on the argument leaves; return its outputs. With
    `differentiable`, nodes that recorded autograd history while tracing record it again.
    """
    graph = plan.graph
    env: dict[int, Any] = {}
    arrays: list = [None] * graph._next_id
    for leaf_index, slot in plan.arg_slots:
        leaf = env[slot] = leaves[leaf_index]
        arrays[slot] = leaf._data if type(leaf) is Tensor else leaf
    plan.read_state(arrays, leaves)  # the same entry checks as a replay
    for v in graph.inputs:
        if v.kind == "const":
            env[v.id] = from_array(v.data.copy(), v.device)
        elif v.kind == "ref" and isinstance(v.ref, GradOf):
            env[v.id] = plan._tensor_of(plan._resolver(v.ref.owner), leaves).grad
        elif v.kind == "ref":
            env[v.id] = v.ref
    for guard in plan.entry_guards:
        if guard.kind != "grad_defined":
            _read_like_the_trace(guard, env[guard.value.id])
    with no_grad():
        for node, step in zip(graph.nodes, plan.steps):
            inputs = [env[x.id] if isinstance(x, Value) else x for x in node.inputs]
            attrs = node.attrs
            if not any(type(x) is Tensor for x in inputs):
                attrs = {**attrs, "device": node.out.device}
            if differentiable and node.out.requires_grad:
                with enable_grad():
                    out = apply(node.op, *inputs, **attrs)
            else:
                out = apply(node.op, *inputs, **attrs)
            env[node.out.id] = out
            for guard in step[5] or ():  # the guards the plan checks after this node
                _read_like_the_trace(guard, out)
        for wb in graph.writebacks:
            target = plan._tensor_of(plan._resolver(wb.target), leaves)
            value = None if wb.value is None else env[wb.value.id]
            if wb.slot == "data":
                inplace_update(target, value, "write-back")
            else:
                target.grad = value
    return plan.outputs_from(lambda vid, device: env[vid], leaves)


def _read_like_the_trace(guard: Guard, out: Tensor) -> None:
    """Repeat the host read the traced code made (so an outer tracer guards on it too)."""
    from tracer.interpreter import _check_guard

    if guard.kind == "shape":
        hook = get_hook()
        if hook is not None:
            hook.host_read(out, "shape", out.shape)
    elif guard.kind == "bool":
        bool(out)
    elif guard.kind == "item":
        out.item()
    elif guard.kind == "tolist":
        out.tolist()
    elif guard.kind == "numpy":
        out.numpy()
    else:
        raise GuardFailure(f"guard kind {guard.kind!r} cannot be replayed")
    _check_guard(guard, out._data)
