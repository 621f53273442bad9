"""Cache keys for jitted calls: what must match for a compiled variant to be reused.

The key holds each tensor argument's shape, dtype, device, requires_grad and strides
(whether a reshape is a view of the argument or a copy depends on them, and with it
whether an in-place update reaches the argument), the nesting of the arguments, grad
mode, the default floating dtype (`eager.set_default_dtype`: Python floats in the
traced code became constants of that dtype), and the values of non-tensor arguments
(which must be hashable; a Module by its identity, train/eval flags and the identity
of its parameters, buffers and submodules; -0.0 and 0.0 are different keys, and NaN equals NaN, also
inside tuples). `describe_change` says in one line what differs between two keys, e.g.
`x.shape[0]: 3 -> 4`.

>>> import eager
>>> k1 = make_key((eager.ones(3),), {}, ("x",))
>>> k2 = make_key((eager.ones(4),), {}, ("x",))
>>> describe_change(k1, k2, (eager.ones(4),), {}, ("x",))
'x.shape[0]: 3 -> 4'
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from eager.autograd import grad_mode
from eager.random import Generator
from eager.tensor import Tensor
from jit.module_layout import module_layout
from kernels.dtypes import current_default_float
from tracer.pytree import flatten
from tracer.signature import _leaf_paths


class UnhashableArgument(TypeError):
    """A non-tensor argument of a jitted function cannot be part of the cache key."""


def _module_state(value) -> Any:
    from eager.nn import Module

    if isinstance(value, Module):
        # train()/eval() changes what forward does (dropout), and the graph holds the
        # parameters, buffers and submodules it traced: both are part of the key.
        return ("module", value, tuple(m.training for m in value.modules()),
                module_layout(value))
    return None


def leaf_key(leaf: Any) -> Any:
    """One argument leaf's part of the key."""
    if type(leaf) is Tensor:
        data = leaf._data
        return (data.shape, data.dtype, leaf._device, leaf._requires_grad, data.strides)
    if isinstance(leaf, Generator):
        return ("generator", leaf.device)
    state = _module_state(leaf)
    return ("static", type(leaf), _canonical(leaf)) if state is None else state


@dataclass(frozen=True, slots=True)
class _SpecialFloat:
    """-0.0 or NaN in a key: -0.0 == 0.0 and NaN != NaN, but `x / s` differs for the
    first pair and a NaN argument must hit its own variant."""

    text: str

    def __repr__(self) -> str:
        return self.text


def _canonical(value: Any) -> Any:
    """The value as a key compares it: floats by their bits' meaning, containers inside."""
    kind = type(value)
    if kind is float:
        if math.isnan(value) or (value == 0.0 and math.copysign(1.0, value) < 0):
            return _SpecialFloat(repr(value))
        return value
    if kind is complex:
        special = any(type(_canonical(part)) is _SpecialFloat
                      for part in (value.real, value.imag))
        return _SpecialFloat(repr(value)) if special else value
    if kind is tuple:
        return tuple(_canonical(x) for x in value)
    if kind is frozenset:
        return frozenset(_canonical(x) for x in value)
    return value


_positional_trees: dict[int, str] = {}


def make_key(args: tuple, kwargs: dict, names: tuple = ()) -> tuple:
    """The cache key of a call; raises UnhashableArgument naming the argument.

    The nesting is held as its text (`((*, *), {})`): a string caches its hash, where a
    tree of objects would be hashed again on every lookup.
    """
    if not kwargs and all(type(a) is Tensor for a in args):
        # The common call f(x, y, ...): same key as the general path, built faster.
        tree = _positional_trees.get(len(args))
        if tree is None:
            tree = _positional_trees[len(args)] = repr(flatten((args, {}))[1])
        return ((grad_mode.is_grad_enabled(), current_default_float()), tree,
                tuple([(a._data.shape, a._data.dtype, a._device, a._requires_grad,
                        a._data.strides) for a in args]))
    leaves, tree = flatten((args, kwargs))
    key = ((grad_mode.is_grad_enabled(), current_default_float()), repr(tree),
           tuple(leaf_key(x) for x in leaves))
    try:
        hash(key)
    except TypeError:
        paths = _leaf_paths((args, kwargs), names)
        for path, leaf in zip(paths, leaves):
            try:
                hash(leaf_key(leaf))
            except TypeError:
                raise UnhashableArgument(
                    f"jit: argument {path} is a {type(leaf).__name__}, which is not hashable, "
                    "so it cannot be part of the cache key (it is never hashed by identity); "
                    "pass a tuple, an eager tensor, or make the value hashable") from None
        raise
    return key


def describe_change(old: tuple, new: tuple, args: tuple = (), kwargs: dict | None = None,
                    names: tuple = ()) -> str:
    """One line naming what differs between two keys (`x.shape[0]: 3 -> 4`)."""
    if old[0][0] != new[0][0]:
        return f"grad mode: {'enabled' if old[0][0] else 'disabled'} -> " \
               f"{'enabled' if new[0][0] else 'disabled'}"
    if old[0][1] != new[0][1]:
        return f"default dtype: {old[0][1].name} -> {new[0][1].name} (set_default_dtype)"
    if old[1] != new[1]:
        return f"argument structure: {old[1]} -> {new[1]}"
    paths = _leaf_paths((args, kwargs or {}), names) if args or kwargs else [
        f"argument {i}" for i in range(len(new[2]))]
    if len(paths) != len(new[2]):
        paths = [names[i] if i < len(names) else f"argument {i}" for i in range(len(new[2]))]
    for path, a, b in zip(paths, old[2], new[2]):
        if a == b:
            continue
        if a[0] == "static" or b[0] == "static" or a[0] == "module":
            if a[0] == "module" and b[0] == "module" and a[1] is b[1]:
                if a[2] != b[2]:
                    return f"{path}.training: {a[2]} -> {b[2]}"
                return f"{path}: a parameter, buffer, submodule or hook was replaced"
            return f"{path}: {_static(a)} -> {_static(b)}"
        for field, i in (("shape", 0), ("dtype", 1), ("device", 2), ("requires_grad", 3),
                         ("strides", 4)):
            if a[i] != b[i]:
                if field == "shape" and len(a[0]) == len(b[0]):
                    d = next(j for j in range(len(a[0])) if a[0][j] != b[0][j])
                    return f"{path}.shape[{d}]: {a[0][d]} -> {b[0][d]}"
                shown = (lambda v: v.name) if field == "dtype" else repr
                return f"{path}.{field}: {shown(a[i])} -> {shown(b[i])}"
    if old[3:] != new[3:]:
        modes = {True: "train", False: "eval"}
        return f"module mode: {modes[old[3][0]]} -> {modes[new[3][0]]} (train()/eval())"
    return "nothing in the key (a guard failed)"


def _static(part) -> str:
    if part[0] == "static":
        return repr(part[2])
    if part[0] == "module":
        return f"{type(part[1]).__name__} module"
    return "a tensor" if len(part) == 5 else "a generator"
