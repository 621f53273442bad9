"""Memory planning: give fused kernels' and matmuls' outputs reusable buffers, chosen by
liveness, and write updates of bound tensors (parameters, optimizer state) in place.

A value computed by a fused kernel that never leaves the graph (not an output, not a
`.grad`, not the base of a view that leaves) is written into a buffer allocated once per
compiled graph. When a value's last reader has run, its buffer is free for a later value
of the same or smaller size. Values that leave the graph get fresh memory on every call,
so a result never changes under the caller when the function runs again.

Besides: the sources of a concat nothing outside sees are computed straight into the
concat's own buffer (`concat_sources_in_place`: a flat optimizer's gradients), and a
chain of index_adds into zeros stores instead of adding (`index_add_chains_as_sets`).

>>> plan = plan_buffers([(0, [(10, 400)]), (1, [(11, 400)]), (2, [(12, 400)])],
...                     last_use={10: 1, 11: 2, 12: 3}, escaping=set())
>>> plan.slot_of[10] == plan.slot_of[12], plan.bytes_before, plan.bytes_after
(True, 1200, 800)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eager.tensor import Tensor
from jit.lowering import FusedStep, LoweredStep, OpStep
from jit.passes.rewrite import can_fail, live_value_ids
from kernels.dtypes import bfloat16
from tracer.graph import Graph, Value


@dataclass
class BufferPlan:
    """Value id -> slot; slot sizes; total bytes without (`before`) and with reuse."""

    slot_of: dict[int, int] = field(default_factory=dict)
    slot_bytes: list[int] = field(default_factory=list)
    bytes_before: int = 0

    @property
    def bytes_after(self) -> int:
        """Bytes held by the pooled buffers."""
        return sum(self.slot_bytes)


def plan_buffers(steps: list[tuple[int, list[tuple[int, int]]]], last_use: dict[int, int],
                 escaping: set[int]) -> BufferPlan:
    """Assign slots to `(step index, [(value id, nbytes), ...])` outputs in program order.

    `last_use[v]` is the index of the last step reading v (or of v's views); a slot is
    free again after that step. Escaping values get no slot.
    """
    plan = BufferPlan()
    free: list[int] = []
    releases: dict[int, list[int]] = {}
    for index, outputs in steps:
        for vid, nbytes in outputs:
            if vid in escaping:
                continue
            plan.bytes_before += nbytes
            fits = [s for s in free if plan.slot_bytes[s] >= nbytes]
            if fits:
                slot = min(fits, key=lambda s: plan.slot_bytes[s])
                free.remove(slot)
            else:
                slot = len(plan.slot_bytes)
                plan.slot_bytes.append(nbytes)
            plan.slot_of[vid] = slot
            releases.setdefault(max(last_use.get(vid, index), index), []).append(slot)
        free.extend(releases.pop(index, []))
    return plan


def buffer_plan(graph: Graph, steps: list[LoweredStep], enabled: bool = True,
                exclude: frozenset[int] = frozenset()) -> BufferPlan:
    """Buffers for the fused kernels' outputs of lowered `steps` (see plan_buffers); with
    `enabled` False every output gets fresh memory (the "memory" pass off). Values in
    `exclude` get no pooled buffer (the caller gives them memory of their own)."""
    last_use: dict[int, int] = {}
    end = len(steps)
    for i, step in enumerate(steps):
        for v in step.reads:
            last_use[v.id] = i
    for v in graph.output_values():
        last_use[v.id] = end
    for wb in graph.writebacks:
        if wb.value is not None:
            last_use[wb.value.id] = end
    for guard in graph.guards:
        last_use[guard.value.id] = end
    # A view keeps its base alive; walking backwards carries that along view chains.
    for i, step in reversed(list(enumerate(steps))):
        if isinstance(step, OpStep) and step.node.op.is_view and step.reads:
            base = step.node.inputs[0].id
            last_use[base] = max(last_use.get(base, i), last_use.get(step.node.out.id, i))
    outputs = [(i, [(v.id, int(np.prod(v.shape)) * v.dtype.itemsize)
                    for v in pooled_outputs(step)]) for i, step in enumerate(steps)]
    escaping = escaping_values(graph) | exclude
    if not enabled:
        escaping = escaping | {vid for _, outs in outputs for vid, _ in outs}
    return plan_buffers(outputs, last_use, escaping)


def pooled_outputs(step: LoweredStep) -> list[Value]:
    """The outputs of a lowered step that can live in pooled buffers: a cpu fused kernel's,
    and a cpu matmul's of 2 or more dims (numpy writes it with `out=`)."""
    if isinstance(step, FusedStep):
        return [v for v in step.writes if v.device == "cpu"]
    if not isinstance(step, OpStep):   # control flow makes its own outputs
        return []
    out = step.node.out
    if step.node.op.name == "matmul" and out.device == "cpu" and len(out.shape) >= 2:
        return [out]
    return []


def escaping_values(graph: Graph) -> set[int]:
    """Values whose memory the caller can see: outputs, `.grad`s, and bases of their views."""
    producers = graph.producers()
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


def in_place_updates(graph: Graph, steps: list[LoweredStep],
                     escaping: set[int]) -> dict[int, int]:
    """Fused-kernel outputs that can be written straight into the bound tensor they update.

    Value V (computed by fused step i) -> input T when a write-back stores V into T, T is a
    tensor bound by reference that is not a view, neither T nor any view of it is read
    after step i (within step i the kernel reads T only at the index it writes), and no
    step after i can fail (guards, indexing).
    """
    derived: dict[int, int] = {}   # value id -> the input it is a view of
    for node in graph.nodes:
        x = node.inputs[0] if node.inputs else None
        if node.op.is_view and isinstance(x, Value):
            root = derived.get(x.id, x.id if x.kind in ("arg", "ref") else None)
            if root is not None:
                derived[node.out.id] = root
    last_read: dict[int, int] = {}  # input id -> last step reading it or a view of it
    end = len(steps)
    reads = [(i, list(step.reads)) for i, step in enumerate(steps)]
    # Guards on inputs (`grad_defined(p)` after `zero_grad`) are checked on entry, before
    # any step: only guards on computed values read at the end.
    inputs = {v.id for v in graph.inputs}
    reads.append((end, graph.output_values()
                  + [g.value for g in graph.guards if g.value.id not in inputs]
                  + [wb.value for wb in graph.writebacks if wb.value is not None]))
    for i, values in reads:
        for v in values:
            root = derived.get(v.id, v.id)
            last_read[root] = i
    producer_step = {v.id: i for i, step in enumerate(steps)
                     if isinstance(step, FusedStep) and step.device == "cpu" for v in step.writes}
    bases = [v.ref._base for v in graph.inputs if isinstance(v.ref, Tensor)]
    # A failed guard or kernel error makes the jit rerun the call eagerly, which must find
    # the bound tensors untouched: write in place only after the last step that can fail.
    guarded = {g.value.id for g in graph.guards}
    last_risky = max((i for i, step in enumerate(steps)
                      if any(v.id in guarded for v in step.writes) or
                      (isinstance(step, OpStep) and can_fail(step.node))),
                     default=-1)
    plan = {}
    for wb in graph.writebacks:
        t, v = wb.target, wb.value
        if wb.slot != "data" or v is None or v.id in escaping or t.kind != "ref" \
                or not isinstance(t.ref, Tensor) or t.ref._base is not None \
                or any(b is t.ref for b in bases) or v.id not in producer_step \
                or (v.shape, v.dtype) != (t.shape, t.dtype):
            continue
        i = producer_step[v.id]
        group, ins = steps[i].group, steps[i].reads
        read_elsewhere = any(derived.get(x.id) == t.id or (x.id == t.id and group.axes_of(k))
                             for k, x in enumerate(ins))   # another element than written
        if last_read.get(t.id, -1) <= i and not read_elsewhere and i > last_risky:
            plan[v.id] = t.id
    return plan



def index_adds_in_place(graph: Graph, steps: list[LoweredStep]) -> set[int]:
    """Outputs of `index_add` steps that may add into their base instead of a copy of it.

    A chain of index_adds (autograd's backward of `q, k, v = qkv` unpacking: three adds
    into one zero tensor) copies the whole tensor per link. A link may update its base in
    place when the base is made by an earlier index_add step of this replay (a fresh
    array), this step is its only reader, nothing outside sees it, and the key has no
    index arrays (then `base[key] += src` is what the kernel does to its copy).
    """
    readers: dict[int, int] = {}
    for step in steps:
        for v in {x.id for x in step.reads}:
            readers[v] = readers.get(v, 0) + 1
    observed = live_value_ids(graph)
    made_by_index_add = {step.node.out.id for step in steps
                         if isinstance(step, OpStep) and step.node.op.name == "index_add"}
    out = set()
    for step in steps:
        if not isinstance(step, OpStep) or step.node.op.name != "index_add":
            continue
        node = step.node
        base = node.inputs[0]
        if len(node.inputs) == 2 and isinstance(base, Value) and node.inputs[1] is not base \
                and base.id in made_by_index_add \
                and readers.get(base.id) == 1 and base.id not in observed \
                and (base.shape, base.dtype) == (node.out.shape, node.out.dtype):
            out.add(node.out.id)
    return out


def index_add_chains_as_sets(graph: Graph, steps: list[LoweredStep],
                             in_place: set[int]) -> dict[int, str]:
    """index_add steps that may store their source instead of adding it.

    autograd's backward of `q, k, v = qkv` unpacking adds three slices into a zero
    tensor: the first link copies the zeros, the later ones add in place (`in_place`,
    from `index_adds_in_place`). When the base is a constant of zeros and the links'
    keys are distinct integers on the first axis, every element receives at most one
    source, so each link can store it: the first link (value "fresh") makes a new array,
    left uninitialised when the keys cover the whole axis ("empty") and zeroed otherwise,
    the later ones ("set") store into it. Returns output value id -> one of those.

    >>> import eager, tracer
    >>> from jit.passes import optimize
    >>> from jit.lowering import lower
    >>> def f(x):
    ...     a, b, c = x.reshape(3, 2)
    ...     (a * 2.0 + b * c).sum().backward()
    ...     return x.grad
    >>> g, _ = optimize(tracer.trace(f, eager.ones(6, requires_grad=True)))
    >>> steps = lower(g)
    >>> sorted(index_add_chains_as_sets(g, steps, index_adds_in_place(g, steps)).values())
    ['empty', 'set', 'set']
    """
    producers = graph.producers()
    next_link: dict[int, Value] = {}
    for step in steps:
        if isinstance(step, OpStep) and step.node.out.id in in_place:
            next_link[step.node.inputs[0].id] = step.node.out
    out: dict[int, str] = {}
    for step in steps:
        node = step.node if isinstance(step, OpStep) else None
        if node is None or node.op.name != "index_add" \
                or len(node.inputs) != 2 or node.out.id in in_place:
            continue
        base = node.inputs[0]
        if not (isinstance(base, Value) and base.kind == "const"
                and isinstance(base.data, np.ndarray) and base.shape
                and not base.data.any()):
            continue
        links = [node]
        while links[-1].out.id in next_link:
            links.append(producers[next_link[links[-1].out.id].id])
        keys = [link.attrs["key"] for link in links]
        if not all(len(k) == 1 and k[0][0] == "i" for k in keys):
            continue
        rows = {k[0][1] % base.shape[0] for k in keys}
        if len(rows) != len(keys):
            continue
        out[node.out.id] = "empty" if len(rows) == base.shape[0] else "zeros"
        out.update((link.out.id, "set") for link in links[1:])
    return out


def concat_sources_in_place(graph: Graph, steps: list[LoweredStep], escaping: set[int],
                            in_place: dict[int, int]) -> dict[int, dict[int, int]]:
    """Concats whose sources can be written straight into the concat's buffer.

    A flat-buffer optimizer (AdamW over every parameter at once) concatenates all the
    gradients on every call: a copy of each, after the matmul or reduction that made it.
    For a cpu concat along axis 0 that nothing outside the graph sees, each source that
    is (a reshape of) a pooled kernel or matmul output, of the concat's dtype, seen by
    nothing outside and made once, can be computed into its place in one buffer kept for
    the concat; the other sources are copied in. Returns concat output id -> {source
    value id: element offset} for the sources written in place.

    >>> import eager, tracer
    >>> from jit.passes import optimize
    >>> from jit.lowering import lower
    >>> def f(a, b):
    ...     return eager.concat([(a @ b).reshape(-1), (a * 2.0).reshape(-1)]).sum()
    >>> g, _ = optimize(tracer.trace(f, eager.ones(2, 2), eager.ones(2, 2)))
    >>> steps = lower(g)
    >>> [sorted(offsets.values()) for offsets in
    ...  concat_sources_in_place(g, steps, escaping_values(g), {}).values()]
    [[0, 4]]
    """
    pooled = {v.id for step in steps for v in pooled_outputs(step)}
    made_by_reshape = {step.node.out.id: step.node.inputs[0] for step in steps
                       if isinstance(step, OpStep) and step.node.op.name == "reshape"
                       and isinstance(step.node.inputs[0], Value)}
    out: dict[int, dict[int, int]] = {}
    claimed: set[int] = set()
    for step in steps:
        if not isinstance(step, OpStep) or step.node.op.name != "concat":
            continue
        node = step.node
        if node.attrs.get("axis") != 0 or len(node.out.shape) != 1 \
                or node.out.device != "cpu" or node.out.id in escaping:
            continue
        offsets: dict[int, int] = {}
        offset = 0
        for x in node.inputs:
            source = made_by_reshape.get(x.id, x)
            # bfloat16 matmuls round a float32 result into `out`: left as they are
            if source.id in pooled and source.id not in escaping and source.id not in in_place \
                    and source.id not in claimed and source.dtype == node.out.dtype \
                    and source.dtype != bfloat16:
                offsets[source.id] = offset
                claimed.add(source.id)
            offset += int(np.prod(x.shape))
        if offsets:
            out[node.out.id] = offsets
    return out
