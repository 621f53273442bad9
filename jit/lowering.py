"""Lowering: turn an optimized graph into the replay's steps, small typed records.

Each fused `Kernel` node of the graph becomes a `FusedStep` (one codegen group reading
`reads` and writing `writes`); control flow (`If`/`While`, from `jit.script`) a
`ControlStep`; every other node an `OpStep` run with its own array kernel. Inputs made by `expand` or (on cpu) `permute` are replaced by their sources: the
kernel broadcasts or transposes them with strides, and the view nodes nothing reads any
more are dropped. Memory planning (`jit.passes.memory`) and the generated replay
(`jit.executable`) read these steps' named fields.

>>> import eager, tracer
>>> from jit.passes import optimize
>>> g, _ = optimize(tracer.trace(lambda x: (x.T * 2.0).exp(), eager.ones(2, 3)))
>>> [(type(s).__name__, [v.shape for v in s.reads]) for s in lower(g)]
[('FusedStep', [(2, 3)])]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kernels.codegen import ElementwiseGroup, ReduceGroup, RowGroup, Step
from kernels.opdef import TensorSpec
from tracer.control import If, While
from tracer.graph import Graph, Node, Value
from tracer.subgraph import Kernel


@dataclass(slots=True)
class FusedStep:
    """One generated kernel: `group` reads `reads` and writes `writes` (Values of the
    graph); `kernel` is the graph node it comes from."""

    kernel: Kernel
    group: ElementwiseGroup | ReduceGroup | RowGroup
    reads: tuple[Value, ...]
    writes: tuple[Value, ...]

    @property
    def device(self) -> str:
        """Where the kernel runs."""
        return self.writes[0].device


@dataclass(slots=True)
class OpStep:
    """One primitive node run with its own array kernel."""

    node: Node

    @property
    def reads(self) -> tuple[Value, ...]:
        """The Values the node reads."""
        return tuple(x for x in self.node.inputs if isinstance(x, Value))

    @property
    def writes(self) -> tuple[Value, ...]:
        """The node's output."""
        return (self.node.out,)


@dataclass(slots=True)
class ControlStep:
    """An `If`/`While` node (from a scripted call), run by `runner`: one C call for the
    whole node when every op inside has a C kernel, else the graph interpreter."""

    node: If | While
    runner: Any

    @property
    def reads(self) -> tuple[Value, ...]:
        """The Values the node reads."""
        return tuple(self.node.inputs)

    @property
    def writes(self) -> tuple[Value, ...]:
        """The node's outputs."""
        return tuple(self.node.outs)


LoweredStep = FusedStep | OpStep | ControlStep


def lower(graph: Graph) -> list[LoweredStep]:
    """The replay steps of `graph` in order (see the module doc)."""
    producers = graph.producers()
    observed = {v.id for v in graph.output_values()} | {g.value.id for g in graph.guards}
    observed |= {wb.value.id for wb in graph.writebacks if wb.value is not None}
    steps: list[LoweredStep] = []
    for node in graph.nodes:
        if isinstance(node, (If, While)):
            from jit.script.embed import control_runner

            steps.append(ControlStep(node, control_runner(graph, node)))
        elif isinstance(node, Kernel):
            rename = dict(zip((p.id for p in node.body.inputs), node.inputs))
            group, reads, writes = group_of_nodes(node.body.nodes, {v.id for v in node.outs},
                                                  producers, rename)
            steps.append(FusedStep(node, group, tuple(reads), tuple(writes)))
        else:
            steps.append(OpStep(node))
    return _drop_unread_views(steps, observed)


def group_of_nodes(nodes: list[Node], used_outside: set[int],
                   producers: dict[int, Node] | None = None,
                   rename: dict[int, Value] | None = None,
                   ) -> tuple[ElementwiseGroup | ReduceGroup | RowGroup, list[Value], list[Value]]:
    """Turn fused nodes into a codegen group; returns (group, input Values, outputs).

    Nodes ending in their only reduction, which is all the group writes, make a
    `ReduceGroup`; nodes with more reductions (over the last axis, `fuse` sees to it), or
    whose values are written besides, a `RowGroup`; else an `ElementwiseGroup`.

    `rename` maps a kernel body's parameters to the Values they are bound to. An input
    made by `expand` is replaced by the expand's own input: the kernel broadcasts it with
    zero strides instead of reading a materialized copy.
    """
    producers = producers or {}
    rename = rename or {}
    reductions = [n for n in nodes if n.op.kind == "reduce"]
    rows = len(reductions) > 1 or any(n.op.name == "expand" for n in nodes) or \
        (reductions and (reductions[0] is not nodes[-1] or used_outside != {nodes[-1].out.id}))
    if reductions and not rows:
        reduce = nodes[-1]
        x = rename.get(reduce.inputs[0].id, reduce.inputs[0])
        if len(nodes) == 1:  # a reduction alone: its prologue just reads the input
            prologue = ElementwiseGroup((TensorSpec(x.shape, x.dtype),),
                                        (Step("copy", (("in", 0),), x.dtype),), (0,), x.shape)
            group = ReduceGroup(prologue, reduce.op.name, tuple(reduce.attrs["axis"]),
                                bool(reduce.attrs.get("keepdims", False)), reduce.out.dtype)
            return group, [x], [reduce.out]
        prologue, ins, _ = group_of_nodes(nodes[:-1], {x.id}, producers, rename)
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
            if isinstance(x, Value):
                x = rename.get(x.id, x)
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
    if rows:
        group = RowGroup(tuple(specs), tuple(steps), tuple(n.out.shape for n in nodes),
                         tuple(outputs), reductions[0].inputs[0].shape,
                         tuple(axes) if any(a is not None for a in axes) else ())
        return group, inputs, out_values
    group = ElementwiseGroup(tuple(specs), tuple(steps), tuple(outputs), nodes[0].out.shape,
                             tuple(axes) if any(a is not None for a in axes) else ())
    return group, inputs, out_values


def _drop_unread_views(steps: list[LoweredStep], observed: set[int]) -> list[LoweredStep]:
    """Remove view nodes nothing reads any more (an `expand` whose only readers were
    fused kernels now broadcasting its source themselves)."""
    needed = set(observed)
    kept = []
    for step in reversed(steps):
        if isinstance(step, OpStep) and step.node.op.is_view and step.node.out.id not in needed:
            continue
        needed.update(v.id for v in step.reads)
        kept.append(step)
    kept.reverse()
    return kept
