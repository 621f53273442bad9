"""Render fused groups as C functions, using each op's own `c_expr` for the math.

A group becomes `void name(const void *in0, ..., void *out0, ..., int64_t start,
int64_t stop)`, a loop nest over the group's collapsed shape whose outermost loop runs
from `start` to `stop` (so callers can split big groups across threads). Shapes are
static in a traced graph, so trip counts and strides are constants gcc can vectorize.

>>> from kernels import TensorSpec, float32
>>> from kernels.codegen.group import ElementwiseGroup, Step
>>> g = ElementwiseGroup((TensorSpec((4,), float32),),
...                      (Step("tanh", (("in", 0),), float32),), (0,), (4,))
>>> "tanhf(x0)" in render_group(g, "k")
True

Complex values are `ej_c64` / `ej_c128` structs with numpy's layout; a step computing in
a complex dtype uses its op's `complex_c_expr` over the helpers of `complex_c`, whose
definitions `helpers(groups)` gives for the top of the file.
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from kernels.codegen import complex_c
from kernels.codegen.group import (
    ElementwiseGroup,
    ReduceGroup,
    RowGroup,
    Step,
    compute_dtype,
    layout,
    reduce_layout,
    row_layout,
)
from kernels.dtypes import float32
from kernels.elementwise import int_bounds
from kernels.opdef import OPS, GroupOp
from kernels.reductions import REDUCTION_IDENTITY

CTYPES = {
    "bool": "unsigned char", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
    "int64": "int64_t", "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t",
    "uint64": "uint64_t", "float32": "float", "float64": "double",
}


CUDA_TYPES = dict(CTYPES, int8="signed char", int16="short", int32="int", int64="long long",
                  uint8="unsigned char", uint16="unsigned short", uint32="unsigned int",
                  uint64="unsigned long long")


def ctype(dtype: np.dtype, types: dict[str, str] = CTYPES) -> str:
    """The C type holding one element of `dtype` (`types`: CTYPES or CUDA_TYPES; complex
    dtypes are complex_c's structs in both)."""
    name = _dtype_name(dtype)
    return types[name] if name in types else complex_c.COMPLEX_CTYPES[name]


@functools.lru_cache(maxsize=256)
def _dtype_name(dtype) -> str:
    # numpy computes a dtype's name anew on each access (tens of microseconds)
    return np.dtype(dtype).name


def can_render(op_name: str, dtypes: list[np.dtype]) -> bool:
    """True when an op has a scalar expression and every dtype involved has a C type.

    Expressions over C's floating-point library (`{f}` in the template: pow, fabs, ...)
    are used for float results only: an integer result through double would lose exactness.
    Where a dtype is complex the op needs its `complex_c_expr` (a cast, a complex target
    or bool).

    >>> c64, f32 = np.dtype("complex64"), np.dtype("float32")
    >>> can_render("mul", [c64, f32, c64]), can_render("maximum", [f32, f32, f32])
    (True, True)
    >>> can_render("cast", [c64, f32]), can_render("maximum", [c64, c64, c64])
    (False, False)
    """
    return _can_render(op_name, tuple(dtypes))


@functools.lru_cache(maxsize=4096)
def _can_render(op_name: str, dtypes: tuple) -> bool:
    # the fuser asks for every node of every graph: the answer depends on a few dtypes
    op = OPS.get(op_name)
    if op is None or op.kind not in GroupOp.ELEMENTWISE:
        return False
    names = [_dtype_name(d) for d in dtypes]
    if any(n in complex_c.COMPLEX_CTYPES for n in names):
        if not all(n in CTYPES or n in complex_c.COMPLEX_CTYPES for n in names):
            return False
        if op_name == "cast":
            return np.dtype(dtypes[-1]).kind in "bc"
        return op.complex_c_expr is not None
    if op.c_expr is None:
        return False
    if "{f}" in op.c_expr and np.dtype(dtypes[-1]).kind != "f":
        return False
    return all(_dtype_name(d) in CTYPES for d in dtypes)


def literal(value, dtype: np.dtype, types: dict[str, str] = CTYPES) -> str:
    """A Python scalar as a C constant of `dtype`.

    >>> literal(1j, np.dtype("complex64"))
    'ej_mk_c64(((float)0.0f), ((float)1.0f))'
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        part = np.dtype(f"float{dtype.itemsize * 4}")
        value = complex(value)
        return complex_c.make(literal(value.real, part, types), literal(value.imag, part, types),
                              dtype)
    if dtype.kind == "f":
        value = float(value)
        if math.isnan(value):
            text = "NAN"
        elif math.isinf(value):
            text = "INFINITY" if value > 0 else "(-INFINITY)"
        else:
            text = repr(value) + ("f" if dtype == float32 else "")
        return f"(({ctype(dtype, types)}){text})"
    if dtype.kind == "b":
        return "1" if value else "0"
    suffix = "ULL" if dtype.kind == "u" else "LL"  # uint64's upper half overflows LL
    return f"(({ctype(dtype, types)}){int(value)}{suffix})"


def _operand_dtype(ref, group: ElementwiseGroup):
    kind, what = ref
    if kind == "in":
        return group.inputs[what].dtype
    if kind == "step":
        return group.steps[what].dtype
    return what  # a weak Python scalar


def _saturating_cast(x: str, dtype: np.dtype, types: dict[str, str]) -> str:
    """Float -> integer as the cast kernel defines it (C leaves out-of-range undefined):
    NaN -> 0, at or beyond the bounds -> the minimum / maximum, else truncation."""
    low, high = int_bounds(dtype)
    info = np.iinfo(dtype)
    t = ctype(dtype, types)
    suffix = "ULL" if dtype.kind == "u" else "LL"
    smallest = f"({info.min + 1}{suffix} - 1)" if info.min else "0"
    return (f"({x} != {x} ? ({t})0 : {x} >= {high!r} ? ({t}){info.max}{suffix} : "
            f"{x} <= {low!r} ? ({t}){smallest} : ({t}){x})")


def render_step(j: int, step: Step, group: ElementwiseGroup | RowGroup,
                types: dict[str, str] = CTYPES) -> str:
    """`T tj = <c_expr with operands cast to the compute dtype>;` (C or CUDA types)."""
    if step.op == "expand":  # a row value broadcast over its row: the value itself
        return f"{ctype(step.dtype, types)} t{j} = t{step.args[0][1]};"
    operand_dtypes = [_operand_dtype(r, group) for r in step.args]
    cast_from = 1 if step.op == "where" else 0
    if step.op == "cast":
        compute = operand_dtypes[0]
    else:
        compute = compute_dtype(step, operand_dtypes)
    operands = []
    for i, (ref, dt) in enumerate(zip(step.args, operand_dtypes)):
        if ref[0] == "lit":
            text = literal(ref[1], compute if i >= cast_from else np.dtype(bool), types)
        else:
            text = f"x{ref[1]}" if ref[0] == "in" else f"t{ref[1]}"
            if i >= cast_from and step.op != "cast" and dt != compute:
                text = complex_c.convert(text, dt, compute) if compute.kind == "c" \
                    else f"(({ctype(compute, types)}){text})"
        operands.append(text)
    if step.op == "cast" and compute.kind == "c" and step.dtype.kind == "b":
        expr = complex_c.nonzero(operands[0], compute)
    elif step.op == "cast" and step.dtype.kind == "c":
        expr = complex_c.convert(operands[0], compute, step.dtype)
    elif compute.kind == "c":
        expr = OPS[step.op].complex_c_expr.format(*operands, c=complex_c.tag(compute),
                                                  p=complex_c.part_suffix(compute),
                                                  **dict(step.attrs))
    elif step.op == "cast" and step.dtype.kind == "b":
        expr = f"({operands[0]} != 0)"  # C's (unsigned char)0.5 is 0; numpy's bool(0.5) True
    elif step.op == "cast" and compute.kind == "f" and step.dtype.kind in "iu":
        expr = _saturating_cast(operands[0], step.dtype, types)
    else:
        expr = OPS[step.op].c_expr.format(*operands, f="f" if compute == float32 else "",
                                          ctype=ctype(step.dtype, types))
    if step.dtype.kind == "b":
        expr = f"(({expr}) != 0)"
    return f"{ctype(step.dtype, types)} t{j} = {expr};"


def _index(loop_vars: list[str], strides: tuple[int, ...]) -> str:
    terms = [v if s == 1 else f"{v} * {s}LL" for v, s in zip(loop_vars, strides) if s]
    return " + ".join(terms) or "0"


def _signature(name: str, inputs, output_dtypes) -> list[str]:
    """The function header and typed pointers for inputs in{k} and outputs out{k}; every
    kernel also takes the [start, stop) range of its outermost loop (for threads)."""
    params = [f"const void *in{k}_" for k in range(len(inputs))]
    params += [f"void *out{k}_" for k in range(len(output_dtypes))]
    lines = [f"void {name}({', '.join(params + ['int64_t start', 'int64_t stop'])}) {{"]
    for k, spec in enumerate(inputs):
        t = ctype(spec.dtype)
        lines.append(f"    const {t} *in{k} = (const {t} *)in{k}_;")
    for k, dtype in enumerate(output_dtypes):
        t = ctype(dtype)
        lines.append(f"    {t} *out{k} = ({t} *)out{k}_;")
    return lines


# Before a loop whose iterations touch disjoint elements (each output element is written
# once, from inputs at that element or from buffers no output shares): gcc cannot prove
# it with more than a few pointers and then leaves the loop scalar.
IVDEP = "#pragma GCC ivdep"


def _open_outer_loops(lines: list[str], var: str, dims, independent: bool = False) -> str:
    """Append nested for-loops over dims (the first from start to stop); return the indent
    of the loop body; `independent` marks the innermost one IVDEP."""
    indent = "    "
    for d, size in enumerate(dims):
        lo, hi = ("start", "stop") if d == 0 else ("0", f"{size}LL")
        if independent and d == len(dims) - 1:
            lines.append(indent + IVDEP)
        lines.append(f"{indent}for (int64_t {var}{d} = {lo}; {var}{d} < {hi}; {var}{d}++) {{")
        indent += "    "
    return indent


def _close_loops(lines: list[str], indent: str, count: int) -> str:
    """Append `count` closing braces, dedenting; return the indent after them."""
    for _ in range(count):
        indent = indent[:-4]
        lines.append(indent + "}")
    return indent


def render_group(group: ElementwiseGroup, name: str) -> str:
    """The C function computing `group`, named `name`."""
    lay = layout([spec.shape for spec in group.inputs], group.shape, group.input_axes)
    lines = _signature(name, group.inputs, [group.steps[j].dtype for j in group.outputs])
    loop_vars = [f"i{d}" for d in range(len(lay.dims))]
    indent = _open_outer_loops(lines, "i", lay.dims, independent=True)
    for k, spec in enumerate(group.inputs):
        lines.append(f"{indent}const {ctype(spec.dtype)} x{k} = "
                     f"in{k}[{_index(loop_vars, lay.strides[k])}];")
    for j, step in enumerate(group.steps):
        lines.append(indent + render_step(j, step, group))
    out_index = _index(loop_vars, lay.strides[-1])
    for k, j in enumerate(group.outputs):
        lines.append(f"{indent}out{k}[{out_index}] = t{j};")
    indent = _close_loops(lines, indent, len(lay.dims))
    lines.append("}")
    return "\n".join(lines) + "\n"


class Accumulator(NamedTuple):
    """How a reduction `op` with result `dtype` accumulates in C: float sums and products
    in double, complex ones in ej_c128, the rest in the result type.

    >>> acc = Accumulator("sum", np.dtype("complex64"))
    >>> acc.type, acc.start(), acc.combine("acc", acc.load("t0", np.dtype("complex64")))
    ('ej_c128', 'ej_mk_c128(0.0, 0.0)', 'ej_add_c128(acc, ej_c128_from_c64(t0))')
    """

    op: str
    dtype: np.dtype

    @property
    def type(self) -> str:
        """The accumulator's C type."""
        if self.op in ("sum", "prod") and self.dtype.kind in "fc":
            return "double" if self.dtype.kind == "f" else "ej_c128"
        return ctype(self.dtype)

    def start(self) -> str:
        """Its starting value: the op's identity."""
        if self.dtype.kind == "c":
            return f"ej_mk_c128({'0.0' if self.op == 'sum' else '1.0'}, 0.0)"
        return REDUCTION_IDENTITY[self.op]

    def combine(self, acc: str, element: str) -> str:
        """The accumulator `acc` combined with `element` (already loaded)."""
        if self.dtype.kind == "c":
            return f"ej_{'add' if self.op == 'sum' else 'mul'}_c128({acc}, {element})"
        return OPS[self.op].c_expr.format(acc, element)

    def load(self, text: str, dtype: np.dtype) -> str:
        """A value of `dtype` as the accumulator type."""
        if self.dtype.kind == "c":
            return complex_c.convert(text, dtype, np.dtype("complex128"))
        return f"(({self.type}){text})"

    def result(self, text: str) -> str:
        """The accumulator as the result dtype."""
        if self.dtype.kind == "c":
            return complex_c.convert(text, np.dtype("complex128"), self.dtype)
        return f"({ctype(self.dtype)}){text}"


def render_reduce_group(group: ReduceGroup, name: str) -> str:
    """The C function computing a reduction of its elementwise prologue, named `name`.

    Kept dims are the outer loops (split across threads by start/stop), reduced dims the
    inner ones; float sums and products accumulate in double (complex in complex128).
    """
    pro = group.prologue
    outer, inner = reduce_layout([spec.shape for spec in pro.inputs], pro.shape, group.axis,
                                 pro.input_axes)
    acc = Accumulator(group.op, np.dtype(group.dtype))
    lines = _signature(name, pro.inputs, [group.dtype])
    if _reduces_leading_dims(outer, inner):
        return _render_column_reduce(group, outer, inner, lines, acc)
    outer_vars = [f"o{d}" for d in range(len(outer.dims))]
    inner_vars = [f"r{d}" for d in range(len(inner.dims))]
    indent = _open_outer_loops(lines, "o", outer.dims)
    lines.append(f"{indent}{acc.type} acc = {acc.start()};")
    for d, size in enumerate(inner.dims):
        lines.append(f"{indent}for (int64_t r{d} = 0; r{d} < {size}LL; r{d}++) {{")
        indent += "    "
    for k, spec in enumerate(pro.inputs):
        index = " + ".join(x for x in (_index(outer_vars, outer.strides[k]),
                                       _index(inner_vars, inner.strides[k])) if x != "0")
        lines.append(f"{indent}const {ctype(spec.dtype)} x{k} = in{k}[{index or '0'}];")
    for j, step in enumerate(pro.steps):
        lines.append(indent + render_step(j, step, pro))
    element = acc.load(f"t{pro.outputs[0]}", pro.steps[pro.outputs[0]].dtype)
    lines.append(f"{indent}acc = {acc.combine('acc', element)};")
    indent = _close_loops(lines, indent, len(inner.dims))
    lines.append(f"{indent}out0[{_index(outer_vars, outer.strides[-1])}] = {acc.result('acc')};")
    indent = _close_loops(lines, indent, len(outer.dims))
    lines.append("}")
    return "\n".join(lines) + "\n"


# Per-call accumulators live on the stack: at most this many kept elements (8 KiB).
COLUMN_ACCUMULATORS = 1024


def _reduces_leading_dims(outer, inner) -> bool:
    """True for a reduction over leading dims (a column sum): one kept dim that every input
    walks contiguously (or broadcasts), one reduced dim. Looping kept-innermost then reads
    memory in order and vectorizes, where the usual order strides through it."""
    return (len(outer.dims) == 1 and len(inner.dims) == 1
            and 1 < outer.dims[0] <= COLUMN_ACCUMULATORS
            and all(s[0] in (0, 1) for s in outer.strides[:-1])
            and any(s[0] == 1 for s in outer.strides[:-1]))


def _render_column_reduce(group: ReduceGroup, outer, inner, lines: list[str],
                          acc: Accumulator) -> str:
    """The reduction as: acc[o] = identity; for r: for o: acc[o] = acc[o] (op) x[r, o]."""
    pro = group.prologue
    combine = acc.combine("acc[o0 - start]", acc.load(f"t{pro.outputs[0]}",
                                                      pro.steps[pro.outputs[0]].dtype))
    lines += [f"    {acc.type} acc[{outer.dims[0]}];",
              "    for (int64_t o0 = start; o0 < stop; o0++) {",
              f"        acc[o0 - start] = {acc.start()};",
              "    }",
              f"    for (int64_t r0 = 0; r0 < {inner.dims[0]}LL; r0++) {{",
              "        for (int64_t o0 = start; o0 < stop; o0++) {"]
    for k, spec in enumerate(pro.inputs):
        index = " + ".join(x for x in (_index(["o0"], outer.strides[k]),
                                       _index(["r0"], inner.strides[k])) if x != "0")
        lines.append(f"            const {ctype(spec.dtype)} x{k} = in{k}[{index or '0'}];")
    lines += ["            " + render_step(j, step, pro) for j, step in enumerate(pro.steps)]
    lines += [f"            acc[o0 - start] = {combine};",
              "        }",
              "    }",
              "    for (int64_t o0 = start; o0 < stop; o0++) {",
              f"        out0[o0] = {acc.result('acc[o0 - start]')};",
              "    }",
              "}"]
    return "\n".join(lines) + "\n"


def _full_steps_needed(group: RowGroup, targets: list[int], stored: set[int]
                       ) -> tuple[list[int], list[int]]:
    """The full steps computing `targets` (row values are already in scope), in order:
    (those to compute, those to load from the row's scratch, `stored`)."""
    needed: set[int] = set()
    loads: set[int] = set()
    todo = [j for j in targets if group.is_full(j)]
    while todo:
        j = todo.pop()
        if j in needed or j in loads:
            continue
        if j in stored:
            loads.add(j)
            continue
        needed.add(j)
        todo += [r[1] for r in group.steps[j].args if r[0] == "step" and group.is_full(r[1])]
    return sorted(needed), sorted(loads)


# A reduction's pass runs in this many independent lanes (so gcc can vectorize it).
ROW_LANES = 8
# Scratch rows (full values a reduction consumed, kept for the later passes) live on the
# stack: at most this many bytes per row.
ROW_SCRATCH_BYTES = 1 << 15


def render_row_group(group: RowGroup, name: str) -> str:
    """The C function computing a `RowGroup`, named `name`: per row, one pass along the
    row per reduction (in ROW_LANES lanes; float sums and products accumulate in double),
    then one pass writing the full outputs; row steps run once per row between them. The
    value a reduction consumed is kept in a scratch row when a later pass needs it (the
    exp of a softmax), so it is computed once."""
    outer, along = row_layout([spec.shape for spec in group.inputs], group.shape,
                              group.input_axes)
    n_in = len(group.inputs)
    width = group.shape[-1]
    lines = _signature(name, group.inputs, [group.steps[j].dtype for j in group.outputs])
    outer_vars = [f"o{d}" for d in range(len(outer.dims))]
    indent = _open_outer_loops(lines, "o", outer.dims)

    def at(k: int, inner: bool) -> str:
        base = _index(outer_vars, outer.strides[k])
        if not inner or not along[k]:
            return base
        step = "r" if along[k] == 1 else f"r * {along[k]}LL"
        return step if base == "0" else f"{base} + {step}"

    for k, spec in enumerate(group.inputs):
        if not along[k]:
            lines.append(f"{indent}const {ctype(spec.dtype)} x{k} = in{k}[{at(k, False)}];")
    keep = _scratch_rows(group)
    for j in sorted(keep):
        lines.append(f"{indent}{ctype(group.steps[j].dtype)} s{j}[{width}];")
    stored: set[int] = set()

    def body(targets: list[int], end: list[str], inner: str) -> list[str]:
        out = [f"{inner}const {ctype(spec.dtype)} x{k} = in{k}[{at(k, True)}];"
               for k, spec in enumerate(group.inputs) if along[k]]
        compute, loads = _full_steps_needed(group, targets, stored)
        out += [f"{inner}{ctype(group.steps[j].dtype)} t{j} = s{j}[r];" for j in loads]
        out += [inner + render_step(j, group.steps[j], group) for j in compute]
        out += [f"{inner}s{j}[r] = t{j};" for j in compute if j in keep]
        return out + [inner + text for text in end]

    for j, step in enumerate(group.steps):
        if group.is_full(j):
            continue
        if step.op not in REDUCTION_IDENTITY:
            lines.append(indent + render_step(j, step, group))
            continue
        kind, what = step.args[0]
        acc = Accumulator(step.op, np.dtype(step.dtype))
        operand = group.inputs[what].dtype if kind == "in" else group.steps[what].dtype
        element = acc.load(f"{'x' if kind == 'in' else 't'}{what}", operand)
        targets = [what] if kind == "step" else []
        main = width - width % ROW_LANES
        lines.append(f"{indent}{acc.type} acc{j}[{ROW_LANES}] = "
                     f"{{{', '.join([acc.start()] * ROW_LANES)}}};")
        inner = indent + "        "
        lines += [f"{indent}{IVDEP}",
                  f"{indent}for (int64_t rb = 0; rb < {main}LL; rb += {ROW_LANES}) {{",
                  f"{indent}    for (int l = 0; l < {ROW_LANES}; l++) {{",
                  f"{inner}const int64_t r = rb + l;"]
        accumulate = [f"acc{j}[{lane}] = {acc.combine(f'acc{j}[{lane}]', element)};"
                      for lane in ("l", "0")]
        lines += body(targets, [accumulate[0]], inner)
        lines += [f"{indent}    }}", f"{indent}}}"]
        if main < width:
            lines.append(f"{indent}{IVDEP}")
            lines.append(f"{indent}for (int64_t r = {main}LL; r < {width}LL; r++) {{")
            lines += body(targets, [accumulate[1]], indent + "    ")
            lines.append(f"{indent}}}")
        lines.append(f"{indent}for (int l = 1; l < {ROW_LANES}; l++) "
                     f"acc{j}[0] = {acc.combine(f'acc{j}[0]', f'acc{j}[l]')};")
        lines.append(f"{indent}{ctype(step.dtype)} t{j} = {acc.result(f'acc{j}[0]')};")
        stored |= {what} & keep if kind == "step" else set()
    for k, j in enumerate(group.outputs):
        if not group.is_full(j):
            lines.append(f"{indent}out{k}[{at(n_in + 1, False)}] = t{j};")
    full_out = [k for k, j in enumerate(group.outputs) if group.is_full(j)]
    if full_out:
        index = at(n_in, True)
        lines.append(f"{indent}{IVDEP}")
        lines.append(f"{indent}for (int64_t r = 0; r < {width}LL; r++) {{")
        lines += body([group.outputs[k] for k in full_out],
                      [f"out{k}[{index}] = t{group.outputs[k]};" for k in full_out],
                      indent + "    ")
        lines.append(f"{indent}}}")
    indent = _close_loops(lines, indent, len(outer.dims))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _scratch_rows(group: RowGroup) -> set[int]:
    """Full steps a reduction consumes that a later pass (a later reduction or the output
    pass) needs too, as many as fit in ROW_SCRATCH_BYTES per row."""
    passes = [j for j, st in enumerate(group.steps)
              if not group.is_full(j) and st.op in REDUCTION_IDENTITY]
    keep: set[int] = set()
    budget = ROW_SCRATCH_BYTES
    full_outputs = [j for j in group.outputs if group.is_full(j)]
    for i, j in enumerate(passes):
        kind, what = group.steps[j].args[0]
        if kind != "step" or not group.is_full(what):
            continue
        later = [group.steps[p].args[0][1] for p in passes[i + 1:]
                 if group.steps[p].args[0][0] == "step"] + full_outputs
        size = group.shape[-1] * group.steps[what].dtype.itemsize
        if size <= budget and what in _full_steps_needed(group, later, set())[0]:
            keep.add(what)
            budget -= size
    return keep


def _is_complex(group) -> bool:
    group = getattr(group, "reduce", group)  # loops.StoringExtremum wraps a ReduceGroup
    pro = group.prologue if isinstance(group, ReduceGroup) else group
    return any(d.kind == "c" for d in [s.dtype for s in pro.inputs] +
               [s.dtype for s in pro.steps])


def helpers(groups: list[ElementwiseGroup | ReduceGroup | RowGroup], cuda: bool = False
            ) -> str:
    """The definitions the groups' C code needs beyond `fastmath.preamble()`: complex_c's
    types and helpers where a group computes with complex values, else nothing.

    >>> helpers([])
    ''
    """
    return complex_c.preamble(cuda) if any(_is_complex(g) for g in groups) else ""


def render(group: ElementwiseGroup | ReduceGroup | RowGroup, name: str) -> str:
    """C source of any kind of group."""
    if isinstance(group, ReduceGroup):
        return render_reduce_group(group, name)
    if isinstance(group, RowGroup):
        return render_row_group(group, name)
    return render_group(group, name)


def outer_extent(group: ElementwiseGroup | ReduceGroup | RowGroup) -> int:
    """Trip count of the outermost loop: the range `start`/`stop` split across threads."""
    if isinstance(group, RowGroup):
        return row_layout([s.shape for s in group.inputs], group.shape,
                          group.input_axes)[0].dims[0]
    if isinstance(group, ReduceGroup):
        pro = group.prologue
        return reduce_layout([s.shape for s in pro.inputs], pro.shape, group.axis,
                             pro.input_axes)[0].dims[0]
    return layout([spec.shape for spec in group.inputs], group.shape,
                  group.input_axes).dims[0]
