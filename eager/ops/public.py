"""Where each op's public spellings (declared on its OpDef) find their eager function.

`NAMESPACE` maps names of the `eager` namespace and `METHODS` names of Tensor methods to
the function that runs the op; each function carries the op as `fn.op`. Names come from
the OpDef's `functions` and `methods`; a name nobody declared is refused, so the op stays
the one place that says what it is called.

>>> from kernels import OPS
>>> NAMESPACE["multiply"].op is OPS.mul, METHODS["mul"] is NAMESPACE["mul"]
(True, True)
"""
from __future__ import annotations

from collections.abc import Callable

from kernels.opdef import OpDef

NAMESPACE: dict[str, Callable] = {}
METHODS: dict[str, Callable] = {}


def implements(op: OpDef, *names: str) -> Callable[[Callable], Callable]:
    """Decorator: `fn` is the eager function of `op` under `names` (default: every
    function and method name the op declares, except in-place methods, which Tensor
    derives from the plain ones).

    >>> from kernels import OPS
    >>> try:
    ...     implements(OPS.exp, "expo")(lambda x: x)
    ... except KeyError as exc:
    ...     print(exc.args[0])
    implements: 'expo' is not a declared spelling of exp; add it to the op's functions or methods
    """
    def register(fn: Callable) -> Callable:
        for name in names or _declared(op):
            if name not in op.functions and name not in op.methods:
                raise KeyError(f"implements: {name!r} is not a declared spelling of {op.name}; "
                               "add it to the op's functions or methods")
            for table, declared in ((NAMESPACE, op.functions), (METHODS, op.methods)):
                if name in declared:
                    if name in table:
                        raise KeyError(f"implements: {name!r} is already the spelling of "
                                       f"{table[name].op.name}")
                    table[name] = fn
        fn.op = op
        return fn
    return register


def _declared(op: OpDef) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in op.functions + op.methods if not n.endswith("_")))
