"""Lowering: turn an optimized graph and its fused groups into the replay's steps.

Each step is ("group", codegen group, input Values, output Values) for a fused group, or
("node", Node) for an op run with its own array kernel. Inputs made by `expand` or
(on cpu) `permute` are replaced by their sources: the kernel broadcasts or transposes
them with strides, and the view nodes nothing reads any more are dropped.

>>> import eager, tracer
>>> from jit.passes import optimize
>>> g, groups, _ = optimize(tracer.trace(lambda x: (x.T * 2.0).exp(), eager.ones(2, 3)))
>>> [(s[0], [v.shape for v in s[2]]) for s in lower(g, groups)]
[('group', [(2, 3)])]
"""
from __future__ import annotations

from kernels.codegen import ElementwiseGroup, ReduceGroup, Step
from kernels.opdef import TensorSpec
from tracer.graph import Graph, Node, Value


def lower(graph: Graph, groups: list[list[Node]]) -> list[tuple]:
    """The replay steps of `graph` in order (see the module doc)."""
    producers = {n.out.id: n for n in graph.nodes}
    in_group = {id(n): gi for gi, grp in enumerate(groups) for n in grp}
    observed = {v.id for v in graph.output_values()} | {g.value.id for g in graph.guards}
    observed |= {wb.value.id for wb in graph.writebacks if wb.value is not None}
    readers: dict[int, set[int]] = {}
    for n in graph.nodes:
        for x in n.inputs:
            if isinstance(x, Value):
                readers.setdefault(x.id, set()).add(id(n))
    built: list[tuple] = []
    seen_groups: set[int] = set()
    for n in graph.nodes:
        gi = in_group.get(id(n))
        if gi is None:
            built.append(("node", n))
        elif gi not in seen_groups:   # a group runs where its first member is listed
            seen_groups.add(gi)
            members = {id(m) for m in groups[gi]}
            outside = {m.out.id for m in groups[gi]
                       if m.out.id in observed or readers.get(m.out.id, set()) - members}
            built.append(("group",) + group_of_nodes(groups[gi], outside, producers))
    return _drop_unread_views(built, observed)


def group_of_nodes(nodes: list[Node], used_outside: set[int],
                   producers: dict[int, Node] | None = None) -> tuple[ElementwiseGroup, list,
                                                                      list]:
    """Turn fused graph nodes into a codegen group; returns (group, input Values, outputs).

    An input made by `expand` is replaced by the expand's own input: the kernel
    broadcasts it with zero strides instead of reading a materialized copy.
    """
    producers = producers or {}
    if nodes[-1].op.kind == "reduce":
        reduce = nodes[-1]
        x = reduce.inputs[0]
        if len(nodes) == 1:  # a reduction alone: its prologue just reads the input
            prologue = ElementwiseGroup((TensorSpec(x.shape, x.dtype),),
                                        (Step("copy", (("in", 0),), x.dtype),), (0,), x.shape)
            group = ReduceGroup(prologue, reduce.op.name, tuple(reduce.attrs["axis"]),
                                bool(reduce.attrs.get("keepdims", False)), reduce.out.dtype)
            return group, [x], [reduce.out]
        prologue, ins, _ = group_of_nodes(nodes[:-1], {x.id}, producers)
        group = ReduceGroup(prologue, reduce.op.name, tuple(reduce.attrs["axis"]),
                            bool(reduce.attrs.get("keepdims", False)), reduce.out.dtype)
        return group, ins, [reduce.out]
    inputs: list[Value] = []        # what the kernel is passed
    specs: list[TensorSpec] = []    # how it reads each one
    axes: list[tuple[int, ...] | None] = []
    position: dict[int, tuple] = {}
    steps = []
    for j, node in enumerate(nodes):
        args = []
        for x in node.inputs:
            while isinstance(x, Value) and x.id not in position and x.id in producers \
                    and producers[x.id].op.name == "expand":
                x = producers[x.id].inputs[0]
            if not isinstance(x, Value):
                args.append(("lit", x))
                continue
            if x.id not in position:
                position[x.id] = ("in", len(inputs))
                specs.append(TensorSpec(x.shape, x.dtype))
                made_by = producers.get(x.id)
                if made_by is not None and made_by.op.name == "permute" and x.device == "cpu":
                    inputs.append(made_by.inputs[0])   # read the transpose with strides
                    axes.append(tuple(made_by.attrs["axes"]))
                else:
                    inputs.append(x)
                    axes.append(None)
            args.append(position[x.id])
        steps.append(Step(node.op.name, tuple(args), node.out.dtype,
                          tuple(sorted(node.attrs.items()))))
        position[node.out.id] = ("step", j)
    outputs = [j for j, node in enumerate(nodes) if node.out.id in used_outside]
    out_values = [nodes[j].out for j in outputs]
    group = ElementwiseGroup(tuple(specs), tuple(steps), tuple(outputs), nodes[0].out.shape,
                             tuple(axes) if any(a is not None for a in axes) else ())
    return group, inputs, out_values


def _drop_unread_views(built: list, observed: set[int]) -> list:
    """Remove view nodes nothing reads any more (an `expand` whose only readers were
    fused kernels now broadcasting its source themselves)."""
    needed = set(observed)
    kept = []
    for step in reversed(built):
        if step[0] == "group":
            needed.update(v.id for v in step[2])
        else:
            node = step[1]
            if node.op.is_view and node.out.id not in needed:
                continue
            needed.update(x.id for x in node.inputs if isinstance(x, Value))
        kept.append(step)
    kept.reverse()
    return kept


