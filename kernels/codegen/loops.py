"""One C function for a whole program with control flow: fused groups called inside C
`if`/`for` statements, so a data-dependent loop runs in one call with no Python per trip.

A program works on numbered buffers `b[i]` (the caller owns the memory). Its items:
`Call` runs a group (`c_render`) on buffers, `Fill` sets a buffer to a constant, `Copy`
copies one buffer into another, `SlotCopy` copies one slot of a checkpoint buffer in or
out at an index read from a buffer, `Swap` exchanges two buffer pointers, `Branch` picks
items by a 0-d bool buffer, `Loop` repeats `cond` items, leaves when the flag buffer is
false, else runs `body` items, and `Rotated` is a loop that tests its flag first.

>>> import numpy as np
>>> from kernels import TensorSpec, float32
>>> from kernels.codegen.group import ElementwiseGroup, Step
>>> half = ElementwiseGroup((TensorSpec((2,), float32),),
...                         (Step("mul", (("in", 0), ("lit", 0.5)), float32),), (0,), (2,))
>>> big = ElementwiseGroup((TensorSpec((2,), float32),),
...                        (Step("gt", (("in", 0), ("lit", 1.0)), np.dtype(bool)),), (0,), (2,))
>>> items = [Copy(1, 0, 8), Loop([Call(1, (1, 2))], 2, [Call(0, (1, 3)), Copy(1, 3, 8)])]
>>> "for (;;)" in render_program([half, big], items)
True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels.codegen import c_render
from kernels.codegen.fastmath import preamble
from kernels.codegen.group import ReduceGroup
from kernels.reductions import REDUCTION_IDENTITY
from kernels.shapes import size_of

DECLARATION = "void ej_program(void **);"


@dataclass(frozen=True)
class Call:
    """Run group `group` with buffers `args` (its inputs, then its outputs)."""

    group: int
    args: tuple[int, ...]


@dataclass(frozen=True)
class Fill:
    """Set the `count` elements (C type `ctype`) of buffer `slot` to the C `literal`."""

    slot: int
    count: int
    ctype: str
    literal: str


@dataclass(frozen=True)
class Copy:
    """Copy `nbytes` from buffer `src` into buffer `dst`."""

    dst: int
    src: int
    nbytes: int


@dataclass(frozen=True)
class SlotCopy:
    """Copy `nbytes` between slot s of buffer `buffer` (`slots` slots of `nbytes`) and
    buffer `value`: into the slot when `store`, else out of it. s is the int64 in buffer
    `index`, clamped into [0, slots - 1] so that no index reaches outside the buffer."""

    buffer: int
    value: int
    index: int
    slots: int
    nbytes: int
    store: bool


@dataclass(frozen=True)
class Swap:
    """Exchange the pointers `b[a]` and `b[b]` (a loop's new carried values become
    current without copying them)."""

    a: int
    b: int


@dataclass(frozen=True)
class Branch:
    """`if (b[cond]) then else orelse` (the flag is one byte, a bool)."""

    cond: int
    then: list
    orelse: list


@dataclass(frozen=True)
class Loop:
    """`for (;;) { cond; if (!b[flag]) break; body }`."""

    cond: list
    flag: int
    body: list


@dataclass(frozen=True)
class Rotated:
    """`enter; for (;;) { if (!b[flag]) break; body }`: a loop whose condition is
    computed before the first trip and then at the end of each trip (so the body's last
    kernel can compute the next condition in the same pass)."""

    enter: list
    flag: int
    body: list


@dataclass(frozen=True)
class StoringExtremum:
    """A whole-array max/min (see `whole_extremum`) whose prologue also stores the
    values of its steps `stored`: a loop body's last kernel fused with the reduction
    the next condition starts with, one pass over memory instead of two. A `Call` of
    it passes the prologue's inputs, then one buffer per stored step, then the result."""

    reduce: ReduceGroup
    stored: tuple[int, ...]


def _emit(items: list, groups: list, indent: str, lines: list[str]) -> None:
    for item in items:
        if isinstance(item, Call):
            group = groups[item.group]
            extent = 1 if isinstance(group, StoringExtremum) else c_render.outer_extent(group)
            args = ", ".join(f"b[{a}]" for a in item.args)
            lines.append(f"{indent}k{item.group}({args}, 0, {extent}LL);")
        elif isinstance(item, Fill):
            lines.append(f"{indent}for (int64_t i = 0; i < {item.count}LL; i++) "
                         f"(({item.ctype} *)b[{item.slot}])[i] = {item.literal};")
        elif isinstance(item, Copy):
            if item.nbytes:
                lines.append(f"{indent}__builtin_memcpy(b[{item.dst}], b[{item.src}], "
                             f"{item.nbytes});")
        elif isinstance(item, SlotCopy):
            at = f"(char *)b[{item.buffer}] + s * {item.nbytes}LL"
            dst, src = (at, f"b[{item.value}]") if item.store else (f"b[{item.value}]", at)
            lines.append(f"{indent}{{ int64_t s = *(const int64_t *)b[{item.index}]; "
                         f"s = s < 0 ? 0 : s > {item.slots - 1}LL ? {item.slots - 1}LL : s; "
                         f"__builtin_memcpy({dst}, {src}, {item.nbytes}); }}")
        elif isinstance(item, Swap):
            lines.append(f"{indent}{{ void *t = b[{item.a}]; b[{item.a}] = b[{item.b}]; "
                         f"b[{item.b}] = t; }}")
        elif isinstance(item, Branch):
            lines.append(f"{indent}if (*(const unsigned char *)b[{item.cond}]) {{")
            _emit(item.then, groups, indent + "    ", lines)
            lines.append(f"{indent}}} else {{")
            _emit(item.orelse, groups, indent + "    ", lines)
            lines.append(f"{indent}}}")
        elif isinstance(item, Rotated):
            _emit(item.enter, groups, indent, lines)
            lines.append(f"{indent}for (;;) {{")
            lines.append(f"{indent}    if (!*(const unsigned char *)b[{item.flag}]) break;")
            _emit(item.body, groups, indent + "    ", lines)
            lines.append(f"{indent}}}")
        else:
            lines.append(f"{indent}for (;;) {{")
            _emit(item.cond, groups, indent + "    ", lines)
            lines.append(f"{indent}    if (!*(const unsigned char *)b[{item.flag}]) break;")
            _emit(item.body, groups, indent + "    ", lines)
            lines.append(f"{indent}}}")


LANES = 8


def whole_extremum(group) -> bool:
    """A max/min of a whole contiguous array: order-free, so it can run in lanes."""
    if not isinstance(group, ReduceGroup) or group.op not in ("max", "min"):
        return False
    pro = group.prologue
    return (tuple(group.axis) == tuple(range(len(pro.shape))) and not group.keepdims
            and not any(pro.axes_of(k) for k in range(len(pro.inputs)))
            and all(spec.shape == pro.shape for spec in pro.inputs))


def _identity(group: ReduceGroup) -> str:
    """Where max/min start: -inf/+inf for floats, the type's limits otherwise."""
    dtype = np.dtype(group.dtype)
    if dtype.kind == "f":
        return REDUCTION_IDENTITY[group.op]
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    low, high = (0, 1) if info is None else (info.min, info.max)
    value = low if group.op == "max" else high
    return c_render.literal(value, dtype) if info is None or value > info.min else \
        f"(({c_render.ctype(dtype)}){value + 1}LL - 1)"


def render_lanes_extremum(group: ReduceGroup, name: str, stored: tuple[int, ...] = ()) -> str:
    """A whole-array max/min in LANES independent lanes: the one-chain loop waits on every
    compare, and its NaN test inside the select keeps it scalar. Floats use GCC vector
    types (one SIMD compare-and-blend per LANES elements) and a separate NaN mask, so a
    NaN anywhere gives NaN as numpy's does; max and min do not depend on order. Integers
    need no lanes: gcc vectorizes their max/min loop. The prologue's steps `stored` are
    also written out (`StoringExtremum`)."""
    pro = group.prologue
    n = size_of(pro.shape)
    main = n - n % LANES
    t = c_render.ctype(group.dtype)
    floating = np.dtype(group.dtype).kind == "f"
    better = ">" if group.op == "max" else "<"
    params = [f"const void *in{k}_" for k in range(len(pro.inputs))]
    params += [f"void *s{k}_" for k in range(len(stored))]
    lines = [(f"static void {name}({', '.join(params)}, void *out0_, int64_t start, "
              "int64_t stop) {")]
    for k, spec in enumerate(pro.inputs):
        ct = c_render.ctype(spec.dtype)
        lines.append(f"    const {ct} *in{k} = (const {ct} *)in{k}_;")
    for k, j in enumerate(stored):
        ct = c_render.ctype(pro.steps[j].dtype)
        lines.append(f"    {ct} *s{k} = ({ct} *)s{k}_;")

    def element(index: str, target: str, indent: str) -> None:
        for k, spec in enumerate(pro.inputs):
            lines.append(f"{indent}const {c_render.ctype(spec.dtype)} x{k} = in{k}[{index}];")
        for j, step in enumerate(pro.steps):
            lines.append(indent + c_render.render_step(j, step, pro))
        for k, j in enumerate(stored):
            lines.append(f"{indent}s{k}[{index}] = t{j};")
        lines.append(f"{indent}{target} = ({t})t{pro.outputs[0]};")

    identity = _identity(group)
    if floating:
        mask = "int32_t" if np.dtype(group.dtype).itemsize == 4 else "int64_t"
        lines += [f"    typedef {t} lanes_t __attribute__((vector_size({LANES} * sizeof({t}))));",
                  f"    typedef {mask} mask_t __attribute__((vector_size({LANES} * sizeof({t}))));",
                  f"    lanes_t acc = {{{', '.join([identity] * LANES)}}};",
                  "    mask_t bad = {0};",
                  f"    for (int64_t i = 0; i < {main}LL; i += {LANES}) {{",
                  "        lanes_t v;",
                  f"        for (int l = 0; l < {LANES}; l++) {{"]
        element("i + l", "v[l]", "            ")
        lines += ["        }",
                  f"        mask_t take = v {better} acc;",
                  "        acc = (lanes_t)(((mask_t)v & take) | ((mask_t)acc & ~take));",
                  "        bad |= v != v;",
                  "    }",
                  f"    {t} m = acc[0];",
                  "    int nan = bad[0] != 0;",
                  f"    for (int l = 1; l < {LANES}; l++) {{",
                  f"        m = acc[l] {better} m ? acc[l] : m;",
                  "        nan |= bad[l] != 0;",
                  "    }"]
    else:
        # An integer max/min is a reduction gcc vectorizes itself: one plain loop.
        main = 0
        lines += [f"    {t} m = {identity};"]
    lines += [f"    for (int64_t i = {main}LL; i < {n}LL; i++) {{", f"        {t} v;"]
    element("i", "v", "        ")
    lines.append(f"        m = v {better} m ? v : m;")
    if floating:
        lines.append("        nan |= v != v;")
    lines.append("    }")
    result = f"nan ? ({t})NAN : m" if floating else "m"
    lines += [f"    (({t} *)out0_)[0] = {result};", "}"]
    return "\n".join(lines) + "\n"


def render_program(groups: list, items: list) -> str:
    """The C source: one static function per group and `ej_program(void **b)`."""
    # No fused multiply-adds: each op rounds as its numpy kernel does, so the compiled
    # program equals the interpreted graph bit for bit.
    parts = ['#pragma GCC optimize ("fp-contract=off")', preamble(), c_render.helpers(groups)]
    for i, group in enumerate(groups):
        if isinstance(group, StoringExtremum):
            parts.append(render_lanes_extremum(group.reduce, f"k{i}", group.stored))
        elif whole_extremum(group):
            parts.append(render_lanes_extremum(group, f"k{i}"))
        else:
            parts.append("static " + c_render.render(group, f"k{i}"))
    lines = ["void ej_program(void **b) {"]
    _emit(items, groups, "    ", lines)
    lines.append("}")
    parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


__all__ = ["DECLARATION", "Branch", "Call", "Copy", "Fill", "Loop", "Rotated",
           "SlotCopy", "StoringExtremum", "Swap", "render_program", "whole_extremum"]
