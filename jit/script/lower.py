"""Lowering a function's statements to the Graph IR with `If`/`While` nodes.

The lowerer walks the function's AST once, keeping what each variable holds (see
`jit.script.values`). Expressions run on stand-in tensors under the current region's
tracer (`jit.script.exprs`). Control flow that depends on a tensor becomes a node:

- `if`: both branches are lowered into subgraphs; variables that differ become outputs.
- `while` / `for i in range(...)`: the variables the body assigns that exist before the
  loop are carried (their types found by lowering the body until they are stable); the
  condition and the body become subgraphs.
- `break`, `continue` and `return` set flag variables (`$brk`, `$cont`, `$ret`, with the
  returned value in `$val`); statements after one run under an `If` on the flags, and a
  loop's condition also checks `$brk` and `$ret`.

A condition on static Python values is decided while lowering (only one branch exists).

>>> import eager
>>> from jit.script import script
>>> @script
... def first_big(x, limit):
...     for i in range(x.shape[0]):
...         if x[i] > limit:
...             return i
...     return -1
>>> first_big(eager.tensor([1., 5., 9.]), 4.0).item(), first_big(eager.zeros(3), 4.0).item()
(1, -1)
"""
from __future__ import annotations

import ast
from typing import Any

import numpy as np

from eager.tensor import Tensor
from jit.script.exprs import Expressions
from jit.script.loops import Loops
from jit.script.regions import Region, unify
from jit.script.scope import (
    FLAGS,
    MISSING,
    Out,
    fresh,
    shown,
    substitute,
    tensors,
    unique,
    zero_like,
)
from jit.script.values import (
    Undefined,
    describe,
    leaves,
    rebuild,
    same_static,
    structure,
    type_of,
)
from tracer.control import If


class Lowerer(Loops, Expressions):
    """Lowers one function body (see the module doc). `regions` is the stack of regions
    being recorded, shared with the functions it inlines."""

    def __init__(self, script, regions: list[Region], calling: tuple = (),
                 weak=None) -> None:
        super().__init__(script, calling, weak)
        self.regions = regions

    @property
    def region(self) -> Region:
        """The innermost region being recorded."""
        return self.regions[-1]

    def is_argument(self, t: Tensor) -> bool:
        """Whether stand-in `t` is (a region's parameter for) a tensor the caller passed."""
        for region in reversed(self.regions):
            outer = region.outer_of(t)
            if outer is None:
                break
            t = outer
        return any(t is a for a in self.arguments)

    # ---- blocks ---------------------------------------------------------------------
    def run_function(self, env: dict) -> Any:
        """Lower the whole body; the returned value (a pytree of stand-ins and statics)."""
        self.block(self.script.tree.body, env)
        ret = env.get("$ret", False)
        if "$val" not in env:
            if isinstance(ret, Tensor):
                raise self.error("some paths return a value and others do not",
                                 self.script.tree)
            return None
        if ret is not True:
            raise self.error("some paths fall off the end of the function without "
                             "`return`; add a final `return`", self.script.tree.body[-1])
        return env["$val"]

    def block(self, stmts: list[ast.stmt], env: dict) -> None:
        """Lower statements in order; after one that may exit, the rest run under an If."""
        for k, stmt in enumerate(stmts):
            self.at = stmt
            self.statement(stmt, env)
            flags = [env.get(f, False) for f in FLAGS]
            if any(f is True for f in flags):
                return
            dynamic = [name for name, f in zip(FLAGS, flags) if isinstance(f, Tensor)]
            if dynamic and stmts[k + 1:]:
                self._guarded(stmts[k + 1:], env, dynamic)
                return

    def _guarded(self, rest: list[ast.stmt], env: dict, dynamic: list[str]) -> None:
        self.at = rest[0]
        exited = env[dynamic[0]]
        for name in dynamic[1:]:
            exited = self.logical("or", exited, env[name])
        go = self.logical("not", exited)

        def otherwise(e: dict) -> None:
            if len(dynamic) == 1:   # the one flag that may be set is set on this path
                e[dynamic[0]] = True
        self.branch(go, lambda e: self.block(rest, e), otherwise, env)

    def statement(self, stmt: ast.stmt, env: dict) -> None:
        """Lower one statement into the current region."""
        method = getattr(self, f"stmt_{type(stmt).__name__}", None)
        if method is None:
            raise self.error(_UNSUPPORTED_STATEMENTS.get(
                type(stmt).__name__, f"`{type(stmt).__name__}` statements are not "
                "supported in script mode"), stmt)
        method(stmt, env)

    # ---- simple statements ----------------------------------------------------------
    def stmt_Expr(self, stmt: ast.Expr, env: dict) -> None:
        if isinstance(stmt.value, ast.Constant):   # a docstring
            return
        raise self.error("an expression statement has no effect in a graph (script mode "
                         "cannot call functions for their side effects)", stmt)

    def stmt_Pass(self, stmt: ast.Pass, env: dict) -> None:
        return

    def stmt_Assign(self, stmt: ast.Assign, env: dict) -> None:
        value = self.expr(stmt.value, env)
        for target in stmt.targets:
            self.assign(target, value, env)

    def stmt_AnnAssign(self, stmt: ast.AnnAssign, env: dict) -> None:
        if stmt.value is None:
            return
        self.assign(stmt.target, self.expr(stmt.value, env), env)

    def stmt_AugAssign(self, stmt: ast.AugAssign, env: dict) -> None:
        if not isinstance(stmt.target, ast.Name):
            raise self.error("augmented assignment is supported to names only", stmt.target)
        old = self.lookup(stmt.target.id, env, stmt.target)
        if isinstance(old, Tensor) and self.is_argument(old):
            raise self.error(f"`{stmt.target.id} {_SYMBOL[type(stmt.op)]}= ...` would update "
                             "the caller's tensor in place; write "
                             f"`{stmt.target.id} = {stmt.target.id} {_SYMBOL[type(stmt.op)]} ...`",
                             stmt)
        self.at = stmt
        value = self.binary(stmt.op, old, self.expr(stmt.value, env), stmt)
        env[stmt.target.id] = value

    def assign(self, target: ast.expr, value: Any, env: dict) -> None:
        """Bind `target` (a name, or a tuple of targets) to `value`."""
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, tuple) or len(value) != len(target.elts):
                raise self.error(f"cannot unpack {describe(value)} into "
                                 f"{len(target.elts)} names", target)
            for t, v in zip(target.elts, value):
                self.assign(t, v, env)
        else:
            raise self.error("assignment to attributes or items is not supported in "
                             "script mode (it would update state in place); assign to a "
                             "name, e.g. with `eager.where`", target)

    def stmt_Return(self, stmt: ast.Return, env: dict) -> None:
        env["$val"] = None if stmt.value is None else self.expr(stmt.value, env)
        env["$ret"] = True

    def stmt_Break(self, stmt: ast.Break, env: dict) -> None:
        if not self.loops:
            raise self.error("`break` outside a loop", stmt)
        env["$brk"] = True

    def stmt_Continue(self, stmt: ast.Continue, env: dict) -> None:
        if not self.loops:
            raise self.error("`continue` outside a loop", stmt)
        env["$cont"] = True

    def stmt_With(self, stmt: ast.With, env: dict) -> None:
        import eager

        for item in stmt.items:
            call = item.context_expr
            maker = self.expr(call.func, env) if isinstance(call, ast.Call) else None
            if maker is not eager.no_grad or item.optional_vars is not None:
                raise self.error("`with` is supported only as `with eager.no_grad():`",
                                 item.context_expr)
        self.block(stmt.body, env)

    # ---- if -------------------------------------------------------------------------
    def stmt_If(self, stmt: ast.If, env: dict) -> None:
        cond = self.expr(stmt.test, env)
        self.at = stmt.test
        self.branch(self.condition(cond, stmt.test), lambda e: self.block(stmt.body, e),
                    lambda e: self.block(stmt.orelse, e), env)

    def branch(self, cond: Any, then, otherwise, env: dict) -> None:
        """Lower `then(env)` if cond else `otherwise(env)`: statically for a static cond,
        else as an If node whose outputs are the variables the branches left different."""
        if not isinstance(cond, Tensor):
            (then if cond else otherwise)(env)
            return
        at = self.at
        outer = self.region
        params = unique([cond] + tensors(env))
        regions, envs = [], []
        for name, fn in (("then", then), ("else", otherwise)):
            region = Region(self, name, outer, params)
            sub = substitute(env, region)
            with region.active():
                fn(sub)
            regions.append(region)
            envs.append(sub)
        self.at = at
        names, outs = self._merge(env, envs, regions)
        if not outs[0]:   # the branches changed nothing a later line can see
            self._bind_outputs(env, names, [], [])
            return
        finished = [r.finish(o) for r, o in zip(regions, outs)]
        reads = unify(outer, finished)
        first = outs[0]
        values = [outer.tracer.graph.new_value(t.shape, t.dtype, t.device) for t in first]
        outer.tracer.graph.nodes.append(If(tuple(reads), finished[0][0], finished[1][0],
                                           tuple(values), self.where()))
        self._bind_outputs(env, names, first, values,
                           [self.is_weak(a) and self.is_weak(b) for a, b in zip(*outs)])

    def _merge(self, env: dict, envs: list[dict], regions: list[Region]):
        """Which variables the branches set differently; their per-branch output tensors."""
        a, b = envs
        names: list[tuple[str, Any]] = []   # (name, structure template)
        outs: list[list[Tensor]] = [[], []]
        for name in sorted(set(a) | set(b)):
            default = False if name in FLAGS else MISSING
            va, vb = a.get(name, default), b.get(name, default)
            if va is MISSING or vb is MISSING or isinstance(va, Undefined) \
                    or isinstance(vb, Undefined):
                if name == "$val" and (va is MISSING) != (vb is MISSING):
                    # A return on one path only: the other path's $val is never read.
                    present, k = (vb, 0) if va is MISSING else (va, 1)
                    with regions[k].active():
                        filler = rebuild(present, [zero_like(x) for x in leaves(present)])
                    va, vb = (filler, vb) if k == 0 else (va, filler)
                else:
                    env[name] = Undefined(f"`{name}` is assigned on only one branch of the "
                                          "`if` before this line; assign it on both (or "
                                          "before the `if`)")
                    continue
            if structure(va) != structure(vb):
                raise self.error(f"`{shown(name)}` is {describe(va)} on one branch and "
                                 f"{describe(vb)} on the other")
            la, lb = leaves(va), leaves(vb)
            kept = []
            for x, y in zip(la, lb):
                ox, oy = regions[0].outer_of(x), regions[1].outer_of(y)
                if same_static(x, y):
                    kept.append(x)
                elif ox is not None and ox is oy:
                    kept.append(ox)
                else:
                    kind = self._join_type(name, x, y)
                    with regions[0].active():
                        tx = self.to_tensor(x, kind)
                    with regions[1].active():
                        ty = self.to_tensor(y, kind)
                    outs[0].append(tx)
                    outs[1].append(ty)
                    kept.append(Out(len(outs[0]) - 1))
            names.append((name, rebuild(va, kept)))
        return names, outs

    def _join_type(self, name: str, x: Any, y: Any) -> tuple:
        tx, ty = type_of(x), type_of(y)
        if tx is None or ty is None:
            raise self.error(f"`{shown(name)}` is {describe(x)} on one path and "
                             f"{describe(y)} on another; a variable must have one type")
        if isinstance(x, Tensor) and not isinstance(y, Tensor):
            return tx
        if isinstance(y, Tensor) and not isinstance(x, Tensor):
            return ty
        if tx[0] == ty[0] and tx[1] != ty[1] and "b" not in (tx[1].kind, ty[1].kind):
            return (tx[0], np.promotetypes(tx[1], ty[1]))   # as Python's int -> float
        if tx != ty:
            raise self.error(f"`{shown(name)}` is {describe(x)} on one path and "
                             f"{describe(y)} on another; a variable must have one type")
        return tx

    def _bind_outputs(self, env: dict, names, first: list[Tensor], values,
                      weak: list[bool] = ()) -> None:
        outer = self.region
        made = []
        for k, (t, v) in enumerate(zip(first, values)):
            stand = fresh(t)
            outer.tracer.bind(stand, v)
            if k < len(weak) and weak[k]:
                self.weak.add(stand)
            made.append(stand)
        for name, template in names:
            env[name] = rebuild(template, [made[x.index] if isinstance(x, Out) else x
                                           for x in leaves(template)])

    # ---- loops ----------------------------------------------------------------------

_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
           ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}
_UNSUPPORTED_STATEMENTS = {
    "Try": "`try` is not supported in script mode",
    "TryStar": "`try` is not supported in script mode",
    "Raise": "`raise` is not supported in script mode",
    "FunctionDef": "nested function definitions are not supported in script mode",
    "AsyncFunctionDef": "nested function definitions are not supported in script mode",
    "ClassDef": "class definitions are not supported in script mode",
    "Global": "`global` is not supported in script mode",
    "Nonlocal": "`nonlocal` is not supported in script mode",
    "Delete": "`del` is not supported in script mode",
    "Assert": "`assert` is not supported in script mode (it reads a value on the host)",
    "Import": "`import` is not supported inside a scripted function",
    "ImportFrom": "`import` is not supported inside a scripted function",
    "AsyncWith": "`async with` is not supported in script mode",
    "AsyncFor": "`async for` is not supported in script mode",
    "Match": "`match` is not supported in script mode",
}


