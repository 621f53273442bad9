"""Helpers the lowerer's statement and loop code share: variables' tensors, stand-ins,
and names as error messages show them.

>>> shown("$val"), shown("x")
('the return value', 'x')
"""
from __future__ import annotations

from typing import Any

from eager.tensor import Tensor
from jit.script.regions import Region, stand_in
from jit.script.values import Undefined, leaves, rebuild, type_of

MISSING = object()
FLAGS = ("$ret", "$brk", "$cont")


class Out:
    """In a merged variable's template: the control-flow node's output at `index`."""

    def __init__(self, index: int) -> None:
        self.index = index


def shown(name: str) -> str:
    """How a variable is named in messages (flags by what they mean)."""
    return {"$val": "the return value", "$ret": "return", "$brk": "break"}.get(name, name)


def types(kinds: list) -> str:
    """`f32[3], i64[]` for (shape, dtype) pairs."""
    from tracer.graph import short_type

    return ", ".join(short_type(*k) for k in kinds)


def tensors(env: dict) -> list[Tensor]:
    """The distinct tensors among the variables' values."""
    out = []
    for name in sorted(env):
        for x in leaves(env[name]):
            if isinstance(x, Tensor):
                out.append(x)
    return unique(out)


def unique(items: list[Tensor]) -> list[Tensor]:
    """The tensors in order, each once."""
    seen, out = set(), []
    for t in items:
        if id(t) not in seen:
            seen.add(id(t))
            out.append(t)
    return out


def substitute(env: dict, region: Region) -> dict:
    """The variables as the region sees them: its stand-ins for the outer tensors."""
    def sub(x):
        return region.local_of.get(id(x), x) if isinstance(x, Tensor) else x
    return {name: rebuild(v, [sub(x) for x in leaves(v)]) if not isinstance(v, Undefined)
            else v for name, v in env.items()}


def zeros(kind: tuple) -> Tensor:
    """A zero tensor of type `kind` (recorded by the current region)."""
    from eager.creation import zeros as make

    return make(kind[0], dtype=kind[1])


def zero_like(x: Any) -> Any:
    """Zeros of a number's or tensor's type; other static values as they are."""
    return zeros(type_of(x)) if type_of(x) is not None else x


def template(kinds: list) -> Any:
    """A value structure for `len(kinds)` leaves (one leaf, or a flat tuple)."""
    return None if len(kinds) == 1 else tuple(None for _ in kinds)


def fresh(t: Tensor) -> Tensor:
    """A new stand-in of `t`'s type (for a node's output)."""
    return stand_in(t)
