"""Pictures of the define-by-run autograd graph, as Graphviz source.

`to_dot(tensor)` walks the nodes recorded behind a tensor (its `grad_fn`, the nodes that
produced that node's inputs, down to the leaves that require grad) and returns DOT text.
`render(dot_source, path)` turns DOT text into SVG/PNG/PDF with the Graphviz `dot`
program. The tracer reuses these helpers for pictures of static graphs.

>>> import eager
>>> w = eager.tensor([1., 2.], requires_grad=True)
>>> source = to_dot((w * w).sum())
>>> "SumBackward" in source and "MulBackward" in source and "leaf" in source
True
"""
from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np

_SHORT = {"float16": "f16", "float32": "f32", "float64": "f64", "int64": "i64",
          "int32": "i32", "bool": "b8"}
STYLES = {
    "input": 'shape=ellipse style=filled fillcolor="#cfe2ff"',
    "param": 'shape=box style="filled,rounded" fillcolor="#fff3cd"',
    "const": 'shape=note style=filled fillcolor="#e9ecef"',
    "op": 'shape=box style=rounded',
    "output": 'shape=doubleoctagon style=filled fillcolor="#d1e7dd"',
    "guard": 'shape=diamond style=filled fillcolor="#f8d7da" fontsize=10',
}


class GraphvizNotFound(RuntimeError):
    """Rendering a picture needs the Graphviz `dot` program, which is not installed."""


def type_label(shape, dtype) -> str:
    """`f32[2,3]`."""
    name = np.dtype(dtype).name
    return f"{_SHORT.get(name, name)}[{','.join(str(d) for d in shape)}]"


def quote(text: str) -> str:
    """A DOT string literal (newlines become line breaks in the label)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(tensor) -> str:
    """Graphviz source of the autograd graph that produced `tensor` (data flows upward
    from leaves to the tensor). Nodes freed by `backward()` show as "(released)"."""
    root_label = quote("tensor " + type_label(tensor.shape, tensor.dtype))
    lines = ["digraph autograd {", "  rankdir=BT;", '  node [fontname="Helvetica" fontsize=11];',
             f"  out [label={root_label} {STYLES['output']}];"]
    ids: dict[int, str] = {}

    def name_of(obj, label: str, style: str) -> str:
        key = id(obj)
        if key not in ids:
            ids[key] = f"n{len(ids)}"
            lines.append(f"  {ids[key]} [label={quote(label)} {STYLES[style]}];")
        return ids[key]

    root = tensor._node
    if root is None:
        kind = "leaf" if tensor.requires_grad else "constant (no grad)"
        lines.append(f"  out [xlabel={quote(kind)}];")
        lines.append("}")
        return "\n".join(lines)
    lines.append(f"  {name_of(root, _node_label(root), 'op')} -> out;")
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        here = ids[id(node)]
        for edge in _edges(node):
            if edge is None:
                continue
            if hasattr(edge, "op"):
                there = name_of(edge, _node_label(edge), "op")
                stack.append(edge)
            else:
                there = name_of(edge, "leaf " + type_label(edge.shape, edge.dtype), "param")
            lines.append(f"  {there} -> {here};")
    lines.append("}")
    return "\n".join(lines)


def _edges(node) -> list:
    """Where the node's input gradients go: producer nodes, leaf tensors or None."""
    edges = getattr(node, "edges", None)
    if edges is not None:
        return list(edges)
    inputs = node.inputs or ()
    return [x._node if getattr(x, "_node", None) is not None
            else x if getattr(x, "_requires_grad", False) else None for x in inputs]


def _node_label(node) -> str:
    out = node.out_data
    kind = "(released)" if node.inputs is None else ""
    shape = "" if out is None else type_label(out.shape, out.dtype)
    return "\n".join(part for part in (node.name, shape, kind) if part)


def render(dot_source: str, path: str) -> str:
    """Write `dot_source` as a picture at `path` (format from its suffix); return path."""
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "svg"
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"render: unsupported picture format {fmt!r}; use .svg, .png or .pdf")
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFound("render: the Graphviz `dot` program is not installed (apt-get "
                               "install graphviz / brew install graphviz); the DOT source from "
                               "to_dot() can also be pasted into any Graphviz viewer")
    done = subprocess.run([exe, f"-T{fmt}", "-o", path], input=dot_source.encode(),
                          capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"render: dot failed: {done.stderr.decode(errors='replace')}")
    return path


def svg_or_none(dot_source: str) -> str | None:
    """SVG text of the picture when `dot` is installed, else None (for notebooks)."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    done = subprocess.run([exe, "-Tsvg"], input=dot_source.encode(), capture_output=True,
                          timeout=60, check=False)
    return done.stdout.decode() if done.returncode == 0 else None
