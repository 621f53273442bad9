"""A compiled graph: one generated Python function that calls the kernels in order.

The optimized graph's steps are either a fused group (one generated C or CUDA kernel) or
one op run with its own array kernel (matmul, reductions, movement, ...). The replay
body is generated once as straight-line Python source over a flat list `env` of arrays,
so a call costs one Python statement per step, whatever the groups contain. Reading
bound state, checking guards, the write-backs and building the outputs follow the
reference interpreter's plan (`tracer.interpreter`), so both execute the same semantics.

>>> import eager, tracer
>>> from jit.passes import optimize
>>> g = tracer.trace(lambda x: (x * 2.0 + 1.0).tanh(), eager.ones(4))
>>> exe = Executable(*optimize(g)[:2])
>>> exe.kernel_launches, exe([eager.zeros(4)]).tolist()
(1, [0.7615941762924194, 0.7615941762924194, 0.7615941762924194, 0.7615941762924194])
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from eager.tensor import Tensor, wrap
from jit.passes.fusion import fusion_groups
from jit.passes.memory import BufferPlan, plan_buffers
from kernels import array_namespace_for
from kernels.codegen import ElementwiseGroup, ReduceGroup, Step, compile_groups
from kernels.opdef import TensorSpec
from tracer.graph import Graph, Node, Value
from tracer.interpreter import _check_guard, _Plan
from tracer.pytree import flatten


class ExecutableBusy(RuntimeError):
    """Another thread is running this compiled graph (its buffers are in use)."""


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


def _in_place_updates(graph: Graph, built: list, escaping: set[int]) -> dict[int, int]:
    """Fused-kernel outputs that can be written straight into the bound tensor they update.

    Value V (computed by fused step i) -> input T when a write-back stores V into T, T is a
    tensor bound by reference that is not a view, and neither T nor any view of it is read
    after step i (within step i the kernel reads T only at the index it writes).
    """
    from eager.tensor import Tensor

    derived: dict[int, int] = {}   # value id -> the input it is a view of
    for node in graph.nodes:
        x = node.inputs[0] if node.inputs else None
        if node.op.is_view and isinstance(x, Value):
            root = derived.get(x.id, x.id if x.kind in ("arg", "ref") else None)
            if root is not None:
                derived[node.out.id] = root
    last_read: dict[int, int] = {}  # input id -> last step reading it or a view of it
    end = len(built)
    reads = [(i, step[2] if step[0] == "group" else
              [x for x in step[1].inputs if isinstance(x, Value)]) for i, step in enumerate(built)]
    reads.append((end, graph.output_values() + [g.value for g in graph.guards]
                  + [wb.value for wb in graph.writebacks if wb.value is not None]))
    for i, values in reads:
        for v in values:
            root = derived.get(v.id, v.id)
            last_read[root] = i
    producer_step = {v.id: i for i, step in enumerate(built) if step[0] == "group"
                     and step[3][0].device == "cpu" for v in step[3]}
    bases = [v.ref._base for v in graph.inputs if isinstance(v.ref, Tensor)]
    plan = {}
    for wb in graph.writebacks:
        t, v = wb.target, wb.value
        if wb.slot != "data" or v is None or v.id in escaping or t.kind != "ref" \
                or not isinstance(t.ref, Tensor) or t.ref._base is not None \
                or any(b is t.ref for b in bases) or v.id not in producer_step \
                or (v.shape, v.dtype) != (t.shape, t.dtype):
            continue
        i = producer_step[v.id]
        group, ins = built[i][1], built[i][2]
        read_elsewhere = any(derived.get(x.id) == t.id or (x.id == t.id and group_axes(group, k))
                             for k, x in enumerate(ins))   # another element than written
        if last_read.get(t.id, -1) <= i and not read_elsewhere:
            plan[v.id] = t.id
    return plan


def group_axes(group, k: int):
    """The transpose a group applies to input k (None when read as is)."""
    prologue = group.prologue if isinstance(group, ReduceGroup) else group
    return prologue.axes_of(k)


def _escaping(graph: Graph, producers: dict[int, Node]) -> set[int]:
    """Values whose memory the caller can see: outputs, `.grad`s, and bases of their views."""
    ids = {v.id for v in graph.output_values()}
    ids |= {wb.value.id for wb in graph.writebacks if wb.slot == "grad" and wb.value is not None}
    todo = list(ids)
    while todo:
        node = producers.get(todo.pop())
        if node is not None and node.op.is_view and isinstance(node.inputs[0], Value):
            base = node.inputs[0].id
            if base not in ids:
                ids.add(base)
                todo.append(base)
    return ids


class Executable:
    """Replays one optimized graph: `exe(leaves)` with the flattened argument leaves."""

    def __init__(self, graph: Graph, groups: list[list[Node]] | None = None,
                 plan_memory: bool = True) -> None:
        self.graph = graph
        self.state = _Plan(graph)
        groups = fusion_groups(graph) if groups is None else groups
        producers = {n.out.id: n for n in graph.nodes}
        in_group = {id(n): gi for gi, grp in enumerate(groups) for n in grp}
        observed = {v.id for v in graph.output_values()} | {g.value.id for g in graph.guards}
        observed |= {wb.value.id for wb in graph.writebacks if wb.value is not None}
        readers: dict[int, set[int]] = {}
        for n in graph.nodes:
            for x in n.inputs:
                if isinstance(x, Value):
                    readers.setdefault(x.id, set()).add(id(n))
        # Steps in order: ("group", index) once per group, ("node", node) otherwise.
        steps: list[tuple] = []
        seen_groups: set[int] = set()
        for n in graph.nodes:
            gi = in_group.get(id(n))
            if gi is None:
                steps.append(("node", n))
            elif gi not in seen_groups:
                seen_groups.add(gi)
                steps.append(("group", gi))
        built = []
        for kind, item in steps:
            if kind == "group":
                members = {id(n) for n in groups[item]}
                outside = {n.out.id for n in groups[item]
                           if n.out.id in observed or readers.get(n.out.id, set()) - members}
                built.append(("group",) + group_of_nodes(groups[item], outside, producers))
            else:
                built.append(("node", item))
        built = _drop_unread_views(built, observed)
        self.buffers = self._plan_buffers(graph, built, producers, plan_memory)
        self.in_place = _in_place_updates(graph, built, _escaping(graph, producers)) \
            if plan_memory else {}
        self.cpu_kernels = compile_groups([b[1] for b in built if b[0] == "group"
                                           and b[3][0].device == "cpu"])
        self.kernel_launches = len(built)
        self.fused_kernels = sum(1 for b in built if b[0] == "group")
        self._run = self._generate(graph, built)

    def _plan_buffers(self, graph, built, producers, enabled) -> BufferPlan:
        last_use: dict[int, int] = {}
        end = len(built)
        for i, step in enumerate(built):
            values = step[2] if step[0] == "group" else [
                x for x in step[1].inputs if isinstance(x, Value)]
            for v in values:
                last_use[v.id] = i
        for v in graph.output_values():
            last_use[v.id] = end
        for wb in graph.writebacks:
            if wb.value is not None:
                last_use[wb.value.id] = end
        for guard in graph.guards:
            last_use[guard.value.id] = end
        # A view keeps its base alive; walking backwards carries that along view chains.
        for i, step in reversed(list(enumerate(built))):
            if step[0] == "node" and step[1].op.is_view and isinstance(step[1].inputs[0], Value):
                base = step[1].inputs[0].id
                last_use[base] = max(last_use.get(base, i), last_use.get(step[1].out.id, i))
        outputs = [(i, [(v.id, int(np.prod(v.shape)) * v.dtype.itemsize) for v in step[3]
                        if v.device == "cpu"] if step[0] == "group" else [])
                   for i, step in enumerate(built)]
        escaping = _escaping(graph, producers)
        if not enabled:
            escaping = escaping | {vid for _, outs in outputs for vid, _ in outs}
        return plan_buffers(outputs, last_use, escaping)

    def _generate(self, graph: Graph, built: list):
        """Source of `_call(leaves)`: load inputs, run every step, write back, return."""
        state = self.state
        self._strided = {n.out.id for n in graph.nodes
                         if n.op.is_view and n.op.name != "reshape" and n.out.device == "cpu"}
        names: dict[str, Any] = {"_asarray": np.asarray, "_empty": np.empty,
                                 "_asc": np.ascontiguousarray,
                                 "_check": _check_guard, "_state": state,
                                 "_template": state.template, "_wrap": wrap,
                                 "_Tensor": Tensor, "_fb": None,
                                 "_lock": threading.Lock(), "_Busy": ExecutableBusy}
        guards_of: dict[int, list] = {}
        for guard in graph.guards:
            guards_of.setdefault(guard.value.id, []).append(guard)
        slots = [np.empty(n, np.uint8) for n in self.buffers.slot_bytes]
        cpu_kernels = iter(self.cpu_kernels)

        def bind(obj, prefix):
            name = f"_{prefix}{len(names)}"
            names[name] = obj
            return name

        # Pooled buffers make a replay non-reentrant: a second thread calling in while one
        # runs gets ExecutableBusy (the jit then runs that call eagerly).
        lines = ["def _call(leaves):", "    if not _lock.acquire(False):",
                 "        raise _Busy()", "    try:", "        return _body(leaves)",
                 "    finally:", "        _lock.release()", "",
                 "def _body(leaves):", "    env = _template.copy()"]
        for leaf_index, slot in state.arg_slots:
            if graph.inputs and any(v.id == slot and v.is_tensor for v in graph.inputs):
                lines.append(f"    env[{slot}] = leaves[{leaf_index}]._data")
            else:
                lines.append(f"    env[{slot}] = leaves[{leaf_index}]")
        if state.entry_guards or state.tensor_refs or state.grad_refs:
            lines.append("    _state.read_state(env, leaves)")
        for step in built:
            if step[0] == "group":
                produced = self._emit_group(step, lines, bind, slots, cpu_kernels)
            else:
                produced = self._emit_node(step[1], lines, bind)
            for v in produced:
                for guard in guards_of.get(v.id, []):
                    lines.append(f"    _check({bind(guard, 'g')}, env[{v.id}])")
        if state.writebacks:
            lines.append("    _state.write_back(env, leaves)")
        plan = state.out_plan
        if state.out_tree.kind == "leaf" and plan[0][0] == "value":
            lines.append(f"    return _wrap(env[{plan[0][1]}], {plan[0][2]!r})")
        else:
            lines.append("    return _state.outputs(env, leaves)")
        source = "\n".join(lines) + "\n"
        self.source = source
        if self.cpu_kernels:
            from cffi import FFI

            names["_fb"] = FFI().from_buffer
        # The source is generated here from the graph; nothing in it comes from user text.
        exec(compile(source, f"<jit replay of {graph.name}>", "exec"), names)  # noqa: S102
        return names["_call"]

    def _emit_group(self, step, lines, bind, slots, cpu_kernels) -> list[Value]:
        _, group, ins, outs = step
        on_cpu = outs[0].device == "cpu"
        kernel = next(cpu_kernels) if on_cpu else _cuda_kernel(group)
        out_names = []
        for v in outs:
            slot = self.buffers.slot_of.get(v.id)
            if slot is not None:
                view = slots[slot][:int(np.prod(v.shape)) * v.dtype.itemsize]
                buffer = bind(view.view(v.dtype).reshape(v.shape), "b")
            else:
                empty = "_empty" if on_cpu else bind(array_namespace_for(v.device).empty, "e")
                buffer = f"{empty}({v.shape!r}, {bind(v.dtype, 'd')})"
            target = self.in_place.get(v.id)
            if target is not None:
                # Write the update straight into the tensor it is written back to (then
                # the write-back copies an array onto itself, which numpy skips).
                buffer = f"env[{target}] if env[{target}].flags.c_contiguous else {buffer}"
            if slot is not None and target is None:
                out_names.append(buffer)
                continue
            name = f"_o{len(out_names)}"
            lines.append(f"    {name} = {buffer}")
            out_names.append(name)
        # Views made by permute/expand/slice are not contiguous: copy them up front rather
        # than let from_buffer refuse them on every call.
        args = [f"_asc(env[{v.id}])" if v.id in self._strided else f"env[{v.id}]" for v in ins]
        fast = on_cpu and getattr(kernel, "compiled", False) and kernel.chunks is None
        if fast:
            # from_buffer refuses non-contiguous arrays; then run() copies them first.
            call = ", ".join([f"_fb({a})" for a in args] + [f"_fb({o})" for o in out_names]
                             + ["0", str(kernel.extent)])
            fallback = f"{bind(kernel.run, 'r')}([{', '.join(args)}], [{', '.join(out_names)}])"
            lines += ["    try:", f"        {bind(kernel.fn, 'k')}({call})",
                      "    except ValueError:", f"        {fallback}"]
        else:
            lines.append(f"    {bind(kernel.run, 'r')}([{', '.join(args)}], "
                         f"[{', '.join(out_names)}])")
        for v, name in zip(outs, out_names):
            lines.append(f"    env[{v.id}] = {name}")
        return outs

    def _emit_node(self, node: Node, lines, bind) -> list[Value]:
        device = next((x.device for x in node.inputs if isinstance(x, Value) and x.is_tensor),
                      node.out.device)
        xp = np if device == "cpu" else array_namespace_for(device)
        fn = bind(node.op.kernel(xp), "f")
        args = [f"env[{x.id}]" if isinstance(x, Value) else bind(x, "c") for x in node.inputs]
        args += [f"{k}={bind(v, 'a')}" for k, v in node.attrs.items()]
        call = f"{fn}({', '.join(args)})"
        if node.out.device == "cpu" and (node.out.shape == () or node.op.kind == "reduce"):
            call = f"_asarray({call})"
        lines.append(f"    env[{node.out.id}] = {call}")
        return [node.out]

    def __call__(self, leaves: list) -> Any:
        return self._run(leaves)


def _cuda_kernel(group: ElementwiseGroup):
    from kernels.codegen.cuda import compile_group

    return compile_group(group)


def flat_leaves(args: tuple, kwargs: dict) -> list:
    """The argument leaves in the order graphs expect them."""
    return flatten((args, kwargs))[0]
