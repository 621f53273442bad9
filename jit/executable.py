"""A compiled graph: the generated-replay backend of the graph's `ExecutionPlan`.

The optimized graph is lowered (`jit.lowering`) into steps that are either a fused
kernel (one generated C or CUDA kernel) or one op run with its own array kernel (matmul,
reductions, movement, ...). The replay body is generated once as straight-line Python
source over the plan's flat environment `env`, so a call costs one Python statement per
step, whatever the kernels contain. The source is generated from the plan's fields
(argument bindings, guards by the value they read, write-backs, output entries), and the
state-in and state-out work is the plan's own `read_state` / `write_back` / `outputs`,
the code every other interpreter of the graph runs. Arrays that are the same on every
call (pooled buffers, constants, and views of them) are bound once, with their cffi
pointers, so a step passes only what changes.

>>> import eager, tracer
>>> from jit.passes import optimize
>>> g = tracer.trace(lambda x: (x * 2.0 + 1.0).tanh(), eager.ones(4))
>>> exe = Executable(optimize(g)[0])
>>> exe.kernel_launches, [round(v, 6) for v in exe([eager.zeros(4)]).tolist()]
(1, [0.761594, 0.761594, 0.761594, 0.761594])
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from eager.tensor import wrap
from jit.lowering import ControlStep, FusedStep, LoweredStep, lower
from jit.passes.memory import (
    buffer_plan,
    concat_sources_in_place,
    escaping_values,
    in_place_updates,
    index_add_chains_as_sets,
    index_adds_in_place,
)
from kernels import array_namespace_for
from kernels.codegen import ElementwiseGroup, compile_groups, rows_c
from kernels.dtypes import bfloat16
from kernels.indexing import full_key
from tracer.errors import GuardFailure
from tracer.graph import Graph, Node, Value
from tracer.plan import check_guard


class ExecutableBusy(RuntimeError):
    """Another thread is running this compiled graph (its buffers are in use)."""


class Miss:
    """A replay that did not complete; the jit serves the call another way. A replay's
    outcome is a value: the function's result on a hit, else one of these."""

    __slots__ = ()


@dataclass(slots=True)
class GuardFailed(Miss):
    """A guard failed (the data would send the Python code elsewhere); no side effects."""

    failure: GuardFailure


@dataclass(slots=True)
class Busy(Miss):
    """Another thread is running this replay (its pooled buffers are in use)."""


@dataclass(slots=True)
class ReplayError(Miss):
    """A kernel raised during the replay (before any write-back)."""

    error: Exception


@dataclass(slots=True)
class RunEagerly(Miss):
    """This call must run eagerly: no compiled form, or an argument shares memory with a
    tensor the graph binds by reference or another argument while something is written in
    place (the graph assumed separate buffers)."""


RUN_EAGERLY = RunEagerly()


# A hit is the result itself, not wrapped: wrapping and unwrapping cost a tenth of a small
# replay (about 0.4 us of 5).
Outcome = Any
"""What one replay attempt gave: the result (a hit) or a `Miss`."""
BUSY = Busy()


class Executable:
    """Replays one optimized graph: `exe.replay(leaves)` gives the `Outcome` for the
    flattened argument leaves (the result, or a `Miss`); `exe(leaves)` the result, raising
    what stopped the replay."""

    def __init__(self, graph: Graph, plan_memory: bool = True) -> None:
        self.graph = graph
        self.plan = graph.execution_plan()
        self.steps = lower(graph)
        escaping = escaping_values(graph)
        self.in_place = in_place_updates(graph, self.steps, escaping) if plan_memory else {}
        self.concat_in_place = concat_sources_in_place(graph, self.steps, escaping,
                                                       self.in_place) if plan_memory else {}
        self._own_memory = self._concat_buffers(graph)
        self.buffers = buffer_plan(graph, self.steps, plan_memory,
                                   frozenset(self._own_memory))
        self.index_add_in_place = index_adds_in_place(graph, self.steps) if plan_memory \
            else set()
        self.index_sets = index_add_chains_as_sets(graph, self.steps, self.index_add_in_place)
        self.cpu_kernels = compile_groups([s.group for s in self.steps
                                           if isinstance(s, FusedStep) and s.device == "cpu"])
        self.kernel_launches = len(self.steps)
        self.fused_kernels = sum(1 for s in self.steps if isinstance(s, FusedStep))
        self.replay = self._generate(graph, self.steps)

    def _concat_buffers(self, graph: Graph) -> dict[int, np.ndarray]:
        """One buffer per concat written in place (`memory.concat_sources_in_place`), kept
        for the life of this executable: value id -> its array (the concat's output, or
        a source's place in it)."""
        values = {v.id: v for v in graph.values()}
        own: dict[int, np.ndarray] = {}
        for out_id, offsets in self.concat_in_place.items():
            out = values[out_id]
            flat = own[out_id] = np.empty(out.shape, out.dtype)
            for vid, offset in offsets.items():
                v = values[vid]
                own[vid] = flat[offset:offset + int(np.prod(v.shape))].reshape(v.shape)
        return own

    def _generate(self, graph: Graph, steps: list[LoweredStep]):
        """Source of `_call(leaves)`: load inputs, run every step, write back, return."""
        plan = self.plan
        self._strided = {n.out.id for n in graph.nodes
                         if n.op.is_view and n.op.name != "reshape" and n.out.device == "cpu"}
        # The replay's starting environment: the plan's, plus the views of buffers that
        # are the same arrays on every call (`_static_view`).
        self._template = list(plan.template)
        self._static: dict[int, np.ndarray] = {}
        names: dict[str, Any] = {"_asarray": np.asarray, "_empty": np.empty,
                                 "_asc": np.ascontiguousarray,
                                 "_check": check_guard, "_plan": plan,
                                 "_template": self._template, "_wrap": wrap, "_fb": None,
                                 "_lock": threading.Lock(), "_BUSY": BUSY,
                                 "_GuardFailed": GuardFailed, "_Error": ReplayError,
                                 "_GuardFailure": GuardFailure}
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
                data = plan.template[v.id]
                if v.kind == "const" and type(data) is np.ndarray and data.flags.c_contiguous:
                    self._pointer_of[v.id] = bind(names["_fb"](data), "p")
        for v in graph.inputs:
            if v.kind == "const" and type(plan.template[v.id]) is np.ndarray:
                self._static[v.id] = plan.template[v.id]
        # Pooled buffers make a replay non-reentrant: a second thread calling in while one
        # runs gets Busy (the jit then runs that call eagerly).
        lines = ["def _call(leaves):", "    if not _lock.acquire(False):",
                 "        return _BUSY", "    try:", "        return _body(leaves)",
                 "    except _GuardFailure as exc:", "        return _GuardFailed(exc)",
                 "    except Exception as exc:  # noqa: BLE001", "        return _Error(exc)",
                 "    finally:", "        _lock.release()", "",
                 "def _body(leaves):", "    env = _template.copy()"]
        for arg in plan.args:
            data = "._data" if arg.tensor else ""
            lines.append(f"    env[{arg.slot}] = leaves[{arg.leaf}]{data}")
        self._emit_alias_check(lines, names)
        if plan.has_state_in:
            lines.append("    _plan.read_state(env, leaves)")
        for step in steps:
            if isinstance(step, FusedStep):
                self._emit_kernel(step, lines, bind, slots, cpu_kernels, names["_fb"])
            elif isinstance(step, ControlStep):
                reads = ", ".join(f"env[{x.id}]" for x in step.reads)
                outs = "".join(f"env[{v.id}], " for v in step.writes)
                lines.append(f"    {outs}= {bind(step.runner, 'l')}([{reads}])")
            else:
                self._emit_node(step.node, lines, bind, slots, names["_fb"])
            for v in step.writes:
                for guard in plan.guards_of.get(v.id, ()):
                    lines.append(f"    _check({bind(guard, 'g')}, env[{v.id}])")
        if plan.writebacks:
            lines.append("    _plan.write_back(env, leaves)")
        entries = plan.out_entries
        if plan.out_tree.kind == "leaf" and entries[0].kind == "value":
            lines.append(f"    return _wrap(env[{entries[0].value}], {entries[0].device!r})")
        else:
            lines.append("    return _plan.outputs(env, leaves)")
        source = "\n".join(lines) + "\n"
        self.source = source
        # The source is generated here from the graph; nothing in it comes from user text.
        exec(compile(source, f"<jit replay of {graph.name}>", "exec"), names)  # noqa: S102
        return names["_call"]

    def _emit_alias_check(self, lines: list[str], names: dict) -> None:
        """An argument that is (a view of) a tensor bound by reference, when the graph
        writes in place: eagerly the write shows through the other name, in the graph
        they are separate values. Such a call runs eagerly."""
        plan = self.plan
        tensor_args = [a.leaf for a in plan.args if a.tensor]
        if not (tensor_args and plan.refs and plan.written):
            return
        roots = {id(r.tensor) for r in plan.refs}
        roots |= {id(r.tensor._base) for r in plan.refs if r.tensor._base is not None}
        names["_roots"], names["_EAGER"] = frozenset(roots), RUN_EAGERLY
        for leaf in tensor_args:
            lines += [f"    _t = leaves[{leaf}]",
                      "    if id(_t) in _roots or id(_t._base) in _roots:",
                      "        return _EAGER"]

    def _emit_kernel(self, step: FusedStep, lines, bind, slots, cpu_kernels, fb) -> None:
        group, ins, outs = step.group, step.reads, step.writes
        on_cpu = step.device == "cpu"
        kernel = next(cpu_kernels) if on_cpu else _cuda_kernel(group)
        out_names = []
        out_pointers = []
        for v in outs:
            array = self._pooled_array(v, slots)
            pointer = None
            if array is not None:
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
            if array is not None and target is None:
                self._static[v.id] = array
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

    def _emit_node(self, node: Node, lines, bind, slots, fb) -> None:
        if self._static_view(node, fb, bind):
            return
        if node.out.id in self.concat_in_place:
            self._emit_concat_in_place(node, lines, bind, fb)
            return
        device = next((x.device for x in node.inputs if isinstance(x, Value) and x.is_tensor),
                      node.out.device)
        xp = np if device == "cpu" else array_namespace_for(device)
        args = [f"env[{x.id}]" if isinstance(x, Value) else bind(x, "c") for x in node.inputs]
        role = self.index_sets.get(node.out.id)
        if role is not None:
            fn = bind(_index_set_into if role == "set" else _index_set_fresh, "f")
            args.append(f"key={bind(node.attrs['key'], 'a')}")
            if role != "set":
                args.append(f"zero={bind(role == 'zeros', 'a')}")
        elif node.out.id in self.index_add_in_place:
            fn = bind(_index_add_into, "f")
            args.append(f"key={bind(node.attrs['key'], 'a')}")
        elif device == "cpu" and _row_argmax(node):
            fn = bind(rows_c.argmax_last, "f")
            args.append(f"keepdims={bind(bool(node.attrs.get('keepdims')), 'a')}")
        else:
            fn = bind(node.op.kernel(xp), "f")
            args += [f"{k}={bind(v, 'a')}" for k, v in node.attrs.items()]
        array = self._pooled_array(node.out, slots)
        if array is not None:   # a matmul given a pooled buffer (memory.pooled_outputs)
            v = node.out
            args.append(f"out={bind(array, 'b')}")
            if node.out.dtype != bfloat16:   # numpy hands back `out` itself
                self._static[v.id] = array
            if fb is not None:
                self._pointer_of[v.id] = bind(fb(array), "p")
        call = f"{fn}({', '.join(args)})"
        if node.out.device == "cpu" and (node.out.shape == () or node.op.kind == "reduce"):
            call = f"_asarray({call})"
        if node.out.is_tensor and node.out.dtype == bfloat16:
            # numpy computes bfloat16 with Python floats in float32; round as eager does.
            call = f"{call}.astype({bind(bfloat16, 'd')}, copy=False)"
        lines.append(f"    env[{node.out.id}] = {call}")

    def _pooled_array(self, v: Value, slots: list[np.ndarray]) -> np.ndarray | None:
        """The array value v is written into on every call (its own memory or its pooled
        slot), or None when it gets fresh memory."""
        own = self._own_memory.get(v.id)
        if own is not None:
            return own
        slot = self.buffers.slot_of.get(v.id)
        return None if slot is None else _slot_array(slots[slot], v)

    def _emit_concat_in_place(self, node: Node, lines: list[str], bind, fb) -> None:
        """A concat whose sources were computed into its buffer: copy in the others."""
        flat = self._own_memory[node.out.id]
        offsets = self.concat_in_place[node.out.id]
        producers = self.graph.producers()
        offset = 0
        for x in node.inputs:
            size = int(np.prod(x.shape))
            made_by = producers.get(x.id)
            source = made_by.inputs[0] if made_by is not None and \
                made_by.op.name == "reshape" and isinstance(made_by.inputs[0], Value) else x
            if offsets.get(source.id) != offset:
                place = bind(flat[offset:offset + size].reshape(x.shape), "b")
                lines.append(f"    {bind(_copy_into, 'f')}({place}, env[{x.id}])")
            offset += size
        self._static[node.out.id] = self._template[node.out.id] = flat
        if fb is not None:
            self._pointer_of[node.out.id] = bind(fb(flat), "p")

    def _static_view(self, node: Node, fb, bind) -> bool:
        """A view (reshape, slice, permute, expand) of an array that is the same on every
        call (a pooled buffer, a constant, another such view) is the same view every
        call: made here once and preset in the replay's environment, it costs nothing
        per call (a transformer step has a hundred of them, a few us each)."""
        x = node.inputs[0] if node.inputs else None
        if not (node.op.is_view and isinstance(x, Value) and x.id in self._static) or \
                node.out.id in self.plan.guards_of:
            return False
        base = self._static[x.id]
        view = node.op.kernel(np)(base, **node.attrs)
        if type(view) is not np.ndarray or (view.size and not np.may_share_memory(view, base)):
            return False   # a reshape that had to copy: its contents change per call
        self._static[node.out.id] = self._template[node.out.id] = view
        if fb is not None and view.flags.c_contiguous and view.size:
            self._pointer_of[node.out.id] = bind(fb(view), "p")
        return True

    def __call__(self, leaves: list) -> Any:
        """Replay and return the result; raise GuardFailure, ExecutableBusy or the
        kernel's error when the replay did not complete."""
        outcome = self.replay(leaves)
        match outcome:
            case GuardFailed(failure=failure):
                raise failure
            case ReplayError(error=error):
                raise error
            case Busy():
                raise ExecutableBusy(f"{self.graph.name}: another thread is running it")
        return outcome


def _index_add_into(base, src, *, key):
    """index_add without the copy of its base: `base[key] += src`, returned (for an
    index_add whose base nothing else reads: `memory.index_adds_in_place`)."""
    base[full_key(key, ())] += src
    return base


def _copy_into(place: np.ndarray, source: np.ndarray) -> None:
    """A concat's copy of one source into its place, cast as the concat casts."""
    np.copyto(place, source, casting="unsafe")


def _index_set_fresh(base, src, *, key, zero):
    """The first link of an index_add chain into zeros (`memory.index_add_chains_as_sets`):
    a new array, zeroed unless the chain's keys cover it, holding `src` at `key`."""
    out = np.zeros_like(base) if zero else np.empty_like(base)
    out[full_key(key, ())] = src
    return out


def _index_set_into(base, src, *, key):
    """A later link of such a chain: `base[key] = src`, in place, returned."""
    base[full_key(key, ())] = src
    return base


def _row_argmax(node: Node) -> bool:
    """An argmax along the last axis of a float array that the C row loop can run
    (numpy's argmax costs about 25 ns per short row: max-pool's windows)."""
    if node.op.name != "argmax" or not isinstance(node.inputs[0], Value):
        return False
    x = node.inputs[0]
    axis = node.attrs.get("axis")
    return axis is not None and x.shape != () and \
        axis % len(x.shape) == len(x.shape) - 1 and x.shape[-1] > 0 and \
        rows_c.available(x.dtype)


def _slot_array(slot: np.ndarray, v: Value) -> np.ndarray:
    """The start of a pooled byte buffer viewed as value v's array."""
    return slot[:int(np.prod(v.shape)) * v.dtype.itemsize].view(v.dtype).reshape(v.shape)


def _cuda_kernel(group: ElementwiseGroup):
    from kernels.codegen.cuda import compile_group

    return compile_group(group)
