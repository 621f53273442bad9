"""`OpDef`: the one definition of a primitive op, and the `OPS` registry.

An op is a name, a kind, an array implementation over a namespace `xp`, a shape/dtype
rule, and for elementwise ops a scalar C expression that codegen (C and CUDA) reuses.

>>> OPS["mul"].infer(TensorSpec((2, 3), float32), TensorSpec((3,), float32))
TensorSpec(shape=(2, 3), dtype=dtype('float32'))
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from kernels.dtypes import float32  # noqa: F401  (doctest)


class TensorSpec(NamedTuple):
    """Static description of a tensor value: shape and dtype."""

    shape: tuple[int, ...]
    dtype: np.dtype


class KernelError(Exception):
    """Raised by a shape/dtype rule; carries nothing but the message."""


@dataclass(eq=False)
class OpDef:
    """One primitive op.

    impl(xp) returns the array function for namespace xp (numpy or cupy); it is called
    as fn(*arrays, **attrs). infer(*specs, **attrs) gives the output TensorSpec, where a
    spec is a TensorSpec or a Python scalar. c_expr is a format template over the inputs
    ({0}, {1}, {2}) with {f} standing for the C float suffix ("f" or ""), so the same
    string serves C and CUDA. dynamic_shape marks ops whose output shape depends on input
    values (nonzero): a trace must guard on the shape they produced. input_kinds, for
    elementwise math, lists the dtype kinds its rule accepts ("f": floats only; None: any),
    so eager knows which inputs to promote or refuse before dispatch.
    """

    name: str
    kind: str
    arity: int
    impl: Callable[[Any], Callable[..., Any]]
    infer: Callable[..., TensorSpec]
    c_expr: str | None = None
    is_view: bool = False
    differentiable: bool = True
    dynamic_shape: bool = False
    input_kinds: str | None = None
    _bound: dict = field(default_factory=dict, repr=False)
    cpu_kernel: Callable[..., Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # numpy is always there; resolving its kernel once keeps eager dispatch lean.
        self.cpu_kernel = self.kernel(np)

    def kernel(self, xp) -> Callable[..., Any]:
        """The array function for namespace xp, resolved once and cached."""
        fn = self._bound.get(xp)
        if fn is None:
            fn = self._bound[xp] = self.impl(xp)
        return fn

    def __repr__(self) -> str:
        return f"<op {self.name} ({self.kind}/{self.arity})>"


OPS: dict[str, OpDef] = {}


def register(op: OpDef) -> OpDef:
    """Add an op to the registry; names are unique."""
    if op.name in OPS:
        raise KeyError(f"op {op.name!r} registered twice")
    OPS[op.name] = op
    return op
