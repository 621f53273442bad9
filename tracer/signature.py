"""The argument signature of a traced graph: describing it and checking replay arguments.

A graph's `in_tree` is `(args, kwargs)` with each tensor/generator leaf replaced by its
"arg" Value and every other leaf kept as the static Python value seen while tracing.

>>> import eager, tracer
>>> g = tracer.trace(lambda x, n: x * n, eager.ones(2), 3)
>>> g.signature()
'(x: f32[2], n=3)'
>>> g(eager.ones(3), 3)
Traceback (most recent call last):
...
tracer.errors.SignatureError: graph expects (x: f32[2], n=3); x has shape (3,), expected (2,)
"""
from __future__ import annotations

from typing import Any

from tracer.errors import SignatureError
from tracer.pytree import LEAF, TreeDef, describe, flatten


def _leaf_text(leaf: Any, with_ids: bool) -> str:
    from eager.tensor import Tensor
    from tracer.graph import Value, short_type

    if isinstance(leaf, Tensor):
        return short_type(leaf.shape, leaf.dtype)

    if isinstance(leaf, Value):
        grad = " requires_grad" if leaf.requires_grad else ""
        where = "" if leaf.device == "cpu" or not leaf.is_tensor else f" @{leaf.device}"
        prefix = f"{leaf!r} " if with_ids else ""
        return f"{prefix}{leaf.type_str}{where}{grad}"
    return repr(leaf)


def _render(tree: Any, with_ids: bool) -> str:
    leaves, treedef = flatten(tree)
    return describe(treedef, [_leaf_text(x, with_ids) for x in leaves])


def describe_args(in_tree: Any, arg_names: tuple = (), with_ids: bool = True) -> str:
    """`x: %0 f32[3], n=2` for printing a graph header."""
    args, kwargs = in_tree
    parts = []
    for i, a in enumerate(args):
        name = arg_names[i] if i < len(arg_names) else f"arg{i}"
        sep = ": " if _is_value_leaf(a) else "="
        parts.append(f"{name}{sep}{_render(a, with_ids)}")
    parts += [f"{k}={_render(v, with_ids)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def describe_signature(in_tree: Any, arg_names: tuple = ()) -> str:
    """`(x: f32[3], n=2)`: what a replay must be called with."""
    return f"({describe_args(in_tree, arg_names, with_ids=False)})"


def _is_value_leaf(tree: Any) -> bool:
    from tracer.graph import Value

    return any(isinstance(x, Value) for x in flatten(tree)[0])


class ArgChecker:
    """Flattens replay arguments and checks them against the traced signature.

    Built once per graph; `__call__(args, kwargs)` returns the flat leaves in `in_tree`
    order, or raises SignatureError naming the expected signature and the first mismatch.
    """

    def __init__(self, in_tree: Any, arg_names: tuple) -> None:
        from eager.random import Generator
        from eager.tensor import Tensor
        from tracer.graph import Value

        self.in_tree = in_tree
        self.arg_names = arg_names
        self.leaves, self.treedef = flatten(in_tree)
        self.paths = _leaf_paths(in_tree, arg_names)
        self._tensor, self._generator, self._value = Tensor, Generator, Value
        self.expected = [
            (x.shape, x.dtype, x.device, x.requires_grad) if isinstance(x, Value) and x.is_tensor
            else x for x in self.leaves]

    def __call__(self, args: tuple, kwargs: dict) -> list:
        leaves, treedef = flatten((args, kwargs))
        if treedef != self.treedef:
            self._fail(self._structure_problem(args, kwargs))
        tensor = self._tensor
        for i, (leaf, want) in enumerate(zip(leaves, self.expected)):
            if type(want) is tuple and type(leaf) is tensor:
                data = leaf._data
                if (data.shape != want[0] or data.dtype != want[1] or leaf._device != want[2]
                        or leaf._requires_grad != want[3]):
                    self._fail(self._tensor_problem(i, leaf, want))
            elif type(want) is tuple:
                self._fail(f"{self.paths[i]} is {type(leaf).__name__}, expected a Tensor")
            elif isinstance(want, self._value):
                if not isinstance(leaf, self._generator):
                    self._fail(f"{self.paths[i]} is {type(leaf).__name__}, expected a "
                               "Generator")
            elif not _same_static(leaf, want):
                self._fail(f"{self.paths[i]} is {leaf!r}, but the graph was traced with "
                           f"{want!r} (non-tensor arguments are baked into the graph)")
        return leaves

    def _fail(self, problem: str) -> None:
        raise SignatureError(f"graph expects {describe_signature(self.in_tree, self.arg_names)}"
                             f"; {problem}")

    def _structure_problem(self, args: tuple, kwargs: dict) -> str:
        want_args, want_kwargs = self.in_tree
        if len(args) != len(want_args):
            return f"got {len(args)} positional arguments, expected {len(want_args)}"
        if set(kwargs) != set(want_kwargs):
            return f"got keyword arguments {sorted(kwargs)}, expected {sorted(want_kwargs)}"
        got = list(args) + [kwargs[k] for k in want_kwargs]
        want = list(want_args) + list(want_kwargs.values())
        names = list(self.arg_names[:len(args)]) + [f"argument {i}" for i in
                                                    range(len(self.arg_names), len(args))]
        names += list(want_kwargs)
        for name, have, expected in zip(names, got, want):
            if flatten(have)[1] != flatten(expected)[1]:
                return f"{name} is {_render(have, False)}, expected {_render(expected, False)}"
        return "the nesting of the arguments differs"

    def _tensor_problem(self, i: int, leaf, want: tuple) -> str:
        shape, dtype, device, requires_grad = want
        path = self.paths[i]
        if leaf._data.shape != shape:
            return f"{path} has shape {tuple(leaf._data.shape)}, expected {shape}"
        if leaf._data.dtype != dtype:
            return f"{path} has dtype {leaf._data.dtype.name}, expected {dtype.name}"
        if leaf._device != device:
            return f"{path} is on {leaf._device}, expected {device}"
        return f"{path} has requires_grad={leaf._requires_grad}, expected {requires_grad}"


def _same_static(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _leaf_paths(in_tree: Any, arg_names: tuple) -> list[str]:
    """Readable names for each leaf: `x`, `batch[0]`, `opts['lr']`."""
    args, kwargs = in_tree
    paths: list[str] = []
    for i, a in enumerate(args):
        _paths_of(a, arg_names[i] if i < len(arg_names) else f"argument {i}", paths)
    for k in sorted(kwargs, key=repr):
        _paths_of(kwargs[k], k, paths)
    return paths


def _paths_of(tree: Any, prefix: str, out: list) -> None:
    treedef = flatten(tree)[1]
    if treedef is LEAF or treedef == TreeDef("leaf"):
        out.append(prefix)
    elif isinstance(tree, dict):
        for k in sorted(tree, key=repr):
            _paths_of(tree[k], f"{prefix}[{k!r}]", out)
    else:
        for j, x in enumerate(tree):
            _paths_of(x, f"{prefix}[{j}]", out)
