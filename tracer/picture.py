"""Pictures of a static Graph as Graphviz source: one box per node with its op and output
type, arguments / bound state (params, RNG, grad slots) / constants / outputs each styled
apart, write-backs as dashed red edges back to the tensor they update, guards as diamonds,
and a fused kernel (a node with a subgraph) as a dashed cluster around its member nodes;
control flow (`If`/`While`) as one cluster per branch, condition and body.

>>> import eager, tracer
>>> g = tracer.trace(lambda x: (x * 2).sum(), eager.ones(3))
>>> source = g.to_dot()
>>> source.startswith("digraph") and "mul" in source and "f32[3]" in source
True
"""
from __future__ import annotations

from eager.autograd.picture import STYLES, quote, render, svg_or_none
from tracer.graph import GradOf, Graph, Value
from tracer.pytree import flatten

__all__ = ["graph_to_dot", "render", "svg_or_none"]


def graph_to_dot(graph: Graph) -> str:
    """Graphviz source of `graph` (see the module docstring for the styling)."""
    lines = [f"digraph {quote(graph.name)} {{", "  rankdir=TB;",
             '  node [fontname="Helvetica" fontsize=11];']
    for v in graph.inputs:
        lines.append(f"  v{v.id} [label={quote(_input_label(v))} {STYLES[_input_style(v)]}];")
        if isinstance(v.ref, GradOf):
            lines.append(f"  v{v.ref.owner.id} -> v{v.id} [style=dotted label=grad];")
    _draw_nodes(graph.nodes, {}, "  ", lines)
    for i, guard in enumerate(graph.guards):
        label = f"guard {guard.kind}\n== {_short(guard.expected)}"
        lines.append(f"  g{i} [label={quote(label)} {STYLES['guard']} "
                     f"tooltip={quote(guard.where)}];")
        lines.append(f"  v{guard.value.id} -> g{i} [style=dashed];")
    for wb in graph.writebacks:
        if wb.value is not None:
            label = "write-back" if wb.slot == "data" else ".grad ="
            lines.append(f"  v{wb.value.id} -> v{wb.target.id} [style=dashed color=red "
                         f"fontcolor=red label={quote(label)} constraint=false];")
    leaves = flatten(graph.outputs)[0]
    for i, x in enumerate(leaves):
        text = f"output {i}" if isinstance(x, Value) else f"output {i}\n{_short(x)}"
        lines.append(f"  out{i} [label={quote(text)} {STYLES['output']}];")
        if isinstance(x, Value):
            lines.append(f"  v{x.id} -> out{i};")
    lines.append("}")
    return "\n".join(lines)


def _draw_nodes(nodes: list, bound: dict[int, int], indent: str, lines: list[str]) -> None:
    """One box per primitive node; a node with subgraphs (a fused kernel) is a cluster
    around its body's boxes, whose parameters are drawn as edges from the values bound."""
    for node in nodes:
        if node.subgraphs:
            # Control flow (tracer.control) names its sections: "while cond", "if then".
            labels = getattr(node, "labels", ("",) * len(node.subgraphs))
            for sub, section in zip(node.subgraphs, labels):
                inner = {**bound, **{p.id: bound.get(x.id, x.id)
                                     for p, x in zip(sub.inputs, node.inputs)}}
                name = f"cluster_{id(sub)}"
                label = f"{node.op.name} {section}".strip()
                lines.append(f"{indent}subgraph {name} {{ label={quote(label)}; "
                             "style=dashed;")
                _draw_nodes(sub.nodes, inner, indent + "  ", lines)
                lines.append(f"{indent}}}")
            if hasattr(node, "labels"):  # its outputs are values of their own
                for k, out in enumerate(node.outs):
                    lines.append(f"{indent}v{out.id} [label={quote(f'{node.op.name} out {k}')}"
                                 f" {STYLES['op']}];")
                    for sub in node.subgraphs[-1 if node.op.name == "while" else 0:]:
                        lines.append(f"{indent}v{sub.outputs[k].id} -> v{out.id} "
                                     "[style=dashed];")
            continue
        label = f"{node.op.name}\n{node.out.type_str}"
        tooltip = f" tooltip={quote(node.where)}" if node.where else ""
        lines.append(f"{indent}v{node.out.id} [label={quote(label)} {STYLES['op']}{tooltip}];")
        for x in node.inputs:
            if isinstance(x, Value):
                lines.append(f"{indent}v{bound.get(x.id, x.id)} -> v{node.out.id};")


def _input_style(v: Value) -> str:
    return {"arg": "input", "ref": "param", "const": "const"}[v.kind]


def _input_label(v: Value) -> str:
    if v.kind == "arg":
        return f"{v.label or 'arg'}\n{v.type_str}"
    if v.kind == "const":
        return f"const\n{v.type_str}"
    if isinstance(v.ref, GradOf):
        return f"{v.label}\n{v.type_str}"
    return f"{v.label or 'bound'}\n{v.type_str}"


def _short(x) -> str:
    text = repr(x.tolist() if hasattr(x, "tolist") else x)
    return text if len(text) <= 24 else text[:21] + "..."
