"""Gradients through scripted loops as graph nodes: the backward of a `While` is loops
too, so a jitted training step with a data-dependent loop replays one graph whatever the
trip count (no guard on it, no retrace).

Autograd through a scripted call runs its graph through eager dispatch, so the tape
records each op, except that a `While` whose condition and body are straight-line code
runs as one op, `LoopFunction` (an `eager.autograd.Function`). Its forward is the loop
as one unit: one C call, and one `While` node for a listening tracer. Its backward is
two more loops built from the same condition and body:

- count: the forward loop again with a trip counter, giving n;
- reverse: for k = n, ..., 1, recompute the carried values after k - 1 trips (an inner
  loop of k - 1 body trips from the initial values) and pull the gradient back through
  the k-th trip with the body's vector-Jacobian product (the body's autograd traced
  into a graph); the invariants' gradients are summed over the trips.

Recomputing the values of each trip instead of stacking them keeps every shape static
(a stack would have the trip count as a dimension), at the price of n(n-1)/2 extra body
trips in the backward pass.

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
from eager.interpreters import replace_stack, stack
from eager.tensor import Tensor
from jit.script.regions import renumber, stand_in
from tracer.control import While
from tracer.graph import Graph, Value
from tracer.interpreter import Interpreter
from tracer.nested import DispatchInterpreter
from tracer.trace import Tracer, trace


class NotStraight(Exception):
    """A body that cannot become a subgraph of a backward loop (it reads the host, or
    state that is not a parameter)."""


def applies(node: Any) -> bool:
    """Whether `node` is a loop whose backward can be a graph node (`LoopFunction`)."""
    return isinstance(node, While) and all(
        not inner.subgraphs for sub in node.subgraphs for inner in sub.nodes)


def run_body(graph: Graph, tensors: list, differentiable: bool = False) -> list[Tensor]:
    """A straight-line subgraph's outputs, its ops run through eager dispatch."""
    interpreter = DispatchInterpreter(graph, False)
    if differentiable:
        with enable_grad():   # every op records autograd history, not only traced ones
            return list(Interpreter.run(interpreter, tensors))
    return list(interpreter.run(tensors))


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


def _alone(node: While, name: str, fresh: bool) -> Any:
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


def _subgraph(name: str, fn: Callable, examples: list[Tensor]) -> Graph:
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
    cond_graph = _subgraph(f"{name} cond", lambda *xs: (cond(*xs),), examples)
    body_graph = _subgraph(f"{name} body", lambda *xs: tuple(body(*xs)), examples)
    for graph in (cond_graph, body_graph):
        graph.in_tree = (tuple(graph.inputs), {})
    outs = tuple(Value(0, t.shape, t.dtype, t._device, "node") for t in carried)
    params = tuple(Value(0, t.shape, t.dtype, t._device, "arg") for t in examples)
    return _alone(While(params, cond_graph, body_graph, outs, name), name, fresh=True)


def _floating(t: Tensor) -> bool:
    return t.dtype.kind == "f"


class _Backward:
    """The loops one forward `While` needs for its backward pass (built on first use)."""

    def __init__(self, node: While, inputs: list[Tensor]) -> None:
        self.node = node
        c = node.carried
        self.c = c
        self.carried_f = [k for k in range(c) if _floating(inputs[k])]
        self.inv_f = [i for i in range(len(inputs) - c) if _floating(inputs[c + i])]
        self.forward = _alone(node, "loop", fresh=False)
        counter = zeros((), dtype=np.int64, device=inputs[0]._device)
        self.count = make_loop("count trips", self._count_cond, self._count_body,
                               [counter, *inputs[:c]], inputs[c:])
        self._recompute = None
        gs = [inputs[k] for k in self.carried_f]
        ginv = [inputs[c + i] for i in self.inv_f]
        self.reverse = make_loop("reverse trips", self._reverse_cond, self._reverse_body,
                                 [counter, *gs, *ginv], inputs)

    # count: carried (i, *x), invariants inv
    def _count_cond(self, i, *rest):
        return run_body(self.node.cond, list(rest))[0]

    def _count_body(self, i, *rest):
        return [i + 1, *run_body(self.node.body, list(rest))]

    # recompute: carried (j, *x), invariants inv; j counts the trips left
    @staticmethod
    def _recompute_cond(j, *rest):
        return j > 0

    def _recompute_body(self, j, *rest):
        return [j - 1, *run_body(self.node.body, list(rest))]

    # reverse: carried (k, *g, *ginv), invariants (*x0, *inv)
    @staticmethod
    def _reverse_cond(k, *rest):
        return k > 0

    def _reverse_body(self, k, *rest):
        nf, nv, c = len(self.carried_f), len(self.inv_f), self.c
        g, ginv, x0, inv = rest[:nf], rest[nf:nf + nv], rest[nf + nv:nf + nv + c], \
            rest[nf + nv + c:]
        before = k - 1
        if self._recompute is None:
            self._recompute = make_loop("recompute trip", self._recompute_cond,
                                        self._recompute_body, [before, *x0], list(inv))
        x = run_unit(self._recompute, [before, *x0, *inv])[1:]
        dx, dinv = self._pull_back(list(x), list(inv), list(g))
        return [before, *dx, *(a + b for a, b in zip(ginv, dinv))]

    def _pull_back(self, x: list, inv: list, g: list) -> tuple[list, list]:
        """The body's vector-Jacobian product at carried values `x`."""
        with enable_grad():
            leaves = [t.detach().requires_grad_() if _floating(t) else t for t in x + inv]
            outs = run_body(self.node.body, leaves, differentiable=True)
            wanted = [leaves[k] for k in self.carried_f] + \
                [leaves[self.c + i] for i in self.inv_f]
            grads = autograd_grad([outs[k] for k in self.carried_f], wanted, grad_outputs=g,
                                  allow_unused=True)
        grads = [zeros_like(w) if d is None else d for d, w in zip(grads, wanted)]
        nf = len(self.carried_f)
        return grads[:nf], grads[nf:]

    def gradients(self, inputs: list[Tensor], grads: tuple) -> list:
        """One gradient (or None) per input of the forward loop."""
        c = self.c
        n = run_unit(self.count, [zeros((), dtype=np.int64, device=inputs[0]._device),
                                  *inputs])[0]
        g = [zeros_like(inputs[k]) if grads[k] is None else grads[k] for k in self.carried_f]
        ginv = [zeros_like(inputs[c + i]) for i in self.inv_f]
        result = run_unit(self.reverse, [n, *g, *ginv, *inputs])
        out: list = [None] * len(inputs)
        for k, value in zip(self.carried_f, result[1:1 + len(g)]):
            out[k] = value
        for i, value in zip(self.inv_f, result[1 + len(g):]):
            out[c + i] = value
        return out


_BACKWARDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def backward_of(node: While, inputs: list[Tensor]) -> _Backward:
    """The backward loops of `node` (its input types never change: built once)."""
    found = _BACKWARDS.get(node)
    if found is None:
        found = _BACKWARDS[node] = _Backward(node, inputs)
    return found


class LoopFunction(Function):
    """A `While` as one differentiable op (see the module doc)."""

    @staticmethod
    def forward(ctx, node: While, *inputs: Tensor) -> tuple:
        """Run the loop as one unit."""
        ctx.node = node
        ctx.save_for_backward(*inputs)
        return tuple(run_unit(backward_of(node, list(inputs)).forward, list(inputs)))

    @staticmethod
    def backward(ctx, *grads: Tensor) -> tuple:
        """The gradients of the loop's inputs, computed by loops (module doc)."""
        inputs = list(ctx.saved_tensors)
        return (None, *backward_of(ctx.node, inputs).gradients(inputs, grads))


__all__ = ["LoopFunction", "NotStraight", "applies", "make_loop", "run_body", "run_unit",
           "values_of"]
