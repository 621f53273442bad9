"""Placeholders: deferred execution the way the founding description shows it.

Arithmetic on a `Placeholder` computes nothing; it builds an `Expr`, a small graph of
Tensor operations remembered with the source line that wrote each one. Calling the
expression binds the placeholders (in the order they were created, or by name), traces
the expression once per input signature into a `tracer.Graph`, and replays that graph.
Errors such as incompatible shapes therefore surface when the expression is called, and
they name the line where the failing part of the expression was written.

>>> import eager
>>> a = Placeholder("a"); b = Placeholder("b")
>>> c = (a**2 + b**2) ** 0.5
>>> callable(c), c(3, 4)
(True, 5.0)
>>> c(eager.tensor([3., 6.]), eager.tensor([4., 8.])).tolist()
[5.0, 10.0]
>>> c
Expr(((a ** 2) + (b ** 2)) ** 0.5)
"""
from __future__ import annotations

import inspect
import itertools
from typing import Any

from eager.dispatch import get_hook
from eager.tensor import Tensor
from kernels import OPS
from kernels.errors import EagerError
from tracer.graph import Graph
from tracer.trace import source_where, trace

_counter = itertools.count()


def _operators(role: str, arity: int) -> dict[str, str]:
    """Dunder -> Python symbol for the ops' operators (declared on each OpDef)."""
    return {dunder: op.symbol for op in OPS.values() if op.arity == arity
            for dunder, r in op.operators().items() if r == role}


_BINARY = _operators("forward", 2)
_REFLECTED = _operators("reflected", 2)
_UNARY = {**_operators("forward", 1), "__pos__": "+"}


class Expr:
    """A deferred Tensor expression over Placeholders; call it to evaluate.

    `expr(*values)` binds placeholders in creation order (`expr(a=..., b=...)` by name);
    Python numbers become tensors and, when every argument is a number, the result is a
    number too. `expr.trace(*values)` gives the Graph that serves those input types.
    """

    __slots__ = ("__weakref__", "_graphs", "_kwargs", "_method", "_operands", "_where")

    def __init__(self, method: str, operands: tuple, kwargs: dict | None = None,
                 where: str | None = None) -> None:
        self._method = method
        self._operands = operands
        self._kwargs = kwargs or {}
        self._where = source_where() if where is None else where
        self._graphs: dict[tuple, Graph] = {}

    # ---- structure ----------------------------------------------------------------
    @property
    def placeholders(self) -> list[Placeholder]:
        """The placeholders this expression reads, in the order they were created."""
        found: dict[int, Placeholder] = {}
        stack: list = [self]
        seen: set[int] = set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, Placeholder):
                found[node._order] = node
            else:
                stack.extend(x for x in _operand_leaves(node) if isinstance(x, Expr))
        return [found[k] for k in sorted(found)]

    def __repr__(self) -> str:
        return f"Expr({_text(self, top=True)})"

    def __bool__(self) -> bool:
        raise TypeError(f"the expression {_text(self, top=True)} has no truth value until it is "
                        "called: deferred code cannot branch on values (call it first)")

    __hash__ = object.__hash__

    # ---- evaluation ---------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        params = self.placeholders
        values = _bind(self, params, args, kwargs)
        all_numbers = not any(isinstance(v, Tensor) for v in values)
        tensors = [_as_tensor(v) for v in values]
        if get_hook() is not None:
            # Inside an outer trace: run eagerly so that trace records every op.
            result = self._evaluate(dict(zip(map(id, params), tensors)), {})
        else:
            result = self.trace(*tensors)(*tensors)
        if all_numbers and isinstance(result, Tensor) and result.ndim == 0:
            return result.item()
        return result

    def trace(self, *args: Any, **kwargs: Any) -> Graph:
        """The Graph of this expression for arguments of these types (traced once, cached).

        >>> a = Placeholder("a")
        >>> print((a.exp() + 1).trace(0.0))
        expr(a: %0 f32[]) {
          %1: f32[] = exp %0
          %2: f32[] = add %1 1
          return %2
        }
        """
        params = self.placeholders
        tensors = [_as_tensor(v) for v in _bind(self, params, args, kwargs)]
        key = tuple((t.shape, t.dtype, t.device, t.requires_grad) for t in tensors)
        graph = self._graphs.get(key)
        if graph is None:
            def expr(*xs):
                return self._evaluate(dict(zip(map(id, params), xs)), {})
            expr.__signature__ = inspect.Signature(
                [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_ONLY) for p in params])
            graph = self._graphs[key] = trace(expr, *tensors)
        return graph

    def _evaluate(self, bound: dict[int, Tensor], memo: dict[int, Any]) -> Any:
        if id(self) in memo:
            return memo[id(self)]
        operands = [_evaluate_operand(x, bound, memo) for x in self._operands]
        kwargs = {k: _evaluate_operand(v, bound, memo) for k, v in self._kwargs.items()}
        try:
            if self._method == "__getattr__":
                result = getattr(operands[0], operands[1])
            else:
                result = getattr(operands[0], self._method)(*operands[1:], **kwargs)
        except EagerError as exc:
            raise _located(exc, self) from None
        memo[id(self)] = result
        return result

    # ---- building -----------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not hasattr(Tensor, name):
            raise AttributeError(f"'Expr' object has no attribute {name!r} (Tensor has no "
                                 f"method or property of that name)")
        if isinstance(getattr(Tensor, name), property):
            return Expr("__getattr__", (self, name))
        where = source_where()

        def method(*args: Any, **kwargs: Any) -> Expr:
            return Expr(name, (self,) + args, kwargs, where)
        return method


def _make_operator(method: str):
    def operator(self, *others):
        return Expr(method, (self,) + others)
    operator.__name__ = method
    return operator


for _name in (*_BINARY, *_REFLECTED, *_UNARY, "__getitem__"):
    setattr(Expr, _name, _make_operator(_name))


class Placeholder(Expr):
    """A named input of a deferred expression (`InputParameterPlaceholder` is an alias).

    >>> x = Placeholder("x")
    >>> (x * 2)(eager.tensor([1., 2.])).tolist() if (eager := __import__("eager")) else 0
    [2.0, 4.0]
    """

    __slots__ = ("_order", "name")

    def __init__(self, name: str | None = None) -> None:
        super().__init__("placeholder", ())
        self._order = next(_counter)
        self.name = name if name is not None else f"p{self._order}"

    def _evaluate(self, bound: dict[int, Tensor], memo: dict[int, Any]) -> Any:
        return bound[id(self)]

    def __repr__(self) -> str:
        return f"Placeholder({self.name!r})"


InputParameterPlaceholder = Placeholder


def _operand_leaves(expr: Expr) -> list:
    leaves = []
    for x in (*expr._operands, *expr._kwargs.values()):
        leaves.extend(x if isinstance(x, (tuple, list)) else (x,))
    return leaves


def _evaluate_operand(x: Any, bound: dict, memo: dict) -> Any:
    if isinstance(x, Expr):
        return x._evaluate(bound, memo)
    if isinstance(x, (tuple, list)):
        return type(x)(_evaluate_operand(y, bound, memo) for y in x)
    return x


def _bind(expr: Expr, params: list[Placeholder], args: tuple, kwargs: dict) -> list:
    names = [p.name for p in params]
    if len(args) > len(params) or set(kwargs) - set(names[len(args):]):
        raise TypeError(f"{_text(expr, top=True)} takes the placeholders ({', '.join(names)}), "
                        f"got {len(args)} positional and keywords {sorted(kwargs)}")
    values = list(args) + [kwargs[n] for n in names[len(args):] if n in kwargs]
    if len(values) != len(params):
        missing = ", ".join(names[len(values):])
        raise TypeError(f"{_text(expr, top=True)}: missing a value for placeholder(s) {missing}")
    return values


def _as_tensor(value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return value
    import eager

    return eager.asarray(value)


def _located(exc: EagerError, expr: Expr) -> EagerError:
    """Add the line where the failing part of the expression was written (once)."""
    if getattr(exc, "_expr_located", False):
        return exc
    located = type(exc)(f"{exc}; in the deferred expression {_text(expr, top=True)} written at "
                        f"{expr._where or 'an unknown line'}")
    located._expr_located = True
    return located


def _text(x: Any, top: bool = False) -> str:
    if isinstance(x, Placeholder):
        return x.name
    if not isinstance(x, Expr):
        return repr(x)
    m, ops = x._method, x._operands
    if m in _BINARY:
        text = f"{_text(ops[0])} {_BINARY[m]} {_text(ops[1])}"
    elif m in _REFLECTED:
        text = f"{_text(ops[1])} {_REFLECTED[m]} {_text(ops[0])}"
    elif m == "__abs__":
        return f"abs({_text(ops[0], top=True)})"
    elif m in _UNARY:
        text = f"{_UNARY[m]}{_text(ops[0])}"
    elif m == "__getitem__":
        return f"{_text(ops[0])}[{ops[1]!r}]"
    elif m == "__getattr__":
        return f"{_text(ops[0])}.{ops[1]}"
    else:
        args = [_text(o, top=True) for o in ops[1:]]
        args += [f"{k}={_text(v, top=True)}" for k, v in x._kwargs.items()]
        return f"{_text(ops[0])}.{m}({', '.join(args)})"
    return text if top else f"({text})"
