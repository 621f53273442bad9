"""Nested Python containers (tuples, lists, dicts, namedtuples) flattened to leaves.

Traced functions take and return nested structures; the graph stores the structure once
(a `TreeDef`) and the leaves as a flat list, so a replay can check and rebuild them.

>>> leaves, tree = flatten((1, {"b": [2, 3], "a": 4}))
>>> leaves
[1, 4, 2, 3]
>>> unflatten(tree, [x * 10 for x in leaves])
(10, {'b': [20, 30], 'a': 40})
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class TreeDef:
    """The shape of a nested structure: its containers, dict keys and number of leaves."""

    __slots__ = ("children", "kind", "meta", "num_leaves")

    def __init__(self, kind: str, meta: Any = None, children: tuple = ()) -> None:
        self.kind = kind
        self.meta = meta
        self.children = children
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in children)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TreeDef) and self.kind == other.kind
                and self.meta == other.meta and self.children == other.children)

    def __hash__(self) -> int:
        return hash((self.kind, self.meta if self.kind != "dict" else tuple(self.meta),
                     self.children))

    def __repr__(self) -> str:
        return describe(self, ["*"] * self.num_leaves)


LEAF = TreeDef("leaf")


def flatten(tree: Any) -> tuple[list, TreeDef]:
    """Leaves of `tree` in a fixed order (dicts by sorted key) and its TreeDef."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list) -> TreeDef:
    kind = type(tree)
    if kind is tuple or kind is list:
        return TreeDef(kind.__name__, None, tuple(_flatten(x, leaves) for x in tree))
    if kind is dict:
        keys = tuple(sorted(tree, key=repr))
        children = tuple(_flatten(tree[k], leaves) for k in keys)
        return TreeDef("dict", (keys, tuple(tree)), children)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return TreeDef("namedtuple", kind, tuple(_flatten(x, leaves) for x in tree))
    leaves.append(tree)
    return LEAF


def unflatten(treedef: TreeDef, leaves: list) -> Any:
    """Rebuild the structure described by `treedef` around `leaves`."""
    it = iter(leaves)
    return _unflatten(treedef, it)


def _unflatten(treedef: TreeDef, it) -> Any:
    kind = treedef.kind
    if kind == "leaf":
        return next(it)
    children = [_unflatten(c, it) for c in treedef.children]
    if kind == "tuple":
        return tuple(children)
    if kind == "list":
        return children
    if kind == "namedtuple":
        return treedef.meta(*children)
    sorted_keys, insertion_order = treedef.meta
    by_key = dict(zip(sorted_keys, children))
    return {k: by_key[k] for k in insertion_order}


def tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    """Apply `fn` to every leaf, keeping the structure."""
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [fn(x) for x in leaves])


def describe(treedef: TreeDef, leaf_texts: list[str]) -> str:
    """Source-like text of the structure with each leaf shown as `leaf_texts[i]`."""
    return repr(unflatten(treedef, [_Text(t) for t in leaf_texts]))


class _Text(str):
    def __repr__(self) -> str:
        return str(self)
