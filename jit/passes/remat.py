"""Rematerialization across fused groups: recompute cheap values instead of storing them.

A training step's backward reads many intermediates of its forward (GELU's tanh, its
polynomial, their products: seven arrays for one activation). When a fused group reads
values another elementwise group computed, and recomputing them from that group's own
inputs needs fewer reads than loading them, the reader gets copies of the nodes that
compute them (fresh Values) and the writer stops writing what nobody else reads. Memory
traffic, not arithmetic, is what these kernels wait on.

`fuse` calls `rematerialize` on its groups before wrapping them in `Kernel` nodes.

>>> import eager, tracer
>>> from jit.passes.fusion import fuse, fusion_groups
>>> def f(x, y):
...     t = (x * 2.0).tanh()
...     u, v = t * t, t + 1.0          # two values of the first group...
...     w = (x @ y).sum() + 0.0        # (something between the two groups)
...     return u * v * w               # ...read by the second: recomputed from x
>>> g = fuse(tracer.trace(f, eager.ones(2, 2), eager.ones(2, 2)))
>>> [n.op.name for n in fusion_groups(g)[-1]]
['mul', 'tanh', 'mul', 'add', 'mul', 'mul']
"""
from __future__ import annotations

import dataclasses

from kernels.opdef import GroupOp
from tracer.graph import Graph, Node, Value

# Copy at most this many nodes into one reader per source group (code size, compile time).
MAX_COPIED_NODES = 32


def _elementwise(members: list[Node]) -> bool:
    return all(m.op.kind in GroupOp.ELEMENTWISE for m in members)


def rematerialize(graph: Graph, nodes: list[Node], spans: list[tuple[int, int]]
                  ) -> tuple[list[Node], list[tuple[int, int]]]:
    """`nodes` with each group span (`spans`: [start, stop) into `nodes`) given copies of
    the elementwise nodes of earlier groups it reads, where that saves reads (see the
    module doc). Returns the new node list and spans; new Values come from `graph`."""
    span_of: dict[int, int] = {}
    producer: dict[int, Node] = {}
    for i, (a, b) in enumerate(spans):
        for n in nodes[a:b]:
            span_of[n.out.id] = i
            producer[n.out.id] = n
    elementwise = [_elementwise(nodes[a:b]) for a, b in spans]
    new_members: dict[int, list[Node]] = {}
    for i, (a, b) in enumerate(spans):
        members = nodes[a:b]
        made = {n.out.id for n in members}
        reads = {x.id for n in members for x in n.inputs
                 if isinstance(x, Value) and x.id not in made}
        by_source: dict[int, list[int]] = {}
        for vid in sorted(reads):
            j = span_of.get(vid)
            if j is not None and j != i and elementwise[j] and \
                    producer[vid].out.device == members[0].out.device:
                by_source.setdefault(j, []).append(vid)
        replaced: dict[int, Value] = {}
        copies: list[Node] = []
        # a copy must have a shape the group computes at (a row group: per element or row)
        shapes = {n.out.shape for n in members if n.op.kind in GroupOp.ELEMENTWISE}
        for j, vids in sorted(by_source.items()):
            closure = _closure(vids, j, span_of, producer)
            outside = {x.id for vid in closure for x in producer[vid].inputs
                       if isinstance(x, Value) and span_of.get(x.id) != j}
            if len(closure) > MAX_COPIED_NODES or len(outside - reads) >= len(vids) or \
                    any(producer[vid].out.shape not in shapes for vid in closure):
                continue
            sa, sb = spans[j]
            for n in nodes[sa:sb]:
                if n.out.id in closure:
                    out = graph.new_value(n.out.shape, n.out.dtype, n.out.device)
                    copies.append(dataclasses.replace(
                        n, inputs=tuple(replaced.get(x.id, x) if isinstance(x, Value) else x
                                        for x in n.inputs), out=out))
                    replaced[n.out.id] = out
        if copies:
            new_members[i] = copies + [
                n.with_inputs(tuple(replaced.get(x.id, x) if isinstance(x, Value) else x
                                    for x in n.inputs)) for n in members]
    if not new_members:
        return nodes, spans
    out_nodes: list[Node] = []
    out_spans: list[tuple[int, int]] = []
    start = 0
    for i, (a, b) in enumerate(spans):
        out_nodes += nodes[start:a]
        members = new_members.get(i, nodes[a:b])
        out_spans.append((len(out_nodes), len(out_nodes) + len(members)))
        out_nodes += members
        start = b
    return out_nodes + nodes[start:], out_spans


def _closure(vids: list[int], j: int, span_of: dict[int, int],
             producer: dict[int, Node]) -> set[int]:
    """Ids of the values of group j that computing `vids` needs (vids included)."""
    closure: set[int] = set()
    todo = list(vids)
    while todo:
        vid = todo.pop()
        if vid in closure:
            continue
        closure.add(vid)
        todo += [x.id for x in producer[vid].inputs
                 if isinstance(x, Value) and span_of.get(x.id) == j]
    return closure
