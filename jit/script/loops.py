"""Loops: `while`, `for i in range(...)` and `for row in tensor` (rows along dim 0, the
trip count from the shape; `enumerate` and `zip` of tensors too) lowered to `While`
nodes; `for` over tuples, lists and the members of an nn.ModuleList / nn.Sequential /
nn.ParameterList (and `enumerate` / `zip` of those) unrolled, one copy of the body per
item.

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
>>> @script
... def weighted_rows(m):
...     total = m[0] * 0.0
...     for i, row in enumerate(m):
...         for w in (1.0, 10.0):
...             total = total + row * (i * w)
...     return total
>>> weighted_rows(eager.tensor([[1.0, 2.0], [3.0, 4.0]])).tolist()
[33.0, 44.0]
"""
from __future__ import annotations

import ast
from typing import Any

from eager.dispatch import apply
from eager.nn import ModuleList, ParameterList, Sequential
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


def _target_names(target: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


class _Rows:
    """The item a loop over tensors binds at index `i`: the rows `t[i]` of `sources`
    (one tensor, or those of `parts` zipped), with `i` in front for `enumerate`."""

    def __init__(self, sources: tuple, counted: bool, parts: tuple) -> None:
        self.counted = counted
        self.parts = parts
        self.sources = sources if not parts else tuple(t for p in parts for t in p.sources)

    def at(self, sources: tuple, i: Any) -> Any:
        """The item for index `i`, reading the region's stand-ins of `sources`."""
        if not self.parts:
            return sources[0][i]
        items, used = [], 0
        for part in self.parts:
            items.append(part.at(sources[used:used + len(part.sources)], i))
            used += len(part.sources)
        if self.counted:
            return (i, items[0])
        return tuple(items)


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
        if stmt.orelse:
            raise self.error("`for ... else` is not supported in script mode", stmt)
        call = stmt.iter
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and \
                call.func.id == "range" and self.lookup("range", env, call.func) is range:
            if call.keywords or not 1 <= len(call.args) <= 3:
                raise self.error("`range` takes one to three positional arguments", call)
            self._for_range(stmt, [self.expr(a, env) for a in call.args], env)
            return
        seq = self._iteration(call, env)
        if isinstance(seq, list):
            self._unrolled(stmt, seq, env)
            return
        length, item = seq
        key = f"$seq{id(stmt)}"
        env[key] = item.sources
        self._for_range(stmt, [length], env, lambda e: item.at(e[key], e[f"$ctr{id(stmt)}"]))
        del env[key]

    def _iteration(self, node: ast.expr, env: dict) -> list | tuple:
        """What a `for` loop iterates over: a list of static items (a tuple or list, the
        members of an nn.ModuleList / nn.Sequential / nn.ParameterList: unrolled), or
        `(length, _Rows)` for tensors (a loop over the rows along dim 0)."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("enumerate", "zip") and not node.keywords:
            fn = self.lookup(node.func.id, env, node.func)
            if fn is enumerate and len(node.args) == 1:
                inner = self._iteration(node.args[0], env)
                if isinstance(inner, list):
                    return list(enumerate(inner))
                return inner[0], _Rows(inner[1].sources, True, (inner[1],))
            if fn is zip and node.args:
                parts = [self._iteration(a, env) for a in node.args]
                if all(isinstance(p, list) for p in parts):
                    return list(zip(*parts))
                if any(isinstance(p, list) for p in parts):
                    raise self.error("`zip` of tensors and Python sequences is not "
                                     "supported in script mode; zip tensors with tensors",
                                     node)
                return min(p[0] for p in parts), _Rows((), False, tuple(p[1] for p in parts))
        value = self.expr(node, env)
        if isinstance(value, (tuple, list)):
            return list(value)
        if isinstance(value, (ModuleList, Sequential, ParameterList)):
            return list(value)
        if isinstance(value, Tensor):
            if value.ndim == 0:
                raise self.error("iteration over a 0-d tensor", node)
            return value.shape[0], _Rows((value,), False, ())
        raise self.error(f"`for` loops are supported over `range(...)`, tensors, tuples and "
                         f"lists, nn.ModuleList / nn.Sequential members, and `enumerate` / "
                         f"`zip` of those; got {describe(value)}", node)

    def _for_range(self, stmt: ast.For, bounds: list, env: dict, item=None) -> None:
        call = stmt.iter
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
            self.assign(stmt.target, e[ctr] if item is None else item(e), e)
            e[ctr] = self.binary(ast.Add(), e[ctr], step, stmt)
        self.loop(stmt, test, prologue, stmt.body, env,
                  assigned_names(stmt.body) | _target_names(stmt.target) | {ctr})
        del env[ctr], env[end]

    def _unrolled(self, stmt: ast.For, items: list, env: dict) -> None:
        """A loop over static items, lowered once per item; a `break`, `continue` or
        `return` on a tensor condition puts the items after it under an If."""
        saved_brk = env.pop("$brk", None)
        self.loops.append(stmt)
        try:
            self._unroll_from(stmt, items, env)
        finally:
            self.loops.pop()
        env.pop("$brk", None)
        env.pop("$cont", None)
        if saved_brk is not None:
            env["$brk"] = saved_brk

    def _unroll_from(self, stmt: ast.For, items: list, env: dict) -> None:
        for k, value in enumerate(items):
            self.at = stmt
            self.assign(stmt.target, value, env)
            self.block(stmt.body, env)
            env.pop("$cont", None)
            flags = [env.get(f, False) for f in ("$brk", "$ret")]
            if any(f is True for f in flags):
                return
            dynamic = [f for f in flags if isinstance(f, Tensor)]
            if dynamic and items[k + 1:]:
                exited = dynamic[0]
                for flag in dynamic[1:]:
                    exited = self.logical("or", exited, flag)
                rest = items[k + 1:]
                self.branch(self.logical("not", exited),
                            lambda e, rest=rest: self._unroll_from(stmt, rest, e),
                            lambda e: None, env)
                return


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


