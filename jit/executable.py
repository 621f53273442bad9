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
>>> exe.kernel_launches, [round(v, 6) for v in exe([eager.zeros(4)]).tolist()]
(1, [0.761594, 0.761594, 0.761594, 0.761594])
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from eager.tensor import wrap
from jit.lowering import lower
from jit.passes.fusion import fusion_groups
from jit.passes.memory import buffer_plan, escaping_values, in_place_updates
from kernels import array_namespace_for
from kernels.codegen import ElementwiseGroup, compile_groups
from tracer.graph import Graph, Node, Value
from tracer.interpreter import _check_guard, _Plan


class ExecutableBusy(RuntimeError):
    """Another thread is running this compiled graph (its buffers are in use)."""


class Executable:
    """Replays one optimized graph: `exe(leaves)` with the flattened argument leaves."""

    def __init__(self, graph: Graph, groups: list[list[Node]] | None = None,
                 plan_memory: bool = True) -> None:
        self.graph = graph
        self.state = _Plan(graph)
        built = lower(graph, fusion_groups(graph) if groups is None else groups)
        self.buffers = buffer_plan(graph, built, plan_memory)
        self.in_place = in_place_updates(graph, built, escaping_values(graph)) \
            if plan_memory else {}
        self.cpu_kernels = compile_groups([b[1] for b in built if b[0] == "group"
                                           and b[3][0].device == "cpu"])
        self.kernel_launches = len(built)
        self.fused_kernels = sum(1 for b in built if b[0] == "group")
        self._run = self._generate(graph, built)

    def _generate(self, graph: Graph, built: list):
        """Source of `_call(leaves)`: load inputs, run every step, write back, return."""
        state = self.state
        self._strided = {n.out.id for n in graph.nodes
                         if n.op.is_view and n.op.name != "reshape" and n.out.device == "cpu"}
        names: dict[str, Any] = {"_asarray": np.asarray, "_empty": np.empty,
                                 "_asc": np.ascontiguousarray,
                                 "_check": _check_guard, "_state": state,
                                 "_template": state.template, "_wrap": wrap, "_fb": None,
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

        if self.cpu_kernels:
            from cffi import FFI

            names["_fb"] = FFI().from_buffer
        # cffi pointers made once for arrays that are the same on every call (pooled
        # buffers, constants): a compiled kernel's call then wraps only the others.
        self._pointer_of: dict[int, str] = {}
        if names["_fb"] is not None:
            for v in graph.inputs:
                data = state.template[v.id]
                if v.kind == "const" and type(data) is np.ndarray and data.flags.c_contiguous:
                    self._pointer_of[v.id] = bind(names["_fb"](data), "p")
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
                produced = self._emit_group(step, lines, bind, slots, cpu_kernels, names["_fb"])
            else:
                produced = self._emit_node(step[1], lines, bind, slots, names["_fb"])
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
        # The source is generated here from the graph; nothing in it comes from user text.
        exec(compile(source, f"<jit replay of {graph.name}>", "exec"), names)  # noqa: S102
        return names["_call"]

    def _emit_group(self, step, lines, bind, slots, cpu_kernels, fb) -> list[Value]:
        _, group, ins, outs = step
        on_cpu = outs[0].device == "cpu"
        kernel = next(cpu_kernels) if on_cpu else _cuda_kernel(group)
        out_names = []
        out_pointers = []
        for v in outs:
            slot = self.buffers.slot_of.get(v.id)
            pointer = None
            if slot is not None:
                array = _slot_array(slots[slot], v)
                buffer = bind(array, "b")
                if on_cpu and fb is not None and v.id not in self.in_place:
                    pointer = self._pointer_of[v.id] = bind(fb(array), "p")
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
                out_pointers.append(pointer or f"_fb({buffer})")
                continue
            name = f"_o{len(out_names)}"
            lines.append(f"    {name} = {buffer}")
            out_names.append(name)
            out_pointers.append(f"_fb({name})")
        # Views made by permute/expand/slice are not contiguous: copy them up front rather
        # than let from_buffer refuse them on every call.
        args = [f"_asc(env[{v.id}])" if v.id in self._strided else f"env[{v.id}]" for v in ins]
        fast = on_cpu and getattr(kernel, "compiled", False) and kernel.chunks is None
        if fast:
            # from_buffer refuses non-contiguous arrays; then run() copies them first.
            in_pointers = [self._pointer_of.get(v.id) or f"_fb({a})" for v, a in zip(ins, args)]
            call = ", ".join(in_pointers + out_pointers + ["0", str(kernel.extent)])
            fallback = f"{bind(kernel.run, 'r')}([{', '.join(args)}], [{', '.join(out_names)}])"
            lines += ["    try:", f"        {bind(kernel.fn, 'k')}({call})",
                      "    except ValueError:", f"        {fallback}"]
        else:
            lines.append(f"    {bind(kernel.run, 'r')}([{', '.join(args)}], "
                         f"[{', '.join(out_names)}])")
        for v, name in zip(outs, out_names):
            lines.append(f"    env[{v.id}] = {name}")
        return outs

    def _emit_node(self, node: Node, lines, bind, slots, fb) -> list[Value]:
        device = next((x.device for x in node.inputs if isinstance(x, Value) and x.is_tensor),
                      node.out.device)
        xp = np if device == "cpu" else array_namespace_for(device)
        fn = bind(node.op.kernel(xp), "f")
        args = [f"env[{x.id}]" if isinstance(x, Value) else bind(x, "c") for x in node.inputs]
        args += [f"{k}={bind(v, 'a')}" for k, v in node.attrs.items()]
        slot = self.buffers.slot_of.get(node.out.id)
        if slot is not None:   # a matmul given a pooled buffer (memory.pooled_outputs)
            v = node.out
            array = _slot_array(slots[slot], v)
            args.append(f"out={bind(array, 'b')}")
            if fb is not None:
                self._pointer_of[v.id] = bind(fb(array), "p")
        call = f"{fn}({', '.join(args)})"
        if node.out.device == "cpu" and (node.out.shape == () or node.op.kind == "reduce"):
            call = f"_asarray({call})"
        lines.append(f"    env[{node.out.id}] = {call}")
        return [node.out]

    def __call__(self, leaves: list) -> Any:
        return self._run(leaves)


def _slot_array(slot: np.ndarray, v: Value) -> np.ndarray:
    """The start of a pooled byte buffer viewed as value v's array."""
    return slot[:int(np.prod(v.shape)) * v.dtype.itemsize].view(v.dtype).reshape(v.shape)


def _cuda_kernel(group: ElementwiseGroup):
    from kernels.codegen.cuda import compile_group

    return compile_group(group)
