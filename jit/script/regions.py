"""Regions: the graphs a script is lowered into, one per function body, branch, condition
and loop body, each recorded by its own tracer.

Lowering runs each op once on stand-in tensors with the tracer of the innermost region
as this thread's only listener (`eager.interpreters.replace_stack`), so an op's shape and
dtype come from its own `kernels` rule, the same rule eager and the graph use. A region's
parameters stand for tensors of the enclosing region; state it reads that was not passed
(module parameters, closure tensors, constants) is hoisted into the enclosing region when
the region is finished, so a subgraph reads only its parameters.

>>> import eager
>>> from jit.script import script
>>> w = eager.tensor([2., 3.])
>>> @script
... def scale(x):
...     if x.sum() > 0:
...         x = x * w
...     return x
>>> print(scale.graph_for(eager.ones(2)))
scale(x: %0 f32[2]) {
  ref %1: f32[2]  # w
  %2: f32[] = sum %0 axis=(0,) keepdims=False
  %3: b8[] = gt %2 0
  %12: f32[2] = if %3 (%0, %1) {
    then(%4, %5, %6):
      %7: f32[2] = mul %5 %6
      yield %7
    else(%8, %9, %10):
      %11: f32[2] = copy %9
      yield %11
  }
  return %12
}
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from eager.creation import from_array
from eager.dispatch import apply
from eager.interpreters import replace_stack
from eager.tensor import Tensor
from kernels import OPS
from tracer.graph import Graph, Value, walk
from tracer.trace import Tracer


def stand_in(t: Tensor) -> Tensor:
    """A fresh tensor with `t`'s type (and data) for a region to compute on; no tracer
    hears of it (it is a parameter, not a constant)."""
    previous = replace_stack(None)
    try:
        return from_array(t._data.copy(), t.device)
    finally:
        replace_stack(previous)


def blank(shape: tuple, dtype, device: str) -> Tensor:
    """A stand-in of a type alone (zeros on `device`), made without any tracer hearing."""
    previous = replace_stack(None)
    try:
        return from_array(np.zeros(shape, dtype), "cpu").to(device)
    finally:
        replace_stack(previous)


class ScriptTracer(Tracer):
    """A tracer that refuses what a script cannot hold (host reads, in-place updates,
    data-dependent shapes) with a ScriptError at the expression being lowered."""

    def __init__(self, name: str, lowerer) -> None:
        super().__init__(name, lowerer.script.fn)
        self.lowerer = lowerer

    def record(self, op, inputs, attrs, out) -> None:
        if op.dynamic_shape:
            raise self.lowerer.error(f"`{op.name}` gives a shape that depends on values, "
                                     "which a scripted graph cannot hold")
        super().record(op, inputs, attrs, out)
        self.graph.nodes[-1].where = self.lowerer.where()

    def inplace(self, target, value) -> None:
        raise self.lowerer.error("in-place updates are not supported in script mode; "
                                 "write `x = x + y` instead of `x += y` on tensors")

    def host_read(self, tensor, kind, value) -> None:
        raise self.lowerer.error(f"reads a tensor's value on the host (`{kind}`), which a "
                                 "scripted graph cannot do; use the tensor itself "
                                 "(`if t > 0:` works on a 0-d tensor)")

    def grad_read(self, tensor, grad) -> None:
        raise self.lowerer.error("`.grad` is not available in script mode")

    grad_write = grad_read

    def bind(self, tensor: Tensor, value: Value) -> None:
        """Make `tensor` stand for `value` (an output of a control-flow node)."""
        self._set(tensor, value, id(tensor))


class Region:
    """One graph being lowered. `params` are tensors of the enclosing region (None for
    the top); `locals[k]` is the stand-in tensor this region computes with instead."""

    def __init__(self, lowerer, name: str, outer: Region | None, params: list) -> None:
        self.lowerer = lowerer
        self.tracer = ScriptTracer(name, lowerer)
        self.outer = outer
        self.params = list(params)
        self.locals: list[Tensor] = [p if isinstance(p, Tensor) and outer is None
                                     else stand_in(p) for p in self.params]
        if outer is not None:
            self.tracer.bind_arguments(tuple(self.locals), {}, ())
        self.local_of = {id(p): t for p, t in zip(self.params, self.locals)}
        for p, t in zip(self.params, self.locals):
            if p in lowerer.weak:
                lowerer.weak.add(t)
        self._outer_of = {id(t): p for p, t in zip(self.params, self.locals)}

    def outer_of(self, x) -> Tensor | None:
        """The enclosing region's tensor that stand-in `x` is a parameter for, or None."""
        return self._outer_of.get(id(x)) if isinstance(x, Tensor) else None

    @contextlib.contextmanager
    def active(self) -> Iterator[Region]:
        """Make this region's tracer the only listener while lowering into it."""
        previous = replace_stack(self.tracer)
        self.lowerer.regions.append(self)
        try:
            with np.errstate(all="ignore"):
                yield self
        finally:
            self.lowerer.regions.pop()
            replace_stack(previous)

    def value_of(self, t: Tensor) -> Value:
        """The Value `t` holds in this region (binding state it reads by reference)."""
        return self.tracer.lookup(t)

    def finish(self, outputs: list[Tensor]) -> tuple[Graph, list[tuple]]:
        """The region as a subgraph yielding `outputs`, and its entries: one
        `(key, parameter Value, outer tensor, kind)` per input, hoisted reads ("ref",
        "const") last."""
        graph = self.tracer.graph
        with self.active():
            values = []
            for t in outputs:
                v = self.value_of(t)
                if v.kind != "node":   # a body yields values of its own (module doc)
                    v = self.value_of(apply(OPS.copy, t))
                values.append(v)
        entries = [(id(p), v, p, "arg") for p, v in zip(self.params, graph.inputs)]
        const_tensor = {id(e[1]): e[0] for e in self.tracer.env.values()}
        for v in graph.inputs[len(self.params):]:
            outer_tensor = v.ref if v.kind == "ref" else const_tensor[id(v)]
            if v.kind == "ref" and not isinstance(v.ref, Tensor):
                raise self.lowerer.error("random generators are not supported in script mode")
            entries.append((id(outer_tensor), v, outer_tensor, v.kind))
            v.kind, v.ref, v.data = "arg", None, None
        graph.outputs = tuple(values)
        graph.guards, graph.writebacks = [], []
        return graph, entries


def unify(outer: Region, finished: list[tuple[Graph, list[tuple]]]) -> list[Value]:
    """Give sibling subgraphs (two branches; a condition and a body) one parameter list:
    the union of their entries, a graph lacking one getting an unused parameter. Returns
    the node's inputs: the Values of the outer tensors in the enclosing region."""
    order: dict[int, tuple] = {}
    for _, entries in finished:
        for key, v, t, kind in entries:
            order.setdefault(key, (v, t, kind))
    for graph, entries in finished:
        mine = {e[0]: e[1] for e in entries}
        inputs = []
        for key, (v, _, _) in order.items():
            p = mine.get(key)
            if p is None:
                p = graph.new_value(v.shape, v.dtype, v.device, "arg")
            inputs.append(p)
        graph.inputs = inputs
        graph.in_tree = (tuple(inputs), {})
    reads = []
    with outer.active():
        for _, t, kind in order.values():
            if kind == "const" and id(t) not in outer.tracer.env:
                outer.tracer.constant(t)
            reads.append(outer.value_of(t))
    return reads


def renumber(graph: Graph) -> None:
    """Give every Value of `graph` and its subgraphs a unique id, dense from 0, in
    definition order (regions were recorded with counters of their own)."""
    seen: dict[int, int] = {}

    def number(v: Value) -> None:
        if id(v) not in seen:
            seen[id(v)] = len(seen)
            v.id = seen[id(v)]

    def visit(g: Graph) -> None:
        for v in g.inputs:
            number(v)
        for node in g.nodes:
            for sub in node.subgraphs:
                visit(sub)
            for v in node.outs:
                number(v)

    visit(graph)
    for g in [graph] + [sub for node in walk(graph) for sub in node.subgraphs]:
        g._next_id = len(seen)
        g.invalidate()
