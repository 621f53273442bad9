"""The exported model's run as a list of C calls over named buffers.

`plan_program(graph)` lowers the optimized graph exactly as `@jit` does
(`jit.lowering.lower`) and decides where every Value lives: a caller's input `in[k]`,
a loaded weight `ej_w[k]`, the caller's output `out[k]` when the Value is returned, or
an offset in the per-context scratch arena. `reshape` of a contiguous buffer is the
same buffer. Each step becomes one C function (fused groups rendered by
`kernels.codegen.c_render`, the rest by `c_loops` / `c_matmul`) and one call.

>>> import eager
>>> from jit.export.prepare import inference_graph
>>> g = inference_graph(lambda x: (x * 2.0).exp().sum(), (eager.ones(3),))
>>> [c.text for c in plan_program(g).calls]
['ej_f0(in[0], out[0], 0, 1);']
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from jit.export import c_loops, c_matmul
from jit.export.errors import ExportError, node_text
from jit.lowering import FusedStep, OpStep, group_of_nodes, lower
from jit.passes.memory import plan_buffers
from kernels import GroupOp
from kernels.codegen import c_render
from kernels.codegen.c_render import can_render
from kernels.shapes import size_of
from tracer.graph import Graph, Node, Value, walk

ALIGN = 64
FUSABLE_REDUCTIONS = ("sum", "prod", "max", "min")


@dataclass
class Call:
    """One statement of model_run: `text`, checking a return code when `checked`."""

    text: str
    checked: bool = False


@dataclass
class Program:
    """What model.c is made of."""

    functions: list[str] = field(default_factory=list)   # C function definitions
    calls: list[Call] = field(default_factory=list)      # model_run's body, in order
    copies: list[str] = field(default_factory=list)      # outputs copied at the end
    arena_bytes: int = 0
    gemm_types: set[str] = field(default_factory=set)


def _nbytes(v: Value) -> int:
    return size_of(v.shape) * np.dtype(v.dtype).itemsize


class _Storage:
    """Pointer expressions for Values; arena offsets come from `jit.passes.memory`'s
    liveness planner, so a buffer is reused once its last reader has run."""

    def __init__(self, graph: Graph, steps: list) -> None:
        self.ptr: dict[int, str] = {}
        for k, v in enumerate(graph.args):
            self.ptr[v.id] = f"in[{k}]"
        for k, v in enumerate(graph.consts):
            self.ptr[v.id] = f"ej_w[{k}]"
        self.out_slot: dict[int, int] = {}
        for k, v in enumerate(graph.output_values()):
            self.out_slot.setdefault(v.id, k)
        plan = plan_buffers(*_liveness(graph, steps, set(self.out_slot)))
        self.offset_of_slot, self.arena = [], 0
        for nbytes in plan.slot_bytes:
            self.offset_of_slot.append(self.arena)
            self.arena += (nbytes + ALIGN - 1) // ALIGN * ALIGN
        self.slot_of = plan.slot_of

    def write(self, v: Value) -> str:
        """Storage for a Value a step computes."""
        if v.id in self.out_slot:
            self.ptr[v.id] = f"out[{self.out_slot[v.id]}]"
        else:
            self.ptr[v.id] = f"(void *)(arena + {self.offset_of_slot[self.slot_of[v.id]]})"
        return self.ptr[v.id]

    def read(self, v: Value) -> str:
        return self.ptr[v.id]


def _is_alias(step) -> bool:
    return isinstance(step, OpStep) and step.node.op.name == "reshape"


def _liveness(graph: Graph, steps: list, escaping: set[int]):
    """plan_buffers' arguments: each step's arena-bound writes, last uses, escaping ids."""
    last_use: dict[int, int] = {}
    for i, step in enumerate(steps):
        for v in step.reads:
            last_use[v.id] = i
    for v in graph.output_values():
        last_use[v.id] = len(steps)
    for i in reversed(range(len(steps))):   # a reshape is its source's buffer
        if _is_alias(steps[i]):
            base, out = steps[i].node.inputs[0].id, steps[i].node.out.id
            last_use[base] = max(last_use.get(base, i), last_use.get(out, i))
    writes = [(i, [] if _is_alias(step) else [(v.id, _nbytes(v)) for v in step.writes])
              for i, step in enumerate(steps)]
    return writes, last_use, escaping


def plan_program(graph: Graph) -> Program:
    """The C functions, calls and scratch size serving `graph` (see the module doc)."""
    _check_dtypes(graph)
    program = Program()
    steps = lower(graph)
    store = _Storage(graph, steps)
    bodies: dict[str, str] = {}   # function body (name-free) -> its name

    def function(source: str) -> str:
        name = bodies.get(source)
        if name is None:
            name = bodies[source] = f"ej_f{len(bodies)}"
            program.functions.append(source.replace("EJ_NAME", name, 1))
        return name

    for step in steps:
        if _is_alias(step):
            store.ptr[step.node.out.id] = store.read(step.node.inputs[0])
            continue
        if any(size_of(v.shape) == 0 for v in step.writes):
            for v in step.writes:
                store.write(v)
            continue
        reads = [store.read(v) for v in step.reads]
        if isinstance(step, FusedStep):
            group = step.group
        else:
            group = _single_op_group(step.node)
        if group is not None:
            name = function("static " + c_render.render(group, "EJ_NAME"))
            writes = [store.write(v) for v in step.writes]
            extent = c_render.outer_extent(group)
            program.calls.append(Call(f"{name}({', '.join(reads + writes)}, 0, {extent});"))
            continue
        node = step.node
        if node.op.name == "matmul":
            program.gemm_types.add(c_matmul.matmul_ctype(node))
            source = c_matmul.render_matmul(node, "EJ_NAME")
        else:
            source = c_loops.render_node(node, "EJ_NAME")
        name = function(source)
        out = store.write(node.out)
        program.calls.append(Call(f"{name}({', '.join(reads + [out])})", checked=True))
    for k, v in enumerate(graph.output_values()):
        if store.read(v) != f"out[{k}]":
            program.copies.append(f"memcpy(out[{k}], {store.read(v)}, {_nbytes(v)});")
    program.arena_bytes = store.arena
    return program


def _single_op_group(node: Node):
    """A codegen group for one elementwise op or fusable reduction left unfused, or None
    for other ops; ExportError for an elementwise op without a C expression."""
    kind = node.op.kind
    if kind in GroupOp.ELEMENTWISE or (kind == "reduce" and node.op.name in FUSABLE_REDUCTIONS):
        dtypes = [x.dtype for x in node.inputs if isinstance(x, Value)] + [node.out.dtype]
        if kind in GroupOp.ELEMENTWISE and not can_render(node.op.name, dtypes):
            raise ExportError(f"export: op {node.op.name!r} has no C expression for dtypes "
                              f"{[np.dtype(d).name for d in dtypes]} in {node_text(node)}")
        if any(np.dtype(d).name not in c_render.CTYPES for d in dtypes):
            raise ExportError(f"export: dtype without a C type in {node_text(node)}")
        group, _, _ = group_of_nodes([node], {node.out.id})
        return group
    return None


def _check_dtypes(graph: Graph) -> None:
    """ExportError for a Value whose dtype has no C type (float16)."""
    for v in graph.inputs:
        if np.dtype(v.dtype).name not in c_render.CTYPES:
            raise ExportError(f"export: input {v!r} {v.label} is {v.dtype.name}, which has "
                              f"no C type; cast it (the C types: {sorted(c_render.CTYPES)})")
    for node in walk(graph):
        for v in node.outs:
            if np.dtype(v.dtype).name not in c_render.CTYPES:
                raise ExportError(f"export: {v.dtype.name} has no C type in "
                                  f"{node_text(node)}")
