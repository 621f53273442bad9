"""Helpers every pass uses: copy a graph with new nodes, substituting Values for Values.

Passes are pure: they never edit the graph they are given. `rebuild` makes a new Graph
sharing the (immutable) Values, with node inputs, outputs, guards and write-backs
rewritten through `replace` (a map from Value id to the Value that now stands for it).

>>> import eager, tracer
>>> g = tracer.trace(lambda x: x * 1.0, eager.ones(2))
>>> h = rebuild(g, [], {g.nodes[0].out.id: g.inputs[0]})
>>> len(h.nodes), h.outputs is g.inputs[0]
(0, True)
"""
from __future__ import annotations

import copy
from typing import Any

from tracer.graph import Graph, Guard, Node, Value, WriteBack, walk
from tracer.pytree import flatten, unflatten


def resolve(x: Any, replace: dict[int, Value]) -> Any:
    """The Value standing for `x` after replacements (literals pass through)."""
    while isinstance(x, Value) and x.id in replace:
        x = replace[x.id]
    return x


def rebuild(graph: Graph, nodes: list[Node], replace: dict[int, Value],
            inputs: list[Value] | None = None) -> Graph:
    """A copy of `graph` with `nodes` (inputs rewritten) and every use rewritten. Nodes
    with subgraphs keep their bodies: a body reads only its own parameters."""
    new = copy.copy(graph)
    new.inputs = list(graph.inputs if inputs is None else inputs)
    new.nodes = [n.with_inputs(tuple(resolve(x, replace) for x in n.inputs)) for n in nodes]
    leaves, tree = flatten(graph.outputs)
    new.outputs = unflatten(tree, [resolve(x, replace) for x in leaves])
    new.guards = [Guard(resolve(g.value, replace), g.kind, g.expected, g.where)
                  for g in graph.guards]
    new.writebacks = [WriteBack(wb.target, resolve(wb.value, replace), wb.slot)
                      for wb in graph.writebacks]
    new.invalidate()
    return new


def live_value_ids(graph: Graph) -> set[int]:
    """Ids of Values the outside world observes: outputs, guards, write-backs."""
    ids = {v.id for v in graph.output_values()}
    ids |= {g.value.id for g in graph.guards}
    for wb in graph.writebacks:
        ids.add(wb.target.id)
        if wb.value is not None:
            ids.add(wb.value.id)
    return ids


def returned_ids(graph: Graph) -> set[int]:
    """Ids of Values the caller receives as tensors: outputs and values stored as `.grad`.

    Passes keep each of these a node of its own, so the caller never gets an input, a
    constant, or another returned tensor's memory where eager code made a new tensor.
    """
    ids = {v.id for v in graph.output_values()}
    return ids | {wb.value.id for wb in graph.writebacks
                  if wb.slot == "grad" and wb.value is not None}


def can_fail(node: Node) -> bool:
    """Nodes whose kernel can raise on some data: indexing (out of range), value-dependent
    shapes, and integer powers (a negative exponent). Eager raises there, so dead-code
    elimination keeps them, and in-place writes wait until they have run."""
    op = node.op
    return op.kind == "index" or op.dynamic_shape or (
        op.name == "pow" and node.out.dtype.kind in "iu"
        and not all(type(x) is int and x >= 0 for x in node.inputs[1:]))


def has_effect(node: Node) -> bool:
    """Nodes that must run even when their result is unused (random draws advance state;
    every rank must join a collective; a node with subgraphs has an effect when a node
    inside has one)."""
    return node.op.kind in ("random", "collective") or any(
        has_effect(inner) for sub in node.subgraphs for inner in walk(sub))
