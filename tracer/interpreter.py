"""The reference interpreter: run a Graph node by node with the kernels eager uses.

`run(graph, args, kwargs)` checks the arguments against the traced signature, reads the
bound state (tensors, generators, `.grad` slots) as it is now, runs each node's
`op.kernel(xp)` on raw arrays, checks every guard right after the value it reads is
computed, and only then performs the write-backs, so a failed guard leaves no side
effects. An `_Plan` (slots, kernels, literals) is built once per graph and cached.
When eager would return outputs with autograd history, or a tracer is listening, the
replay goes through eager dispatch instead (`tracer.nested`).

>>> import eager, tracer
>>> g = tracer.trace(lambda x: x.tanh() * 2, eager.zeros(2))
>>> g(eager.tensor([0., 100.])).tolist()
[0.0, 2.0]
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from eager.autograd import grad_mode
from eager.dispatch import get_hook
from eager.tensor import Tensor, wrap
from kernels import array_namespace_for
from kernels.errors import EagerError
from tracer.errors import GuardFailure
from tracer.graph import GradOf, Graph, Guard, Value
from tracer.pytree import flatten, unflatten
from tracer.signature import ArgChecker

_ndarray = np.ndarray


def run(graph: Graph, args: tuple, kwargs: dict) -> Any:
    """Interpret `graph` on new arguments; see the module docstring."""
    plan = graph._plan
    if plan is None:
        plan = graph._plan = _Plan(graph)
    leaves = plan.check_args(args, kwargs)
    differentiable = plan.differentiable and grad_mode.is_grad_enabled()
    if differentiable or get_hook() is not None:
        from tracer.nested import run_through_dispatch

        return run_through_dispatch(plan, leaves, differentiable)
    env = plan.template.copy()
    for leaf_index, slot in plan.arg_slots:
        leaf = leaves[leaf_index]
        env[slot] = leaf._data if type(leaf) is Tensor else leaf
    plan.read_state(env, leaves)
    step = None
    try:
        for step in plan.steps:
            fn, slots, attrs, out, on_cpu, guards, frees = step
            result = fn(*[env[s] for s in slots], **attrs)
            if on_cpu and type(result) is not _ndarray:
                result = np.asarray(result)
            env[out] = result
            if guards is not None:
                for guard in guards:
                    _check_guard(guard, result)
            for s in frees:
                env[s] = None
    except (GuardFailure, EagerError):
        raise
    except Exception as exc:  # noqa: BLE001  (any backend error becomes a named one)
        raise plan.explain(step, exc) from None
    plan.write_back(env, leaves)
    return plan.outputs(env, leaves)


class _Plan:
    """A graph compiled for interpretation: env slots, kernels, literals, write-backs."""

    def __init__(self, graph: Graph) -> None:
        graph.verify()
        self.graph = graph
        self.check_args = ArgChecker(graph.in_tree, graph.arg_names)
        n = graph._next_id
        template: list = [None] * n
        self.arg_slots = self._arg_slots(graph)
        self.tensor_refs, self.grad_refs = [], []
        for v in graph.inputs:
            if v.kind == "const":
                template[v.id] = v.data
            elif v.kind == "ref" and isinstance(v.ref, GradOf):
                self.grad_refs.append((v, self._resolver(v.ref.owner)))
            elif v.kind == "ref" and v.is_tensor:
                self.tensor_refs.append((v.id, v.ref, v.shape, v.dtype))
            elif v.kind == "ref":
                template[v.id] = v.ref
        producers = {node.out.id: i for i, node in enumerate(graph.nodes)}
        entry_guards, node_guards = [], {}
        for guard in graph.guards:
            i = producers.get(guard.value.id)
            (entry_guards if i is None else node_guards.setdefault(i, [])).append(guard)
        self.entry_guards = entry_guards
        frees = self._frees(graph)
        self.steps = []
        for i, node in enumerate(graph.nodes):
            slots = []
            for x in node.inputs:
                if isinstance(x, Value):
                    slots.append(x.id)
                else:
                    slots.append(len(template))
                    template.append(x)
            device = next((x.device for x in node.inputs if isinstance(x, Value)
                           and x.is_tensor), node.out.device)
            fn = node.op.kernel(np if device == "cpu" else array_namespace_for(device))
            self.steps.append((fn, tuple(slots), node.attrs, node.out.id,
                               node.out.device == "cpu", node_guards.get(i), frees[i]))
        self.template = template
        self._plan_writebacks(graph, producers)
        self._plan_outputs(graph)
        # Eager would hand back outputs with autograd history: replay through dispatch.
        self.differentiable = any(v.kind == "node" and v.requires_grad
                                  for v in graph.output_values())

    @staticmethod
    def _frees(graph: Graph) -> list[tuple[int, ...]]:
        """For each node, the intermediate values it is the last reader of: dropping them
        right away lets the allocator reuse warm buffers, as eager code does."""
        keep = {v.id for v in graph.output_values()}
        keep |= {wb.value.id for wb in graph.writebacks if wb.value is not None}
        last: dict[int, int] = {}
        for i, node in enumerate(graph.nodes):
            for x in node.inputs:
                if isinstance(x, Value) and x.kind == "node" and x.id not in keep:
                    last[x.id] = i
        frees: list[list[int]] = [[] for _ in graph.nodes]
        for vid, i in last.items():
            frees[i].append(vid)
        return [tuple(f) for f in frees]

    @staticmethod
    def _arg_slots(graph: Graph) -> list[tuple[int, int]]:
        leaves = flatten(graph.in_tree)[0]
        return [(i, x.id) for i, x in enumerate(leaves) if isinstance(x, Value)]

    def _resolver(self, v: Value):
        """How to find the tensor behind input `v` at run time: a leaf index or the object."""
        if v.kind == "arg":
            return next(i for i, s in self.arg_slots if s == v.id)
        return v.ref

    @staticmethod
    def _tensor_of(resolver, leaves: list) -> Tensor:
        return leaves[resolver] if type(resolver) is int else resolver

    # ---- state in ---------------------------------------------------------------------
    def read_state(self, env: list, leaves: list) -> None:
        """Read bound tensors and `.grad` slots as they are now; check entry guards."""
        for guard in self.entry_guards:
            if guard.kind == "grad_defined":
                owner = self._tensor_of(self._resolver(guard.value), leaves)
                if (owner._grad is not None) != guard.expected:
                    was = "held a tensor" if guard.expected else "was None"
                    now = "holds a tensor" if owner._grad is not None else "is None"
                    raise GuardFailure(
                        f"guard failed: {guard.value.label or repr(guard.value)}.grad {was} "
                        f"while tracing but {now} now ({guard.where}); run eagerly or retrace")
        for slot, tensor, shape, dtype in self.tensor_refs:
            data = tensor._data
            if data.shape != shape or data.dtype != dtype:
                raise GuardFailure(
                    f"guard failed: a bound tensor was {_type(shape, dtype)} while tracing but "
                    f"is {_type(data.shape, data.dtype)} now; retrace the function")
            env[slot] = data
        for v, resolver in self.grad_refs:
            grad = self._tensor_of(resolver, leaves)._grad
            if grad is None or grad._data.shape != v.shape or grad._data.dtype != v.dtype:
                raise GuardFailure(f"guard failed: {v.label} was {v.type_str} while tracing "
                                   f"but is {grad!r:.60} now; retrace the function")
            env[v.id] = grad._data
        for guard in self.entry_guards:
            if guard.kind != "grad_defined":
                _check_guard(guard, env[guard.value.id])

    # ---- state out --------------------------------------------------------------------
    def _plan_writebacks(self, graph: Graph, producers: dict) -> None:
        def may_alias(v: Value) -> bool:
            while v.kind == "node":
                node = graph.nodes[producers[v.id]]
                if not node.op.is_view:
                    return False
                v = node.inputs[0]
            return True

        several = len(graph.writebacks) > 1
        self.writebacks = [(wb.slot, self._resolver(wb.target),
                            None if wb.value is None else wb.value.id,
                            wb.value is not None and several and may_alias(wb.value),
                            wb.target.device) for wb in graph.writebacks]
        self.written = {wb.value.id: self._resolver(wb.target) for wb in graph.writebacks
                        if wb.slot == "data"}

    def write_back(self, env: list, leaves: list) -> None:
        """Store in-place updates into their tensors and set `.grad` slots."""
        payloads = [None if vid is None else (env[vid].copy() if copy else env[vid])
                    for _, _, vid, copy, _ in self.writebacks]
        for (slot, resolver, _, _, device), payload in zip(self.writebacks, payloads):
            tensor = self._tensor_of(resolver, leaves)
            if slot == "data":
                tensor._data[...] = payload
                root = tensor if tensor._base is None else tensor._base
                root._version += 1
            else:
                tensor._grad = None if payload is None else wrap(payload, device)

    def _plan_outputs(self, graph: Graph) -> None:
        leaves, self.out_tree = flatten(graph.outputs)
        plan = []
        for x in leaves:
            if not isinstance(x, Value):
                plan.append(("literal", x))
            elif x.kind in ("arg", "ref") and not isinstance(x.ref, GradOf):
                plan.append(("input", x.ref if x.kind == "ref" else self._resolver(x)))
            elif x.id in self.written:
                plan.append(("input", self.written[x.id]))
            else:
                plan.append(("value", x.id, x.device))
        self.out_plan = plan

    def outputs(self, env: list, leaves: list) -> Any:
        """The outputs as the traced function returned them, with Tensors for Values."""
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
        for entry in self.out_plan:
            if entry[0] == "literal":
                out.append(entry[1])
            elif entry[0] == "input":
                out.append(self._tensor_of(entry[1], leaves))
            else:
                out.append(tensor_for(entry[1], entry[2]))
        return unflatten(self.out_tree, out)

    def explain(self, step: tuple, exc: Exception) -> Exception:
        """A kernel failed during replay: name the node and where it was traced."""
        node = self.graph.nodes[self.steps.index(step)]
        return EagerError(f"replay of {self.graph.name} failed at `{node}` (traced at "
                          f"{node.where or 'an unknown line'}): {type(exc).__name__}: {exc}")


def _type(shape, dtype) -> str:
    from tracer.graph import short_type

    return short_type(tuple(shape), np.dtype(dtype))


def _host(array) -> np.ndarray:
    return array if isinstance(array, _ndarray) else array.get()


def _both_nan(a: Any, b: Any) -> bool:
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def _check_guard(guard: Guard, array) -> None:
    """Raise GuardFailure when the host read `guard` would now give another value."""
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
        shown = repr(actual.tolist() if isinstance(actual, _ndarray) else actual)
        shown = shown if len(shown) < 60 else shown[:57] + "..."
        was = str(guard).split("  # ")[0].replace("guard ", "", 1)
        raise GuardFailure(f"guard failed: {was} while tracing, but it is {shown} now; the "
                           f"Python code read this value ({guard.where or 'unknown line'}) and "
                           "may take another path: run eagerly or retrace")
