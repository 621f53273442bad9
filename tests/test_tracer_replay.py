"""Property: trace-then-replay equals eager on generated programs, forward and backward.

A program is a random sequence of steps over a pool of values that all broadcast to one
shape: elementwise unary and binary ops, keepdims reductions, view round trips, and
in-place writes into clones. The replay runs the same kernels in the same order, so its
results must be identical to eager's, not just close.
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import eager
import tracer
from tests.jit_programs import make_typed_inputs, run_typed_program, typed_programs

UNARY = [
    ("tanh", lambda t: t.tanh()),
    ("sigmoid", lambda t: t.sigmoid()),
    ("sin", lambda t: t.sin()),
    ("neg", lambda t: -t),
    ("abs", lambda t: abs(t)),
    ("square", lambda t: t * t),
    ("scale", lambda t: t * 0.5 + 1.0),
    ("relu", lambda t: t.relu()),
    ("exp_small", lambda t: (t.tanh()).exp()),
]
BINARY = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("maximum", lambda a, b: eager.maximum(a, b)),
    ("where", lambda a, b: eager.where(a > b, a, b)),
    ("div_safe", lambda a, b: a / (b * b + 1.0)),
]


def reduce_step(t, axis, kind):
    axis = axis % t.ndim
    if kind == 0:
        return t.sum(axis=axis, keepdims=True)
    if kind == 1:
        return t.mean(axis=axis, keepdims=True)
    return t.max(axis=axis, keepdims=True)


def view_step(t, kind):
    if kind == 0:
        return t.reshape(-1).reshape(t.shape)
    if kind == 1:
        return (t.T * 1.0).T
    return t.flip(0)


def inplace_step(t, other, kind):
    z = t.clone()
    z += other
    if kind == 0 or z.requires_grad:  # eager refuses in-place writes to views under autograd
        z[0] = z[0] * 2.0
    elif kind == 1:  # through a slice view: must update z
        z[..., :1].mul_(3.0)
    else:  # through a transpose then a slice, read back through another view
        alias = z.reshape(-1)
        z.T[0] += 1.0
        return alias.reshape(z.shape) * 1.0
    return z


@st.composite
def programs(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    steps = []
    for i in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["unary", "binary", "reduce", "view", "inplace"]))
        pick = st.integers(0, i + 1)  # pool holds x, y and one value per earlier step
        if kind == "unary":
            steps.append((kind, draw(st.integers(0, len(UNARY) - 1)), draw(pick)))
        elif kind == "binary":
            steps.append((kind, draw(st.integers(0, len(BINARY) - 1)), draw(pick), draw(pick)))
        elif kind == "reduce":
            steps.append((kind, draw(st.integers(0, 2)), draw(pick), draw(st.integers(0, 2))))
        elif kind == "view":
            steps.append((kind, draw(st.integers(0, 2)), draw(pick)))
        else:
            steps.append((kind, draw(st.integers(0, 2)), draw(pick), draw(pick)))
    return shape, steps


def run_program(steps, x, y):
    pool = [x, y]
    for step in steps:
        kind, which = step[0], step[1]
        if kind == "unary":
            pool.append(UNARY[which][1](pool[step[2]]))
        elif kind == "binary":
            pool.append(BINARY[which][1](pool[step[2]], pool[step[3]]))
        elif kind == "reduce":
            pool.append(reduce_step(pool[step[2]], step[3], which))
        elif kind == "view":
            pool.append(view_step(pool[step[2]], which))
        else:
            target = pool[step[2]]
            full = target + pool[step[3]] * 0.0  # broadcast to a shape `other` fits into
            pool.append(inplace_step(full, pool[step[3]], which))
    return pool[-1] + x * 0.0


def make_inputs(shape, seed, requires_grad=False):
    rng = np.random.default_rng(seed)
    return [eager.tensor(rng.uniform(-2, 2, shape).astype(np.float32),
                         requires_grad=requires_grad) for _ in range(2)]


def identical(a, b):
    if a is None or b is None:  # an input the program never used has no gradient
        assert a is None and b is None
        return
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@given(programs(), st.integers(0, 2**31 - 1))
def test_forward_replay_equals_eager(program, seed):
    shape, steps = program
    graph = tracer.trace(lambda x, y: run_program(steps, x, y), *make_inputs(shape, seed))
    graph.verify()
    fresh = make_inputs(shape, seed + 1)
    identical(graph(*fresh), run_program(steps, *fresh))


@given(programs(), st.integers(0, 2**31 - 1))
def test_backward_replay_equals_eager(program, seed):
    shape, steps = program

    def fn(x, y):
        out = run_program(steps, x, y)
        (out * out).sum().backward()
        return out.detach(), x.grad, y.grad

    graph = tracer.trace(fn, *make_inputs(shape, seed, requires_grad=True))
    replay_args = make_inputs(shape, seed + 1, requires_grad=True)
    eager_args = make_inputs(shape, seed + 1, requires_grad=True)
    replayed, expected = graph(*replay_args), fn(*eager_args)
    for r, e in zip(replayed, expected):
        identical(r, e)
    for r, e in zip(replay_args, eager_args):  # the .grad side effect on the arguments
        identical(r.grad, e.grad)


@given(programs(), st.integers(0, 2**31 - 1))
def test_differentiable_replay_equals_eager(program, seed):
    """Outputs that required grad while tracing come back differentiable: backward through
    a replay gives eager's gradients."""
    shape, steps = program
    graph = tracer.trace(lambda x, y: run_program(steps, x, y),
                         *make_inputs(shape, seed, requires_grad=True))
    replay_args = make_inputs(shape, seed + 1, requires_grad=True)
    eager_args = make_inputs(shape, seed + 1, requires_grad=True)
    replayed = graph(*replay_args)
    expected = run_program(steps, *eager_args)
    identical(replayed, expected)
    (replayed * replayed).sum().backward()
    (expected * expected).sum().backward()
    for r, e in zip(replay_args, eager_args):
        identical(r.grad, e.grad)


@given(typed_programs(), st.integers(0, 2**31 - 1))
def test_int_bool_float16_replay_equals_eager(program, seed):
    """Generated int32/int64/bool/float16 programs replay exactly, in their own dtype."""
    dtype, shapes, steps = program
    graph = tracer.trace(lambda *xs: run_typed_program(steps, xs),
                         *make_typed_inputs(dtype, shapes, seed))
    fresh = make_typed_inputs(dtype, shapes, seed + 1)
    replayed, expected = graph(*fresh), run_typed_program(steps, fresh)
    assert replayed.dtype == expected.dtype == dtype
    identical(replayed, expected)
