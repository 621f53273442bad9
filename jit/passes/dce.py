"""Dead-code elimination: drop nodes whose results nothing observes.

>>> import eager, tracer
>>> def f(x):
...     unused = x.exp()
...     return x + 1
>>> g = tracer.trace(f, eager.ones(2))
>>> len(g.nodes), len(dce(g).nodes)
(2, 1)
"""
from __future__ import annotations

from jit.passes.rewrite import has_effect, live_value_ids, rebuild
from tracer.graph import Graph, Value


def dce(graph: Graph) -> Graph:
    """Remove nodes not needed by outputs, guards, write-backs or effects (random draws).
    A node with subgraphs stays whole when any Value it writes is needed."""
    needed = live_value_ids(graph)
    kept = []
    for node in reversed(graph.nodes):
        if any(v.id in needed for v in node.outs) or has_effect(node):
            kept.append(node)
            needed.update(x.id for x in node.inputs if isinstance(x, Value))
    kept.reverse()
    return rebuild(graph, kept, {})
