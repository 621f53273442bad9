"""Loops: `while` and `for i in range(...)` lowered to `While` nodes.

The variables a loop body assigns that exist before the loop are carried. Their types
are found by lowering the body into throwaway regions until they are stable (a Python
number that the body changes becomes a 0-d tensor; a tensor must keep its type). The
condition also checks the `$brk` and `$ret` flags, so `break` and `return` end the loop.

>>> import eager
>>> from jit.script import script
>>> @script
... def steps_to_one(x):
...     n = 0
...     while x.max() > 1.0:
...         x = x / 2.0
...         n += 1
...     return n
>>> steps_to_one(eager.tensor([10.0, 3.0])).item()
4
>>> sorted(assigned_names(ast.parse("for i in r: y = i; break").body[0].body))
['$brk', 'y']
"""
from __future__ import annotations

import ast
from typing import Any

from eager.dispatch import apply
from eager.tensor import Tensor
from jit.script.regions import Region, blank, unify
from jit.script.scope import (
    MISSING,
    fresh,
    shown,
    substitute,
    template,
    tensors,
    types,
    unique,
    zeros,
)
from jit.script.values import Undefined, describe, leaves, rebuild, structure, type_of
from kernels import OPS
from tracer.control import While

MAX_TYPE_ROUNDS = 4


def assigned_names(stmts: list[ast.stmt]) -> set[str]:
    """Names a loop body assigns, flags included (`$brk` only for its own breaks)."""
    names: set[str] = set()
    for stmt in stmts:
        for node in _this_loop(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Break):
                names.add("$brk")
            elif isinstance(node, ast.Return):
                names.update(("$ret", "$val"))
    return names


def _this_loop(node: ast.AST):
    if isinstance(node, (ast.While, ast.For)):
        # A nested loop's break is its own; its other assignments are ours too.
        yield from (inner for inner in ast.walk(node) if not isinstance(inner, ast.Break))
        return
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _this_loop(child)



class Loops:
    """The loop statements of the lowerer (mixed into `jit.script.lower.Lowerer`)."""

    def stmt_While(self, stmt: ast.While, env: dict) -> None:
        if stmt.orelse:
            raise self.error("`while ... else` is not supported in script mode", stmt)
        self.loop(stmt, lambda e: self.expr(stmt.test, e), None, stmt.body, env,
                  assigned_names(stmt.body))

    def stmt_For(self, stmt: ast.For, env: dict) -> None:
        call = stmt.iter
        if stmt.orelse or not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                               and call.func.id == "range" and not call.keywords
                               and 1 <= len(call.args) <= 3):
            raise self.error("`for` loops are supported over `range(...)` only", stmt.iter)
        if not isinstance(stmt.target, ast.Name):
            raise self.error("the loop variable must be a name", stmt.target)
        bounds = [self.expr(a, env) for a in call.args]
        start, stop, step = (0, bounds[0], 1) if len(bounds) == 1 else (bounds + [1])[:3]
        if type(step) is not int or step == 0:
            raise self.error("the step of `range` must be a nonzero Python int", call)
        for bound in (start, stop):
            if isinstance(bound, Tensor) and (bound.dtype.kind not in "iu" or bound.ndim):
                raise self.error(f"a `range` bound must be an int or a 0-d integer tensor, "
                                 f"got {describe(bound)}", call)
        ctr, end = f"$ctr{id(stmt)}", f"$end{id(stmt)}"
        env[ctr], env[end] = start, stop

        def test(e: dict):
            return self.compare(ast.Lt() if step > 0 else ast.Gt(), e[ctr], e[end])

        def prologue(e: dict) -> None:
            e[stmt.target.id] = e[ctr]
            e[ctr] = self.binary(ast.Add(), e[ctr], step, stmt)
        self.loop(stmt, test, prologue, stmt.body, env,
                  assigned_names(stmt.body) | {stmt.target.id, ctr})
        del env[ctr], env[end]

    def loop(self, stmt, test, prologue, body: list[ast.stmt], env: dict,
             assigned: set[str]) -> None:
        """Lower a loop as a While node (module doc)."""
        self.at = stmt
        outer = self.region
        saved_brk = env.pop("$brk", None)
        env.pop("$cont", None)
        for flag in ("$brk", "$ret"):
            if flag in assigned:
                env.setdefault(flag, False)
        local = {n for n in assigned if n not in env or isinstance(env[n], Undefined)}
        carried = {n: [type_of(x) for x in leaves(env[n])] for n in assigned
                   if n not in local}
        for name, kinds in carried.items():
            if None in kinds:
                raise self.error(f"`{shown(name)}` holds {describe(env[name])}, which "
                                 "cannot change inside a loop on tensors")
        for _ in range(MAX_TYPE_ROUNDS):
            after = self._probe(test, prologue, body, env, carried, local)
            grown = {n: after[n] for n in after if n not in carried}
            changed = {n: k for n, k in after.items() if n in carried and k != carried[n]}
            for name, kinds in changed.items():
                if any(isinstance(x, Tensor) for x in leaves(env[name])):
                    raise self.error(f"`{shown(name)}` changes type in the loop: "
                                     f"{types(carried[name])} before, {types(kinds)} after "
                                     "one iteration", stmt)
            if not grown and not changed:
                break
            carried.update(grown)
            carried.update(changed)
            local -= set(grown)
        else:
            raise self.error("the loop's variables do not settle on one type", stmt)
        for name, kinds in carried.items():   # static starting values become tensors
            if name not in env or isinstance(env[name], Undefined):
                env[name] = rebuild(template(kinds), [zeros(k) for k in kinds])
            else:
                env[name] = rebuild(env[name], [self.to_tensor(x, k) for x, k in
                                                zip(leaves(env[name]), kinds)])
        names = sorted(carried)
        if not names:
            raise self.error("this loop changes no variable: it would never end or never "
                             "run", stmt)
        invariant = tensors({n: v for n, v in env.items() if n not in carried})
        seen = {id(t) for t in invariant}
        for n in names:   # each carried value needs a tensor of its own (`y = x` before)
            own = []
            for x in leaves(env[n]):
                if id(x) in seen:
                    x = self.guarded(apply, OPS.copy, x)
                seen.add(id(x))
                own.append(x)
            env[n] = rebuild(env[n], own)
        init = [x for n in names for x in leaves(env[n])]
        params = init + invariant
        cond_region = Region(self, "cond", outer, params)
        cond_env = substitute(env, cond_region)
        with cond_region.active():
            go = self._loop_test(test, cond_env, stmt)
        if go is False:
            self._restore(env, saved_brk, local)
            return
        body_region = Region(self, "body", outer, params)
        body_env = substitute(env, body_region)
        self.loops.append(stmt)
        try:
            with body_region.active():
                if prologue is not None:
                    prologue(body_env)
                self.block(body, body_env)
                body_env.pop("$cont", None)
                new = []
                for n in names:
                    got = body_env.get(n, MISSING)
                    if got is MISSING or isinstance(got, Undefined) or \
                            structure(got) != structure(env[n]):
                        raise self.error(f"`{shown(n)}` is not defined on every path "
                                         "through the loop body", stmt)
                    new += [self.to_tensor(x, k) for x, k in zip(leaves(got), carried[n])]
        finally:
            self.loops.pop()
        self.at = stmt
        finished = [cond_region.finish([go]), body_region.finish(new)]
        reads = unify(outer, finished)
        values = [outer.tracer.graph.new_value(t.shape, t.dtype, t.device) for t in init]
        outer.tracer.graph.nodes.append(While(tuple(reads), finished[0][0], finished[1][0],
                                              tuple(values), self.where()))
        made = []
        for t, v, start in zip(new, values, init):
            stand = fresh(t)
            outer.tracer.bind(stand, v)
            if self.is_weak(t) and self.is_weak(start):
                self.weak.add(stand)
            made.append(stand)
        it = iter(made)
        for n in names:
            env[n] = rebuild(env[n], [next(it) for _ in leaves(env[n])])
        self._restore(env, saved_brk, local)

    def _restore(self, env: dict, saved_brk: Any, local: set[str]) -> None:
        env.pop("$brk", None)
        if saved_brk is not None:
            env["$brk"] = saved_brk
        for name in local:
            if not name.startswith("$"):
                env[name] = Undefined(f"`{name}` is assigned only inside a loop; assign it "
                                      "before the loop to use it after")

    def _loop_test(self, test, env: dict, stmt) -> Any:
        go = self.condition(test(env), getattr(stmt, "test", stmt))
        for flag in ("$brk", "$ret"):
            value = env.get(flag, False)
            if isinstance(value, Tensor):
                go = self.logical("and", go, self.logical("not", value))
            elif value is True:
                go = False
        if go is True:
            raise self.error("this loop's condition never changes (an endless loop)", stmt)
        return go

    def _probe(self, test, prologue, body, env: dict, carried: dict, local: set) -> dict:
        """Lower the body once into a throwaway region with the carried variables as
        stand-ins of their current types; the types they have after one iteration."""
        probe_env = {}
        params = []
        for name, value in env.items():
            if name in carried:
                kinds = carried[name]
                shape = value if not isinstance(value, Undefined) else template(kinds)
                stands = [blank(*k, self.device) for k in kinds]
                for x, stand in zip(leaves(shape), stands):
                    if self.is_weak(x):
                        self.weak.add(stand)
                probe_env[name] = rebuild(shape, stands)
                params += stands
            else:
                probe_env[name] = value
                params += [x for x in leaves(value) if isinstance(x, Tensor)]
        for name, kinds in carried.items():
            if name not in probe_env:
                stands = [blank(*k, self.device) for k in kinds]
                probe_env[name] = rebuild(template(kinds), stands)
                params += stands
        region = Region(self, "probe", self.region, unique(params))
        sub = substitute(probe_env, region)
        self.loops.append(None)
        try:
            with region.active():
                if prologue is not None:
                    prologue(sub)
                self.block(body, sub)
        finally:
            self.loops.pop()
        after = {}
        for name in set(carried) | local:
            got = sub.get(name, MISSING)
            if got is MISSING or isinstance(got, Undefined):
                continue
            kinds = [type_of(x) for x in leaves(got)]
            if name in carried or name == "$val":
                if None in kinds:
                    raise self.error(f"`{shown(name)}` holds {describe(got)}, which cannot "
                                     "be a loop variable")
                after[name] = kinds
        return after


