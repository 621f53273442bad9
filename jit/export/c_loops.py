"""Plain C loops for the graph nodes that are not fused kernels: movement (a strided copy),
integer-array indexing, gather and arg-reductions. (Matmul is in `c_matmul`; fused groups
and single reductions or elementwise ops come from `kernels.codegen.c_render`.)

Each renderer returns a `static int name(const void *in0_, ..., void *out_)` function
that returns MODEL_OK or, for an index out of range, a code set through `ej_fail`. Shapes
are static, so strides and trip counts are constants.

>>> print(strided_loops((2, 3), [(0, (1, 2))]))  # doctest: +NORMALIZE_WHITESPACE
for (int64_t i0 = 0; i0 < 2LL; i0++) {
    for (int64_t i1 = 0; i1 < 3LL; i1++) {
        out[o++] = in0[0LL + i0 * 1LL + i1 * 2LL];
    }
}
"""
from __future__ import annotations

import numpy as np

from jit.export.errors import ExportError, node_text
from kernels.codegen.c_render import ctype, literal
from kernels.codegen.group import contiguous_strides
from tracer.graph import Node

RENDERERS: dict = {}


def renders(*names):
    """Register a renderer for op `names`."""
    def register(fn):
        for name in names:
            RENDERERS[name] = fn
        return fn
    return register


def _header(name: str, node: Node) -> list[str]:
    ins = [x for x in node.inputs if not isinstance(x, (int, float, bool))]
    params = [f"const void *in{k}_" for k in range(len(ins))] + ["void *out_"]
    lines = [f"static int {name}({', '.join(params)}) {{"]
    for k, x in enumerate(ins):
        lines.append(f"    const {ctype(x.dtype)} *in{k} = (const {ctype(x.dtype)} *)in{k}_;")
    t = ctype(node.out.dtype)
    lines.append(f"    {t} *out = ({t} *)out_;")
    lines.append("    int64_t o = 0;")
    return lines


def _term(var: str, stride: int) -> str:
    return f" + {var} * {stride}LL" if stride else ""


def strided_loops(shape, reads, value: str | None = None) -> str:
    """Nested loops over `shape` writing `out[o++]`: with `reads` [(base, strides)] the
    value is in0[base + sum(i_d * stride_d)]; `value` overrides it (an expression over the
    offsets s0, s1, ... of each read)."""
    lines, indent = [], ""
    for d, n in enumerate(shape):
        lines.append(f"{indent}for (int64_t i{d} = 0; i{d} < {n}LL; i{d}++) {{")
        indent += "    "
    offsets = []
    for base, strides in reads:
        offsets.append(f"{base}LL" + "".join(_term(f"i{d}", s) for d, s in enumerate(strides)))
    if value is None:
        lines.append(f"{indent}out[o++] = in0[{offsets[0]}];")
    else:
        for k, off in enumerate(offsets):
            lines.append(f"{indent}const int64_t s{k} = {off};")
        lines.append(f"{indent}out[o++] = {value};")
    for _ in shape:
        indent = indent[:-4]
        lines.append(f"{indent}}}")
    return "\n".join(lines)


def _finish(lines: list[str], body: str) -> str:
    lines += ["    " + line for line in body.splitlines()]
    lines += ["    (void)o;", "    return MODEL_OK;", "}"]
    return "\n".join(lines) + "\n"


@renders("permute", "expand", "slice", "flip")
def render_view(node: Node, name: str) -> str:
    """A view op materialized: out[o] = in[base + sum(i_d * stride_d)]."""
    x = node.inputs[0]
    base, strides = view_strides(node.op.name, node.attrs, x.shape, node.out.shape)
    return _finish(_header(name, node), strided_loops(node.out.shape, [(base, strides)]))


def view_strides(op: str, attrs: dict, shape: tuple, out_shape: tuple):
    """(base offset, element stride per output dim) reading the view out of a contiguous
    array of `shape`."""
    cs = contiguous_strides(shape)
    if op == "permute":
        return 0, [cs[a] for a in attrs["axes"]]
    if op == "expand":
        pad = len(out_shape) - len(shape)
        return 0, [0] * pad + [0 if n == 1 and m != 1 else s
                               for n, m, s in zip(shape, out_shape[pad:], cs)]
    if op == "flip":
        axes = {a % len(shape) for a in attrs["axes"]}
        base = sum((shape[a] - 1) * cs[a] for a in axes)
        return base, [-s if d in axes else s for d, s in enumerate(cs)]
    base, strides, axis = 0, [], 0
    for entry in attrs["key"]:
        if entry[0] == "n":
            strides.append(0)
            continue
        dim = shape[axis]
        if entry[0] == "i":
            base += (entry[1] % dim) * cs[axis]
        else:
            start, _, step = slice(entry[1], entry[2], entry[3]).indices(dim)
            base += start * cs[axis]
            strides.append(step * cs[axis])
        axis += 1
    strides.extend(cs[axis:])
    return base, strides


@renders("pad")
def render_pad(node: Node, name: str) -> str:
    """Constant padding: the source element where every coordinate is inside, else value."""
    x = node.inputs[0]
    widths = node.attrs["widths"]
    cs = contiguous_strides(x.shape)
    base = -sum(lo * s for (lo, _), s in zip(widths, cs))
    inside = " && ".join(f"i{d} >= {lo}LL && i{d} < {lo + n}LL"
                         for d, ((lo, hi), n) in enumerate(zip(widths, x.shape))
                         if lo or hi) or "1"
    fill = literal(node.attrs.get("value", 0), node.out.dtype)
    body = strided_loops(node.out.shape, [(base, list(cs))],
                         value=f"({inside}) ? in0[s0] : {fill}")
    return _finish(_header(name, node), body)


@renders("concat")
def render_concat(node: Node, name: str) -> str:
    """Each input copied into its slab of the output, in order."""
    axis = node.attrs["axis"] % len(node.out.shape)
    lines = _header(name, node)
    out_cs = contiguous_strides(node.out.shape)
    start = 0
    for k, x in enumerate(node.inputs):
        cs = contiguous_strides(x.shape)
        loops, indent = [], ""
        for d, n in enumerate(x.shape):
            loops.append(f"{indent}for (int64_t i{d} = 0; i{d} < {n}LL; i{d}++) {{")
            indent += "    "
        dst = f"{start * out_cs[axis]}LL" + "".join(_term(f"i{d}", s) for d, s in enumerate(out_cs))
        src = "0LL" + "".join(_term(f"i{d}", s) for d, s in enumerate(cs))
        loops.append(f"{indent}out[{dst}] = in{k}[{src}];")
        for _ in x.shape:
            indent = indent[:-4]
            loops.append(f"{indent}}}")
        lines += ["    " + line for line in loops]
        start += x.shape[axis]
    lines += ["    (void)o;", "    return MODEL_OK;", "}"]
    return "\n".join(lines) + "\n"


def _bounded(var: str, value: str, dim: int, name: str, what: str) -> list[str]:
    """C lines reading index `value` into `var`, wrapping negatives, failing outside."""
    return [f"int64_t {var} = (int64_t)({value});",
            f"if ({var} < 0) {var} += {dim}LL;",
            (f"if ({var} < 0 || {var} >= {dim}LL) return ej_fail(MODEL_ERR_INDEX, "
            f"\"model_run: {name}: index %lld is out of range for {what} of size {dim}\", "
            f"(long long)({value}));")]


@renders("index")
def render_index(node: Node, name: str) -> str:
    """Integer-array indexing (numpy rules) with slices, integers and index arrays."""
    x, index_arrays = node.inputs[0], node.inputs[1:]
    key = list(node.attrs["key"]) + [("s", None, None, None)] * (
        len(x.shape) - sum(e[0] != "n" for e in node.attrs["key"]))
    if any(e[0] == "n" for e in key):
        raise ExportError(f"export: {node_text(node)}: indexing with None next to index "
                          "arrays has no C loop; unsqueeze the tensor first")
    cs = contiguous_strides(x.shape)
    advanced = [j for j, e in enumerate(key) if e[0] in "ti"]
    bshape = np.broadcast_shapes(*(v.shape for v in index_arrays))
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
    # output dims: ("b", k) = k-th broadcast index dim, ("s", j) = slice entry j
    slices = [j for j, e in enumerate(key) if e[0] == "s"]
    bdims = [("b", k) for k in range(len(bshape))]
    if adjacent:
        dims = [("s", j) for j in slices if j < advanced[0]] + bdims + \
               [("s", j) for j in slices if j > advanced[-1]]
    else:
        dims = bdims + [("s", j) for j in slices]
    out_shape = node.out.shape
    lines = _header(name, node)
    body, indent = [], ""
    for d, n in enumerate(out_shape):
        body.append(f"{indent}for (int64_t i{d} = 0; i{d} < {n}LL; i{d}++) {{")
        indent += "    "
    offset, base = [], 0
    for d, (kind, j) in enumerate(dims):
        if kind == "s":
            start, _, step = slice(*key[j][1:]).indices(x.shape[j])
            base += start * cs[j]
            offset.append(_term(f"i{d}", step * cs[j]))
    for j in advanced:
        entry = key[j]
        if entry[0] == "i":
            base += (entry[1] % x.shape[j]) * cs[j]
            continue
        arr = index_arrays[entry[1]]
        astr = contiguous_strides(arr.shape)
        pad = len(bshape) - len(arr.shape)
        pos = "0LL"
        for d, (kind, k) in enumerate(dims):
            if kind == "b" and k >= pad and arr.shape[k - pad] != 1:
                pos += _term(f"i{d}", astr[k - pad])
        var = f"v{j}"
        body += [indent + line for line in _bounded(var, f"in{entry[1] + 1}[{pos}]",
                                                   x.shape[j], "index", f"axis {j}")]
        offset.append(f" + {var} * {cs[j]}LL")
    body.append(f"{indent}out[o++] = in0[{base}LL{''.join(offset)}];")
    for _ in out_shape:
        indent = indent[:-4]
        body.append(f"{indent}}}")
    lines += ["    " + line for line in body]
    lines += ["    return MODEL_OK;", "}"]
    return "\n".join(lines) + "\n"


@renders("gather")
def render_gather(node: Node, name: str) -> str:
    """take_along_axis: out[i] = x[i with i[axis] = idx[i]] (x broadcast where size 1)."""
    x, idx = node.inputs
    axis = node.attrs["axis"] % len(x.shape)
    cs = contiguous_strides(x.shape)
    shape = idx.shape
    lines = _header(name, node)
    body, indent = [], ""
    for d, n in enumerate(shape):
        body.append(f"{indent}for (int64_t i{d} = 0; i{d} < {n}LL; i{d}++) {{")
        indent += "    "
    pos = "0LL" + "".join(_term(f"i{d}", s) for d, s in enumerate(contiguous_strides(shape)))
    body += [indent + line for line in _bounded("v", f"in1[{pos}]", x.shape[axis], "gather",
                                                f"axis {axis}")]
    src = f"v * {cs[axis]}LL" + "".join(
        _term(f"i{d}", 0 if x.shape[d] == 1 else cs[d]) for d in range(len(shape)) if d != axis)
    body.append(f"{indent}out[o++] = in0[{src}];")
    for _ in shape:
        indent = indent[:-4]
        body.append(f"{indent}}}")
    lines += ["    " + line for line in body]
    lines += ["    return MODEL_OK;", "}"]
    return "\n".join(lines) + "\n"


@renders("argmax", "argmin")
def render_arg_reduce(node: Node, name: str) -> str:
    """Index of the first largest (smallest) element along one axis; a NaN wins, as in
    numpy."""
    x = node.inputs[0]
    axis = node.attrs["axis"]
    shape = (int(np.prod(x.shape)),) if axis is None else x.shape
    axis = 0 if axis is None else axis % len(shape)
    outer = int(np.prod(shape[:axis]))
    n, inner = shape[axis], int(np.prod(shape[axis + 1:]))
    better = ">" if node.op.name == "argmax" else "<"
    t = ctype(x.dtype)
    lines = _header(name, node)
    lines += [f"    for (int64_t a = 0; a < {outer}LL; a++) {{",
              f"        for (int64_t c = 0; c < {inner}LL; c++) {{",
              f"            const {t} *p = in0 + a * {n * inner}LL + c;",
              f"            {t} best = p[0];",
              "            int64_t at = 0;",
              f"            for (int64_t j = 1; j < {n}LL && best == best; j++) {{",
              f"                {t} v = p[j * {inner}LL];",
              f"                if (v {better} best || v != v) {{ best = v; at = j; }}",
              "            }",
              "            out[o++] = at;",
              "        }", "    }", "    return MODEL_OK;", "}"]
    return "\n".join(lines) + "\n"


def render_node(node: Node, name: str) -> str:
    """The C function for one non-fused node; ExportError when no loop serves its op."""
    renderer = RENDERERS.get(node.op.name)
    if renderer is None:
        raise ExportError(f"export: no C loop for op {node.op.name!r} in {node_text(node)}")
    return renderer(node, name)


@renders("windows", "fold")
def render_windows(node: Node, name: str) -> str:
    """im2col (`windows`) and its adjoint (`fold`) through the same C loops the jit runs
    (`kernels.codegen.windows_c`), included once per model.c."""
    from kernels.codegen.windows_c import LOOPS_SOURCE

    x, out, attrs = node.inputs[0], node.out, node.attrs
    suffix = {"float32": "f32", "float64": "f64"}.get(x.dtype.name)
    if suffix is None:
        raise ExportError(f"export: {node.op.name} of {x.dtype.name} has no C loop in "
                          f"{node_text(node)}")
    kernel_last = bool(attrs.get("kernel_last", False))
    if node.op.name == "windows":
        image, win, fill = x.shape[-2:], out.shape[-4:-2] if kernel_last else out.shape[-2:], \
            attrs.get("pad_value", 0.0)
        call, lead = "ej_unfold", int(np.prod(x.shape[:-2]))
    else:
        image, win, fill = out.shape[-2:], x.shape[-4:-2] if kernel_last else x.shape[-2:], 0.0
        call, lead = "ej_fold", int(np.prod(out.shape[:-2]))
    numbers = [lead, *image, *attrs["kernel"], *win, *attrs["stride"], *attrs["dilation"],
               *attrs.get("padding", (0, 0))]
    t = ctype(out.dtype)
    lines = ["#ifndef EJ_WINDOW_LOOPS", "#define EJ_WINDOW_LOOPS", LOOPS_SOURCE, "#endif",
             f"static int {name}(const void *in0_, void *out_) {{"]
    if node.op.name == "fold":
        lines.append(f"    for (int64_t i = 0; i < {int(np.prod(out.shape))}LL; i++) "
                     f"(({t} *)out_)[i] = 0;")
    args = ", ".join(f"{n}LL" for n in numbers)
    lines += [(f"    {call}_{suffix}((void *)in0_, out_, {args}, "
               f"{literal(fill, np.dtype('float64'))}, {int(kernel_last)});"),
              "    return MODEL_OK;", "}"]
    return "\n".join(lines) + "\n"


@renders("max_pool_blocks")
def render_max_pool_blocks(node: Node, name: str) -> str:
    """Max pooling over whole blocks through the jit's C loop (`kernels.codegen.windows_c`,
    included once per model.c)."""
    from kernels.codegen.windows_c import LOOPS_SOURCE

    x = node.inputs[0]
    suffix = {"float32": "f32", "float64": "f64"}.get(x.dtype.name)
    if suffix is None:
        raise ExportError(f"export: max_pool_blocks of {x.dtype.name} has no C loop in "
                          f"{node_text(node)}")
    numbers = [int(np.prod(x.shape[:-2])), *x.shape[-2:], *node.attrs["kernel"]]
    args = ", ".join(f"{n}LL" for n in numbers)
    lines = ["#ifndef EJ_WINDOW_LOOPS", "#define EJ_WINDOW_LOOPS", LOOPS_SOURCE, "#endif",
             f"static int {name}(const void *in0_, void *out_) {{",
             (f"    return ej_block_max_{suffix}((void *)in0_, out_, {args}) ? "
              "MODEL_ERR_NOMEM : MODEL_OK;"), "}"]
    return "\n".join(lines) + "\n"
