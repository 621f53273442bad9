"""Generated adversarial programs: a jitted function and its eager twin are called over
several calls while the Python state they read is mutated between calls, with arguments
that alias each other or a captured tensor, views, non-contiguous inputs and in-place
writes. Every call must give eager's outputs and leave eager's state (captured tensors,
lists, module parameters, the arguments): a replay equals eager, or retraces, or runs
eagerly, never silently differs.

A "world" is the Python state a step closes over: captured tensors in a list, a list of
tensors it sums, a flag list, a float attribute and a Linear layer. Two identical worlds
are built per example, one for the jitted step and one for the eager step, and every
mutation is applied to both.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eager
from eager import nn
from jit import jit

SHAPE = (2, 3)
N_CAPS = 2


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def _full(value: float, shape=SHAPE) -> eager.Tensor:
    return eager.tensor(np.full(shape, value, dtype=np.float32)
                        + np.arange(np.prod(shape), dtype=np.float32).reshape(shape) / 8)


class World:
    """The Python state a generated step reads (see the module doc)."""

    def __init__(self) -> None:
        self.caps = [_full(0.5), _full(-0.25)]
        self.ws = [_full(0.1)]
        self.flags = [True]
        self.scale = 1.5
        self.lin = nn.Linear(3, 3)
        with eager.no_grad():
            self.lin.weight.copy_(eager.eye(3) * 0.5 + 0.1)
            self.lin.bias.copy_(eager.tensor([0.1, -0.2, 0.3]))

    def state(self) -> list[np.ndarray]:
        """Everything a call may change, as arrays to compare."""
        out = [t.numpy().copy() for t in self.caps + self.ws]
        out += [p.detach().numpy().copy() for p in self.lin.parameters()]
        return out + [np.array(self.flags + [self.scale])]


def _view(x: eager.Tensor, kind: str) -> eager.Tensor:
    if kind == "row":
        return x[0]
    if kind == "col":
        return x[:, 1]
    if kind == "T":
        return x.T
    return x.reshape(-1)[1:4]


def run_body(program, a, b, caps, ws, flags, scale, lin):
    """Interpret a generated program over the arguments and the world's state."""
    vals = [a, b, *caps]

    def pick(i):
        return vals[i % len(vals)]

    for op in program:
        kind = op[0]
        if kind == "unary":
            vals.append(getattr(eager, op[2])(pick(op[1])))
        elif kind == "binary":
            vals.append(getattr(eager, op[3])(pick(op[1]), pick(op[2])))
        elif kind == "view_add":
            _view(pick(op[1]), op[2]).add_(op[3])
        elif kind == "mul_":
            pick(op[1]).mul_(op[2])
        elif kind == "write":
            pick(op[1]).add_(pick(op[2]).tanh() * 0.1)
        elif kind == "list":
            total = pick(op[1])
            for w in ws:
                total = total + w
            vals.append(total)
        elif kind == "linear":
            vals.append(lin(pick(op[1])))
        elif kind == "flag":
            vals.append(pick(op[1]) * 2.0 if flags[0] else pick(op[1]) - 1.0)
        elif kind == "scale":
            vals.append(pick(op[1]) * scale)
        elif kind == "guard":
            x = pick(op[1])
            vals.append(x * 3.0 if x.sum() > 0.25 else x * 0.5)
    return vals[-1] * 1.0, vals[len(vals) // 2]


# Every generated program ends reading all of the world, so that each mutation changes
# what eager computes (`test_the_generator_reaches_every_kind_of_change`).
READ_ALL = [("list", -1), ("linear", -1), ("flag", -1), ("scale", -1), ("binary", -1, 2, "add"),
            ("binary", -1, 3, "add")]


def make_step(world: World, program):
    """The step the test jits: it names the world's attributes itself, so they are the
    Python state it reads."""
    program = list(program) + READ_ALL

    def step(a, b):
        with eager.no_grad():
            return run_body(program, a, b, world.caps, world.ws, world.flags, world.scale,
                            world.lin)
    return step


def mutate(world: World, change) -> None:
    """Change the world between two calls, as user code would."""
    kind = change[0]
    if kind == "rebind":
        world.caps[change[1]] = _full(change[2])
    elif kind == "cap_in_place":
        with eager.no_grad():
            world.caps[change[1]].mul_(change[2])
    elif kind == "append":
        world.ws.append(_full(change[1]))
    elif kind == "pop" and len(world.ws) > 1:
        world.ws.pop()
    elif kind == "flag":
        world.flags[0] = not world.flags[0]
    elif kind == "scale":
        world.scale = change[1]
    elif kind == "weight":
        world.lin.weight = nn.Parameter(eager.eye(3) * change[1])
    elif kind == "data":
        world.lin.weight.data = eager.eye(3) * change[1]
    elif kind == "bias_none":
        world.lin.bias = None


def make_args(world: World, mode: str, call: int) -> tuple:
    """The call's arguments: fresh, one tensor twice, overlapping views of one base, a
    transposed (non-contiguous) input, or a tensor the step also captures."""
    if mode == "same":
        x = _full(0.3 * call)
        return x, x
    if mode == "views":
        base = _full(0.2 * call, (4, 3))
        return base[:2], base[1:3]
    if mode == "transposed":
        return _full(0.1 * call, (3, 2)).T, _full(-0.4)
    if mode == "captured":
        return world.caps[0], _full(0.7)
    return _full(0.3 * call), _full(-0.1 * call)


_index = st.integers(0, 7)
_const = st.sampled_from([0.5, -1.0, 2.0, 0.25])
ops = st.one_of(
    st.tuples(st.just("unary"), _index, st.sampled_from(["tanh", "sin", "negative", "abs"])),
    st.tuples(st.just("binary"), _index, _index,
              st.sampled_from(["add", "subtract", "multiply", "maximum"])),
    st.tuples(st.just("view_add"), _index, st.sampled_from(["row", "col", "T", "flat"]),
              _const),
    st.tuples(st.just("mul_"), _index, _const),
    st.tuples(st.just("write"), _index, _index),
    st.tuples(st.sampled_from(["list", "linear", "flag", "scale", "guard"]), _index),
)
changes = st.one_of(
    st.tuples(st.just("rebind"), st.integers(0, N_CAPS - 1), _const),
    st.tuples(st.just("cap_in_place"), st.integers(0, N_CAPS - 1), _const),
    st.tuples(st.just("append"), _const),
    st.tuples(st.sampled_from(["pop", "flag", "bias_none"])),
    st.tuples(st.sampled_from(["scale", "weight", "data"]), _const),
)
calls = st.lists(st.tuples(st.lists(changes, max_size=2),
                           st.sampled_from(["fresh", "fresh", "same", "views", "transposed",
                                            "captured"])),
                 min_size=3, max_size=5)


def _outcome(fn, args):
    try:
        return fn(*args), None
    except Exception as exc:  # noqa: BLE001  (compared with eager's)
        return None, type(exc)


def _close(a, b) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(ops, max_size=6), calls)
def test_replay_equals_eager_under_mutation_and_aliasing(program, schedule):
    jit_world, eager_world = World(), World()
    jitted = jit(make_step(jit_world, program))
    reference = make_step(eager_world, program)
    for call, (mutations, mode) in enumerate(schedule):
        for change in mutations:
            mutate(jit_world, change)
            mutate(eager_world, change)
        jit_args = make_args(jit_world, mode, call)
        eager_args = make_args(eager_world, mode, call)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got, got_error = _outcome(jitted, jit_args)
        want, want_error = _outcome(reference, eager_args)
        where = f"call {call} ({mode}, after {mutations}): {jitted.cache_info()}"
        assert got_error == want_error, where
        if want_error is not None:
            continue
        for g, w in zip(got, want):
            assert _close(g.numpy(), w.numpy()), where
        for g, w in zip(jit_world.state(), eager_world.state()):
            assert _close(g, w), f"world state differs at {where}"
        for g, w in zip(jit_args, eager_args):
            assert _close(g.numpy(), w.numpy()), f"arguments differ at {where}"


def test_the_generator_reaches_every_kind_of_change():
    """[the fuzzer's own check] Each mutation changes what eager computes for some
    program, so a jit that ignored it would be caught."""
    program = []
    for change in [("rebind", 0, 2.0), ("cap_in_place", 0, 2.0), ("append", 0.5),
                   ("flag",), ("scale", 2.0), ("weight", 2.0), ("data", 2.0),
                   ("bias_none",)]:
        before_world, after_world = World(), World()
        mutate(after_world, change)
        step_before, step_after = make_step(before_world, program), \
            make_step(after_world, program)
        args = make_args(before_world, "fresh", 1)
        assert not np.allclose(step_before(*args)[0].numpy(), step_after(*args)[0].numpy()), \
            change


class TrainWorld:
    """A jitted training step's state: a layer, its SGD optimizer (with momentum) and a
    flag list choosing whether the step zeroes gradients first."""

    def __init__(self) -> None:
        self.lin = World().lin
        self.opt = eager.optim.SGD(self.lin.parameters(), lr=0.1, momentum=0.5)
        self.zero = [True]

    def state(self) -> list[np.ndarray]:
        out = [p.detach().numpy().copy() for p in self.lin.parameters()]
        return out + [np.zeros(1) if p.grad is None else p.grad.numpy().copy()
                      for p in self.lin.parameters()]


def make_train_step(world: TrainWorld):
    def step(x):
        if world.zero[0]:
            world.opt.zero_grad()
        loss = (world.lin(x).tanh() ** 2).sum()
        loss.backward()
        world.opt.step()
        return loss.detach()
    return step


def train_mutate(world: TrainWorld, change) -> None:
    kind, value = change
    group = world.opt.param_groups[0]
    if kind == "lr":
        group["lr"] = abs(value)
    elif kind == "momentum":
        state = world.opt.state_dict()
        state["param_groups"][0]["momentum"] = abs(value) % 1.0
        world.opt.load_state_dict(state)
    elif kind == "freeze":
        world.lin.bias.requires_grad_(value > 0)
    elif kind == "grad_none":
        world.lin.weight.grad = None
    elif kind == "zero":
        world.zero[0] = not world.zero[0]
    elif kind == "data":
        world.lin.weight.data = eager.eye(3) * value
    elif kind == "in_place":
        with eager.no_grad():
            world.lin.weight.mul_(value)
    elif kind == "weight":
        world.lin.weight = nn.Parameter(eager.eye(3) * value)


train_changes = st.tuples(st.sampled_from(["lr", "momentum", "freeze", "grad_none", "zero",
                                           "data", "in_place", "weight"]),
                          st.sampled_from([0.5, -1.0, 0.25, 1.0]))


@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.lists(st.lists(train_changes, max_size=2), min_size=3, max_size=6))
def test_training_step_replay_equals_eager_under_mutation(schedule):
    jit_world, eager_world = TrainWorld(), TrainWorld()
    jitted, reference = jit(make_train_step(jit_world)), make_train_step(eager_world)
    for call, mutations in enumerate(schedule):
        for change in mutations:
            train_mutate(jit_world, change)
            train_mutate(eager_world, change)
        x = _full(0.1 * call, (2, 3))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = jitted(x)
        want = reference(x)
        where = f"call {call} (after {mutations}): {jitted.cache_info()}"
        assert _close(got.numpy(), want.numpy()), where
        for g, w in zip(jit_world.state(), eager_world.state()):
            assert _close(g, w), f"state differs at {where}"
