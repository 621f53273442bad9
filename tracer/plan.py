"""The execution plan of a Graph: everything a replay needs, decided once per graph.

Every backend that runs a graph (the array interpreter, the dispatch interpreter, the
jit's generated replay and its `check=True` mode) runs this one plan, so reading state,
checking guards, writing back and building outputs are written once, here:

- input bindings: `args` (leaf index -> env slot), `refs` (bound tensors read afresh, each
  with the "type" guard that their shape and dtype still match and the "requires_grad"
  guard on that flag), `grads` (`.grad` slots,
  with a "grad_type" guard), and `template` (constants and generators preset in the
  environment, one slot per Value id);
- `entry_guards`: guards on values the graph reads from outside, checked on entry;
- `steps`: one `NodeStep` per node, each holding the guards checked right after it ran
  (a node with subgraphs holds a `BodyPlan` of steps per subgraph);
- `writebacks` and `out_entries`/`out_tree`: the side effects and the result.

The environment is a flat list indexed by Value id; an interpreter's also holds the nodes'
literals after those (`node_template`). A backend fills it and calls `read_state`, runs
the steps, then calls `write_back` and `outputs`. The steps are built on first use: the
generated replay, which emits its own code per node, never needs them.

>>> import eager, tracer
>>> g = tracer.trace(lambda x: x.exp() if x.sum() > 0 else -x, eager.ones(2))
>>> plan = ExecutionPlan(g)
>>> [(s.node.op.name, [str(gd) for gd in s.guards]) for s in plan.steps]  # doctest: +ELLIPSIS
[('sum', []), ('gt', ['guard bool(%2) == True  # ...']), ('exp', [])]
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from eager.tensor import Tensor, wrap
from kernels import array_namespace_for
from kernels.errors import EagerError
from tracer.errors import GuardFailure
from tracer.graph import GradOf, Graph, Guard, Node, Value
from tracer.pytree import flatten, unflatten
from tracer.signature import ArgChecker
from tracer.subgraph import Kernel

_ndarray = np.ndarray
Source = Any
"""Where a replay finds the tensor behind an input: a leaf index (int) for an argument,
the object itself for state bound by reference."""


@dataclass(slots=True)
class ArgBinding:
    """Argument leaf `leaf` goes into env slot `slot` (its array, or a Generator as is)."""

    leaf: int
    slot: int
    tensor: bool


@dataclass(slots=True)
class RefBinding:
    """A tensor bound by reference: its current array goes into `slot` after `guard`."""

    slot: int
    tensor: Tensor
    guard: Guard
    grad_guard: Guard   # its requires_grad: autograd fills `.grad` only when it is set


@dataclass(slots=True)
class GradBinding:
    """The `.grad` of input `owner` goes into `slot` after `guard` (its traced type)."""

    slot: int
    owner: Source
    guard: Guard


@dataclass(slots=True)
class NodeStep:
    """One node: `fn(*env[slots], **attrs)` into env `out`, then `guards` are checked and
    the `frees` slots (values last read here) dropped. A node with subgraphs has `fn` None
    and one `BodyPlan` per subgraph in `bodies`."""

    node: Node | Kernel
    fn: Any
    slots: tuple[int, ...]
    attrs: dict
    out: int
    on_cpu: bool
    guards: tuple[Guard, ...]
    frees: tuple[int, ...]
    bodies: tuple[BodyPlan, ...] = ()


@dataclass(slots=True)
class BodyPlan:
    """A subgraph of a node: `params` pairs (parameter slot, slot of the value it binds)
    and the subgraph's own steps."""

    params: tuple[tuple[int, int], ...]
    steps: tuple[NodeStep, ...]


@dataclass(slots=True)
class WriteBackStep:
    """Store env `value` into the data (`slot` "data") or `.grad` of the tensor at
    `target`; `copy` when the value may alias another write-back's target."""

    slot: str
    target: Source
    value: int | None
    copy: bool
    device: str


@dataclass(slots=True)
class OutputEntry:
    """One output leaf: a `literal` (kind "copy": an array, copied per call), an input's
    tensor (`source`), or env `value`."""

    kind: str
    literal: Any = None
    source: Source = None
    value: int = -1
    device: str = ""


def tensor_at(source: Source, leaves: list) -> Tensor:
    """The tensor behind an input `Source` in this call's argument leaves."""
    return leaves[source] if type(source) is int else source


class ExecutionPlan:
    """A verified graph compiled for execution (see the module docstring). Build it with
    `ExecutionPlan(graph)` or `graph.execution_plan()` (cached on the graph)."""

    def __init__(self, graph: Graph) -> None:
        graph.verify()
        self.graph = graph
        self.check_args = ArgChecker(graph.in_tree, graph.arg_names)
        leaves = flatten(graph.in_tree)[0]
        self.args = tuple(ArgBinding(i, x.id, x.is_tensor) for i, x in enumerate(leaves)
                          if isinstance(x, Value))
        self._leaf_of = {b.slot: b.leaf for b in self.args}
        template: list = [None] * graph._next_id
        refs, grads = [], []
        for v in graph.inputs:
            if v.kind == "const":
                template[v.id] = v.data
            elif v.kind == "ref" and isinstance(v.ref, GradOf):
                grads.append(GradBinding(v.id, self.source_of(v.ref.owner),
                                         Guard(v, "grad_type", v.type_str, v.label)))
            elif v.kind == "ref" and v.is_tensor:
                refs.append(RefBinding(v.id, v.ref, Guard(v, "type", v.type_str, v.label),
                                       Guard(v, "requires_grad", v.requires_grad, v.label)))
            elif v.kind == "ref":
                template[v.id] = v.ref
        self.refs, self.grads = tuple(refs), tuple(grads)
        inputs = {v.id for v in graph.inputs}
        self.guards_of: dict[int, tuple[Guard, ...]] = {}
        for guard in graph.guards:
            self.guards_of[guard.value.id] = self.guards_of.get(guard.value.id, ()) + (guard,)
        self.entry_guards = tuple(g for g in graph.guards if g.value.id in inputs)
        self.template = template
        self._steps: tuple[NodeStep, ...] | None = None
        self._node_template: list = []
        self.writebacks = self._plan_writebacks(graph)
        self.written = {wb.value.id: self.source_of(wb.target) for wb in graph.writebacks
                        if wb.slot == "data"}
        self.out_entries, self.out_tree = self._plan_outputs(graph)
        # Eager would hand back outputs with autograd history: replay through dispatch.
        self.differentiable = any(v.kind == "node" and v.requires_grad
                                  for v in graph.output_values())
        self.has_state_in = bool(self.entry_guards or self.refs or self.grads)

    @property
    def steps(self) -> tuple[NodeStep, ...]:
        """One `NodeStep` per node of the graph, in order."""
        if self._steps is None:
            self._build_steps()
        return self._steps

    @property
    def node_template(self) -> list:
        """`template` followed by the nodes' literals (what `NodeStep.slots` index)."""
        if self._steps is None:
            self._build_steps()
        return self._node_template

    def _build_steps(self) -> None:
        template = self.template.copy()
        last_reads = _last_reads(self.graph)
        self._steps = tuple(self._step(node, template, last_reads) for node in self.graph.nodes)
        self._node_template = template

    def _step(self, node: Node | Kernel, template: list, last_reads: dict) -> NodeStep:
        frees = tuple(last_reads.get(id(node), ()))
        if node.subgraphs:  # the bodies' steps check the guards on what they compute
            bodies = tuple(BodyPlan(tuple((p.id, x.id) for p, x in zip(sub.inputs, node.inputs)),
                                    tuple(self._step(inner, template, last_reads)
                                          for inner in sub.nodes))
                           for sub in node.subgraphs)
            return NodeStep(node, None, (), {}, -1, False, (), frees, bodies)
        slots = []
        for x in node.inputs:
            if isinstance(x, Value):
                slots.append(x.id)
            else:
                slots.append(len(template))
                template.append(x)
        device = next((x.device for x in node.inputs if isinstance(x, Value) and x.is_tensor),
                      node.out.device)
        fn = node.op.kernel(np if device == "cpu" else array_namespace_for(device))
        return NodeStep(node, fn, tuple(slots), node.attrs, node.out.id,
                        node.out.device == "cpu", self.guards_of.get(node.out.id, ()), frees)

    def source_of(self, v: Value) -> Source:
        """Where to find the tensor behind input `v` at run time (see `Source`)."""
        return self._leaf_of[v.id] if v.kind == "arg" else v.ref

    # ---- state in ---------------------------------------------------------------------
    def read_state(self, env: list, leaves: list) -> None:
        """Read bound tensors and `.grad` slots as they are now into `env` (arrays); check
        the entry guards. Raises GuardFailure before any side effect."""
        for guard in self.entry_guards:
            if guard.kind == "grad_defined":
                held = tensor_at(self.source_of(guard.value), leaves)._grad is not None
                if held != guard.expected:
                    raise GuardFailure(guard, held)
        for ref in self.refs:
            data = ref.tensor._data
            value = ref.guard.value
            if data.shape != value.shape or data.dtype != value.dtype:
                raise GuardFailure(ref.guard, _type(data.shape, data.dtype))
            if ref.tensor._requires_grad is not value.requires_grad:
                raise GuardFailure(ref.grad_guard, ref.tensor._requires_grad)
            env[ref.slot] = data
        for grad in self.grads:
            held = tensor_at(grad.owner, leaves)._grad
            value = grad.guard.value
            if held is None or held._data.shape != value.shape or held._data.dtype != value.dtype:
                raise GuardFailure(grad.guard, None if held is None
                                   else _type(held._data.shape, held._data.dtype))
            env[grad.slot] = held._data
        for guard in self.entry_guards:
            if guard.kind != "grad_defined":
                check_guard(guard, env[guard.value.id])

    # ---- state out --------------------------------------------------------------------
    def _plan_writebacks(self, graph: Graph) -> tuple[WriteBackStep, ...]:
        producers = graph.producers()

        def may_alias(v: Value) -> bool:
            while v.kind == "node":
                node = producers[v.id]
                if not node.op.is_view:
                    return False
                v = node.inputs[0]
            return True

        several = len(graph.writebacks) > 1
        return tuple(WriteBackStep(wb.slot, self.source_of(wb.target),
                                   None if wb.value is None else wb.value.id,
                                   wb.value is not None and several and may_alias(wb.value),
                                   wb.target.device) for wb in graph.writebacks)

    def write_back(self, env: list, leaves: list) -> None:
        """Store in-place updates into their tensors and set `.grad` slots."""
        payloads = [None if wb.value is None else
                    (env[wb.value].copy() if wb.copy else env[wb.value])
                    for wb in self.writebacks]
        for wb, payload in zip(self.writebacks, payloads):
            tensor = tensor_at(wb.target, leaves)
            if wb.slot == "data":
                tensor._data[...] = payload
                root = tensor if tensor._base is None else tensor._base
                root._version += 1
            else:
                tensor._grad = None if payload is None else wrap(payload, wb.device)

    def _plan_outputs(self, graph: Graph) -> tuple[tuple[OutputEntry, ...], Any]:
        leaves, tree = flatten(graph.outputs)
        entries = []
        for x in leaves:
            if isinstance(x, np.ndarray):   # eager makes a new array on every call
                entries.append(OutputEntry("copy", literal=x))
            elif not isinstance(x, Value):
                entries.append(OutputEntry("literal", literal=x))
            elif x.kind in ("arg", "ref") and not isinstance(x.ref, GradOf):
                entries.append(OutputEntry("input", source=self.source_of(x)))
            elif x.id in self.written:
                entries.append(OutputEntry("input", source=self.written[x.id]))
            else:
                entries.append(OutputEntry("value", value=x.id, device=x.device))
        return tuple(entries), tree

    def outputs(self, env: list, leaves: list) -> Any:
        """The outputs as the traced function returned them, with Tensors for arrays."""
        made: dict[int, Tensor] = {}

        def tensor_for(vid: int, device: str) -> Tensor:
            tensor = made.get(vid)
            if tensor is None:
                tensor = made[vid] = wrap(env[vid], device)
            return tensor
        return self.outputs_from(tensor_for, leaves)

    def outputs_from(self, tensor_for, leaves: list) -> Any:
        """Rebuild the output structure; `tensor_for(value_id, device)` gives a Tensor."""
        out = []
        for entry in self.out_entries:
            if entry.kind == "literal":
                out.append(entry.literal)
            elif entry.kind == "copy":
                out.append(entry.literal.copy())
            elif entry.kind == "input":
                out.append(tensor_at(entry.source, leaves))
            else:
                out.append(tensor_for(entry.value, entry.device))
        return unflatten(self.out_tree, out)

    def explain(self, node: Node | Kernel, exc: Exception) -> EagerError:
        """A kernel failed during replay: name the node and where it was traced."""
        return EagerError(f"replay of {self.graph.name} failed at `{node}` (traced at "
                          f"{node.where or 'an unknown line'}): {type(exc).__name__}: {exc}")


def _last_reads(graph: Graph) -> dict[int, list[int]]:
    """For each node (by id()), the intermediate values it is the last reader of: dropping
    them right away lets the allocator reuse warm buffers, as eager code does. A node with
    subgraphs counts as reading what its body reads from outside (its inputs)."""
    keep = {v.id for v in graph.output_values()}
    keep |= {wb.value.id for wb in graph.writebacks if wb.value is not None}
    last: dict[int, Node | Kernel] = {}

    def visit(g: Graph) -> None:
        for node in g.nodes:
            for x in node.inputs:
                # Intermediates, and a subgraph's parameters (its "arg" inputs).
                if isinstance(x, Value) and x.id not in keep and (
                        x.kind == "node" or (x.kind == "arg" and g is not graph)):
                    last[x.id] = node
            for sub in node.subgraphs:
                visit(sub)
    visit(graph)
    frees: dict[int, list[int]] = {}
    for vid, node in last.items():
        frees.setdefault(id(node), []).append(vid)
    return frees


def _type(shape, dtype) -> str:
    from tracer.graph import short_type

    return short_type(tuple(shape), np.dtype(dtype))


def _host(array) -> np.ndarray:
    return array if isinstance(array, _ndarray) else array.get()


def _both_nan(a: Any, b: Any) -> bool:
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def check_guard(guard: Guard, array) -> None:
    """Raise GuardFailure (with the value found) when the host read `guard` recorded would
    now give another value for `array`.

    >>> import numpy as np
    >>> from tracer.graph import Guard, Value
    >>> guard = Guard(Value(3, (), np.dtype("bool"), "cpu"), "bool", True, "f.py:2")
    >>> check_guard(guard, np.array(True))
    >>> try:
    ...     check_guard(guard, np.array(False))
    ... except GuardFailure as failure:
    ...     print(failure.kind, failure.expected, failure.actual)
    bool True False
    """
    kind, expected = guard.kind, guard.expected
    if kind == "shape":
        actual = tuple(array.shape)
        ok = actual == tuple(expected)
    elif kind == "numpy":
        actual = _host(array)
        ok = actual.shape == expected.shape and bool(
            np.array_equal(actual, expected, equal_nan=actual.dtype.kind in "fc"))
    elif kind == "tolist":
        actual = array.tolist()
        ok = actual == expected
    else:
        actual = array.reshape(()).item()
        if kind == "bool":
            actual = bool(actual)
        ok = actual == expected or _both_nan(actual, expected)
    if not ok:
        raise GuardFailure(guard, actual)
