"""One C function for a whole program with control flow: fused groups called inside C
`if`/`for` statements, so a data-dependent loop runs in one call with no Python per trip.

A program works on numbered buffers `b[i]` (the caller owns the memory). Its items:
`Call` runs a group (`c_render`) on buffers, `Fill` sets a buffer to a constant, `Copy`
copies one buffer into another, `Branch` picks items by a 0-d bool buffer and `Loop`
repeats `cond` items, leaves when the flag buffer is false, else runs `body` items.

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

from kernels.codegen import c_render
from kernels.codegen.fastmath import preamble

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


def _emit(items: list, groups: list, indent: str, lines: list[str]) -> None:
    for item in items:
        if isinstance(item, Call):
            extent = c_render.outer_extent(groups[item.group])
            args = ", ".join(f"b[{a}]" for a in item.args)
            lines.append(f"{indent}k{item.group}({args}, 0, {extent}LL);")
        elif isinstance(item, Fill):
            lines.append(f"{indent}for (int64_t i = 0; i < {item.count}LL; i++) "
                         f"(({item.ctype} *)b[{item.slot}])[i] = {item.literal};")
        elif isinstance(item, Copy):
            if item.nbytes:
                lines.append(f"{indent}__builtin_memcpy(b[{item.dst}], b[{item.src}], "
                             f"{item.nbytes});")
        elif isinstance(item, Branch):
            lines.append(f"{indent}if (*(const unsigned char *)b[{item.cond}]) {{")
            _emit(item.then, groups, indent + "    ", lines)
            lines.append(f"{indent}}} else {{")
            _emit(item.orelse, groups, indent + "    ", lines)
            lines.append(f"{indent}}}")
        else:
            lines.append(f"{indent}for (;;) {{")
            _emit(item.cond, groups, indent + "    ", lines)
            lines.append(f"{indent}    if (!*(const unsigned char *)b[{item.flag}]) break;")
            _emit(item.body, groups, indent + "    ", lines)
            lines.append(f"{indent}}}")


def render_program(groups: list, items: list) -> str:
    """The C source: one static function per group and `ej_program(void **b)`."""
    parts = [preamble()]
    for i, group in enumerate(groups):
        parts.append("static " + c_render.render(group, f"k{i}"))
    lines = ["void ej_program(void **b) {"]
    _emit(items, groups, "    ", lines)
    lines.append("}")
    parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


__all__ = ["DECLARATION", "Branch", "Call", "Copy", "Fill", "Loop", "render_program"]
