"""Replaying a Graph through eager dispatch, for when someone must see every op.

The array interpreter runs kernels on raw arrays, which neither a hook nor autograd sees.
Two callers need more:

- a graph called inside a function that is itself being traced (or jit-recorded): the
  outer tracer must see each op, each host read and each write-back, or its own graph
  would silently treat the results as constants;
- a graph whose outputs eager autograd would have recorded (gradients on, and a
  returned value required grad while tracing): the caller may call `backward()` on it.

`DispatchInterpreter` is the backend for both: the same `ExecutionPlan` and walk as the
array interpreter, with the hooks overridden: nodes run through `eager.dispatch.apply`
with gradients on exactly for the nodes whose outputs required grad while tracing (the
graph already holds any backward pass it recorded; optimizer updates ran under no_grad),
guards repeat the traced host read through the Tensor methods that report it, and
write-backs use the eager in-place path under no_grad.

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
from tracer.graph import GradOf, Graph, Guard, Value
from tracer.interpreter import Interpreter
from tracer.plan import NodeStep, check_guard, tensor_at


class DispatchInterpreter(Interpreter):
    """Runs the plan with eager ops on Tensors; with `differentiable`, nodes that recorded
    autograd history while tracing record it again."""

    def __init__(self, graph: Graph, differentiable: bool) -> None:
        super().__init__(graph)
        self.differentiable = differentiable

    def run(self, leaves: list) -> Any:
        """Run on the argument leaves (under no_grad but for differentiable nodes)."""
        with no_grad():
            return super().run(leaves)

    def bind_inputs(self, leaves: list) -> list:
        """Tensors in the environment; the plan's entry checks run first, on arrays."""
        plan = self.plan
        arrays = super().bind_inputs(leaves)
        env: list = [None] * len(arrays)
        for arg in plan.args:
            env[arg.slot] = leaves[arg.leaf]
        for v in self.graph.inputs:
            if v.kind == "const":
                env[v.id] = from_array(v.data.copy(), v.device)
            elif v.kind == "ref" and isinstance(v.ref, GradOf):
                env[v.id] = tensor_at(plan.source_of(v.ref.owner), leaves).grad
            elif v.kind == "ref":
                env[v.id] = v.ref
        for guard in plan.entry_guards:
            if guard.kind != "grad_defined":
                self.check_guard(guard, env[guard.value.id])
        return env

    def run_node(self, step: NodeStep, env: list) -> Any:
        """One eager op through dispatch, so tracers and autograd see it."""
        node = step.node
        inputs = [env[x.id] if isinstance(x, Value) else x for x in node.inputs]
        attrs = node.attrs
        if not any(type(x) is Tensor for x in inputs):
            attrs = {**attrs, "device": node.out.device}
        if self.differentiable and node.out.requires_grad:
            with enable_grad():
                return apply(node.op, *inputs, **attrs)
        return apply(node.op, *inputs, **attrs)

    def explain(self, step: NodeStep, exc: Exception) -> Exception:
        """Errors pass through as raised: eager ops (and an outer tracer) name their own."""
        return exc

    def check_guard(self, guard: Guard, value: Tensor) -> None:
        """Repeat the host read the traced code made (so an outer tracer guards on it too),
        then check it."""
        if guard.kind == "shape":
            hook = get_hook()
            if hook is not None:
                hook.host_read(value, "shape", value.shape)
        elif guard.kind == "bool":
            bool(value)
        elif guard.kind == "item":
            value.item()
        elif guard.kind == "tolist":
            value.tolist()
        elif guard.kind == "numpy":
            value.numpy()
        else:
            raise GuardFailure(guard, value)
        check_guard(guard, value._data)

    def write_back(self, env: list, leaves: list) -> None:
        """The eager in-place path (views and version counters as eager code has them)."""
        for wb in self.graph.writebacks:
            target = tensor_at(self.plan.source_of(wb.target), leaves)
            value = None if wb.value is None else env[wb.value.id]
            if wb.slot == "data":
                inplace_update(target, value, "write-back")
            else:
                target.grad = value

    def outputs(self, env: list, leaves: list) -> Any:
        """The outputs as the Tensors the eager ops made."""
        return self.plan.outputs_from(lambda vid, device: env[vid], leaves)
