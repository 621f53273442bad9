"""Guards on the Python values a jitted function reads from its globals and closure.

A trace bakes every Python value the code used into the graph. As TorchDynamo does, the
jit therefore records, for the function (and the plain Python functions it calls by
name), the globals and closure cells its code reads, and checks them on every call:

- hashable scalars (bool, int, float, complex, str, bytes, None, tuples of these): by
  value (-0.0 and NaN as the cache key compares them);
- tensors, generators and functions: by identity (rebinding the name to another tensor;
  its contents are read live; redefining a helper the code calls);
- numpy arrays of at most 256 elements: by contents (a trace made them constants);
- a `Module`: the train/eval flags of it and its submodules, and the identity of every
  parameter, buffer, submodule, forward hook and instance `forward`
  (`model.fc.weight = nn.Parameter(...)`, `model.act = nn.Tanh()`: the graph holds the
  objects it traced, so a replacement retraces);
- lists, tuples and dicts of at most 32 entries that are scalars or tensors: by entry
  (scalars by value, tensors by identity), so `ws.append(w)` or `state["w"] = new`
  retraces. A container the function itself changes while tracing (a log it appends to)
  is not guarded: its changes are the function's Python side effect, not an input;
- an `Optimizer`: its hyperparameters (`lr`, `momentum`, ... of every param group) and
  the identity of its parameters, so `load_state_dict`, a learning-rate scheduler or
  `add_param_group` retraces instead of being ignored;
- a dict of at most 32 scalars: its items;
- any other object (including `self` of a method): its attributes whose names the code
  reads (`self.k`, `cfg.scale`, `self.w`) that are any of the above;
- the default values of the function's parameters (`def f(x, k=2.0)`), as the above.

Python-side random draws (`random.randint(...)`, `np.random.rand()`, a `random.Random`
or numpy Generator the code calls) cannot be guarded: a replay would repeat the number
drawn while tracing. They are collected in `random_calls`, and the jit runs such a
function eagerly, saying which call it saw.

What is not listed (sets, bigger containers, containers of other objects, objects reached
through two attributes, values read inside methods of other objects) stays frozen at its
traced value.

`PythonState.of(fn)` finds the probes once; `read()` gives a tuple to compare with the
one taken before tracing (a tuple compare per call); `describe(old, new)` names what
changed (`global lr: 0.1 -> 0.5`).

>>> scale = 2.0
>>> def f(x):
...     return x * scale
>>> state = PythonState.of(f)
>>> before = state.read()
>>> state.describe(before, (3.0,))
'global scale: 2.0 -> 3.0'
"""
from __future__ import annotations

import functools
import os
import random
import types
from collections.abc import Callable
from typing import Any

import numpy as np

import eager
import kernels
import tracer
from eager.nn import Module
from eager.optim.optimizer import Optimizer
from eager.random import Generator
from eager.tensor import Tensor
from jit.module_layout import layout_names, module_layout
from jit.signature_key import _canonical

_SCALARS = (bool, int, float, complex, str, bytes, type(None))
# Scalars whose `==` is exact (no -0.0 or NaN to canonicalise).
_EXACT = (bool, int, str, bytes, type(None))
_MAX_PROBES = 128
_MAX_DICT = 32
_MAX_ARRAY = 256
_DEPTH = 3
_MISSING = object()
# Code in these packages is the framework's own: its functions are not user state.
_OWN = tuple(os.path.dirname(m.__file__) + os.sep for m in (eager, kernels, tracer, np))


def _is_scalar(value: Any) -> bool:
    if type(value) is tuple:
        return all(_is_scalar(x) for x in value)
    return type(value) in _SCALARS


class PythonState:
    """The probes of one function (see the module doc)."""

    __slots__ = ("explainers", "getters", "kinds", "labels", "random_calls", "sinks")

    def __init__(self, labels: list[str], getters: list[Callable[[], Any]],
                 random_calls: tuple[str, ...] = (), explainers: list | None = None,
                 sinks: frozenset[int] = frozenset(), kinds: list[str] | None = None) -> None:
        self.labels = tuple(labels)
        self.getters = tuple(getters)
        self.random_calls = random_calls
        self.explainers = tuple(explainers or [None] * len(self.getters))
        self.sinks = sinks   # indices of probes that may be dropped (`changed_sinks`)
        self.kinds = tuple(kinds or ["value"] * len(self.getters))

    @classmethod
    def of(cls, fn: Callable) -> PythonState:
        """Find what `fn` reads (its code, nested code, and functions it calls by name)."""
        finder = _Finder()
        finder.visit_callable(fn, 0)
        return cls(finder.labels, finder.getters, tuple(sorted(finder.random_calls)),
                   finder.explainers, frozenset(finder.sinks), finder.kinds)

    def __bool__(self) -> bool:
        return bool(self.getters or self.random_calls)

    def read(self) -> tuple:
        """The current values, as comparable as the cache key's."""
        getters = self.getters
        if len(getters) == 1:   # the common case (one global, one default), per call
            return (getters[0](),)
        return tuple([get() for get in getters])

    def describe(self, old: tuple, new: tuple) -> str:
        """One line naming the first probe whose value changed."""
        for label, explain, a, b in zip(self.labels, self.explainers, old, new):
            if a != b:
                return explain(label, a, b) if explain else f"{label}: {_shown(a)} -> {_shown(b)}"
        return "Python state read by the function changed"

    def tensor_ids(self, reading: tuple) -> set[int]:
        """The ids of the tensors (and modules) this reading found: what the function can
        reach from its Python state."""
        ids: set[int] = set()
        for kind, value in zip(self.kinds, reading):
            if kind == "tensor":
                ids.add(value)
            elif kind == "module":
                ids.update(v for v in value if type(v) is int)
            elif kind == "entries" and type(value) is tuple:
                ids.update(e[1][1] for e in value if type(e) is tuple and len(e) == 2
                           and type(e[1]) is tuple and e[1][:1] == ("tensor",))
        return ids

    def changed_sinks(self, old: tuple, new: tuple) -> list[int] | None:
        """The containers among the probes that changed from `old` to `new`, when only
        containers changed (a list the function appends to is its output, not an input);
        None when anything else changed."""
        try:
            changed = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
        except (TypeError, ValueError):   # a value that refuses `!=` (an array)
            return None
        return changed if changed and all(i in self.sinks for i in changed) else None

    def without(self, dropped: list[int]) -> PythonState:
        """These probes minus the `dropped` ones (`project` maps old readings)."""
        keep = [i for i in range(len(self.getters)) if i not in set(dropped)]
        return PythonState([self.labels[i] for i in keep], [self.getters[i] for i in keep],
                           self.random_calls, [self.explainers[i] for i in keep],
                           frozenset(keep.index(i) for i in self.sinks if i in keep),
                           [self.kinds[i] for i in keep])

    def project(self, reading: tuple | None, dropped: list[int]) -> tuple | None:
        """A reading of these probes as `without(dropped)` reads it."""
        if reading is None:
            return None
        return tuple([v for i, v in enumerate(reading) if i not in set(dropped)])


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Finder:
    """Walks code objects, collecting (label, getter) pairs."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.getters: list[Callable[[], Any]] = []
        self.seen_code: set[int] = set()
        self.seen_probe: set[tuple] = set()
        self.random_calls: set[str] = set()
        self.explainers: list = []
        self.sinks: list[int] = []
        self.kinds: list[str] = []   # what a probe's reading holds ids of (`tensor_ids`)

    def add(self, label: str, key: tuple, getter: Callable[[], Any], explain=None,
            sink: bool = False, kind: str = "value") -> None:
        if key in self.seen_probe or len(self.getters) >= _MAX_PROBES:
            return
        self.seen_probe.add(key)
        self.kinds.append(kind)
        if sink:
            self.sinks.append(len(self.getters))
        self.labels.append(label)
        self.getters.append(getter)
        self.explainers.append(explain)

    def visit_callable(self, fn: Any, depth: int) -> None:
        if isinstance(fn, Module):
            self.visit_object("self", fn, type(fn).forward.__code__)
            self.visit_callable(type(fn).forward, depth)
            return
        if isinstance(fn, types.MethodType):
            code = getattr(fn.__func__, "__code__", None)
            if code is not None:
                self.visit_object("self", fn.__self__, code)
            fn = fn.__func__
        if not isinstance(fn, types.FunctionType):
            call = next((k.__dict__["__call__"] for k in type(fn).__mro__
                         if "__call__" in k.__dict__), None)
            if isinstance(call, types.FunctionType):
                self.visit_object("self", fn, call.__code__)
                self.visit_callable(call, depth)
            return
        if _is_own(fn) or id(fn.__code__) in self.seen_code:
            return
        self.seen_code.add(id(fn.__code__))
        self.visit_defaults(fn)
        names = _names_read(fn.__code__)
        scope = fn.__globals__
        for name in names:
            if name in scope:
                value = scope[name]
                self.visit_value(f"global {name}", ("global", id(scope), name), value,
                                 _global_getter(scope, name), names, depth)
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
            try:
                value = cell.cell_contents
            except ValueError:   # not assigned yet
                continue
            self.visit_value(f"closure {name}", ("cell", id(cell)), value,
                             _cell_getter(cell), names, depth)

    def visit_value(self, label: str, key: tuple, value: Any, getter, names: set,
                    depth: int) -> None:
        drawn = _random_draw(label.split()[-1], value, names)
        if drawn is not None:
            self.random_calls.add(drawn)
        elif _is_scalar(value):
            self.add(label, key, lambda: _canonical(getter()))
        elif type(value) is Tensor:
            self.add(label, key + ("is",), lambda: id(getter()), kind="tensor")
        elif isinstance(value, Module):
            self.visit_module(label, value, getter)
        elif isinstance(value, Optimizer):
            self.add(f"{label} hyperparameters", ("optimizer", id(value)),
                     lambda: _hyperparameters(value))
        elif type(value) is dict and len(value) <= _MAX_DICT and all(
                _is_scalar(k) and _is_scalar(v) for k, v in value.items()):
            self.add(f"{label} items", key + ("items",),
                     lambda: tuple([(k, _canonical(v)) for k, v in getter().items()]))
        elif _entries(value) is not None:
            self.add(label, key + ("entries",), lambda: _entries_or_kind(getter()),
                     sink=True, kind="entries")
        elif isinstance(value, np.ndarray) and value.size <= _MAX_ARRAY:
            self.add(label, key + ("array",), lambda: _array_token(getter()))
        elif isinstance(value, Generator):
            self.add(label, key + ("is",), lambda: id(getter()))
        elif isinstance(value, types.FunctionType):
            # Redefining a helper (`def act(x): ...` again in a notebook) changes the code
            # the trace inlined.
            # The reading is the function itself (functions compare by identity; holding
            # it keeps its id from being reused).
            self.add(label, key + ("is",), getter)
            if depth < _DEPTH:
                self.visit_callable(value, depth + 1)
        elif not isinstance(value, (type, types.ModuleType, types.BuiltinFunctionType)):
            call = next((k.__dict__["__call__"] for k in type(value).__mro__
                         if "__call__" in k.__dict__), None)
            if isinstance(call, types.FunctionType):   # a callable object the code calls
                names = names | _names_read(call.__code__)
            self.visit_object(label, value, None, names)

    def visit_module(self, label: str, module: Module,
                     getter: Callable[[], Any] | None = None) -> None:
        """A module's layout (`jit.module_layout`), read through `getter` when the name that
        holds it can be rebound."""
        get = getter or (lambda: module)
        self.add(label, ("module", id(module)), lambda: _layout_of(get()),
                 _describe_module(get), kind="module")

    def visit_defaults(self, fn: types.FunctionType) -> None:
        """Default values of fn's parameters: bound at the call, baked in by the trace."""
        for attr, what in (("__defaults__", "defaults"), ("__kwdefaults__", "keyword defaults")):
            value = getattr(fn, attr)
            if attr == "__defaults__" and value and all(type(x) in _EXACT for x in value):
                # An immutable tuple of values that compare exactly is its own reading: a
                # tuple compare per call (this probe is on every call of such a function).
                self.add(f"{fn.__name__} {what}", (attr, id(fn)),
                         functools.partial(getattr, fn, "__defaults__"))
            elif value and (_is_scalar(value) or _entries(value) is not None):
                self.add(f"{fn.__name__} {what}", (attr, id(fn)),
                         lambda attr=attr: _snapshot(getattr(fn, attr)), kind="entries")

    def visit_object(self, label: str, obj: Any, code, names: set | None = None) -> None:
        """Attributes of `obj` that the code names (`self.k`, `self.w`): scalars by value,
        tensors by identity, modules and small containers as `visit_value` guards them."""
        if isinstance(obj, Optimizer):
            self.add(f"{label} hyperparameters", ("optimizer", id(obj)),
                     lambda: _hyperparameters(obj))
            return
        if isinstance(obj, Module):
            self.visit_module(label, obj)
        attrs = getattr(obj, "__dict__", None)
        if not isinstance(attrs, dict):
            return
        names = names if code is None else _names_read(code)
        for name in sorted(names):
            if name not in attrs:
                continue
            value = attrs[name]
            key = ("attr", id(obj), name)
            getter = _attr_getter(obj, name)
            if _is_scalar(value):
                self.add(f"{label}.{name}", key, getter)
            elif type(value) is Tensor:
                self.add(f"{label}.{name}", key, lambda g=getter: id(g()), kind="tensor")
            elif isinstance(value, Module):
                self.visit_module(f"{label}.{name}", value, getter)
            elif _entries(value) is not None:
                self.add(f"{label}.{name}", key, lambda g=getter: _entries_or_kind(g()),
                         sink=True, kind="entries")


def _entry(x: Any) -> Any:
    """One container entry as a trace relied on it; None when it cannot be guarded."""
    if _is_scalar(x):
        return _canonical(x)
    if type(x) is Tensor:
        return ("tensor", id(x))
    return None


def _entries(value: Any) -> tuple | None:
    """A list, tuple or dict of at most 32 scalars and tensors, entry by entry (None for
    anything else)."""
    kind = type(value)
    if kind not in (list, tuple, dict) or len(value) > _MAX_DICT or _is_scalar(value):
        return None
    items = value.items() if kind is dict else enumerate(value)
    out = []
    for k, x in items:
        e = _entry(x)
        if e is None or (kind is dict and not _is_scalar(k)):
            return None
        out.append((k, e))
    return tuple(out)


def _entries_or_kind(value: Any) -> tuple:
    """`_entries`, or what the value now is when it no longer is such a container (any
    change of it then fails the guard)."""
    entries = _entries(value)
    return ("not guardable", type(value).__name__, id(value)) if entries is None else entries


def _snapshot(value: Any) -> Any:
    """A scalar's canonical value, else `_entries_or_kind`."""
    return _canonical(value) if _is_scalar(value) else _entries_or_kind(value)


def _layout_of(value: Any) -> tuple:
    """`module_layout`, or what the value now is when it is no longer a module."""
    if isinstance(value, Module):
        return module_layout(value)
    return ("not a module", type(value).__name__, id(value))


def _describe_module(get: Callable[[], Any]) -> Callable[[str, tuple, tuple], str]:
    def describe(label: str, old: tuple, new: tuple) -> str:
        module = get()
        if not isinstance(module, Module) or old[:1] == ("not a module",):
            return f"{label} was rebound to another object"
        names = layout_names(module)
        for name, a, b in zip(names, old, new):
            if a != b:
                if name.endswith(".training"):
                    return f"{label}{name}: {a} -> {b} (train()/eval())"
                return f"{label}{name} was replaced by another object"
        return f"{label}: a parameter, buffer, submodule or hook was added or removed"
    return describe


_RANDOM_STATES = (random.Random, np.random.Generator, np.random.RandomState)
_NOT_DRAWS = {"seed", "getstate", "setstate", "get_state", "set_state", "default_rng",
              "Generator", "RandomState", "Random", "SystemRandom", "SeedSequence",
              "PCG64", "MT19937", "BitGenerator"}


def _random_draw(name: str, value: Any, names: set) -> str | None:
    """The Python-side random draw the code makes through `value` (bound to `name`), as
    the code spells it (`random.randint`), or None."""
    module = value
    if value is np and "random" in names:
        module, name = np.random, f"{name}.random"
    if module is random or module is np.random:
        drawn = sorted(n for n in names if n not in _NOT_DRAWS
                       and callable(getattr(module, n, None)))
        return f"{name}.{drawn[0]}" if drawn else None
    owner = getattr(value, "__self__", None)
    if isinstance(value, _RANDOM_STATES) or isinstance(owner, _RANDOM_STATES):
        return name
    return None


_JIT = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _is_own(fn: types.FunctionType) -> bool:
    filename = fn.__code__.co_filename
    return filename.startswith(_OWN) or filename.startswith(_JIT)


def _names_read(code: types.CodeType) -> set[str]:
    """Global and attribute names used by `code` and the code objects nested in it."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_read(const)
    return names


def _global_getter(scope: dict, name: str) -> Callable[[], Any]:
    return functools.partial(scope.get, name, _MISSING)   # no Python frame per read


def _cell_getter(cell) -> Callable[[], Any]:
    def get():
        try:
            return cell.cell_contents
        except ValueError:
            return _MISSING
    return get


def _attr_getter(obj: Any, name: str) -> Callable[[], Any]:
    return lambda: _canonical(getattr(obj, name, _MISSING))


def _hyperparameters(opt: Optimizer) -> tuple:
    """Every param group's hyperparameters, and the identity of its parameters."""
    return tuple([tuple([(k, _canonical(v)) if k != "params" else (k, tuple(map(id, v)))
                         for k, v in group.items()]) for group in opt.param_groups])


def _array_token(value: Any) -> Any:
    """A small numpy array by its contents (eager code converting it reads them on every
    call; a trace made them a constant)."""
    if not isinstance(value, np.ndarray) or value.size > _MAX_ARRAY:
        return ("not guardable", type(value).__name__, id(value))
    return value.dtype.str, value.shape, value.tobytes()
