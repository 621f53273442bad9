"""`OpDef`: the one definition of a primitive op, and the `OPS` registry.

Everything about an op lives on its OpDef: name, kind, arity, the array implementation
over a namespace `xp`, the shape/dtype rule, the scalar C expression codegen (C and CUDA)
reuses, the identities simplification may use, a reduction's starting value, and the
public spellings (namespace functions, Tensor methods, Python operator) that run it.
`eager` adds the backward rule and what it reads (`eager/autograd/rules.py`).

>>> OPS.mul.infer(TensorSpec((2, 3), float32), TensorSpec((3,), float32))
TensorSpec(shape=(2, 3), dtype=dtype('float32'))
>>> OPS.mul.kind is OpKind.BINARY, OPS.mul.kind in GroupOp.ELEMENTWISE
(True, True)
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple

import numpy as np

from kernels.dtypes import float32  # noqa: F401  (doctest)


class OpKind(str, Enum):
    """The closed set of op kinds. Values are strings, so `op.kind == "binary"` holds."""

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__

    UNARY = "unary"
    BINARY = "binary"
    TERNARY = "ternary"
    REDUCE = "reduce"
    MOVEMENT = "movement"
    INDEX = "index"
    MATMUL = "matmul"
    SOURCE = "source"
    RANDOM = "random"
    TRANSFER = "transfer"
    COLLECTIVE = "collective"
    OTHER = "other"


class GroupOp:
    """Sets of kinds that passes and codegen test against.

    >>> OpKind.TERNARY in GroupOp.ELEMENTWISE, OpKind.REDUCE in GroupOp.ELEMENTWISE
    (True, False)
    """

    ELEMENTWISE = frozenset({OpKind.UNARY, OpKind.BINARY, OpKind.TERNARY})


class TensorSpec(NamedTuple):
    """Static description of a tensor value: shape and dtype."""

    shape: tuple[int, ...]
    dtype: np.dtype


class KernelError(Exception):
    """Raised by a shape/dtype rule; carries nothing but the message."""


class Rest(NamedTuple):
    """In a backward rule's `saves`: every input from position `start` on (index arrays,
    whose number varies from node to node)."""

    start: int


# Python operators: symbol -> the name inside the dunder (binary and unary spellings).
BINARY_DUNDERS = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "//": "floordiv",
                  "%": "mod", "**": "pow", "@": "matmul", "<": "lt", "<=": "le", ">": "gt",
                  ">=": "ge", "==": "eq", "!=": "ne", "&": "and", "|": "or", "^": "xor",
                  "<<": "lshift", ">>": "rshift"}
UNARY_DUNDERS = {"-": "neg", "~": "invert", "abs": "abs"}
COMPARISON_SYMBOLS = frozenset({"<", "<=", ">", ">=", "==", "!="})


@dataclass(eq=False)
class OpDef:
    """One primitive op.

    impl(xp) returns the array function for namespace xp (numpy or cupy); it is called
    as fn(*arrays, **attrs). infer(*specs, **attrs) gives the output TensorSpec, where a
    spec is a TensorSpec or a Python scalar. c_expr is a format template over the inputs
    ({0}, {1}, {2}) with {f} standing for the C float suffix ("f" or ""), so the same
    string serves C and CUDA; an elementwise op without one says fusable=False.
    complex_c_expr is the template used where the op computes in a complex dtype, over
    the helpers of kernels/codegen/complex_c.py: {c} stands for the complex type's tag
    ("c64" or "c128"), {p} for the float suffix of its parts, and an attribute by its
    name ({fn} of complex_math); None: complex steps of this op are not compiled.
    dynamic_shape marks ops whose output shape depends on input values (nonzero): a trace
    must guard on the shape they produced. input_kinds, for elementwise math, lists the
    dtype kinds its rule accepts ("f": floats only; None: any), so eager knows which
    inputs to promote or refuse before dispatch.

    identities maps an input position to the scalar that leaves the other input
    unchanged there, exactly, bit for bit (x * 1, x + -0.0; not x + 0.0, which turns
    -0.0 into 0.0); simplification reads it. identity is a reduction's starting value.
    functions and methods are the eager namespace functions and Tensor methods that are
    spellings of this op (a method ending in "_" is the in-place one); symbol is its
    Python operator. backward and saves are filled in by eager's autograd rules.
    """

    name: str
    kind: OpKind
    arity: int
    impl: Callable[[Any], Callable[..., Any]]
    infer: Callable[..., TensorSpec]
    c_expr: str | None = None
    complex_c_expr: str | None = None
    fusable: bool = True
    is_view: bool = False
    differentiable: bool = True
    dynamic_shape: bool = False
    input_kinds: str | None = None
    identities: Mapping[int, float] = field(default_factory=dict)
    identity: float | None = None
    functions: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    symbol: str | None = None
    backward: Callable[..., tuple] | None = field(default=None, repr=False)
    saves: tuple | None = field(default=None, repr=False)
    _bound: dict = field(default_factory=dict, repr=False)
    cpu_kernel: Callable[..., Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.kind = OpKind(self.kind)
        # numpy is always there; resolving its kernel once keeps eager dispatch lean.
        self.cpu_kernel = self.kernel(np)

    def kernel(self, xp) -> Callable[..., Any]:
        """The array function for namespace xp, resolved once and cached."""
        fn = self._bound.get(xp)
        if fn is None:
            fn = self._bound[xp] = self.impl(xp)
        return fn

    def is_identity(self, position: int, value: Any, dtype: np.dtype) -> bool:
        """Whether the Python scalar `value` at input `position` leaves the other input
        of dtype `dtype` exactly unchanged.

        >>> OPS.add.is_identity(1, -0.0, np.dtype("float32"))
        True
        >>> OPS.add.is_identity(1, 0.0, np.dtype("float32"))
        False
        >>> OPS.add.is_identity(1, 0, np.dtype("int64"))
        True
        """
        if position not in self.identities or type(value) not in (int, float):
            return False
        neutral = self.identities[position]
        if value != neutral:
            return False
        # An int 0 becomes +0.0 on a float tensor; only the sign of a float zero matters.
        return np.dtype(dtype).kind != "f" or math.copysign(1.0, value) == math.copysign(
            1.0, neutral)

    def operators(self) -> dict[str, str]:
        """Dunder method name -> role ("forward", "reflected", "inplace") for `symbol`.

        >>> OPS.sub.operators()
        {'__sub__': 'forward', '__rsub__': 'reflected', '__isub__': 'inplace'}
        """
        if self.symbol is None:
            return {}
        if self.arity == 1:
            return {f"__{UNARY_DUNDERS[self.symbol]}__": "forward"}
        word = BINARY_DUNDERS[self.symbol]
        if self.symbol in COMPARISON_SYMBOLS:
            return {f"__{word}__": "forward"}
        return {f"__{word}__": "forward", f"__r{word}__": "reflected",
                f"__i{word}__": "inplace"}

    def __repr__(self) -> str:
        return f"<op {self.name} ({self.kind.value}/{self.arity})>"


class OpRegistry(dict):
    """name -> OpDef; ops are also attributes (`OPS.mul` is `OPS["mul"]`).

    A dict, so that `OPS[name]` on the dispatch path costs a C lookup. Each op is also an
    instance attribute, which takes precedence over a dict method of the same name:
    `OPS.copy` is the copy op (use dict(OPS) for a copy of the registry).
    """

    def __getattr__(self, name: str) -> OpDef:
        raise AttributeError(f"no op named {name!r}")

    def _add(self, op: OpDef) -> OpDef:
        """Register `op`; names are unique."""
        if op.name in self:
            raise KeyError(f"op {op.name!r} registered twice")
        self[op.name] = op
        self.__dict__[op.name] = op
        return op


OPS: OpRegistry = OpRegistry()


def register(op: OpDef) -> OpDef:
    """Add an op to the registry; names are unique."""
    return OPS._add(op)
