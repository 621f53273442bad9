"""Constant folding: run nodes whose inputs are all constants once, at compile time.

Only "const" inputs (tensors made from host data while tracing) and source ops (`full`,
`arange`) count as constant. Tensors bound by reference (parameters, closure tensors,
optimizer state) can change between calls and are never folded; random draws never are.

>>> import eager, tracer
>>> g = tracer.trace(lambda x: x + eager.tensor([1., 2.]) * 2.0, eager.ones(2))
>>> [n.op.name for n in fold_constants(g).nodes]
['add']
"""
from __future__ import annotations

import numpy as np

from jit.passes.rewrite import has_effect, rebuild, resolve, returned_ids
from kernels import OpKind, array_namespace_for
from tracer.graph import Graph, Value

MAX_FOLDED_ELEMENTS = 1 << 22


def fold_constants(graph: Graph) -> Graph:
    """Replace constant subexpressions by new "const" inputs holding their values."""
    work = rebuild(graph, graph.nodes, {})
    data = {v.id: v.data for v in work.inputs if v.kind == "const"}
    replace: dict[int, Value] = {}
    new_consts: list[Value] = []
    outputs = returned_ids(graph)  # returned tensors get fresh memory
    kept = []
    for node in work.nodes:
        inputs = [resolve(x, replace) for x in node.inputs]
        values = [x for x in inputs if isinstance(x, Value)]
        foldable = (not node.subgraphs and not has_effect(node)
                    and node.op.kind is not OpKind.TRANSFER
                    and node.out.id not in outputs
                    and all(v.id in data for v in values)
                    and node.out.is_tensor and np.prod(node.out.shape) <= MAX_FOLDED_ELEMENTS)
        if not foldable:
            kept.append(node)
            continue
        xp = array_namespace_for(node.out.device)
        arrays = [data[x.id] if isinstance(x, Value) else x for x in inputs]
        result = xp.array(node.op.kernel(xp)(*arrays, **node.attrs), dtype=node.out.dtype)
        const = work.new_value(node.out.shape, node.out.dtype, node.out.device, "const",
                               data=result, label=f"folded {node.op.name}")
        new_consts.append(const)
        data[const.id] = result
        replace[node.out.id] = const
    return rebuild(work, kept, replace, inputs=work.inputs + new_consts)
