"""What a trace binds of an `eager.nn.Module` tree, as one flat tuple: every module's
training flag, the identity of each of its parameters, buffers, submodules and forward
hooks, and of a `forward` set on the instance.

A graph holds the tensors it traced by reference, so `model.fc.weight = nn.Parameter(...)`
or `model.act = nn.Tanh()` (or a hook registered) after tracing must retrace; comparing two layouts (one tuple
compare) tells. Reading a layout is checked against the last walk of that module with C
loops over its tables (no Python code per module) and walks again only when something
changed. `layout_names` names each entry, for the retrace's log line.

>>> from eager import nn
>>> model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
>>> before = module_layout(model)
>>> model[0].weight = nn.Parameter(model[0].weight.detach().clone())
>>> [n for n, a, b in zip(layout_names(model), before, module_layout(model)) if a != b]
['.0.weight']
"""
from __future__ import annotations

import weakref
from operator import is_

from eager.nn import Module

_TABLES = ("_parameters", "_buffers", "_modules", "_forward_pre_hooks", "_forward_hooks")
_NO_TABLE: dict = {}     # never written: the table of a module without one


def _training_of(d: dict) -> tuple:
    return d.get("_training"), id(d.get("forward"))


class _Walk:
    """One walk of a module tree: its modules' `__dict__`s, their tables, the objects in
    those tables, the training flags and instance `forward`s, and the layout they give."""

    __slots__ = (
        "count",
        "dicts",
        "entry_tables",
        "flags",
        "keys",
        "layout",
        "objects",
        "tables",
    )

    def __init__(self, module: Module) -> None:
        dicts = [d for _, d in _depth_first(module)]
        self.dicts = tuple(dicts)
        self.tables = tuple(d.get(t, _NO_TABLE) for d in dicts for t in _TABLES)
        entries = [(table, key, obj) for table in self.tables for key, obj in table.items()]
        self.entry_tables = tuple(e[0] for e in entries)
        self.keys = tuple(e[1] for e in entries)
        self.objects = tuple(e[2] for e in entries)
        self.count = len(entries)
        self.flags = list(map(_training_of, self.dicts))
        layout: list = []
        for d in dicts:
            layout.extend(_training_of(d))
            for t in _TABLES:
                layout.extend(map(id, d.get(t, _NO_TABLE).values()))
        self.layout = tuple(layout)

    def still_holds(self) -> bool:
        """Whether the tree still has exactly these objects, under the same names, and
        the same flags (each a loop in C: `map` over the tables)."""
        return sum(map(len, self.tables)) == self.count and \
            all(map(is_, map(dict.get, self.entry_tables, self.keys), self.objects)) \
            and list(map(_training_of, self.dicts)) == self.flags


_walks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def module_layout(module: Module) -> tuple:
    """The layout of `module`'s tree: for each module (depth first) its training flag
    and the `id` of its instance `forward` (None's if none), then the `id` of each
    parameter, buffer, submodule and hook. Equal layouts mean the same objects in the
    same places and modes."""
    try:
        walk = _walks.get(module)
    except TypeError:   # a module class that defines __eq__ without __hash__
        return _Walk(module).layout
    if walk is None or not walk.still_holds():
        walk = _walks[module] = _Walk(module)
    return walk.layout


def layout_names(module: Module) -> list[str]:
    """The name of each entry of `module_layout(module)`, in its order."""
    out: list[str] = []
    for prefix, d in _depth_first(module):
        out += [f"{prefix}.training", f"{prefix}.forward"]
        out += [f"{prefix}.{name}" for table in _TABLES[:3] for name in d.get(table, ())]
        out += [f"{prefix} {table[1:-1]} {key}" for table in _TABLES[3:]
                for key in d.get(table, ())]
    return out


def _depth_first(module: Module) -> list[tuple[str, dict]]:
    """(dotted prefix, `__dict__`) of each module of the tree, depth first in
    `_modules` order; a shared or cyclic submodule once."""
    out, stack, seen = [], [("", module)], {id(module)}
    while stack:
        prefix, m = stack.pop()
        d = m.__dict__
        out.append((prefix, d))
        for name, c in reversed(d.get("_modules", _NO_TABLE).items()):
            if c is not None and id(c) not in seen:
                seen.add(id(c))
                stack.append((f"{prefix}.{name}", c))
    return out
