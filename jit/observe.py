"""Host reads that are data, not control flow: `print(f"{loss:.2f}")`, `loss.item()` at
the end of a training step.

Such a read gives a new value on every call, so its guard fails on every replay and the
function would retrace until it ran eagerly for good. The jit tells the two apart by
tracing: when a guard on `item`, `tolist` or `numpy` fails and the retrace records a graph
identical to the failed one except for that read's value (the same ops, attributes,
literals, constants, write-backs and other guards), no tensor op depended on the value
in either run: the read is an observation. The site (its kind and source line) is then
no longer guarded, and where the function returned the read value itself (`return
loss.item()`), the replay returns the value read afresh.

This is evidence from two runs, not proof: a branch on the value that neither run took
(`if loss.item() > 1e6: ...`) would be missed, so a `bool` read (`if t > 0:`) is never an
observation, nor a read whose result could not be told apart from an unrelated literal
(a small int or a bool returned as is). Python code that consumed an observed value
(the print, the log line) runs while tracing only, as all Python side effects do.

>>> import eager, tracer
>>> g1 = tracer.trace(lambda x: (x.sum().item(), x * 2)[1], eager.ones(2))
>>> g2 = tracer.trace(lambda x: (x.sum().item(), x * 2)[1], eager.full((2,), 3.0))
>>> site = (g1.guards[0].kind, g1.guards[0].where)
>>> structure(g1, {site}, {}) == structure(g2, {site}, {}), structure(g1, set(), {}) == \\
...     structure(g2, set(), {})
(True, False)
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from jit.signature_key import _canonical
from tracer.graph import GradOf, Graph, Guard, Value
from tracer.pytree import flatten, unflatten

Site = tuple[str, str]
"""A host read's place: (guard kind, source line)."""
OBSERVABLE = ("item", "tolist", "numpy")


def site_of(guard: Guard) -> Site:
    """The site of a guard (what the observation decision is about)."""
    return guard.kind, guard.where


def differing_reads(a: Graph, b: Graph) -> set[Site]:
    """Sites of the guards two traces recorded in the same order but with other values."""
    return {site_of(x) for x, y in zip(a.guards, b.guards)
            if site_of(x) == site_of(y) and _literal(x.expected) != _literal(y.expected)}


def _literal(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return ("array", x.dtype.str, x.shape, x.tobytes())
    try:
        return ("lit", type(x).__name__, repr(_canonical(x)))
    except Exception:  # noqa: BLE001  (an odd object: compare it by identity)
        return ("obj", id(x))


def _bound(ref: Any) -> Any:
    """What an input is bound to: the object, or for a `.grad` slot its owner's Value."""
    return ("grad", ref.owner.id) if isinstance(ref, GradOf) else id(ref)


def _ref(x: Any) -> Any:
    return ("v", x.id) if isinstance(x, Value) else _literal(x)


def structure(graph: Graph, ignore: set[Site], read_outputs: dict[int, Guard]) -> tuple:
    """Everything a replay of `graph` does, except the expected values of guards at the
    `ignore` sites and the output leaves that are those reads' results."""
    inputs = tuple((v.kind, v.id, v.shape, str(v.dtype), v.device,
                    _literal(v.data) if v.kind == "const" else _bound(v.ref))
                   for v in graph.inputs)
    nodes = tuple((n.op.name, tuple(_ref(x) for x in n.inputs),
                   tuple(sorted((k, repr(a)) for k, a in n.attrs.items())),
                   tuple((v.id, v.shape, str(v.dtype)) for v in n.outs))
                  for n in graph.nodes)
    guards = tuple((g.value.id, g.kind, g.where,
                    None if site_of(g) in ignore else _literal(g.expected))
                   for g in graph.guards)
    leaves, tree = flatten(graph.outputs)
    ignored = {i for i, g in read_outputs.items() if site_of(g) in ignore}
    outputs = tuple("read" if i in ignored else _ref(x) for i, x in enumerate(leaves))
    writebacks = tuple((wb.target.id, None if wb.value is None else wb.value.id, wb.slot)
                       for wb in graph.writebacks)
    return inputs, nodes, guards, repr(tree), outputs, writebacks


def observe(graph: Graph, sites: set[Site],
            read_outputs: dict[int, Guard]) -> tuple[Graph, dict[int, str]]:
    """A copy of `graph` without the guards at `sites`, returning the tensor read at each
    such site where the traced function returned the read's result; and, for those
    output leaves, the read to apply to them (`item`, `tolist`, `numpy`)."""
    leaves, tree = flatten(graph.outputs)
    convert = {}
    for i, guard in read_outputs.items():
        if site_of(guard) in sites:
            leaves[i] = guard.value
            convert[i] = guard.kind
    new = copy.copy(graph)
    new.guards = [g for g in graph.guards if site_of(g) not in sites]
    new.outputs = unflatten(tree, leaves)
    new.writebacks = list(graph.writebacks)
    new.inputs = list(graph.inputs)
    new.nodes = list(graph.nodes)
    new.invalidate()
    return new.verify(), convert


def convert_outputs(result: Any, convert: dict[int, str]) -> Any:
    """Turn the tensors at `convert`'s output leaves into what the read gave eagerly."""
    leaves, tree = flatten(result)
    for i, kind in convert.items():
        leaves[i] = getattr(leaves[i], kind)()
    return unflatten(tree, leaves)
