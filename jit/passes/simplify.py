"""Algebraic simplification: identities that remove or merge nodes without changing values.

x*1, 1*x, x+(-0.0), (-0.0)+x, x-0.0, x/1, x**1 -> x (the identities each op declares, only
where exact: x+0.0 is not x for x = -0.0; and when that keeps the shape and dtype); --x -> x;
permute of permute -> one permute (none if it is the identity); reshape of reshape -> one
reshape (none if the shape is unchanged); expand or cast to the same type -> x;
(a @ b).T -> b.T @ a.T for 2-d operands when nothing else reads a @ b (the product is
then written in the layout its readers want: a backward pass's weight gradient is
`(x.T @ dy).T`, and fused kernels reading it no longer walk memory with a stride);
index_add(zeros, a, key) + y -> index_add(y, a, key) for a key of ints and slices when
nothing else reads the index_add (autograd's backward of unpacking `q, k, v = qkv` adds
three such scatters of one zero tensor: they become one chain, which the replay then
updates in place, `memory.index_adds_in_place`).
Nodes left unused are removed by dead-code elimination.

>>> import eager, tracer
>>> g = tracer.trace(lambda x: (-(-(x * 1.0)).T.T).exp(), eager.ones(2, 3))
>>> [n.op.name for n in simplify(g).nodes]
['exp']
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from jit.passes.dce import dce
from jit.passes.rewrite import live_value_ids, rebuild, resolve, returned_ids
from tracer.graph import Graph, Node, Value


def _same_type(x, out: Value) -> bool:
    return isinstance(x, Value) and x.shape == out.shape and x.dtype == out.dtype


def _identity_operand(node: Node):
    """The operand of a binary node whose other operand is the op's exact identity there
    (OpDef.identities: x * 1, x + -0.0, x - 0.0, x / 1, x ** 1), or None."""
    op, out = node.op, node.out
    if not op.identities or len(node.inputs) != 2:
        return None
    for position, kept in ((1, 0), (0, 1)):
        scalar, x = node.inputs[position], node.inputs[kept]
        if not isinstance(scalar, Value) and _same_type(x, out) and op.is_identity(
                position, scalar, out.dtype):
            return x
    return None


def _simplified(node: Node, producers: dict[int, Node]):
    """A Value equal to node.out, or a cheaper Node computing it, or None."""
    name, ins, out = node.op.name, node.inputs, node.out
    kept = _identity_operand(node)
    if kept is not None:
        return kept
    if name in ("expand", "cast", "reshape") and _same_type(ins[0], out):
        return ins[0]
    inner = producers.get(ins[0].id) if ins and isinstance(ins[0], Value) else None
    if name == "neg" and inner is not None and inner.op.name == "neg":
        return inner.inputs[0]
    if name == "permute":
        axes = node.attrs["axes"]
        if tuple(axes) == tuple(range(len(axes))):
            return ins[0]
        if inner is not None and inner.op.name == "permute":
            first = inner.attrs["axes"]
            composed = tuple(first[a] for a in axes)
            if composed == tuple(range(len(composed))):
                return inner.inputs[0]
            return Node(node.op, (inner.inputs[0],), {"axes": composed}, out, node.where)
    if name == "reshape" and inner is not None and inner.op.name == "reshape":
        if _same_type(inner.inputs[0], out):
            return inner.inputs[0]
        return Node(node.op, (inner.inputs[0],), dict(node.attrs), out, node.where)
    return None


def _is_zeros(x, producers: dict[int, Node]) -> bool:
    """Whether x is +0.0 everywhere: a `full` of 0 (autograd's fresh gradient buffer) or
    such a constant."""
    if not isinstance(x, Value):
        return False
    if x.kind == "const":
        return isinstance(x.data, np.ndarray) and not x.data.any() and \
            not np.signbit(x.data).any()
    made = producers.get(x.id)
    return made is not None and made.op.name == "full" and \
        made.attrs.get("value") == 0 and not np.signbit(made.attrs.get("value"))


def _scatter_into(node: Node, producers: dict[int, Node], sole_reader: set[int]):
    """For node = index_add(zeros, a, key) + y (either order, same shape and dtype, a key
    without index arrays), the node index_add(y, a, key); else None."""
    if node.op.name != "add" or len(node.inputs) != 2 or \
            not all(_same_type(x, node.out) for x in node.inputs) or \
            node.inputs[0].id == node.inputs[1].id:
        return None
    for position in (0, 1):
        x, y = node.inputs[position], node.inputs[1 - position]
        inner = producers.get(x.id)
        if inner is not None and inner.op.name == "index_add" and len(inner.inputs) == 2 \
                and x.id in sole_reader and _is_zeros(inner.inputs[0], producers):
            return Node(inner.op, (y, inner.inputs[1]), dict(inner.attrs), node.out,
                        node.where)
    return None


def _transposed_product(node: Node, producers: dict[int, Node], sole_reader: set[int],
                        fresh: Callable[[Value], Value]) -> list[Node] | None:
    """For node = permute(a @ b, (1, 0)) with 2-d a and b, the nodes of b.T @ a.T."""
    if node.op.name != "permute" or tuple(node.attrs["axes"]) != (1, 0):
        return None
    inner = producers.get(node.inputs[0].id)
    if inner is None or inner.op.name != "matmul" or inner.out.id not in sole_reader:
        return None
    a, b = inner.inputs
    if not (isinstance(a, Value) and isinstance(b, Value) and len(a.shape) == len(b.shape) == 2):
        return None
    bt = Node(node.op, (b,), {"axes": (1, 0)}, fresh(b), node.where)
    at = Node(node.op, (a,), {"axes": (1, 0)}, fresh(a), node.where)
    return [bt, at, Node(inner.op, (bt.out, at.out), dict(inner.attrs), node.out, node.where)]


def simplify(graph: Graph) -> Graph:
    """Apply the identities above until none applies, then drop dead nodes."""
    replace: dict[int, Value] = {}
    producers: dict[int, Node] = {}
    outputs = returned_ids(graph)
    observed = live_value_ids(graph)
    sole_reader = {i for i, readers in graph.users().items()
                   if len(readers) == 1 and i not in observed}
    next_id = graph._next_id

    def fresh(x: Value) -> Value:
        nonlocal next_id
        next_id += 1
        return Value(next_id - 1, x.shape[::-1], x.dtype, x.device)

    kept = []
    pending = list(reversed(graph.nodes))
    while pending:
        node = pending.pop()
        if node.subgraphs:  # control flow (tracer.control) is kept as it is
            kept.append(node.with_inputs(tuple(resolve(x, replace) for x in node.inputs)))
            continue
        node = Node(node.op, tuple(resolve(x, replace) for x in node.inputs), node.attrs,
                    node.out, node.where)
        rewritten = _transposed_product(node, producers, sole_reader, fresh)
        if rewritten is not None:
            pending.extend(reversed(rewritten))
            continue
        scattered = _scatter_into(node, producers, sole_reader)
        if scattered is not None:
            # the replaced scatter has no other reader, and a key of ints and slices fits
            # the traced shape, so it cannot fail: dce would keep it (indexing may fail)
            replaced = producers.pop(next(x.id for x in node.inputs
                                          if x.id != scattered.inputs[0].id))
            kept.remove(replaced)
            node = scattered
        while True:
            result = _simplified(node, producers)
            if isinstance(result, Node):
                node = result
                continue
            break
        # An output must stay a value of its own: returning an input (or the same tensor
        # twice) would alias memory that eager code kept apart.
        if isinstance(result, Value) and node.out.id not in outputs:
            replace[node.out.id] = result
            continue
        producers[node.out.id] = node
        kept.append(node)
    simplified = rebuild(graph, kept, replace)
    simplified._next_id = next_id
    return dce(simplified)
