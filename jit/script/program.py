"""Compile a graph with control flow into one C call (`kernels.codegen.loops`).

Every subgraph is fused (`jit.passes.fuse`) and each fused group becomes a C function;
`If` and `While` become C control flow around their calls. Every value has a buffer of
its own, allocated once per program; a subgraph's parameters share the buffer of what
they bind (a loop's carried values live in the buffers of the loop's outputs, and each
trip swaps them with the body's results instead of copying); a reshape is a copy of the
bytes, and a checkpoint slot's read or write (`jit.script.slots`) a copy of one slot (a
write into a loop's carried buffer that nothing reads after it happens in place). A loop whose condition
starts with a whole-array max/min is rotated: the body's last kernel also computes the
next trip's reduction and writes the carried values in place (one pass over memory
per trip instead of two). A graph
with a node that has no C kernel (matmul, movement, indexing, random draws) is not
compiled: `NotCompiled` names the node and callers run the interpreter instead.

>>> import eager
>>> from jit.script import script
>>> @script
... def halve(x):
...     while x.abs().max() > 1.0:
...         x = x * 0.5
...     return x
>>> halve(eager.tensor([8., 2.])).tolist(), halve.compiled_for(eager.ones(2))
([1.0, 0.25], True)
"""
from __future__ import annotations

import copy
import threading
from dataclasses import replace

import numpy as np

from jit.lowering import group_of_nodes
from jit.passes.fusion import fuse
from kernels.codegen import c_render
from kernels.codegen.compiler import CompilerUnavailable, load_library
from kernels.codegen.group import ElementwiseGroup, ReduceGroup
from kernels.codegen.loops import (
    DECLARATION,
    Branch,
    Call,
    Copy,
    Fill,
    Loop,
    Rotated,
    SlotCopy,
    StoringExtremum,
    Swap,
    render_program,
    whole_extremum,
)
from tracer.control import If, While
from tracer.graph import Graph, Value
from tracer.subgraph import Kernel


class NotCompiled(Exception):
    """The graph cannot run as one C call; the message says why."""


class Program:
    """`program(arrays)` runs the graph on its input arrays (in `graph.inputs` order) and
    returns {output value id: new array}."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.buffers: list = []
        self.slot_of: dict[int, int] = {}
        self.groups: list = []
        self.kernels = 0
        # Fusing a subgraph makes parameters with fresh ids: above every id in use.
        self._next_id = 1 + max((v.id for v in _all_values(graph)), default=0)
        for v in graph.inputs:
            self._check(v, "an input")
            self.slot_of[id(v)] = len(self.buffers)
            self.buffers.append(None)
        self.inputs = len(graph.inputs)
        self.items = self._lower(graph)
        # Each output is copied into an array the caller passes (slots after the
        # buffers): loops swap buffer pointers, so a result may sit in any of its
        # loop's buffers, and the program's buffers are reused by the next call.
        node_outputs = [v for v in graph.output_values() if v.kind == "node"]
        first = len(self.buffers)
        self.buffers += [None] * len(node_outputs)
        self.items += [Copy(first + k, self._slot(v), _nbytes(v))
                       for k, v in enumerate(node_outputs)]
        self.outputs = [(v.id, first + k, v.dtype, v.shape)
                        for k, v in enumerate(node_outputs)]
        self.source = render_program(self.groups, self.items)
        from cffi import FFI

        self.ffi = FFI()
        self.ffi.cdef(DECLARATION)
        try:
            lib = load_library(self.source, DECLARATION, self.ffi)
        except (CompilerUnavailable, OSError) as exc:
            raise NotCompiled(f"no C compiler ({exc})") from None
        self.fn = lib.ej_program
        self.pointers = self.ffi.new("void *[]", max(len(self.buffers), 1))
        self._held = []
        for i, buf in enumerate(self.buffers):
            if buf is not None:
                held = self.ffi.from_buffer(buf, require_writable=True)
                self._held.append(held)
                self.pointers[i] = held
        # The arrays of the latest call and their pointers: an argument passed again (a
        # weight, the same input) is not wrapped again. Holding them keeps them alive.
        self._last = [(None, None)] * self.inputs
        self.lock = threading.Lock()

    def _check(self, v: Value, what: str) -> None:
        if v.device != "cpu" or not v.is_tensor or v.dtype.name not in c_render.CTYPES:
            raise NotCompiled(f"{what} ({v.type_str} on {v.device}) has no C type")

    def _slot(self, v: Value) -> int:
        return self.slot_of[id(v)]

    def _new(self, v: Value) -> int:
        self._check(v, "a value")
        self.slot_of[id(v)] = len(self.buffers)
        self.buffers.append(np.empty(v.shape, v.dtype))
        return self.slot_of[id(v)]

    def _alias(self, params, slots) -> None:
        for p, slot in zip(params, slots):
            self.slot_of[id(p)] = slot

    def _lower(self, graph: Graph, owned: dict | None = None) -> list:
        """The items of `graph`; `owned` maps the ids of its parameters whose buffers the
        program owns (a loop body's carried values) to their positions among its outputs
        (the next trip's values): dead after their last read."""
        items: list = []
        work = copy.copy(graph)
        work._next_id = self._next_id
        fused = fuse(work)
        self._next_id = fused._next_id
        reads = _reads(fused)
        merged = None
        for i, node in enumerate(fused.nodes):
            if node is merged:
                continue
            if isinstance(node, Kernel):
                merged = _extremum_after(node, fused.nodes[i + 1:i + 2], reads)
                rename = dict(zip((p.id for p in node.body.inputs), node.inputs))
                body = node.body.nodes + ([merged] if merged else [])
                used = {merged.out.id} if merged else {v.id for v in node.outs}
                group, reads_, writes = group_of_nodes(body, used, {}, rename)
                if merged and not whole_extremum(group):
                    merged = None
                    group, reads_, writes = group_of_nodes(
                        node.body.nodes, {v.id for v in node.outs}, {}, rename)
                args = [self._slot(x) for x in reads_] + [self._new(w) for w in writes]
                self.groups.append(group)
                self.kernels += 1
                items.append(Call(len(self.groups) - 1, tuple(args)))
            elif isinstance(node, If):
                cond = self._slot(node.inputs[0])
                reads = [self._slot(x) for x in node.inputs]
                outs = [self._new(v) for v in node.outs]
                branches = []
                for sub in node.subgraphs:
                    self._alias(sub.inputs, reads)
                    body = self._lower(sub)
                    body += [Copy(o, self._slot(v), _nbytes(v)) for o, v in zip(outs, sub.outputs)]
                    branches.append(body)
                items.append(Branch(cond, *branches))
            elif isinstance(node, While):
                n = node.carried
                outs = [self._new(v) for v in node.outs]
                items += [Copy(o, self._slot(x), _nbytes(x))
                          for o, x in zip(outs, node.inputs[:n])]
                slots = outs + [self._slot(x) for x in node.inputs[n:]]
                self._alias(node.cond.inputs, slots)
                self._alias(node.body.inputs, slots)
                cond = self._lower(node.cond)
                body = self._lower(node.body, {id(p): k for k, p in
                                               enumerate(node.body.inputs[:n])})
                news = [self._slot(v) for v in node.body.outputs]
                flag = self._slot(node.cond.outputs[0])
                if len(set(news)) == len(news):
                    swaps = [Swap(o, new) for o, new in zip(outs, news)]
                    rotated = self._rotated(cond, body, swaps, flag)
                    items.append(rotated or Loop(cond, flag, body + swaps))
                else:
                    body += [Copy(o, new, _nbytes(v))
                             for o, new, v in zip(outs, news, node.body.outputs)]
                    items.append(Loop(cond, flag, body))
            elif node.op.kind == "reduce" and node.op.name in ("max", "min") and \
                    c_render.can_render("copy", [node.inputs[0].dtype, node.out.dtype]):
                # An integer or bool max/min (`.any()`) the fusion pass leaves alone: C
                # has it when it covers the whole array (loops.render_lanes_extremum).
                group, reads, writes = group_of_nodes([node], {node.out.id})
                if not whole_extremum(group):
                    raise NotCompiled(f"`{node.op.name}` over some axes of "
                                      f"{node.inputs[0].type_str} has no C kernel")
                self.groups.append(group)
                self.kernels += 1
                items.append(Call(len(self.groups) - 1, (self._slot(reads[0]),
                                                         self._new(writes[0]))))
            elif _slot_access(node):
                items += self._slot_copy(node, owned or {}, reads, fused.output_values())
            elif node.op.name == "full":
                out = node.out
                slot = self._new(out)
                items.append(Fill(slot, int(np.prod(out.shape)), c_render.ctype(out.dtype),
                                  c_render.literal(node.attrs["value"], out.dtype)))
            elif node.op.name == "reshape" and isinstance(node.inputs[0], Value):
                # Every buffer is C-contiguous: a reshape is the same bytes.
                src = node.inputs[0]
                items.append(Copy(self._new(node.out), self._slot(src), _nbytes(src)))
            else:
                where = f" at {node.where}" if node.where else ""
                raise NotCompiled(f"`{node.op.name}`{where} has no C kernel")
        return items

    def _slot_copy(self, node, owned: dict, reads: dict[int, int], outputs: list) -> list:
        """A slot read (`index`) or write (`index_set`) of `jit.script.slots` as one copy.
        A write into an owned buffer that only it reads, giving the next value of that
        same carried buffer, happens in place (its swap after the trip is then a no-op;
        any other output would make the swaps exchange the wrong buffers)."""
        buffer, index = node.inputs[0], node.inputs[-1]
        nbytes = _nbytes(buffer) // buffer.shape[0]
        if node.op.name == "index":
            return [SlotCopy(self._slot(buffer), self._new(node.out), self._slot(index),
                             buffer.shape[0], nbytes, store=False)]
        items = []
        if id(buffer) in owned and reads.get(buffer.id) == 1 and \
                outputs[owned[id(buffer)]] is node.out and \
                sum(v is node.out for v in outputs) == 1:
            self.slot_of[id(node.out)] = self._slot(buffer)
        else:
            items.append(Copy(self._new(node.out), self._slot(buffer), _nbytes(buffer)))
        return items + [SlotCopy(self._slot(node.out), self._slot(node.inputs[1]),
                                 self._slot(index), buffer.shape[0], nbytes, store=True)]

    def _rotated(self, cond: list, body: list, swaps: list, flag: int) -> Rotated | None:
        """The loop with the reduction its condition starts with computed by the body's
        last kernel, in the same pass (the next trip's condition reads what that kernel
        writes), or None when the loop does not have that form."""
        if not (cond and body and isinstance(cond[0], Call) and isinstance(body[-1], Call)):
            return None
        first, last = cond[0], body[-1]
        red, ew = self.groups[first.group], self.groups[last.group]
        if not (whole_extremum(red) and isinstance(ew, ElementwiseGroup)) or \
                ew.input_axes or ew.shape != red.prologue.shape or \
                any(spec.shape != ew.shape for spec in ew.inputs):
            return None
        written = _written(body, self.groups)
        before_swap = {s.a: s.b for s in swaps}
        if not set(before_swap.values()) <= written:
            return None
        n_in = len(ew.inputs)
        ew_in, ew_out = list(last.args[:n_in]), list(last.args[n_in:])
        specs, offset = list(ew.inputs), len(ew.steps)
        refs = []
        for k, slot in enumerate(first.args[:-1]):
            source = before_swap.get(slot, slot)
            if source in ew_out:
                refs.append(("step", ew.outputs[ew_out.index(source)]))
                continue
            if source not in ew_in:
                ew_in.append(source)
                specs.append(red.prologue.inputs[k])
            refs.append(("in", ew_in.index(source)))

        def moved(ref):
            if ref[0] == "in":
                return refs[ref[1]]
            return ("step", ref[1] + offset) if ref[0] == "step" else ref
        steps = ew.steps + tuple(replace(step, args=tuple(moved(r) for r in step.args))
                                 for step in red.prologue.steps)
        prologue = ElementwiseGroup(tuple(specs), steps,
                                    (red.prologue.outputs[0] + offset,), ew.shape)
        reduce = ReduceGroup(prologue, red.op, red.axis, red.keepdims, red.dtype)
        self.groups.append(StoringExtremum(reduce, ew.outputs))
        # A carried value the fused kernel computes is written over the old one: each
        # element is read before it is written, and one buffer instead of two stays in
        # cache (twice as fast at 1e6 float32 elements).
        in_place = {s.b: s.a for s in swaps if s.b in ew_out}
        stored = [in_place.get(slot, slot) for slot in ew_out]
        swaps = [s for s in swaps if s.b not in in_place]
        fused = Call(len(self.groups) - 1, (*ew_in, *stored, first.args[-1]))
        return Rotated(cond, flag, body[:-1] + [fused] + swaps + cond[1:])

    def __call__(self, arrays: list) -> dict[int, np.ndarray] | None:
        """Run on the input arrays; {output value id: new array}, or None when another
        thread is running this program."""
        results = self.run(arrays)
        if results is None:
            return None
        return {out[0]: array for out, array in zip(self.outputs, results)}

    def run(self, arrays: list) -> list[np.ndarray] | None:
        """Run on the input arrays; the new output arrays in `outputs` order, or None
        when another thread is running this program."""
        if not self.lock.acquire(False):
            return None
        try:
            from_buffer, pointers, last = self.ffi.from_buffer, self.pointers, self._last
            for i, a in enumerate(arrays):
                if a is not last[i][0]:
                    if type(a) is not np.ndarray or not a.flags.c_contiguous:
                        a = np.ascontiguousarray(a)
                    last[i] = (a, from_buffer(a))
                    pointers[i] = last[i][1]
            results, held = [], []
            for _, slot, dtype, shape in self.outputs:
                out = np.empty(shape, dtype)
                cdata = from_buffer(out, require_writable=True)
                held.append(cdata)
                pointers[slot] = cdata
                results.append(out)
            self.fn(pointers)
            return results
        finally:
            self.lock.release()


def _slot_access(node) -> bool:
    """Whether `node` reads or writes one whole slot along axis 0 at an int64 index of
    one element (what `jit.script.slots` records)."""
    if node.subgraphs or node.op.name not in ("index", "index_set") or \
            node.attrs.get("key") != (("t", 0),):
        return False
    buffer, index = node.inputs[0], node.inputs[-1]
    values = all(isinstance(x, Value) and x.is_tensor for x in node.inputs)
    if not values or index.shape != (1,) or index.dtype != np.int64 or not buffer.shape:
        return False
    return node.op.name == "index" or (
        len(node.inputs) == 3 and node.inputs[1].dtype == buffer.dtype and
        node.inputs[1].shape == (1, *buffer.shape[1:]))


def _reads(graph: Graph) -> dict[int, int]:
    """How many times each value id is read by the graph's nodes and outputs."""
    counts: dict[int, int] = {}
    for v in [x for node in graph.nodes for x in node.inputs] + graph.output_values():
        if isinstance(v, Value):
            counts[v.id] = counts.get(v.id, 0) + 1
    return counts


def _extremum_after(kernel: Kernel, following: list, reads: dict[int, int]):
    """The max/min node after an elementwise kernel that only it reads the kernel's one
    output (an `.any()` of a comparison, which the fusion pass leaves apart), or None."""
    if len(kernel.outs) != 1 or not following:
        return None
    node = following[0]
    out = kernel.outs[0]
    if node.subgraphs or node.op.kind != "reduce" or node.op.name not in ("max", "min") \
            or node.inputs[0] is not out or reads.get(out.id) != 1 \
            or kernel.body.nodes[-1].op.kind == "reduce":
        return None
    return node


def _written(items: list, groups: list) -> set[int]:
    """The buffers the items write (at their top level)."""
    slots = set()
    for item in items:
        if isinstance(item, Call):
            group = groups[item.group]
            inputs = group.reduce.inputs if isinstance(group, StoringExtremum) else group.inputs
            slots.update(item.args[len(inputs):])
        elif isinstance(item, (Fill, Copy)):
            slots.add(item.slot if isinstance(item, Fill) else item.dst)
        elif isinstance(item, SlotCopy):
            slots.add(item.buffer if item.store else item.value)
    return slots


def _all_values(graph: Graph):
    yield from graph.inputs
    for node in graph.nodes:
        yield from node.outs
        for sub in node.subgraphs:
            yield from _all_values(sub)


def _nbytes(v: Value) -> int:
    return int(np.prod(v.shape)) * v.dtype.itemsize
