"""Elementwise fusion: partition a graph's elementwise nodes into maximal fusable groups.

A group is a run of elementwise nodes (ops with a C expression, dtypes codegen handles,
one device) that all produce the same shape; each becomes one generated kernel that
keeps intermediates in registers, so only the group's inputs are read from memory and
only values used outside the group are written. On cpu, a reduction (sum, prod, max,
min) whose input is a group's value that nothing else reads joins that group as its
epilogue: the reduced value is never written to memory at full size. A small reduction
no group absorbs becomes a group of its own (one C call beats numpy's wrappers there).

Reductions over the last axis make a row group (`kernels.codegen.RowGroup`, cpu): they
join the group computing their input whoever else reads it, and so do the ops after
them on the reduced values (shape `(..., 1)`, e.g. LayerNorm's `sqrt(var + eps)`), the
`expand` of such a value over the row (what autograd's sum rule records) and the
elementwise ops of the full shape reading them. A softmax with its scale and mask, a
LayerNorm, a log-softmax and their backward each become one kernel looping over rows.
Finally the readers of elementwise groups recompute what is cheaper to recompute than
to load (`jit.passes.remat`).

The pass orders the nodes so each group's members are adjacent, then wraps each group in
one `tracer.Kernel` node: the members become its subgraph, with explicit reads and
writes, so the groups are part of the IR (`fusion_groups(graph)` lists them). Groups are
built greedily in program order: a node joins the open group of one of its inputs when
the shapes match, else an open group of its shape that reads one of the same inputs (two
chains starting from x are one kernel reading x once); a group closes as soon as a node
outside it reads one of its values, so a group never has to run both before and after
another node (no cycles). Afterwards finished groups of one shape merge where that is
safe (`_merge_groups`): one that reads another (a node read both, so the greedy pass had
to close one), and small ones, whose cost is the call rather than the work.

>>> import eager, tracer
>>> g = fuse(tracer.trace(lambda x: (x * 2.0 + 1.0).tanh().sum(), eager.ones(8)))
>>> [[n.op.name for n in grp] for grp in fusion_groups(g)]
[['mul', 'add', 'tanh', 'sum']]
"""
from __future__ import annotations

import itertools

from jit.passes.remat import rematerialize
from jit.passes.rewrite import live_value_ids, rebuild
from kernels.codegen.c_render import can_render
from kernels.reductions import REDUCTION_IDENTITY
from tracer.graph import Graph, Node, Value
from tracer.subgraph import Kernel

# Above this many input elements numpy's vectorized pairwise sum beats our scalar loop.
SMALL_REDUCTION = 1 << 16
# Groups of at most this many elements merge with unrelated groups of their shape: one
# call, not one each (a C call costs microseconds; a bias update, nanoseconds).
SMALL_GROUP = 1 << 12
MAX_MERGED_NODES = 512
MAX_MERGED_INPUTS = 96


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def fusible(node: Node) -> bool:
    """Whether codegen can compile this node into a fused kernel."""
    if node.subgraphs:  # control flow (tracer.control) stays a node of its own
        return False
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


def row_reduction(node: Node) -> bool:
    """A compilable cpu reduction over the last axis only, of a row longer than one."""
    if not compilable_reduction(node):
        return False
    shape = node.inputs[0].shape
    return len(shape) >= 1 and shape[-1] > 1 and \
        tuple(a % len(shape) for a in node.attrs["axis"]) == (len(shape) - 1,)


def _reads_whole_values(node: Node, g: int, shape_of: list, group_of: dict) -> bool:
    """Whether every value of group g that `node` reads has the group's shape or is a
    row value (the group's shape with the last axis 1): one value per element or per row.
    A reduction without keepdims cannot be read inside the group (numpy would broadcast
    it along the other axes)."""
    shape = shape_of[g]
    row = shape[:-1] + (1,) if shape else None
    return all(x.shape in (shape, row) for x in node.inputs
               if isinstance(x, Value) and group_of.get(x.id) == g)


def _row_target(node: Node, sources: set[int], groups: list, is_open: list, shape_of: list,
                rows: list, group_of: dict) -> int | None:
    """The group a node joins by the row rules, -1 for a new row group, None if they do
    not apply. A reduction over the last axis joins the open group making its input (else
    starts a row group, if small); in a row group, an op on row values (shape `(..., 1)`) and an
    `expand` of a row value over the row join too."""
    if node.subgraphs or node.out.device != "cpu":
        return None
    if row_reduction(node):
        x = node.inputs[0]
        g = group_of.get(x.id)
        if g is not None and is_open[g] and shape_of[g] == x.shape and \
                _reads_whole_values(node, g, shape_of, group_of):
            return g
        # alone, a large reduction is faster through numpy's vectorized loops
        return -1 if _numel(x.shape) <= SMALL_REDUCTION else None
    if node.op.name == "expand":
        x = node.inputs[0]
        g = group_of.get(x.id)
        ok = g is not None and is_open[g] and rows[g] and x.shape == shape_of[g][:-1] + (1,) \
            and node.out.shape == shape_of[g]
        return g if ok else None
    candidates = [g for g in sorted(sources) if is_open[g] and rows[g]
                  and shape_of[g][:-1] + (1,) == node.out.shape != shape_of[g]
                  and _reads_whole_values(node, g, shape_of, group_of)]
    return candidates[0] if candidates and fusible(node) else None


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
    shape_of: list[tuple] = []        # per group: the shape its full-size members have
    rows: list[bool] = []             # per group: it reduces over the last axis (a RowGroup)

    def new_group(shape: tuple, is_row: bool, still_open: bool) -> int:
        groups.append([])
        is_open.append(still_open)
        shape_of.append(shape)
        rows.append(is_row)
        return len(groups) - 1

    def join(target: int, node: Node) -> None:
        groups[target].append(node)
        group_of[node.out.id] = target
        for x in node.inputs:
            if isinstance(x, Value):
                group_reads.setdefault(x.id, []).append(target)
        order.append(("group", target))

    for node in graph.nodes:
        sources = {group_of[x.id] for x in node.inputs
                   if isinstance(x, Value) and x.id in group_of}
        row = _row_target(node, sources, groups, is_open, shape_of, rows, group_of)
        if row is not None:
            target = row if row >= 0 else new_group(node.inputs[0].shape, True, True)
            rows[target] = True
            for g in sources:
                if g != target:
                    is_open[g] = False
            join(target, node)
            continue
        if len(sources) == 1:
            (g,) = sources
            if is_open[g] and not rows[g] and \
                    _reduces_only(node, groups[g], readers, observed):
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
            target = new_group(node.inputs[0].shape, False, False)
            groups[target].append(node)
            group_of[node.out.id] = target
            order.append(("group", target))
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
                if is_open[g] and shape_of[g] == node.out.shape \
                        and groups[g][0].out.device == node.out.device \
                        and _reads_whole_values(node, g, shape_of, group_of):
                    target = g
                    break
        for g in sources:
            if g != target:
                is_open[g] = False
        if target is None and fusible(node):
            target = new_group(node.out.shape, False, True)
        if target is None:
            order.append(("node", node))
            continue
        join(target, node)
    order = _merge_groups(groups, order, readers)
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
    nodes, spans = rematerialize(graph, nodes, spans)
    fused = rebuild(graph, nodes, {})
    return _as_kernels(fused, spans, fused.users(), observed)


def _merge_groups(groups: list[list[Node]], order: list[tuple[str, object]],
                  readers: dict) -> list[tuple[str, object]]:
    """Merge finished elementwise groups of one shape into one kernel where that is safe:
    a group that reads another's values (the greedy pass closed the earlier one when a node
    read both), and any small groups (at most SMALL_GROUP elements: biases, LayerNorm
    weights, an optimizer's scalar step counts), whose cost is the call, not the work.

    Merged groups run where the later of the two did. That is safe when every reader
    outside both runs after that point: a group's inputs exist by its own position, so
    running later only delays it. Groups ending in a reduction stay as they are. Returns
    `order` with each merged group's entries naming the group that absorbed it; `groups`
    is updated in place (absorbed groups become empty).
    """
    group_at: dict[int, int] = {}       # id(node) -> its group, for members
    position: dict[int, int] = {}       # id(node) -> its index in order
    taken = [0] * len(groups)           # members are listed in the order of their entries
    for i, (kind, item) in enumerate(order):
        if kind == "group":
            member = groups[item][taken[item]]
            taken[item] += 1
            group_at[id(member)], position[id(member)] = item, i
        else:
            position[id(item)] = i
    parent = list(range(len(groups)))

    def find(g: int) -> int:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    last = [max((position[id(m)] for m in members), default=-1) for members in groups]

    def earliest_outside_reader(g: int, other: int) -> float:
        best = float("inf")
        for m in groups[g]:
            for r in readers.get(m.out.id, ()):
                rg = group_at.get(id(r))
                root = find(rg) if rg is not None else None
                if root in (g, other):
                    continue
                best = min(best, last[root] if root is not None else position[id(r)])
        return best

    def mergeable(members: list[Node]) -> bool:
        return bool(members) and isinstance(members[0].out, Value) and not any(
            m.op.kind == "reduce" for m in members)

    def related(a: int, b: int) -> bool:
        inside = {id(m) for m in groups[b]}
        return any(id(r) in inside for m in groups[a] for r in readers.get(m.out.id, ()))

    def inputs_of(members: list[Node]) -> int:
        made = {m.out.id for m in members}
        return len({x.id for m in members for x in m.inputs
                    if isinstance(x, Value) and x.id not in made})

    latest: dict[tuple, int] = {}       # (shape, device) -> the group to merge into next
    for g in sorted(range(len(groups)), key=lambda g: last[g]):
        if not mergeable(groups[g]):
            continue
        out = groups[g][0].out
        key = (out.shape, out.device)
        acc = latest.get(key)
        if acc is not None:
            acc = find(acc)
            small = _numel(out.shape) <= SMALL_GROUP
            at = max(last[acc], last[g])
            combined = groups[acc] + groups[g]
            if (small or related(acc, g) or related(g, acc)) and \
                    len(combined) <= MAX_MERGED_NODES and \
                    inputs_of(combined) <= MAX_MERGED_INPUTS and \
                    min(earliest_outside_reader(acc, g), earliest_outside_reader(g, acc)) > at:
                combined.sort(key=lambda m: position[id(m)])
                groups[acc], groups[g] = combined, []
                parent[g] = acc
                last[acc] = at
                continue
        latest[key] = g
    return [(kind, find(item)) if kind == "group" else (kind, item) for kind, item in order]


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
                  or any(r.outs[0].id not in inside for r in readers.get(m.out.id, ()))]
        if writes:  # a group whose values all were recomputed by their readers is dead
            nodes.append(Kernel.of(graph, members, writes))
        start = b
    graph.nodes = nodes + graph.nodes[start:]
    graph.invalidate()
    return graph


def fusion_groups(graph: Graph) -> list[list[Node]]:
    """The fused groups of a graph returned by `fuse`: each Kernel node's member nodes
    (a group may end with a reduction)."""
    return [list(node.body.nodes) for node in graph.nodes if isinstance(node, Kernel)]
