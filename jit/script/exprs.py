"""Expressions of the script subset, evaluated on stand-in tensors or static values.

Operators and calls on tensors run the eager op (recorded by the current region's
tracer); on static Python values they compute in Python. Calls may go to `eager`
functions (the namespace, `eager.nn.functional`, ...), Tensor methods, `eager.nn`
modules (traced inline, parameters bound by reference), other scripted functions
(inlined; recursion is refused) and a few pure builtins; anything else is a ScriptError.

>>> import eager
>>> from jit.script import script
>>> @script
... def clipped(x, lo=0.0):
...     return max(x, lo) * 2 if lo >= 0 else x
>>> clipped(eager.tensor([-1., 3.])).tolist()
[0.0, 6.0]
"""
from __future__ import annotations

import ast
import builtins
import math
import operator
from typing import Any

from eager.nn import Module
from eager.tensor import Tensor
from jit.script.errors import ScriptError
from jit.script.values import Undefined, as_tensor, describe, leaves

BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
          ast.Pow: operator.pow, ast.MatMult: operator.matmul, ast.BitAnd: operator.and_,
          ast.BitOr: operator.or_, ast.BitXor: operator.xor}
COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
           ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}
SLOTS_MODULE = "jit.script.slots"   # read_slot / write_slot: eager ops, callable too
TENSOR_ATTRIBUTES = frozenset({"shape", "ndim", "dtype", "device", "T", "mT"})
HOST_METHODS = frozenset({"item", "tolist", "numpy", "backward", "__bool__", "__float__",
                          "__int__", "__index__", "__len__", "__iter__", "requires_grad_",
                          "register_hook", "retain_grad", "data_ptr"})
_UNSUPPORTED = {
    "Lambda": "`lambda` is not supported in script mode",
    "GeneratorExp": "generators are not supported in script mode",
    "Yield": "generators are not supported in script mode",
    "YieldFrom": "generators are not supported in script mode",
    "ListComp": "comprehensions are not supported in script mode; use a `for` loop",
    "SetComp": "comprehensions are not supported in script mode; use a `for` loop",
    "DictComp": "comprehensions are not supported in script mode; use a `for` loop",
    "Await": "`await` is not supported in script mode",
    "JoinedStr": "f-strings are not supported in script mode",
    "Dict": "dicts are not supported in script mode; use a tuple",
    "Set": "sets are not supported in script mode; use a tuple",
    "NamedExpr": "`:=` is not supported in script mode",
    "Starred": "`*` unpacking is not supported in script mode",
}


class WeakNumbers:
    """The tensors standing for Python numbers (held, so their ids stay theirs)."""

    def __init__(self) -> None:
        self._held: dict[int, Tensor] = {}

    def add(self, t: Tensor) -> None:
        """Mark `t` weak."""
        self._held[id(t)] = t

    def __contains__(self, t: object) -> bool:
        return id(t) in self._held and self._held[id(t)] is t


class _Method:
    """`tensor.name` before it is called."""

    def __init__(self, tensor: Tensor, name: str) -> None:
        self.tensor, self.name = tensor, name


class Expressions:
    """Expression evaluation for the lowerer; `script` is the parsed function, `calling`
    the scripted functions being inlined around this one (for refusing recursion)."""

    def __init__(self, script, calling: tuple, weak: WeakNumbers | None = None) -> None:
        self.script = script
        self.calling = calling
        # Tensors standing for Python numbers (a loop counter, a float that became a
        # 0-d tensor): "weak" like the numbers, they never upcast a tensor they meet.
        self.weak = WeakNumbers() if weak is None else weak
        self.device: str | None = None   # where new tensors go (the arguments' device)
        self.at: ast.AST = script.tree
        self.loops: list = []
        self.arguments: list[Tensor] = []

    # ---- errors and places ----------------------------------------------------------
    def error(self, message: str, node: ast.AST | None = None) -> ScriptError:
        """A ScriptError at `node` (default: the expression being lowered)."""
        return self.script.source.error(node if node is not None else self.at,
                                        self.script.name, message)

    def where(self) -> str:
        """`file:line` of the expression being lowered."""
        return self.script.source.where(self.at)

    def guarded(self, fn, *args, **kwargs) -> Any:
        """Call an eager function; its errors become ScriptErrors at this expression."""
        try:
            return fn(*args, **kwargs)
        except ScriptError:
            raise
        except Exception as exc:  # noqa: BLE001  (named: the op's own message is kept)
            raise self.error(f"{type(exc).__name__}: {exc}") from None

    # ---- dispatch -------------------------------------------------------------------
    def expr(self, node: ast.expr, env: dict) -> Any:
        """The value of an expression."""
        method = getattr(self, f"expr_{type(node).__name__}", None)
        if method is None:
            raise self.error(_UNSUPPORTED.get(type(node).__name__, f"`{type(node).__name__}` "
                             "expressions are not supported in script mode"), node)
        previous, self.at = self.at, node
        try:
            return method(node, env)
        finally:
            self.at = previous

    def expr_Constant(self, node: ast.Constant, env: dict) -> Any:
        return node.value

    def expr_Name(self, node: ast.Name, env: dict) -> Any:
        return self.lookup(node.id, env, node)

    def lookup(self, name: str, env: dict, node: ast.AST) -> Any:
        """A variable, else a global, closure variable or builtin of the function."""
        if name in env:
            value = env[name]
            if isinstance(value, Undefined):
                raise self.error(value.why, node)
            return value
        found, value = self.script.resolve(name)
        if not found:
            raise self.error(f"name `{name}` is not defined", node)
        return value

    def expr_Tuple(self, node: ast.Tuple, env: dict) -> tuple:
        return tuple(self.expr(e, env) for e in node.elts)

    expr_List = expr_Tuple

    def expr_Attribute(self, node: ast.Attribute, env: dict) -> Any:
        obj = self.expr(node.value, env)
        if isinstance(obj, Tensor):
            if node.attr in TENSOR_ATTRIBUTES:
                return self.guarded(getattr, obj, node.attr)
            if callable(getattr(Tensor, node.attr, None)):
                return _Method(obj, node.attr)
            raise self.error(f"Tensor attribute `{node.attr}` is not available in script "
                             "mode", node)
        try:
            return getattr(obj, node.attr)
        except AttributeError:
            raise self.error(f"{describe(obj)} has no attribute `{node.attr}`", node) from None

    def expr_Subscript(self, node: ast.Subscript, env: dict) -> Any:
        obj = self.expr(node.value, env)
        key = self.expr(node.slice, env)
        if isinstance(obj, Tensor):
            return self.guarded(operator.getitem, obj, key)
        if isinstance(obj, tuple) and not any(isinstance(k, Tensor) for k in leaves(key)):
            return self.guarded(operator.getitem, obj, key)
        raise self.error(f"cannot index {describe(obj)} with {describe(key)} in script mode",
                         node)

    def expr_Slice(self, node: ast.Slice, env: dict) -> slice:
        parts = [None if p is None else self.expr(p, env)
                 for p in (node.lower, node.upper, node.step)]
        if any(isinstance(p, Tensor) for p in parts):
            raise self.error("slice bounds must be Python ints in script mode (shapes are "
                             "static); index with a tensor instead", node)
        return slice(*parts)

    # ---- operators ------------------------------------------------------------------
    def expr_BinOp(self, node: ast.BinOp, env: dict) -> Any:
        return self.binary(node.op, self.expr(node.left, env), self.expr(node.right, env),
                           node)

    def is_weak(self, x: Any) -> bool:
        """A static number, or a tensor standing for one."""
        return not isinstance(x, Tensor) or x in self.weak

    def to_tensor(self, x: Any, kind: tuple) -> Tensor:
        """`x` as a tensor of type `kind`; one made from a Python number is weak."""
        t = as_tensor(x, kind, self.device)
        if not isinstance(x, Tensor) or x in self.weak:
            self.weak.add(t)
        return t

    def operate(self, fn, a: Any, b: Any) -> Any:
        """`fn(a, b)` with Python's weak-number rule for tensors standing for numbers: a
        weak operand takes the other tensor's float dtype (`x * i` stays f32)."""
        import eager

        wa, wb = self.is_weak(a), self.is_weak(b)
        if isinstance(a, Tensor) and isinstance(b, Tensor) and wa != wb:
            weak, strong = (a, b) if wa else (b, a)
            if weak.dtype != strong.dtype and strong.dtype.kind == "f" \
                    and weak.dtype.kind in "iuf":
                cast = self.guarded(eager.astype, weak, strong.dtype)
                a, b = (cast, b) if wa else (a, cast)
        result = self.guarded(fn, a, b)
        if wa and wb and isinstance(result, Tensor):
            self.weak.add(result)
        return result

    def binary(self, op: ast.operator, a: Any, b: Any, node: ast.AST) -> Any:
        """`a op b` (ast operator) on tensors or static values."""
        fn = BINARY.get(type(op))
        if fn is None:
            raise self.error(f"operator `{type(op).__name__}` is not supported", node)
        return self.operate(fn, a, b)

    def expr_UnaryOp(self, node: ast.UnaryOp, env: dict) -> Any:
        x = self.expr(node.operand, env)
        if isinstance(node.op, ast.Not):
            return self.logical("not", x)
        fn = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}
        return self.guarded(fn[type(node.op)], x)

    def expr_BoolOp(self, node: ast.BoolOp, env: dict) -> Any:
        word = "and" if isinstance(node.op, ast.And) else "or"
        value = self.expr(node.values[0], env)
        for operand in node.values[1:]:
            if not isinstance(value, Tensor) and (bool(value) if word == "or" else not value):
                return value   # Python's short circuit on a static value
            value = self.logical(word, value, self.expr(operand, env))
        return value

    def logical(self, word: str, a: Any, b: Any = None) -> Any:
        """`not a`, `a and b`, `a or b`: Python on static values, else 0-d bool tensors."""
        import eager

        if word == "not":
            return not a if not isinstance(a, Tensor) else self.guarded(
                eager.logical_not, self.truth_tensor(a))
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):
            return (a and b) if word == "and" else (a or b)
        for x, y in ((a, b), (b, a)):
            if not isinstance(x, Tensor):
                if bool(x) == (word == "or"):
                    return bool(x)
                return self.truth_tensor(y)
        fn = eager.logical_and if word == "and" else eager.logical_or
        return self.guarded(fn, self.truth_tensor(a), self.truth_tensor(b))

    def truth_tensor(self, t: Tensor) -> Tensor:
        """A bool tensor of `t`'s truth (`t != 0` unless `t` is bool already)."""
        return t if t.dtype.kind == "b" else self.guarded(operator.ne, t, 0)

    def condition(self, value: Any, node: ast.AST) -> Any:
        """An `if`/`while` condition: a Python bool when static, else a 0-d bool tensor."""
        if not isinstance(value, Tensor):
            return bool(value)
        if math.prod(value.shape) != 1:
            raise self.error(f"the condition is {describe(value)}; a condition must hold "
                             "one element (reduce it with .all(), .any() or .max())", node)
        if value.ndim:
            value = self.guarded(value.reshape, ())
        return self.truth_tensor(value)

    def expr_Compare(self, node: ast.Compare, env: dict) -> Any:
        left = self.expr(node.left, env)
        result: Any = True
        for op, right_node in zip(node.ops, node.comparators):
            right = self.expr(right_node, env)
            result = self.logical("and", result, self.compare(op, left, right))
            left = right
        return result

    def compare(self, op: ast.cmpop, a: Any, b: Any) -> Any:
        """`a op b` for one comparison operator."""
        if isinstance(op, (ast.Is, ast.IsNot)):
            return (a is b) == isinstance(op, ast.Is)
        fn = COMPARE.get(type(op))
        if fn is None:
            raise self.error("`in` is not supported in script mode")
        return self.operate(fn, a, b)

    def expr_IfExp(self, node: ast.IfExp, env: dict) -> Any:
        import eager

        cond = self.condition(self.expr(node.test, env), node.test)
        if not isinstance(cond, Tensor):
            return self.expr(node.body if cond else node.orelse, env)
        return self.guarded(eager.where, cond, self.expr(node.body, env),
                            self.expr(node.orelse, env))

    # ---- calls ----------------------------------------------------------------------
    def expr_Call(self, node: ast.Call, env: dict) -> Any:
        fn = self.expr(node.func, env)
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords):
            raise self.error("`*args` / `**kwargs` in calls are not supported in script mode",
                             node)
        args = [self.expr(a, env) for a in node.args]
        kwargs = {k.arg: self.expr(k.value, env) for k in node.keywords}
        self.at = node
        return self.call(fn, args, kwargs, node)

    def call(self, fn: Any, args: list, kwargs: dict, node: ast.Call) -> Any:
        """Call what the subset allows (module doc)."""
        if isinstance(fn, _Method):
            if fn.name in HOST_METHODS or fn.name.endswith("_"):
                raise self.error(f"`Tensor.{fn.name}` is not supported in script mode (it "
                                 "reads the value on the host or updates in place)", node)
            return self.guarded(getattr(fn.tensor, fn.name), *args, **kwargs)
        script = getattr(fn, "__script__", None)
        if script is not None:
            return self.inline(script, args, kwargs, node)
        if isinstance(fn, Module):
            return self.guarded(fn, *args, **kwargs)
        if fn is range:
            raise self.error("`range` is supported only as the iterable of a `for` loop",
                             node)
        builtin = next((rule for b, rule in _BUILTINS.items() if fn is b), None)
        if builtin is not None:
            return builtin(self, args, kwargs, node)
        module = getattr(fn, "__module__", None) or ""
        if module in ("eager", SLOTS_MODULE) or module.startswith("eager.") or \
                isinstance(fn, type) and fn.__module__.startswith("eager"):
            return self.guarded(fn, *args, **kwargs)
        if module == "math" and not any(isinstance(x, Tensor) for x in args):
            return self.guarded(fn, *args, **kwargs)
        name = getattr(fn, "__qualname__", None) or describe(fn)
        raise self.error(f"calls `{name}`, a Python function script mode cannot compile; "
                         "call eager functions, Tensor methods, nn modules or other "
                         "@jit.script functions", node)

    def inline(self, script, args: list, kwargs: dict, node: ast.Call) -> Any:
        """Lower another scripted function's body here, its parameters bound to `args`."""
        from jit.script.lower import Lowerer

        if script.fn is self.script.fn or script.fn in self.calling:
            raise self.error(f"`{script.name}` calls itself (recursion); script mode "
                             "needs a loop instead", node)
        env = self.guarded(script.bind, args, kwargs)
        inner = Lowerer(script, self.regions, self.calling + (self.script.fn,), self.weak)
        inner.device = self.device
        inner.arguments = [x for v in env.values() for x in leaves(v) if isinstance(x, Tensor)]
        return inner.run_function(env)


def _static_only(name: str, fn):
    def call(lowerer: Expressions, args: list, kwargs: dict, node) -> Any:
        if any(isinstance(x, Tensor) for x in args + list(kwargs.values())):
            raise lowerer.error(f"`{name}()` of a tensor reads its value on the host; use "
                                "the tensor (or `.to(dtype)`) instead", node)
        return lowerer.guarded(fn, *args, **kwargs)
    return call


def _abs(lowerer: Expressions, args: list, kwargs: dict, node) -> Any:
    return lowerer.guarded(builtins.abs, *args)


def _extremum(name: str, fn):
    def call(lowerer: Expressions, args: list, kwargs: dict, node) -> Any:
        import eager

        if len(args) == 2 and not kwargs and any(isinstance(x, Tensor) for x in args):
            op = eager.maximum if name == "max" else eager.minimum
            a, b = args
            if not isinstance(a, Tensor):
                a, b = b, a
            return lowerer.guarded(op, a, eager.full_like(a, b) if not isinstance(b, Tensor)
                                   else b)
        return _static_only(name, fn)(lowerer, args, kwargs, node)
    return call


def _len(lowerer: Expressions, args: list, kwargs: dict, node) -> Any:
    (x,) = args
    return x.shape[0] if isinstance(x, Tensor) else lowerer.guarded(len, x)


_BUILTINS = {abs: _abs, len: _len, min: _extremum("min", min), max: _extremum("max", max),
             float: _static_only("float", float), int: _static_only("int", int),
             bool: _static_only("bool", bool), round: _static_only("round", round),
             isinstance: _static_only("isinstance", isinstance)}
