"""Common-subexpression elimination: one node per distinct (op, inputs, attributes).

>>> import eager, tracer
>>> g = tracer.trace(lambda x: x.exp() + x.exp(), eager.ones(2))
>>> len(g.nodes), len(cse(g).nodes)
(3, 2)
"""
from __future__ import annotations

from jit.passes.rewrite import has_effect, rebuild, resolve, returned_ids
from tracer.graph import Graph, Value


def _operand_key(x):
    if isinstance(x, Value):
        return ("v", x.id)
    return ("lit", type(x).__name__, repr(x))


def cse(graph: Graph) -> Graph:
    """Replace a node by an earlier identical one (never random draws, never an output:
    two returned tensors must not share memory)."""
    seen: dict[tuple, Value] = {}
    replace: dict[int, Value] = {}
    outputs = returned_ids(graph)
    kept = []
    for node in graph.nodes:
        inputs = tuple(resolve(x, replace) for x in node.inputs)
        if has_effect(node) or node.subgraphs:  # a subgraph node is kept as it is
            kept.append(node.with_inputs(inputs))
            continue
        key = (node.op.name, tuple(_operand_key(x) for x in inputs),
               repr(sorted(node.attrs.items())), node.out.device)
        earlier = seen.get(key)
        if earlier is not None and node.out.id not in outputs:
            replace[node.out.id] = earlier
        else:
            seen.setdefault(key, node.out)
            kept.append(node)
    return rebuild(graph, kept, replace)
