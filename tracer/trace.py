"""`trace(fn, *args)`: run `fn` eagerly once with a hook on the dispatch point and return
the `Graph` of what it did.

The `Tracer` is a `DispatchHook`: every op eager runs is told to it, and it keeps a map
from each live Tensor to the graph Value holding its contents. Tensors it has not seen
(closure tensors, module parameters, optimizer state, a `.grad` that existed before) are
bound by reference as "ref" inputs, so a replay reads their current value.

In-place updates become functional nodes plus a write-back. A view shares memory with
its base, so writing through a view also writes the base: the tracer remembers how each
view was derived (`views`), rebuilds the base functionally (`index_set` for a slice,
`reshape`/`permute` inverted), and marks other views of that base stale with a version
counter so their next use re-derives them from the new base.

Some things a graph cannot repeat; the tracer lists them in `unreplayable` (the jit then
runs that signature eagerly): Python writes into an array `numpy()` handed out, and a
generator reseeded (`manual_seed`) inside the function. It also notes which outputs the
function returned straight from a host read (`read_outputs`, for `jit.observe`).

>>> import eager
>>> w = eager.tensor([1., 2.])
>>> def step(x):
...     w.add_(x)
...     return w.sum()
>>> g = trace(step, eager.ones(2))
>>> [str(wb) for wb in g.writebacks]
['%1 <- %2']
>>> g(eager.ones(2)).item(), w.tolist()
(7.0, [3.0, 4.0])
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from eager.dispatch import DispatchHook
from eager.interpreters import interpreting
from eager.random import Generator, _default_generators, default_generator
from eager.tensor import Tensor
from kernels import OPS, TensorSpec
from tracer.errors import TraceError
from tracer.graph import GradOf, Graph, Guard, Value, WriteBack
from tracer.pytree import flatten, unflatten
from tracer.source import names_in_scope, source_where


def trace(fn: Callable, *args: Any, **kwargs: Any) -> Graph:
    """Run `fn(*args, **kwargs)` once, eagerly, and return the Graph it recorded.

    Tensors (and Generators) among the nested arguments become "arg" inputs; other
    argument values are static and baked in. The function's side effects happen once,
    as in eager mode; replaying the graph repeats them. The tracer is pushed on this
    thread's interpreter stack: other threads' ops are not recorded, and a trace inside
    a trace is recorded by both (the inner one returns its own Graph).

    >>> import eager
    >>> g = trace(lambda x: {"y": x.exp()}, eager.zeros(2))
    >>> g(eager.zeros(2))["y"].tolist()
    [1.0, 1.0]
    """
    tracer = Tracer(_name(fn), fn)
    tracer.bind_arguments(args, kwargs, _positional_names(fn, len(args)))
    with interpreting(tracer):
        result = fn(*args, **kwargs)
    return tracer.finish(result)


def _name(fn: Callable) -> str:
    return getattr(fn, "__name__", type(fn).__name__).replace("<lambda>", "graph")


def _positional_names(fn: Callable, count: int) -> tuple:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return ()
    names = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            names += [f"{p.name}[{j}]" for j in range(count - len(names))]
            break
    return tuple(names[:count])


class _GradSlot:
    """What the tracer knows about one tensor's `.grad` slot."""

    __slots__ = ("defined_on_entry", "owner", "owner_value", "read_value", "written")

    def __init__(self, owner: Tensor, owner_value: Value, defined_on_entry: bool) -> None:
        self.owner = owner
        self.owner_value = owner_value
        self.defined_on_entry = defined_on_entry
        self.read_value: Value | None = None
        self.written = False


class Tracer(DispatchHook):
    """Records the op stream of one eager run into `self.graph` (see module doc)."""

    def __init__(self, name: str = "graph", fn: Callable | None = None) -> None:
        """`fn`, when given, is searched for names to label bound inputs with."""
        self.graph = Graph(name)
        # id(tensor) -> [tensor, Value, root id, root version when the Value was current]
        self.env: dict[int, list] = {}
        # id(view) -> (parent tensor, view op name or "alias", attrs)
        self.views: dict[int, tuple] = {}
        self.versions: dict[int, int] = {}
        self.tensor_inputs: dict[int, tuple[Tensor, Value]] = {}
        self.generators: dict[int, Value] = {}
        self.grad_slots: dict[int, _GradSlot] = {}
        self.names: dict[int, str] = {} if fn is None else names_in_scope(fn)
        # Why a replay of this trace would not do what eager does (empty: it would).
        self.unreplayable: list[str] = []
        # id(generator) -> (generator, its backend stream when first seen): manual_seed
        # inside the function starts a new stream, which a replay would not repeat.
        default_generator("cpu")
        self.streams = {id(g): (g, g._rng) for g in _default_generators.values()}
        # Arrays handed out by numpy(): (tensor, array, copy, root version) to find
        # Python writes through them at the end.
        self.exported: list[tuple] = []
        # Results of host reads by id (kept alive): which output leaves the function
        # returned straight from a read (`return loss.item()`), for jit.observe.
        self.read_results: dict[int, tuple[Any, Guard]] = {}
        self.read_outputs: dict[int, Guard] = {}
        self.ambiguous_reads: set[tuple[str, str]] = set()

    # ---- inputs ---------------------------------------------------------------------
    def bind_arguments(self, args: tuple, kwargs: dict, names: tuple) -> None:
        """Make "arg" inputs for the tensors and generators among the arguments."""
        from tracer.signature import _leaf_paths

        leaves, treedef = flatten((args, kwargs))
        paths = _leaf_paths((args, kwargs), names)
        bound = []
        for leaf, path in zip(leaves, paths):
            if type(leaf) is Tensor:
                if id(leaf) in self.env:
                    raise TraceError(f"trace: the same tensor is passed twice ({path}); "
                                     "pass it once or clone() it")
                value = self.graph.add_input("arg", leaf.shape, leaf.dtype, leaf.device,
                                             label=path, requires_grad=leaf.requires_grad)
                self._set(leaf, value, id(leaf))
                self.tensor_inputs[id(leaf)] = (leaf, value)
                bound.append(value)
            elif isinstance(leaf, Generator):
                value = self.graph.add_input("arg", None, None, leaf.device, label=path)
                self.generators[id(leaf)] = value
                self.streams.setdefault(id(leaf), (leaf, leaf._rng))
                bound.append(value)
            else:
                bound.append(leaf)
        self.graph.in_tree = unflatten(treedef, bound)
        self.graph.arg_names = names

    def _bind_ref(self, t: Tensor) -> Value:
        value = self.graph.add_input("ref", t.shape, t.dtype, t.device, ref=t,
                                     label=self.names.get(id(t), f"tensor{len(self.graph.inputs)}"),
                                     requires_grad=t._requires_grad)
        self._set(t, value, id(t))
        self.tensor_inputs[id(t)] = (t, value)
        return value

    def _bind_generator(self, gen: Generator) -> Value:
        value = self.generators.get(id(gen))
        if value is None:
            value = self.graph.add_input("ref", None, None, gen.device, ref=gen,
                                         label=self.names.get(id(gen), repr(gen)))
            self.generators[id(gen)] = value
            self.streams.setdefault(id(gen), (gen, gen._rng))
        return value

    # ---- tensor -> Value ------------------------------------------------------------
    def _set(self, t: Tensor, value: Value, root: int) -> None:
        self.env[id(t)] = [t, value, root, self.versions.get(root, 0)]

    def lookup(self, t: Tensor) -> Value:
        """The Value holding `t`'s current contents (binding unseen tensors by reference)."""
        entry = self.env.get(id(t))
        if entry is None:
            return self._bind_ref(t)
        if self.versions.get(entry[2], 0) != entry[3]:
            return self._rederive(t, entry)
        return entry[1]

    def _rederive(self, t: Tensor, entry: list) -> Value:
        """A view whose base was written in place: derive it again from the new base."""
        parent, kind, attrs = self.views[id(t)]
        base = self.lookup(parent)
        value = base if kind == "alias" else self.emit(kind, (base,), attrs)
        entry[1], entry[3] = value, self.versions.get(entry[2], 0)
        return value

    def _operand(self, op_name: str, x: Any) -> Any:
        if type(x) is Tensor:
            return self.lookup(x)
        if isinstance(x, (bool, int, float, complex, np.generic)):
            return x
        if isinstance(x, Generator):
            return self._bind_generator(x)
        raise TraceError(f"{op_name}: cannot record an input of type {type(x).__name__}")

    def emit(self, op_name: str, inputs: tuple, attrs: dict) -> Value:
        """Add a node the tracer itself needs (re-derived views, write-through-view, casts),
        its type given by the op's rule."""
        op = OPS[op_name]
        specs = [x.spec if isinstance(x, Value) else x for x in inputs]
        spec: TensorSpec = op.infer(*specs, **attrs)
        device = next(x.device for x in inputs if isinstance(x, Value))
        return self.graph.add_node(op, inputs, attrs, spec.shape, spec.dtype, device,
                                   source_where())

    # ---- DispatchHook ---------------------------------------------------------------
    def record(self, op, inputs: tuple, attrs: dict, out: Tensor) -> None:
        operands = tuple(self._operand(op.name, x) for x in inputs)
        value = self.graph.add_node(op, operands, attrs, out.shape, out.dtype, out.device,
                                    source_where())
        value.requires_grad = out._requires_grad
        # numpy's reshape of a strided array copies: then it is no view, eagerly or here.
        if op.is_view and (out.device != "cpu" or np.may_share_memory(out._data,
                                                                       inputs[0]._data)):
            self.views[id(out)] = (inputs[0], op.name, dict(attrs))
            self._set(out, value, self.env[id(inputs[0])][2])
        else:
            self._set(out, value, id(out))

    def constant(self, tensor: Tensor) -> None:
        data = tensor._data.copy()
        value = self.graph.add_input("const", data.shape, data.dtype, tensor.device, data=data,
                                     label=source_where())
        self._set(tensor, value, id(tensor))

    def alias(self, out: Tensor, source: Tensor) -> None:
        value = self.lookup(source)
        self.views[id(out)] = (source, "alias", {})
        self._set(out, value, self.env[id(source)][2])

    def inplace(self, target: Tensor, value: Tensor) -> None:
        self.lookup(target)
        new = self.lookup(value)
        if value.dtype != target.dtype:
            new = self.emit("cast", (new,), {"dtype": target.dtype})
        updates = [(target, new)]
        t = target
        while id(t) in self.views:
            parent, kind, attrs = self.views[id(t)]
            new = self._write_through(kind, attrs, self.lookup(parent), new)
            updates.append((parent, new))
            t = parent
        root = id(t)
        self.versions[root] = self.versions.get(root, 0) + 1
        for tensor, new_value in updates:
            self._set(tensor, new_value, root)

    def _write_through(self, kind: str, attrs: dict, base: Value, new_view: Value) -> Value:
        """The new contents of `base` after its view (`kind`, `attrs`) became `new_view`."""
        if kind == "alias":
            return new_view
        if kind == "reshape":
            return self.emit("reshape", (new_view,), {"shape": base.shape})
        if kind == "permute":
            inverse = tuple(int(a) for a in np.argsort(attrs["axes"]))
            return self.emit("permute", (new_view,), {"axes": inverse})
        if kind == "slice":
            return self.emit("index_set", (base, new_view), {"key": attrs["key"]})
        if kind in ("real_view", "imag_view"):
            return self.emit("set_part", (base, new_view), {"part": kind[:4]})
        raise TraceError(f"{kind}: the tracer cannot record an in-place write through this "
                         f"kind of view ({source_where()}); clone() the view first")

    def host_read(self, tensor: Tensor, kind: str, value: Any) -> None:
        expected = np.array(value, copy=True) if kind == "numpy" else value
        where = source_where()
        guard = Guard(self.lookup(tensor), kind, expected, where)
        self.graph.guards.append(guard)
        self.read_results[id(value)] = (value, guard)
        if kind == "numpy" and np.may_share_memory(value, tensor._data):
            root = tensor if tensor._base is None else tensor._base
            self.exported.append((root, value, expected, root._version, where))

    def _note_read_output(self, i: int, leaf: Any, guard: Guard) -> None:
        # A bool or a small int is a shared object: the function may have returned an
        # unrelated literal that merely is the same object.
        if type(leaf) is bool or (type(leaf) is int and -5 <= leaf <= 256):
            self.ambiguous_reads.add((guard.kind, guard.where))
        else:
            self.read_outputs[i] = guard

    def _check_replayable(self) -> None:
        """Note what the graph cannot repeat: Python writes through an array numpy() handed
        out (eagerly they change the tensor), and generators reseeded inside the function."""
        for root, array, seen, version, where in self.exported:
            if root._version == version and not np.array_equal(array, seen, equal_nan=True):
                self.unreplayable.append(f"it writes into the array numpy() returned ({where}),"
                                         " which changes the tensor eagerly but not in a replay")
        for gen, stream in self.streams.values():
            if gen._rng is not stream:
                self.unreplayable.append(f"it reseeds {gen!r} (manual_seed) while running, so "
                                         "every call restarts the stream, which a replay would "
                                         "not do")

    def grad_read(self, tensor: Tensor, grad: Tensor | None) -> None:
        # A `.grad` read as None is guarded too: `if w.grad is not None:` and an optimizer
        # step traced before the first backward must not freeze "no gradient".
        slot = self._grad_slot(tensor, defined_on_entry=grad is not None)
        if slot is None or grad is None or id(grad) in self.env:
            return
        value = self.graph.add_input("ref", grad.shape, grad.dtype, grad.device,
                                     ref=GradOf(slot.owner_value),
                                     label=f"{slot.owner_value.label}.grad")
        slot.read_value = value
        self._set(grad, value, id(grad))

    def grad_write(self, tensor: Tensor, grad: Tensor | None) -> None:
        # Called before the assignment: tensor._grad still holds the previous gradient.
        # Clearing (`p.grad = None`) never depends on what was there, so it is not guarded;
        # setting a tensor may (autograd sets `.grad` only when it was None).
        previous = tensor._grad
        observed = None if grad is None else previous is not None
        slot = self._grad_slot(tensor, defined_on_entry=observed)
        if slot is None:
            return
        slot.written = True
        if previous is not None and slot.read_value is None and observed:
            self._rebind_as_grad(previous, slot)

    def _grad_slot(self, tensor: Tensor, defined_on_entry: bool | None) -> _GradSlot | None:
        """The slot of `tensor.grad`, guarded on first touch unless `defined_on_entry` is
        None (not observed); None for a tensor made inside the traced function (its grad
        is plain traced data, no state to bind)."""
        slot = self.grad_slots.get(id(tensor))
        if slot is not None:
            return slot
        owner = self.tensor_inputs.get(id(tensor))
        if owner is None and id(tensor) in self.env:
            return None
        owner_value = self.lookup(tensor) if owner is None else owner[1]
        slot = self.grad_slots[id(tensor)] = _GradSlot(tensor, owner_value, defined_on_entry)
        if defined_on_entry is not None:
            self.graph.guards.append(Guard(owner_value, "grad_defined", defined_on_entry,
                                           source_where()))
        return slot

    def _rebind_as_grad(self, previous: Tensor, slot: _GradSlot) -> None:
        """A gradient that existed on entry was read without the `.grad` property (by the
        autograd engine's accumulation): it was bound as a plain tensor; make it the slot."""
        entry = self.tensor_inputs.pop(id(previous), None)
        if entry is None:
            self.grad_read(slot.owner, previous)
            return
        value = entry[1]
        value.ref = GradOf(slot.owner_value)
        value.label = f"{slot.owner_value.label}.grad"
        slot.read_value = value

    def _check_outside_aliases(self, graph: Graph) -> None:
        """Refuse a write to an input that shares memory with another input through a view
        made before tracing: the tracer cannot see how the two overlap, so the graph could
        read stale values. (Views made inside the function are followed exactly.)"""
        written = {id(wb.target) for wb in graph.writebacks}
        by_memory: dict[int, list] = {}
        for tensor, value in self.tensor_inputs.values():
            base = tensor if tensor._base is None else tensor._base
            by_memory.setdefault(id(base), []).append(value)
        for values in by_memory.values():
            if len(values) > 1 and any(id(v) in written for v in values):
                labels = ", ".join(v.label or repr(v) for v in values)
                raise TraceError(f"trace({graph.name}): the inputs {labels} share memory "
                                 "through a view made outside the function, and one is "
                                 "updated in place; pass or use only the base tensor, or "
                                 "clone() the view")

    def _check_returned_views(self, graph: Graph, leaves: list) -> None:
        """Note a returned view of an input the function updates in place: eagerly the
        result shares memory with that input (later writes to it show through), where a
        replay computes the result into memory of its own."""
        written = {id(wb.target) for wb in graph.writebacks if wb.slot == "data"}
        for leaf in leaves:
            entry = self.env.get(id(leaf)) if type(leaf) is Tensor else None
            owner = None if entry is None or entry[2] == id(leaf) else \
                self.tensor_inputs.get(entry[2])
            if owner is not None and id(owner[1]) in written:
                self.unreplayable.append(
                    f"it returns a view of {owner[1].label or 'an input'}, which it updates "
                    "in place; eagerly the result shares memory with it (later writes show "
                    "through), a replay's result would not; return a clone() to compile it")
                return

    # ---- result ---------------------------------------------------------------------
    def finish(self, result: Any) -> Graph:
        """Bind the outputs, derive the write-backs, order the inputs and verify."""
        graph = self.graph
        leaves, treedef = flatten(result)
        outs = []
        for i, leaf in enumerate(leaves):
            read = self.read_results.get(id(leaf))
            if read is not None and read[0] is leaf:
                self._note_read_output(i, leaf, read[1])
            if type(leaf) is Tensor:
                outs.append(self.lookup(leaf))
            elif isinstance(leaf, Generator):
                outs.append(self._bind_generator(leaf))
            else:
                outs.append(leaf)
        graph.outputs = unflatten(treedef, outs)
        for tensor, value in list(self.tensor_inputs.values()):
            final = self.lookup(tensor)
            if final is not value:
                graph.writebacks.append(WriteBack(value, final, "data"))
        self._check_outside_aliases(graph)
        self._check_replayable()
        self._check_returned_views(graph, leaves)
        for slot in self.grad_slots.values():
            if not slot.written:
                continue
            grad = slot.owner._grad
            final = None if grad is None else self.lookup(grad)
            if final is not slot.read_value or final is None and slot.defined_on_entry is not False:
                graph.writebacks.append(WriteBack(slot.owner_value, final, "grad"))
        order = {"arg": 0, "ref": 1, "const": 2}
        graph.inputs.sort(key=lambda v: (isinstance(v.ref, GradOf), order[v.kind]))
        graph.invalidate()
        return graph.verify()
