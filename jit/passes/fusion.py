"""Elementwise fusion: partition a graph's elementwise nodes into maximal fusable groups.

A group is a run of elementwise nodes (ops with a C expression, dtypes codegen handles,
one device) that all produce the same shape; each becomes one generated kernel that
keeps intermediates in registers, so only the group's inputs are read from memory and
only values used outside the group are written. On cpu, a reduction (sum, prod, max,
min) whose input is a group's value that nothing else reads joins that group as its
epilogue: the reduced value is never written to memory at full size. A small reduction
no group absorbs becomes a group of its own (one C call beats numpy's wrappers there).

The pass orders the nodes so each group's members are adjacent, then wraps each group in
one `tracer.Kernel` node: the members become its subgraph, with explicit reads and
writes, so the groups are part of the IR (`fusion_groups(graph)` lists them). Groups are
built greedily in program order: a node joins the open group of one of its inputs when
the shapes match, else an open group of its shape that reads one of the same inputs (two
chains starting from x are one kernel reading x once); a group closes as soon as a node
outside it reads one of its values, so a group never has to run both before and after
another node (no cycles).

>>> import eager, tracer
>>> g = fuse(tracer.trace(lambda x: (x * 2.0 + 1.0).tanh().sum(), eager.ones(8)))
>>> [[n.op.name for n in grp] for grp in fusion_groups(g)]
[['mul', 'add', 'tanh', 'sum']]
"""
from __future__ import annotations

import itertools

from jit.passes.rewrite import live_value_ids, rebuild
from kernels.codegen.c_render import can_render
from kernels.reductions import REDUCTION_IDENTITY
from tracer.graph import Graph, Node, Value
from tracer.subgraph import Kernel

# Above this many input elements numpy's vectorized pairwise sum beats our scalar loop.
SMALL_REDUCTION = 1 << 16


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def fusible(node: Node) -> bool:
    """Whether codegen can compile this node into a fused kernel."""
    dtypes = [x.dtype for x in node.inputs if isinstance(x, Value)] + [node.out.dtype]
    # `is None`, not `in`: numpy says np.dtype("float64") == None.
    return node.out.device in ("cpu", "cuda") and \
        all(d is not None for d in dtypes) and can_render(node.op.name, dtypes)


def compilable_reduction(node: Node) -> bool:
    """A cpu sum/prod (any dtype codegen handles) or float max/min."""
    return (node.op.name in REDUCTION_IDENTITY and node.out.device == "cpu"
            and isinstance(node.inputs[0], Value)
            and can_render("add", [node.inputs[0].dtype, node.out.dtype])
            and (node.op.name not in ("max", "min") or node.out.dtype.kind == "f"))


def _reduces_only(node: Node, group: list[Node], readers: dict, observed: set) -> bool:
    """Whether `node` is a reduction that can end `group`: it is the only reader outside
    the group of any group value, and no group value is observed (output, guard, ...)."""
    if not compilable_reduction(node):
        return False
    x = node.inputs[0]
    if not isinstance(x, Value) or x.shape != group[0].out.shape:
        return False
    members = {id(n) for n in group} | {id(node)}
    return all(m.out.id not in observed and
               all(id(r) in members for r in readers.get(m.out.id, ())) for m in group)


def fuse(graph: Graph) -> Graph:
    """Fuse groups of nodes into `Kernel` nodes (each holding its members as a subgraph,
    placed where its last member was); `fusion_groups` lists the members."""
    readers = graph.users()
    observed = live_value_ids(graph)
    group_of: dict[int, int] = {}     # value id -> group index (for node outputs)
    groups: list[list[Node]] = []
    is_open: list[bool] = []
    order: list[tuple[str, object]] = []  # ("node", Node) | ("group", index) per member
    group_reads: dict[int, list[int]] = {}  # value id -> groups with a member reading it
    for node in graph.nodes:
        sources = {group_of[x.id] for x in node.inputs
                   if isinstance(x, Value) and x.id in group_of}
        if len(sources) == 1:
            (g,) = sources
            if is_open[g] and _reduces_only(node, groups[g], readers, observed):
                groups[g].append(node)
                group_of[node.out.id] = g
                is_open[g] = False
                order.append(("group", g))
                continue
        target = None
        if compilable_reduction(node) and _numel(node.inputs[0].shape) <= SMALL_REDUCTION:
            # Alone, a small reduction is still cheaper as C than through numpy's wrappers.
            for g in sources:
                is_open[g] = False
            group_of[node.out.id] = len(groups)
            groups.append([node])
            is_open.append(False)
            order.append(("group", len(groups) - 1))
            continue
        if fusible(node):
            # Prefer a group the node reads; else the latest open group of its shape that
            # reads one of the node's inputs (GELU's two halves both start from x): the
            # node's inputs exist already and that group runs later, so joining is safe, and
            # the shared input is read once. Unrelated chains stay apart, so a reduction
            # ending one of them can still fuse into it.
            shared = (g for x in node.inputs if isinstance(x, Value)
                      for g in reversed(group_reads.get(x.id, [])))
            for g in itertools.chain(sorted(sources), shared):
                if is_open[g] and groups[g][0].out.shape == node.out.shape \
                        and groups[g][0].out.device == node.out.device:
                    target = g
                    break
        for g in sources:
            if g != target:
                is_open[g] = False
        if target is None and fusible(node):
            target = len(groups)
            groups.append([])
            is_open.append(True)
        if target is None:
            order.append(("node", node))
            continue
        groups[target].append(node)
        group_of[node.out.id] = target
        for x in node.inputs:
            if isinstance(x, Value):
                group_reads.setdefault(x.id, []).append(target)
        order.append(("group", target))
    # A group runs where its last member was: every input of every member exists by then,
    # and no node before that point reads the group (reading it would have closed it).
    last = {item: i for i, (kind, item) in enumerate(order) if kind == "group"}
    nodes: list[Node] = []
    spans: list[tuple[int, int]] = []
    for i, (kind, item) in enumerate(order):
        if kind == "node":
            nodes.append(item)
        elif last[item] == i:
            spans.append((len(nodes), len(nodes) + len(groups[item])))
            nodes.extend(groups[item])
    fused = rebuild(graph, nodes, {})
    return _as_kernels(fused, spans, readers, observed)


def _as_kernels(graph: Graph, spans: list[tuple[int, int]], readers: dict,
                observed: set[int]) -> Graph:
    """Replace each span of group members by one `Kernel` node writing the members'
    values that the rest of the graph reads (`readers`: value id -> nodes) or observes."""
    nodes, start = [], 0
    for a, b in spans:
        nodes += graph.nodes[start:a]
        members = graph.nodes[a:b]
        inside = {m.out.id for m in members}
        writes = [m.out for m in members if m.out.id in observed
                  or any(r.out.id not in inside for r in readers.get(m.out.id, ()))]
        nodes.append(Kernel.of(graph, members, writes))
        start = b
    graph.nodes = nodes + graph.nodes[start:]
    graph.invalidate()
    return graph


def fusion_groups(graph: Graph) -> list[list[Node]]:
    """The fused groups of a graph returned by `fuse`: each Kernel node's member nodes
    (a group may end with a reduction)."""
    return [list(node.body.nodes) for node in graph.nodes if isinstance(node, Kernel)]
