"""`Graph.verify`: check a graph is well formed, naming the first problem.

Checks: unique ids, input kinds, SSA (each Value defined once, before use), known ops and
arities, every node's shape and dtype equal to its OpDef's `infer` rule, outputs, guards
and write-backs referring to defined Values of matching types. A node with subgraphs
(`Node.subgraphs`, e.g. a fused `Kernel`) is checked generically: its reads are defined,
each subgraph binds one parameter per read, is well formed on its own and defines no id
of the enclosing graph. Messages are only formatted on failure, so verifying stays cheap.

>>> import eager, tracer
>>> g = tracer.trace(lambda x: x.exp(), eager.ones(2))
>>> verify_graph(g)
>>> g.outputs = g.new_value((2,), "float32", "cpu")
>>> verify_graph(g)
Traceback (most recent call last):
...
tracer.errors.GraphError: output %2 is not defined by the graph
"""
from __future__ import annotations

import numpy as np

from kernels import OPS, TensorSpec
from kernels.errors import EagerError
from tracer.errors import GraphError
from tracer.graph import INPUT_KINDS, GradOf, Graph, Node, Value, WriteBack, short_type
from tracer.subgraph import Kernel


def verify_graph(graph: Graph) -> None:
    """Raise GraphError naming the first problem of `graph` (see the module doc)."""
    defined: dict[int, Value] = {}
    for v in graph.inputs:
        if v.kind not in INPUT_KINDS:
            _fail(f"input {v!r} has kind {v.kind!r}; expected one of {INPUT_KINDS}")
        if v.id in defined:
            _fail(f"input {v!r} is defined twice")
        if v.kind == "const" and (v.data is None or tuple(v.data.shape) != v.shape
                                  or v.data.dtype != v.dtype):
            _fail(f"const {v!r}: data does not match its type {v.type_str}")
        if v.kind == "ref":
            if v.ref is None:
                _fail(f"ref {v!r} is bound to nothing")
            if isinstance(v.ref, GradOf) and v.ref.owner.id not in defined:
                _fail(f"ref {v!r} reads the grad of {v.ref.owner!r}, not an earlier input")
        defined[v.id] = v
    _verify_nodes(graph.nodes, defined)
    for v in graph.output_values():
        if defined.get(v.id) is not v:
            _fail(f"output {v!r} is not defined by the graph")
    for guard in graph.guards:
        if defined.get(guard.value.id) is not guard.value:
            _fail(f"{guard}: guards an undefined value")
    for wb in graph.writebacks:
        _verify_writeback(wb, defined)


def _fail(message: str) -> None:
    raise GraphError(message)


def _verify_node(i: int, node: Node, defined: dict) -> None:
    op, out = node.op, node.out
    if OPS.get(op.name) is not op:
        _fail(f"node {i} ({node}): op {op.name!r} is not the registered kernels.OPS entry")
    if out.kind != "node":
        _fail(f"node {i} ({node}): output has kind {out.kind!r}")
    if out.id in defined:
        _fail(f"node {i} ({node}): {out!r} is assigned twice (not SSA)")
    if op.arity >= 0 and len(node.inputs) != op.arity:
        _fail(f"node {i} ({node}): {op.name} takes {op.arity} inputs, got "
              f"{len(node.inputs)}")
    specs = []
    for x in node.inputs:
        if isinstance(x, Value):
            if defined.get(x.id) is not x:
                _fail(f"node {i} ({node}): input {x!r} is used before it is defined")
            if x.dtype is None:
                specs.append(None)
                continue
            if x.device != out.device and op.kind != "transfer":
                _fail(f"node {i} ({node}): input {x!r} is on {x.device} but the output "
                      f"is on {out.device}")
            specs.append(TensorSpec(x.shape, x.dtype))
        elif isinstance(x, (bool, int, float, complex, np.generic)):
            specs.append(x)
        else:
            _fail(f"node {i} ({node}): literal {x!r} is not a Python scalar")
    if op.dynamic_shape:
        return
    try:
        spec = op.infer(*specs, **node.attrs)
    except (EagerError, TypeError, ValueError) as exc:
        raise GraphError(f"node {i} ({node}): the op's shape rule rejects its inputs: "
                         f"{exc}") from None
    if tuple(spec.shape) != out.shape or spec.dtype != out.dtype:
        _fail(f"node {i} ({node}): output is {out.type_str} but {op.name}'s rule gives "
              f"{short_type(tuple(spec.shape), np.dtype(spec.dtype))}")

def _verify_call(i: int, node: Kernel, defined: dict) -> None:
    """A node with subgraphs: its reads are defined here; each subgraph binds one
    parameter per read (same type), is well formed on its own, defines no id of the
    enclosing graph, has no guards or write-backs, and its outputs are the node's."""
    for sub in node.subgraphs:  # checked first: the node's text lists its outputs
        if not isinstance(sub.outputs, tuple) or not all(
                isinstance(v, Value) and v.kind == "node" for v in sub.outputs):
            _fail(f"node {i} ({node.op.name}): its subgraph's outputs must be a tuple of "
                  "its node Values")
    for x in node.inputs:
        if not isinstance(x, Value) or defined.get(x.id) is not x:
            _fail(f"node {i} ({node}): input {x!r} is used before it is defined")
    for sub in node.subgraphs:
        if len(sub.inputs) != len(node.inputs):
            _fail(f"node {i} ({node}): its subgraph takes {len(sub.inputs)} parameters "
                  f"but the node passes {len(node.inputs)}")
        for p, x in zip(sub.inputs, node.inputs):
            if (p.kind, p.shape, p.dtype, p.device) != ("arg", x.shape, x.dtype, x.device):
                _fail(f"node {i} ({node}): parameter {p!r} ({p.kind} {p.type_str}) does not "
                      f"bind {x!r} ({x.type_str})")
        if sub.guards or sub.writebacks:
            _fail(f"node {i} ({node}): a subgraph cannot hold guards or write-backs")
        try:
            _verify_body(sub, defined)
        except GraphError as exc:
            raise GraphError(f"node {i} ({node}): in its subgraph: {exc}") from None
    problem = node.check_types() if hasattr(node, "check_types") else None
    if problem:
        _fail(f"node {i} ({node}): {problem}")


def _verify_nodes(nodes: list, defined: dict) -> None:
    """Check each node in order against the values defined so far, then define its outs."""
    for i, node in enumerate(nodes):
        if node.subgraphs:
            _verify_call(i, node, defined)
        else:
            _verify_node(i, node, defined)
        for out in node.outs:
            defined[out.id] = out


def _verify_body(sub: Graph, enclosing: dict) -> None:
    """The nodes and outputs of a subgraph, whose ids must be new to `enclosing`."""
    inner = {p.id: p for p in sub.inputs}
    _verify_nodes(sub.nodes, inner)
    for v in inner.values():
        if v.id in enclosing:
            _fail(f"value {v!r} reuses an id of the enclosing graph")
    for v in sub.outputs:
        if inner.get(v.id) is not v:
            _fail(f"output {v!r} is not defined by the graph")

def _verify_writeback(wb: WriteBack, defined: dict) -> None:
    target, value = wb.target, wb.value
    if wb.slot not in ("data", "grad"):
        _fail(f"{wb}: slot must be 'data' or 'grad'")
    if (defined.get(target.id) is not target or target.kind not in ("arg", "ref")
            or not target.is_tensor or isinstance(target.ref, GradOf)):
        _fail(f"{wb}: the target must be an argument or bound tensor input")
    if value is None:
        if wb.slot != "grad":
            _fail(f"{wb}: only a grad slot can be cleared")
        return
    if defined.get(value.id) is not value:
        _fail(f"{wb}: writes an undefined value")
    if value.shape != target.shape:
        _fail(f"{wb}: value {value.type_str} does not fit target {target.type_str}")
    if wb.slot == "data" and value.dtype != target.dtype:
        _fail(f"{wb}: value {value.type_str} has another dtype than {target.type_str}")
