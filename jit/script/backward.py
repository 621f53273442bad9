"""Gradients through scripted control flow as graph nodes: the backward of a `While` is
loops and that of an `If` a branch, so a jitted training step with data-dependent
control flow replays one graph whatever the data (no guard on it, no retrace).

Autograd through a scripted call runs its graph with `ControlAsOps`: each op through
eager dispatch, so the tape records it, and each `If` / `While` node as one op. The
node's forward is one unit: one C call when it compiles, and the node itself for a
listening tracer. `BranchFunction` pulls gradients back with an `If` on the same
condition whose branches are the two bodies' vector-Jacobian products (each body's
autograd traced into a graph). `LoopFunction` pulls them back with
loops built from the loop's own condition and body over checkpoints of the carried
values (`jit.script.loop_backward`): O(n) body trips for n <= C² trips, static shapes.
Bodies may hold control flow of their own: it runs as
units the same way.

>>> import eager
>>> from jit.script import script
>>> @script
... def shrink(x, r):
...     while x.abs().max() > 1.0:
...         x = x * r
...     return x
>>> x = eager.tensor([8.0, 3.0], requires_grad=True)
>>> r = eager.tensor(0.5, requires_grad=True)
>>> shrink(x, r).sum().backward()
>>> x.grad.tolist(), r.grad.item()   # 3 trips: d/dx = r**3, d/dr = 3 r**2 (8 + 3)
([0.125, 0.125], 8.25)
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from eager.autograd.engine import grad as autograd_grad
from eager.autograd.function import Function
from eager.autograd.grad_mode import enable_grad, no_grad
from eager.creation import zeros, zeros_like
from eager.interpreters import grad_enabled, replace_stack, stack
from eager.tensor import Tensor
from jit.script.regions import blank, renumber, stand_in
from tracer.control import If, While
from tracer.graph import Graph, Value
from tracer.interpreter import Interpreter
from tracer.nested import DispatchInterpreter
from tracer.trace import Tracer, trace


class NotStraight(Exception):
    """A body that cannot become a subgraph of a backward loop (it reads the host, or
    state that is not a parameter)."""


class ControlAsOps(DispatchInterpreter):
    """Runs a graph op by op through eager dispatch (with gradients on when
    `differentiable`), each `If` / `While` node as one op (module doc)."""

    def __init__(self, graph: Graph, differentiable: bool) -> None:
        super().__init__(graph, False)
        self.grad = differentiable

    def run(self, leaves: list) -> Any:
        """The graph's outputs for argument leaves (tensors)."""
        if self.grad:
            with enable_grad():   # every op records autograd history
                return Interpreter.run(self, leaves)
        return super().run(leaves)

    def run_subgraph_node(self, step, env: list) -> None:
        """An `If` / `While` as one op: differentiable when an input requires grad."""
        node = step.node
        if not isinstance(node, (If, While)):
            super().run_subgraph_node(step, env)
            return
        inputs = [env[x.id] for x in node.inputs]
        try:
            if grad_enabled() and any(t._requires_grad for t in inputs):
                function = LoopFunction if isinstance(node, While) else BranchFunction
                outs = function.apply(node, *inputs)
            else:
                outs = run_unit(_unit(node), inputs)
        except NotStraight:
            super().run_subgraph_node(step, env)   # trip by trip, branch by branch
            return
        for v, t in zip(node.outs, outs):
            env[v.id] = t


def run_body(graph: Graph, tensors: list, differentiable: bool = False) -> list[Tensor]:
    """A subgraph's outputs, run by `ControlAsOps`."""
    return list(ControlAsOps(graph, differentiable).run(tensors))


def run_unit(unit, tensors: list) -> list[Tensor]:
    """Run a one-node graph (`jit.script.function.Compiled`) as one op: compiled when it
    can be, and recorded as its node by every listening tracer."""
    from jit.script.embed import record_call

    hooks = stack()
    if hooks and not all(isinstance(h, Tracer) for h in hooks):
        with no_grad():
            return list(DispatchInterpreter(unit.graph, False).run(list(tensors)))
    previous = replace_stack(None)
    try:
        with no_grad():
            result = unit.run(list(tensors))
    finally:
        replace_stack(previous)
    for tracer in hooks:
        record_call(tracer, unit.graph, list(tensors), result)
    return list(result)


_UNITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _unit(node: If | While) -> Any:
    """A node of a scripted graph as a compiled unit of its own (built once)."""
    found = _UNITS.get(node)
    if found is None:
        found = _UNITS[node] = _alone(node, node.op.name, fresh=False)
    return found


def _alone(node: If | While, name: str, fresh: bool) -> Any:
    """`node` as the only node of a graph of its own, compiled (see `run_unit`). A
    `fresh` node's values are numbered anew; a node of another graph keeps its own."""
    from jit.script.function import Compiled

    top = 1 + max(v.id for v in values_of(node))
    params = [Value(top + i, x.shape, x.dtype, x.device, "arg")
              for i, x in enumerate(node.inputs)]
    graph = Graph(name, params, [node.with_inputs(tuple(params))], tuple(node.outs),
                  in_tree=(tuple(params), {}), _next_id=top + len(params))
    if fresh:
        renumber(graph)
    return Compiled(graph.verify())


def values_of(node) -> Any:
    """Every Value a node reads or defines, those of its subgraphs included."""
    yield from (x for x in node.inputs if isinstance(x, Value))
    yield from node.outs
    for sub in node.subgraphs:
        yield from sub.inputs
        for inner in sub.nodes:
            yield from values_of(inner)


def straight_graph(name: str, fn: Callable, examples: list[Tensor]) -> Graph:
    """`fn` traced on stand-ins of `examples` into a loop subgraph: one parameter per
    example, outputs that are nodes of its own."""
    previous = replace_stack(None)
    try:
        with np.errstate(all="ignore"):
            graph = trace(fn, *[stand_in(t) for t in examples])
    finally:
        replace_stack(previous)
    if graph.guards or graph.writebacks or any(v.kind != "arg" for v in graph.inputs):
        raise NotStraight(f"{name} reads the host or state that is not a parameter")
    outputs, seen = [], set()
    for v in graph.outputs:
        if v.kind != "node" or id(v) in seen:
            v = graph.add_node("copy", (v,), {}, v.shape, v.dtype, v.device)
        seen.add(id(v))
        outputs.append(v)
    graph.outputs = tuple(outputs)
    graph.invalidate()
    return graph


def make_loop(name: str, cond: Callable, body: Callable, carried: list[Tensor],
              invariants: list[Tensor]) -> Any:
    """A compiled one-`While` graph: `while cond(*c, *inv): c = body(*c, *inv)`, its types
    those of `carried` and `invariants` (see `run_unit`)."""
    examples = list(carried) + list(invariants)
    cond_graph = straight_graph(f"{name} cond", lambda *xs: (cond(*xs),), examples)
    body_graph = straight_graph(f"{name} body", lambda *xs: tuple(body(*xs)), examples)
    for graph in (cond_graph, body_graph):
        graph.in_tree = (tuple(graph.inputs), {})
    outs = tuple(Value(0, t.shape, t.dtype, t._device, "node") for t in carried)
    params = tuple(Value(0, t.shape, t.dtype, t._device, "arg") for t in examples)
    return _alone(While(params, cond_graph, body_graph, outs, name), name, fresh=True)


def _floating(t: Tensor) -> bool:
    return t.dtype.kind == "f"


def pull_back(graph: Graph, inputs: list, outs: list[int], wanted: list[int],
              g: list) -> list[Tensor]:
    """The vector-Jacobian product of a subgraph: the gradients of its inputs `wanted`
    (positions) given `g` for its outputs `outs`, zeros where none flows."""
    with enable_grad():
        leaves = [t.detach().requires_grad_() if _floating(t) else t for t in inputs]
        results = run_body(graph, leaves, differentiable=True)
        chosen = [leaves[i] for i in wanted]
        grads = autograd_grad([results[k] for k in outs], chosen, grad_outputs=g,
                              allow_unused=True)
    return [zeros_like(w) if d is None else d for d, w in zip(grads, chosen)]


_BACKWARDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _BranchBackward:
    """The `If` whose branches are the vector-Jacobian products of `node`'s branches."""

    def __init__(self, node: If, inputs: list[Tensor]) -> None:
        self.node = node
        self.outs_f = [k for k, v in enumerate(node.outs) if v.dtype.kind == "f"]
        self.inputs_f = [i for i in range(1, len(inputs)) if _floating(inputs[i])]
        grads = [blank(node.outs[k].shape, node.outs[k].dtype, node.outs[k].device)
                 for k in self.outs_f]
        examples = list(inputs) + grads
        then_graph, else_graph = (
            straight_graph(f"{name} vjp", lambda *xs, body=body: tuple(self._pull(body, xs)),
                      examples)
            for name, body in zip(node.labels, node.subgraphs))
        for graph in (then_graph, else_graph):
            graph.in_tree = (tuple(graph.inputs), {})
        params = tuple(Value(0, t.shape, t.dtype, t._device, "arg") for t in examples)
        outs = tuple(Value(0, inputs[i].shape, inputs[i].dtype, inputs[i]._device, "node")
                     for i in self.inputs_f)
        self.backward = _alone(If(params, then_graph, else_graph, outs, "branch vjp"),
                               "branch vjp", fresh=True)

    def _pull(self, body: Graph, xs: tuple) -> list[Tensor]:
        n = len(self.node.inputs)
        return pull_back(body, list(xs[:n]), self.outs_f, self.inputs_f, list(xs[n:]))

    def gradients(self, inputs: list[Tensor], grads: tuple) -> list:
        """One gradient (or None) per input of the forward branch."""
        outs = self.node.outs
        g = [zeros(outs[k].shape, dtype=outs[k].dtype, device=outs[k].device)
             if grads[k] is None else grads[k] for k in self.outs_f]
        result = run_unit(self.backward, [*inputs, *g])
        found: list = [None] * len(inputs)
        for i, value in zip(self.inputs_f, result):
            found[i] = value
        return found


def branch_backward_of(node: If, inputs: list[Tensor]) -> _BranchBackward:
    """The backward branch of `node` (built once)."""
    found = _BACKWARDS.get(node)
    if found is None:
        found = _BACKWARDS[node] = _BranchBackward(node, inputs)
    return found


class BranchFunction(Function):
    """An `If` as one differentiable op (see the module doc)."""

    @staticmethod
    def forward(ctx, node: If, *inputs: Tensor) -> tuple:
        """Run the taken branch as one unit."""
        ctx.node = node
        ctx.save_for_backward(*inputs)
        branch_backward_of(node, list(inputs))
        return tuple(run_unit(_unit(node), list(inputs)))

    @staticmethod
    def backward(ctx, *grads: Tensor) -> tuple:
        """The gradients of the branch's inputs, computed by a branch."""
        inputs = list(ctx.saved_tensors)
        return (None, *branch_backward_of(ctx.node, inputs).gradients(inputs, grads))


class LoopFunction(Function):
    """A `While` as one differentiable op (see the module doc)."""

    @staticmethod
    def forward(ctx, node: While, *inputs: Tensor) -> tuple:
        """Run the loop as one unit."""
        ctx.node = node
        ctx.save_for_backward(*inputs)
        from jit.script.loop_backward import backward_of

        backward_of(node, list(inputs))   # refuses (NotStraight) before anything runs
        return tuple(run_unit(_unit(node), list(inputs)))

    @staticmethod
    def backward(ctx, *grads: Tensor) -> tuple:
        """The gradients of the loop's inputs, computed by loops (module doc)."""
        from jit.script.loop_backward import backward_of

        inputs = list(ctx.saved_tensors)
        return (None, *backward_of(ctx.node, inputs).gradients(inputs, grads))


__all__ = ["BranchFunction", "ControlAsOps", "LoopFunction", "NotStraight", "make_loop",
           "pull_back", "run_body", "run_unit", "straight_graph", "values_of"]
