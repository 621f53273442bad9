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

from jit.passes.rewrite import can_fail, has_effect, live_value_ids, rebuild
from tracer.graph import Graph, Value


def dce(graph: Graph) -> Graph:
    """Remove nodes not needed by outputs, guards, write-backs or effects (random draws).
    Nodes that can fail stay: an unused out-of-range `x[i]` raises in eager code, so it
    must in a replay too. A node with subgraphs stays whole when any Value it writes is needed."""
    needed = live_value_ids(graph)
    kept = []
    for node in reversed(graph.nodes):
        if any(v.id in needed for v in node.outs) or has_effect(node) or can_fail(node):
            kept.append(node)
            needed.update(x.id for x in node.inputs if isinstance(x, Value))
    kept.reverse()
    return rebuild(graph, kept, {})
