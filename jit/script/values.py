"""What a script variable holds while lowering, and how two of them merge.

A variable holds a stand-in Tensor (a graph value), a static Python value (int, float,
bool, None, str, a module, a function), or a tuple of those. Where control flow that
depends on tensors joins, a variable must have one type: static values that differ become
0-d tensors (Python bool -> bool, int -> int64, float -> float32).

>>> leaves((1, (2.0, None))), structure((1, (2.0, None)))
([1, 2.0, None], (None, (None, None)))
>>> rebuild((1, (2.0, None)), ["a", "b", "c"])
('a', ('b', 'c'))
>>> type_of(3), same_static(1, 1.0)
(((), dtype('int64')), False)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from eager.creation import full
from eager.tensor import Tensor

STATIC_DTYPES = {bool: np.dtype(bool), int: np.dtype("int64"), float: np.dtype("float32")}


class Undefined:
    """A name assigned on only some paths (one branch, or only inside a loop)."""

    def __init__(self, why: str) -> None:
        self.why = why


def leaves(value: Any) -> list:
    """The leaves of a (nested) tuple value."""
    if isinstance(value, tuple):
        return [x for item in value for x in leaves(item)]
    return [value]


def rebuild(value: Any, new: list) -> Any:
    """`value`'s tuple structure with the leaves taken from `new` in order."""
    it = iter(new)

    def go(v):
        if isinstance(v, tuple):
            return tuple(go(x) for x in v)
        return next(it)
    return go(value)


def structure(value: Any) -> Any:
    """The tuple structure of a value (None for a leaf)."""
    if isinstance(value, tuple):
        return tuple(structure(x) for x in value)
    return None


def is_number(x: Any) -> bool:
    """A static value that can become a tensor."""
    return type(x) in STATIC_DTYPES or isinstance(x, np.generic)


def type_of(x: Any) -> tuple | None:
    """(shape, dtype) of a tensor or of the tensor a static number becomes; None for
    other static values."""
    if isinstance(x, Tensor):
        return (x.shape, x.dtype)
    if isinstance(x, np.generic):
        return ((), x.dtype)
    if type(x) in STATIC_DTYPES:
        return ((), STATIC_DTYPES[type(x)])
    return None


def describe(x: Any) -> str:
    """`f32[3]`, `int 3`, `tuple of 2`: for error messages."""
    from tracer.graph import short_type

    if isinstance(x, Tensor):
        return f"a tensor {short_type(x.shape, x.dtype)}"
    if isinstance(x, tuple):
        return f"a tuple of {len(x)}"
    return f"{type(x).__name__} {x!r}"


def as_tensor(x: Any, kind: tuple, device: str | None = None) -> Tensor:
    """A static number (or a tensor) as a tensor of type `kind` = (shape, dtype)."""
    if isinstance(x, Tensor):
        if x.dtype != kind[1]:
            from eager import astype

            return astype(x, kind[1])
        return x
    return full(kind[0], x.item() if isinstance(x, np.generic) else x, dtype=kind[1],
                device=device)


def same_static(a: Any, b: Any) -> bool:
    """Two static leaves that are the same value (of the same type)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return False
    if type(a) is not type(b):
        return False
    try:
        return bool(a is b or a == b)
    except Exception:  # noqa: BLE001  (objects whose == is odd are simply not merged)
        return False
