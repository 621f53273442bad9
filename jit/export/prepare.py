"""The inference graph an export serves: one trace, weights frozen, the @jit optimizer run.

`inference_graph(fn, example_args)` traces `fn` once without gradients, refuses what a
standalone runtime cannot replay (guards, write-backs, random draws, generators, GPU
values, non-tensor outputs), turns every tensor bound by reference (parameters, closure
tensors) into a constant holding its current value, and optimizes with the same passes
as `@jit`. Freezing lets constant folding run layout work on the weights once, at export
time (the transpose a `Linear` applies to its weight, a conv kernel's reshape).

>>> import eager
>>> w = eager.ones(3, 2)
>>> g = inference_graph(lambda x: x @ w.T, (eager.ones(1, 2),))
>>> [n.op.name for n in g.nodes], [v.kind for v in g.inputs]
(['matmul'], ['arg', 'const'])
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import eager
import tracer
from jit.export.errors import ExportError, node_text
from jit.passes import optimize
from jit.passes.rewrite import rebuild
from tracer.errors import GuardFailure
from tracer.graph import Graph, Value, walk
from tracer.plan import check_guard
from tracer.pytree import flatten


def as_arg_tuple(example_args: Any) -> tuple:
    """`example_args` as a tuple of positional arguments (one tensor may be given bare)."""
    return tuple(example_args) if isinstance(example_args, (tuple, list)) else (example_args,)


def inference_graph(fn: Callable, example_args: Sequence[Any] | Any) -> Graph:
    """Trace, check, freeze and optimize `fn` for export (see the module doc)."""
    with eager.no_grad():
        graph = tracer.trace(fn, *as_arg_tuple(example_args))
    check_exportable(graph)
    graph, _ = optimize(freeze(graph))
    graph = settle_constant_guards(graph)
    if graph.guards:
        raise ExportError(
            f"export: the traced function reads a tensor value on the host ({graph.guards[0]}"
            "); an exported graph cannot take a data-dependent branch. Compute it with "
            "tensor ops (e.g. eager.where) instead")
    return _drop_unused_consts(graph)


def check_exportable(graph: Graph) -> None:
    """Raise ExportError for anything a replay without Python could not reproduce (guards
    are judged after freezing, by `settle_constant_guards`)."""
    for node in walk(graph):
        if node.op.kind == "random":
            raise ExportError(f"export: random op in {node_text(node)}; random ops cannot be "
                              "exported (call model.eval() to turn dropout off)")
    if graph.writebacks:
        wb = graph.writebacks[0]
        made_by = graph.producers().get(wb.value.id) if wb.value is not None else None
        where = f" by {node_text(made_by)}" if made_by is not None else ""
        raise ExportError(
            f"export: the traced function updates a tensor in place or sets .grad ({wb}"
            f"{where}); an exported inference graph has no side effects (training code?)")
    for value in graph.inputs:
        if not value.is_tensor:
            raise ExportError(f"export: the function reads a random generator ({value!r} "
                              f"{value.label}); generators cannot be exported")
    for value in list(graph.inputs) + [n.out for n in walk(graph) if not n.subgraphs]:
        if value.is_tensor and value.device != "cpu":
            raise ExportError(f"export: {value!r} {value.type_str} is on {value.device!r}; "
                              "export runs on the CPU: pass cpu tensors and a cpu model")
    leaves, _ = flatten(graph.outputs)
    if not leaves or not all(isinstance(x, Value) for x in leaves):
        raise ExportError(f"export: every output must be a tensor, got {graph.outputs!r}")


def freeze(graph: Graph) -> Graph:
    """`graph` with every "ref" input replaced by a "const" holding its current value."""
    work = copy.copy(graph)
    replace: dict[int, Value] = {}
    inputs = []
    for value in graph.inputs:
        if value.kind == "ref":
            data = np.array(value.ref.detach().numpy(), dtype=value.dtype)
            const = work.new_value(value.shape, value.dtype, value.device, "const", data=data,
                                   label=value.label)
            replace[value.id] = const
            value = const
        inputs.append(value)
    return rebuild(work, work.nodes, replace, inputs=inputs).verify()


def _drop_unused_consts(graph: Graph) -> Graph:
    """Remove constants no node reads any more (weights folding replaced)."""
    used = {x.id for node in graph.nodes for x in node.inputs if isinstance(x, Value)}
    used |= {v.id for v in graph.output_values()}
    inputs = [v for v in graph.inputs if v.kind != "const" or v.id in used]
    return rebuild(graph, graph.nodes, {}, inputs=inputs)


def settle_constant_guards(graph: Graph) -> Graph:
    """Drop the guards on values the frozen weights determine (after folding they read a
    constant: a module's training flag, a check on a weight). They hold for every call of
    the export; guards on values computed from the arguments remain."""
    kept = []
    for guard in graph.guards:
        if guard.value.kind != "const":
            kept.append(guard)
            continue
        try:
            check_guard(guard, guard.value.data)
        except GuardFailure as failure:   # the weights changed while exporting
            raise ExportError(f"export: {failure}") from None
    settled = copy.copy(graph)
    settled.guards = kept
    settled.invalidate()
    return settled

