"""Structured control flow in the Graph IR: `If` and `While` nodes, which `jit.script` makes.

Both are nodes with subgraphs (see `tracer.subgraph`): they read `inputs` from the
enclosing graph, define fresh `outs` there, and every subgraph binds one "arg" parameter
per input, so `Graph.verify`, printing, `walk` and the interpreter handle them generically.

- `If(inputs=(cond, *captured), then_body, else_body, outs)`: `cond` is a 0-d bool; the
  taken branch runs and its outputs become `outs`.
- `While(inputs=(*init, *invariant), cond, body, outs)`: the first `len(outs)` inputs are
  the loop-carried values. `carried = init; while cond(carried, invariant):
  carried = body(carried, invariant)`; `outs` are the final carried values. `cond` yields
  one 0-d bool, `body` the new carried values (same types).

A subgraph's outputs are always node Values of its own (a value passed through unchanged
is a `copy` node), so a compiled loop can keep one buffer per value.

>>> import eager, tracer
>>> from tracer.graph import Graph
>>> g = Graph("halve")
>>> x = g.add_input("arg", (2,), "float32", "cpu", label="x")
>>> g.in_tree, g.arg_names = ((x,), {}), ("x",)
>>> def sub(name):
...     s = Graph(name, _next_id=g._next_id)
...     p = s.add_input("arg", (2,), "float32", "cpu")
...     g._next_id = s._next_id
...     return s, p
>>> cond, p = sub("cond")
>>> m = cond.add_node("max", (p,), {"axis": (0,), "keepdims": False}, (), "float32", "cpu")
>>> cond.outputs = (cond.add_node("gt", (m, 1.0), {}, (), "bool", "cpu"),)
>>> g._next_id = cond._next_id
>>> body, q = sub("body")
>>> body.outputs = (body.add_node("mul", (q, 0.5), {}, (2,), "float32", "cpu"),)
>>> g._next_id = body._next_id
>>> out = g.new_value((2,), "float32", "cpu")
>>> g.nodes = [While((x,), cond, body, (out,))]; g.outputs = out
>>> print(g.verify())
halve(x: %0 f32[2]) {
  %6: f32[2] = while (%0) {
    cond(%1):
      %2: f32[] = max %1 axis=(0,) keepdims=False
      %3: b8[] = gt %2 1.0
      yield %3
    body(%4):
      %5: f32[2] = mul %4 0.5
      yield %5
  }
  return %6
}
>>> g(eager.tensor([8., 1.])).tolist()
[1.0, 0.125]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tracer.graph import Graph, Value
from tracer.subgraph import CallOp

IF = CallOp("if")
WHILE = CallOp("while")
CONTROL_OPS = ("if", "while")


def _types(values) -> list[tuple]:
    return [(v.shape, v.dtype, v.device) for v in values]


def _yield_line(graph: Graph) -> str:
    return "yield " + ", ".join(repr(v) for v in graph.outputs)


def _section(name: str, graph: Graph, indent: str, lines: list[str], node_lines) -> None:
    params = ", ".join(repr(p) for p in graph.inputs)
    lines.append(f"{indent}  {name}({params}):")
    for inner in graph.nodes:
        node_lines(inner, indent + "    ", lines)
    lines.append(f"{indent}    {_yield_line(graph)}")


@dataclass(eq=False)
class If:
    """`outs = then_body(*inputs) if inputs[0] else else_body(*inputs)` (module doc)."""

    inputs: tuple
    then_body: Graph
    else_body: Graph
    outs: tuple
    where: str = ""
    op = IF
    labels = ("then", "else")

    @property
    def attrs(self) -> dict:
        """No attributes: what the node does is its bodies."""
        return {}

    @property
    def subgraphs(self) -> tuple[Graph, ...]:
        """The two branches."""
        return (self.then_body, self.else_body)

    def with_inputs(self, inputs: tuple) -> If:
        """The same node reading `inputs`."""
        return If(tuple(inputs), self.then_body, self.else_body, self.outs, self.where)

    def check_types(self) -> str | None:
        """A problem with the node's types, or None (called by `Graph.verify`)."""
        cond = self.inputs[0] if self.inputs else None
        if not isinstance(cond, Value) or cond.shape != () or cond.dtype != np.bool_:
            return "the condition must be a 0-d bool value"
        for name, sub in zip(self.labels, self.subgraphs):
            if _types(sub.outputs) != _types(self.outs):
                return f"the {name} branch yields other types than the node's outputs"
        return None

    def __str__(self) -> str:
        outs = ", ".join(f"{v!r}: {v.type_str}" for v in self.outs)
        reads = ", ".join(repr(x) for x in self.inputs[1:])
        return f"{outs} = if {self.inputs[0]!r} ({reads})"

    def format_lines(self, indent: str, lines: list[str], node_lines) -> None:
        """Print the node and its branches, nested and indented."""
        lines.append(f"{indent}{self} {{")
        for name, sub in zip(self.labels, self.subgraphs):
            _section(name, sub, indent, lines, node_lines)
        lines.append(f"{indent}}}")


@dataclass(eq=False)
class While:
    """A loop over carried values (module doc)."""

    inputs: tuple
    cond: Graph
    body: Graph
    outs: tuple
    where: str = ""
    op = WHILE
    labels = ("cond", "body")

    @property
    def attrs(self) -> dict:
        """No attributes: what the node does is its bodies."""
        return {}

    @property
    def carried(self) -> int:
        """How many inputs are loop-carried (the rest are read-only invariants)."""
        return len(self.outs)

    @property
    def subgraphs(self) -> tuple[Graph, ...]:
        """The condition, then the body."""
        return (self.cond, self.body)

    def with_inputs(self, inputs: tuple) -> While:
        """The same node reading `inputs`."""
        return While(tuple(inputs), self.cond, self.body, self.outs, self.where)

    def check_types(self) -> str | None:
        """A problem with the node's types, or None (called by `Graph.verify`)."""
        n = self.carried
        if _types(self.inputs[:n]) != _types(self.outs):
            return "the initial values and the outputs differ in type"
        (c,) = self.cond.outputs if len(self.cond.outputs) == 1 else (None,)
        if c is None or c.shape != () or c.dtype != np.bool_:
            return "the condition must yield one 0-d bool value"
        if _types(self.body.outputs) != _types(self.outs):
            return "the body yields other types than the carried values"
        return None

    def __str__(self) -> str:
        outs = ", ".join(f"{v!r}: {v.type_str}" for v in self.outs)
        n = self.carried
        reads = ", ".join(repr(x) for x in self.inputs[:n])
        rest = ", ".join(repr(x) for x in self.inputs[n:])
        return f"{outs} = while ({reads})" + (f" reading ({rest})" if rest else "")

    def format_lines(self, indent: str, lines: list[str], node_lines) -> None:
        """Print the loop, its condition and body, nested and indented."""
        lines.append(f"{indent}{self} {{")
        for name, sub in zip(self.labels, self.subgraphs):
            _section(name, sub, indent, lines, node_lines)
        lines.append(f"{indent}}}")


def truth(value: Any) -> bool:
    """The host value of a 0-d condition (an array, or a Tensor: then an outer tracer
    records the read as a guard)."""
    return bool(value)


def _run_steps(interpreter, steps, env: list) -> None:
    # A body runs many times: its values are never freed mid-loop.
    for inner in steps:
        if inner.bodies:
            interpreter.run_subgraph_node(inner, env)
        else:
            env[inner.out] = interpreter.run_node(inner, env)


def run_control(interpreter, step, env: list) -> None:
    """Run an If or While step of an `ExecutionPlan` with `interpreter`'s `run_node`."""
    node = step.node
    if node.op is IF:
        body = step.bodies[0 if truth(env[node.inputs[0].id]) else 1]
        for param, read in body.params:
            env[param] = env[read]
        _run_steps(interpreter, body.steps, env)
        sub = node.subgraphs[0 if body is step.bodies[0] else 1]
        results = [env[v.id] for v in sub.outputs]
    else:
        n = node.carried
        cond, body = step.bodies
        results = [env[x.id] for x in node.inputs[:n]]
        for plan in (cond, body):
            for param, read in plan.params[n:]:
                env[param] = env[read]
        flag = node.cond.outputs[0].id
        while True:
            for (param, _), value in zip(cond.params, results):
                env[param] = value
            _run_steps(interpreter, cond.steps, env)
            if not truth(env[flag]):
                break
            for (param, _), value in zip(body.params, results):
                env[param] = value
            _run_steps(interpreter, body.steps, env)
            results = [env[v.id] for v in node.body.outputs]
    for out, value in zip(node.outs, results):
        env[out.id] = value


__all__ = ["CONTROL_OPS", "IF", "WHILE", "If", "While", "run_control", "truth"]
