"""`jit.script`: scripted functions agree with eager on inputs taking different paths,
the compiled C loop agrees with the interpreted one bit for bit, gradients flow through
control flow, and everything outside the subset is a ScriptError naming file, line and
column."""
import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eager
import jit
import tracer
from eager.autograd import gradcheck
from jit import ScriptError, script
from tracer.control import If, While
from tracer.errors import GraphError
from tracer.graph import walk

# ---- programs, each run eagerly and scripted --------------------------------------


def halve(x, eps):
    while x.abs().max() >= eps:
        x = x * 0.5
    return x


def newton_sqrt(a):
    y = a
    for _ in range(60):
        y2 = 0.5 * (y + a / y)
        if (y2 - y).abs().max() <= 1e-6:
            return y2
        y = y2
    return y


def break_early(x, limit):
    total = x * 0.0
    for i in range(10):
        if x.sum() > limit:
            break
        total = total + x * i
        x = x + 1.0
    return total, x


def continue_odd(x, n):
    acc = x * 0.0
    for i in range(n):
        if i % 2 == 1:
            continue
        acc = acc + x * i
    return acc


def nested(x, m):
    s = x.sum() * 0.0
    i = 0
    while i < m:
        j = 0
        while j < i:
            s = s + x[j % 4]
            j = j + 1
        i = i + 1
    return s


def return_in_nested_loops(x):
    for i in range(4):
        for j in range(4):
            if (x * (i + j)).max() > 6.0:
                return x * i - j
    return -x


def branchy(x, y):
    if x.sum() > y.sum():
        z = x - y
    elif x.max() > 0.5:
        z = x * y
    else:
        z = y / 2.0
    return z if z.sum() > 0 else -z


PROGRAMS = [halve, newton_sqrt, break_early, continue_odd, nested, return_in_nested_loops,
            branchy]
SCRIPTED = {fn.__name__: script(fn) for fn in PROGRAMS}

vectors = st.lists(st.floats(-8, 8, width=32), min_size=4, max_size=4).map(
    lambda v: eager.tensor(v))
# multiples of 1/8: every sum, product and half in `branchy` is exact in float32, so a tie
# between two sums is a tie in the compiled condition and in numpy alike
eighths = st.lists(st.integers(-64, 64).map(lambda i: i / 8), min_size=4, max_size=4).map(
    lambda v: eager.tensor(v))
positive = st.lists(st.floats(0.5, 100, width=32), min_size=4, max_size=4).map(
    lambda v: eager.tensor(v))


def same(a, b):
    for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        x = x.detach().numpy() if hasattr(x, "numpy") else np.asarray(x)
        y = y.detach().numpy() if hasattr(y, "numpy") else np.asarray(y)
        np.testing.assert_array_equal(x, y)


def check(fn, *args):
    same(SCRIPTED[fn.__name__](*args), fn(*args))


@settings(max_examples=25, deadline=None)
@given(x=vectors, eps=st.sampled_from([1e-3, 0.5, 100.0]))
def test_halving_loop_matches_eager(x, eps):
    check(halve, x, eps)


@settings(max_examples=25, deadline=None)
@given(a=positive)
def test_newton_with_early_return_matches_eager(a):
    check(newton_sqrt, a)


@settings(max_examples=25, deadline=None)
@given(x=vectors, limit=st.sampled_from([-100.0, 0.0, 5.0, 1000.0]))
def test_break_matches_eager(x, limit):
    check(break_early, x, limit)


@settings(max_examples=20, deadline=None)
@given(x=vectors, n=st.integers(0, 6))
def test_continue_matches_eager(x, n):
    check(continue_odd, x, n)


@settings(max_examples=20, deadline=None)
@given(x=vectors, m=st.integers(0, 5))
def test_nested_loops_match_eager(x, m):
    check(nested, x, m)


@settings(max_examples=25, deadline=None)
@given(x=vectors)
def test_return_inside_nested_loops_matches_eager(x):
    check(return_in_nested_loops, x)


@settings(max_examples=25, deadline=None)
@given(x=eighths, y=eighths)
def test_if_elif_else_matches_eager(x, y):
    check(branchy, x, y)


def test_paths_zero_iterations_and_break_on_first():
    small = eager.tensor([1e-5, -1e-5])
    assert SCRIPTED["halve"](small, 1e-3).tolist() == small.tolist()   # zero trips
    total, x = SCRIPTED["break_early"](eager.ones(4), -1.0)            # break at once
    assert total.tolist() == [0.0] * 4 and x.tolist() == [1.0] * 4
    assert SCRIPTED["continue_odd"](eager.ones(2), 0).tolist() == [0.0, 0.0]


def test_loop_over_tensor_valued_bound():
    @script
    def triangle(n):
        s = 0
        for i in range(n):
            s = s + i
        return s

    assert triangle(eager.tensor(5)).item() == 10
    assert triangle(eager.tensor(0)).item() == 0
    assert triangle.compiles == 1


def rows_weighted(m):
    acc = m[0] * 0.0
    for i, row in enumerate(m):
        acc = acc + row * i
    for a, b in zip(m, m * 2.0):
        acc = acc + a * b
    for row in m:
        if row.sum() > 8.0:
            return acc - row
    return acc


def static_sequences(x):
    for s in (1.0, 2.0, 3.0):
        x = x * s
    for i, s in enumerate([0.5, 0.25, 4.0]):
        if x.sum() > 20.0:
            break
        if x.sum() < -20.0:
            continue
        x = x + s * i
    for s, t in zip((1.0, -1.0), [2.0, 3.0]):
        x = x * s + t
    return x


@settings(max_examples=15, deadline=None)
@given(st.lists(st.lists(st.floats(-4, 4, width=32), min_size=2, max_size=2),
                min_size=1, max_size=5))
def test_for_over_tensor_rows_enumerate_and_zip_match_eager(rows):
    m = eager.tensor(rows)
    same(script(rows_weighted)(m), rows_weighted(m))


@pytest.mark.parametrize("values", [[0.5, 0.5], [3.0, 2.0], [-5.0, -4.0], [10.0, 1.0]])
def test_for_over_tuples_and_lists_is_unrolled_with_break_and_continue(values):
    x = eager.tensor(values)
    scripted = script(static_sequences)
    same(scripted(x), static_sequences(x))
    assert not any(isinstance(n, While) for n in walk(scripted.graph_for(x)))


def test_for_over_module_list_and_sequential_members():
    class Stack(eager.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = eager.nn.ModuleList([eager.nn.Linear(3, 3) for _ in range(3)])
            self.head = eager.nn.Sequential(eager.nn.Tanh(), eager.nn.Linear(3, 2))

        def forward(self, x):
            for k, block in enumerate(self.blocks):
                x = x + block(x).relu() * (k + 1)
            for layer in self.head:
                x = layer(x)
            return x

    eager.manual_seed(3)
    model = Stack()
    scripted = script(model)
    x = eager.randn(4, 3)
    np.testing.assert_allclose(scripted(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-6)
    with eager.no_grad():
        model.head[1].bias.add_(1.0)   # parameters are read by reference
    np.testing.assert_allclose(scripted(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-6)


def test_python_locals_become_tensors_only_when_they_depend_on_tensors():
    @script
    def count(x):
        steps = 0
        scale = 2.0   # never changes: stays a Python float, baked in
        while x.max() > 1.0:
            x = x / scale
            steps += 1
        return x, steps

    _, steps = count(eager.tensor([9.0, 3.0]))
    assert steps.item() == 4 and steps.dtype == np.int64
    graph = count.graph
    assert [n.op.name for n in graph.nodes if n.subgraphs] == ["while"]
    assert any(n.op.name == "div" and 2.0 in n.inputs for n in walk(graph))


def test_static_conditions_are_decided_while_lowering():
    @script
    def f(x, training):
        if training:
            return x * 2.0
        return x

    f(eager.ones(2), True)
    assert not any(n.subgraphs for n in f.graph_for(eager.ones(2), True).nodes)
    assert f(eager.ones(2), False).tolist() == [1.0, 1.0]


# ---- compiled C against the interpreter --------------------------------------------

@pytest.mark.parametrize("fn,args", [
    (halve, (np.random.RandomState(0).uniform(-1e6, 1e6, 1000).astype(np.float32), 1e-3)),
    (newton_sqrt, (np.random.RandomState(1).uniform(0.1, 1e4, 1000).astype(np.float32),)),
    (return_in_nested_loops, (np.random.RandomState(2).uniform(-3, 3, 64).astype(np.float32),)),
    (break_early, (np.random.RandomState(3).uniform(-1, 1, 33).astype(np.float32), 10.0)),
])
def test_compiled_loop_equals_interpreted_bit_for_bit(fn, args):
    args = tuple(eager.asarray(a) if isinstance(a, np.ndarray) else a for a in args)
    scripted = SCRIPTED[fn.__name__]
    compiled = scripted._lowered(args)
    assert compiled.program is not None, compiled.reason
    leaves = list(args)
    same(compiled.run(leaves), compiled.interpreter.run(leaves))


def newton_any(a):
    y = a
    while ((y * y - a).abs() > 1e-6 * a).any():
        y = 0.5 * (y + a / y)
    return y


def two_carried(x, y):
    while (x - y).abs().max() > 0.01:
        x, y = 0.75 * x + 0.25 * y, 0.5 * (x + y)
    return x, y


@pytest.mark.parametrize("fn,arrays", [
    (newton_any, [np.random.RandomState(4).uniform(0.1, 1e4, 1001).astype(np.float32)]),
    (newton_any, [np.array([4.0, 1.0, 9.0], np.float32)]),
    (two_carried, [np.random.RandomState(5).uniform(-5, 5, 37).astype(np.float32),
                   np.random.RandomState(6).uniform(-5, 5, 37).astype(np.float32)]),
    (halve, [np.array([3.0, np.nan, 1e6] * 5, np.float32), 1e-3]),
])
def test_rotated_loop_fuses_the_condition_and_matches_interpreter(fn, arrays):
    # The condition's reduction runs in the body's last kernel, which writes the carried
    # values in place; results stay bit-identical to the interpreted graph.
    args = tuple(eager.asarray(a) if isinstance(a, np.ndarray) else a for a in arrays)
    compiled = script(fn)._lowered(args)
    assert compiled.program is not None, compiled.reason
    loop_source = compiled.program.source.split("void ej_program")[1]
    assert "if (!*(const unsigned char *)b[" in loop_source.split("for (;;) {")[1].split("\n")[1]
    assert "void *t" not in loop_source   # no swap: updated in place
    same(compiled.run(list(args)), compiled.interpreter.run(list(args)))
    eager_result = fn(*args)
    same(script(fn)(*args), eager_result)


def test_each_compiled_call_returns_fresh_arrays():
    # The program's buffers are reused by every call: a result must not be one of them.
    scripted = SCRIPTED["halve"]
    first = scripted(eager.tensor([8.0, 2.0]), 1.0)
    second = scripted(eager.tensor([64.0, 4.0]), 1.0)
    assert first.tolist() == [0.5, 0.125] and second.tolist() == [0.5, 0.03125]
    assert scripted._lowered((first, 1.0)).direct


def test_an_argument_updated_in_place_between_calls_is_read_afresh():
    # The program keeps the pointer of an argument passed again: it must see new data.
    x = eager.tensor([8.0, 2.0])
    assert SCRIPTED["halve"](x, 1.0).tolist() == [0.5, 0.125]
    x *= 4.0
    assert SCRIPTED["halve"](x, 1.0).tolist() == [0.5, 0.125]
    x -= 31.0
    assert SCRIPTED["halve"](x, 1.0).tolist() == [0.03125, -0.71875]


def test_body_without_c_kernel_runs_interpreted_and_explain_says_so():
    @script
    def power_iteration(m, v):
        for _ in range(20):
            v = m @ v
            v = v / v.abs().max()
        return v

    m = eager.tensor([[2.0, 0.0], [0.0, 1.0]])
    v = power_iteration(m, eager.ones(2, 1))
    np.testing.assert_allclose(v.numpy().ravel(), [1.0, 0.5 ** 20], rtol=1e-6)
    text = power_iteration.explain(m, eager.ones(2, 1))
    assert "interpreted" in text and "matmul" in text
    assert "one C call" in SCRIPTED["halve"].explain(eager.ones(3), 0.1)


def test_non_contiguous_input_is_read_correctly():
    x = eager.asarray(np.arange(12, dtype=np.float32).reshape(3, 4) + 1).T
    same(SCRIPTED["halve"](x, 1.0), halve(x, 1.0))


# ---- autograd ----------------------------------------------------------------------

def loop_and_branch(x, y):
    s = x * 0.0
    i = 0
    while i < 3:
        if (x * y).sum() > 0.0:
            s = s + (x * y).tanh()
        else:
            s = s - x.exp()
        x = x * 0.9
        i = i + 1
    return s.sum()


@pytest.mark.parametrize("y", [[1.0, 2.0, -0.5], [-1.0, -2.0, 0.5]])
def test_gradcheck_through_if_and_while(y):
    f = script(loop_and_branch)
    x = eager.tensor([0.3, -0.2, 0.5], dtype=eager.float64, requires_grad=True)
    y = eager.tensor(y, dtype=eager.float64, requires_grad=True)
    assert gradcheck(f, (x, y))
    f(x, y).backward()
    gx = x.grad.numpy().copy()
    x.grad = None
    y.grad = None
    loop_and_branch(x, y).backward()
    np.testing.assert_allclose(gx, x.grad.numpy(), rtol=1e-12)


def test_gradcheck_through_data_dependent_trip_count():
    @script
    def shrink(x):
        while x.abs().max() > 1.0:
            x = x * 0.5 + x.sin() * 0.01
        return (x * x).sum()

    x = eager.tensor([3.0, -7.0], dtype=eager.float64, requires_grad=True)
    assert gradcheck(shrink, (x,))


def test_jitted_training_step_with_a_scripted_part():
    @script
    def normalize(x):
        while x.abs().max() > 1.0:
            x = x * 0.5
        return x

    def make():
        eager.manual_seed(0)
        model = eager.nn.Linear(3, 1)
        return model, eager.optim.SGD(model.parameters(), lr=0.1)

    def train(model, opt, x, t):
        opt.zero_grad()
        loss = ((model(normalize(x)) - t) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    data = [eager.tensor([[4.0, 1.0, 2.0]]), eager.tensor([[40.0, -1.0, 2.0]])]
    target = eager.tensor([[1.0]])
    m1, o1 = make()
    m2, o2 = make()
    step = jit.jit(lambda x, t: train(m2, o2, x, t))
    for x in data * 3:
        expected = train(m1, o1, x, target)
        got = step(x, target)
        np.testing.assert_allclose(got.item(), expected.item(), rtol=1e-6)
    np.testing.assert_allclose(m2.weight.detach().numpy(), m1.weight.detach().numpy(),
                               rtol=1e-6)
    assert step.cache_info().misses == 1   # one graph serves every trip count
    graph = step.graph_for(data[0], target)
    assert any(isinstance(n, While) for n in graph.nodes)


def test_jitted_step_differentiating_through_a_scripted_part():
    @script
    def shrink(y):
        while y.abs().max() > 1.0:
            y = y * 0.5
        return y

    def make():
        eager.manual_seed(2)
        model = eager.nn.Linear(2, 2)
        return model, eager.optim.SGD(model.parameters(), lr=0.05)

    def train(model, opt, x):
        opt.zero_grad()
        loss = (shrink(model(x)) ** 2).sum()
        loss.backward()
        opt.step()
        return loss

    m1, o1 = make()
    m2, o2 = make()
    step = jit.jit(lambda x: train(m2, o2, x))
    for x in [eager.tensor([[3.0, -2.0]]), eager.tensor([[30.0, 1.0]])] * 2:
        np.testing.assert_allclose(step(x).item(), train(m1, o1, x).item(), rtol=1e-6)
    np.testing.assert_allclose(m2.weight.detach().numpy(), m1.weight.detach().numpy(),
                               rtol=1e-6)
    # The loop's backward is loops in the graph too: one graph for every trip count.
    assert step.cache_info().misses == 1
    graph = step.graph_for(eager.tensor([[3.0, -2.0]]))
    assert sum(isinstance(n, While) for n in graph.nodes) >= 3   # forward, count, reverse
    assert not [g for g in graph.guards if g.kind == "bool"]   # no guard on a loop test


def test_jitted_step_with_varying_trip_counts_replays_without_retracing():
    @script
    def settle(y, rate):
        while (y * y).sum() > 0.5:
            y = y * rate + 0.01 * y.tanh()
        return y

    w = eager.tensor([1.5, -0.5], requires_grad=True)
    rate = eager.tensor(0.7, requires_grad=True)

    def step_eager(x):
        w.grad, rate.grad = None, None
        loss = (settle(x * w, rate) ** 2).sum()
        loss.backward()
        return loss.detach(), w.grad, rate.grad

    step = jit.jit(step_eager)
    for scale in [1.0, 10.0, 100.0, 0.1, 1000.0]:   # 0 to ~20 trips
        x = eager.tensor([2.0, 1.0]) * scale
        want = [t.numpy().copy() for t in step_eager(x)]
        got = [t.numpy().copy() for t in step(x)]
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    info = step.cache_info()
    assert info.misses == 1 and info.hits == 4


def test_loop_backward_runs_as_compiled_loops_and_matches_eager_autograd():
    from jit.script.loop_backward import backward_of

    def settle(y, rate):
        while (y * y).sum() > 0.5:
            y = y * rate + 0.01 * y.tanh()
        return y

    scripted = script(settle)
    grads = []
    for fn in (scripted, settle):
        y = eager.tensor([3.0, 1.0], requires_grad=True)
        rate = eager.tensor(0.7, requires_grad=True)
        (fn(y, rate) * eager.tensor([1.0, -2.0])).sum().backward()
        grads.append((y.grad.numpy(), rate.grad.numpy()))
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    y = eager.tensor([3.0, 1.0])
    loop = next(n for n in scripted.graph_for(y, eager.tensor(0.7)).nodes
                if isinstance(n, While))
    loops = backward_of(loop, [y, eager.tensor(0.7)])
    for unit in (loops.count, loops.advance, loops.store, loops.segment, loops.reverse):
        assert unit.program is not None, unit.reason


def clip_and_settle(x, w):
    if (x * w).sum() > 0.0:
        x = x * w
    else:
        x = x.tanh() - w
    while x.abs().max() > 1.0:
        if x.sum() > 0.0:
            x = x * 0.5
        else:
            x = x * 0.25 + w * 0.01
    return x


def test_jitted_step_through_branches_and_loops_with_branches_never_retraces():
    w = eager.tensor([0.5, -1.5, 2.0], requires_grad=True)
    scripted = script(clip_and_settle)

    def step_with(fn):
        def step(x):
            w.grad = None
            loss = (fn(x, w) ** 2).sum()
            loss.backward()
            return loss.detach(), w.grad
        return step

    plain, step = step_with(clip_and_settle), jit.jit(step_with(scripted))
    inputs = [[3.0, 1.0, 2.0], [-30.0, 1.0, 2.0], [1.0, 40.0, -2.0], [0.1, 0.1, 0.1],
              [-9.0, -9.0, 9.0]]
    for values in inputs:
        x = eager.tensor(values)
        for got, want in zip(step(x), plain(x)):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-7)
    info = step.cache_info()
    assert (info.misses, info.hits) == (1, len(inputs) - 1)


@pytest.mark.parametrize("values", [[3.3, 1.1, 2.7], [-30.0, 1.3, 2.1], [0.13, 0.27, -0.31]])
def test_gradcheck_through_branches_inside_loops(values):
    x = eager.tensor(values, dtype=eager.float64, requires_grad=True)
    w = eager.tensor([0.5, -1.5, 2.0], dtype=eager.float64, requires_grad=True)
    assert gradcheck(script(clip_and_settle), (x, w))


@pytest.mark.parametrize("scale", [0.1, 3.0, 40.0])
def test_gradcheck_loop_backward_with_invariants_and_counter(scale):
    # Zero, a few and many trips; gradients for the carried value and two invariants.
    @script
    def damp(x, a, b):
        n = 0
        while x.abs().sum() > 1.0:
            x = x * a.sigmoid() + b * 0.01
            n += 1
        return x * n

    x = eager.tensor([1.0, -0.5], dtype=eager.float64) * scale
    x.requires_grad_()
    a = eager.tensor(0.3, dtype=eager.float64, requires_grad=True)
    b = eager.tensor([0.2, -0.1], dtype=eager.float64, requires_grad=True)
    assert gradcheck(damp, (x, a, b))


# ---- trace and script in one IR ------------------------------------------------------

def test_scripted_call_becomes_a_node_of_the_traced_graph():
    scripted = SCRIPTED["halve"]
    g = tracer.trace(lambda x: scripted(x * 2.0, 1.0) + 1.0, eager.ones(3))
    assert [n.op.name for n in g.nodes] == ["mul", "while", "add"]
    x = eager.tensor([100.0, 3.0, -1.0])
    same(g(x), halve(x * 2.0, 1.0) + 1.0)

    f = jit.jit(lambda x: scripted(x, 1.0).sum())
    for v in ([1.0, 2.0], [1e6, 3.0], [0.0, 0.0]):
        np.testing.assert_array_equal(f(eager.tensor(v)).numpy(),
                                      halve(eager.tensor(v), 1.0).sum().numpy())
    assert f.cache_info().misses == 1


def test_scripted_functions_call_scripted_functions():
    @script
    def inner(x):
        while x.sum() < 10.0:
            x = x + 1.0
        return x

    @script
    def outer(x):
        if x.max() > 0.0:
            return inner(x) * 2.0
        return inner(-x)

    assert outer(eager.tensor([1.0, 2.0])).tolist() == [10.0, 12.0]
    assert outer(eager.tensor([-1.0, -2.0])).tolist() == [5.0, 6.0]
    assert sum(isinstance(n, While) for n in walk(outer.graph)) == 2


def test_scripted_calls_inside_loops_nest_and_differentiate():
    @script
    def settle(x):
        while x.abs().max() > 2.0:
            x = x * 0.5
        return x

    @script
    def outer(x, n):
        for i in range(n):
            x = settle(x * 3.0) + i
            if x.sum() > 100.0:
                return x
        return x

    def plain(x, n):
        for i in range(n):
            y = x * 3.0
            while y.abs().max() > 2.0:
                y = y * 0.5
            x = y + i
            if x.sum() > 100.0:
                return x
        return x

    x = eager.tensor([3.0, -7.0, 0.5], dtype=eager.float64, requires_grad=True)
    for n in (0, 1, 3):
        with eager.no_grad():
            same(outer(x, n), plain(x, n))
        assert gradcheck(lambda t, n=n: outer(t, n).sum(), (x,))
    graph = outer.graph_for(x, 4)
    assert sum(isinstance(n, While) for n in walk(graph)) == 2   # the loop nests settle's


def test_scripted_module_binds_parameters_by_reference():
    class Refine(eager.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = eager.nn.Linear(2, 2)
            self.scale = eager.nn.Parameter(eager.tensor(0.5))

        def forward(self, x):
            y = self.fc(x)
            while y.abs().max() > 1.0:
                y = y * self.scale
            return y

    eager.manual_seed(1)
    module = Refine()
    scripted = jit.script(module)
    x = eager.tensor([[30.0, -4.0]])
    same(scripted(x), module(x))
    with eager.no_grad():
        module.scale[...] = 0.25   # state is read on every call
    with eager.no_grad():
        y = module.fc(x)
        while y.abs().max() > 1.0:
            y = y * 0.25
        expected = y
    with eager.no_grad():
        same(scripted(x), expected)
    assert scripted.scripted.compiles == 1


# ---- printing and pictures -------------------------------------------------------------

def test_graph_prints_control_flow_nested_and_indented():
    text = str(SCRIPTED["break_early"].graph_for(eager.ones(4), 1.0))
    assert "= while (" in text and "    cond(" in text and "    body(" in text
    assert "= if " in text and "        then(" in text and "        else(" in text
    assert text.count("yield") >= 4


def test_to_dot_draws_subgraphs_as_clusters():
    dot = SCRIPTED["branchy"].graph_for(eager.ones(4), eager.ones(4)).to_dot()
    assert 'label="if then"' in dot and 'label="if else"' in dot
    dot = SCRIPTED["halve"].graph_for(eager.ones(4), 1.0).to_dot()
    assert 'label="while cond"' in dot and 'label="while body"' in dot


def test_verify_checks_control_flow_types():
    graph = SCRIPTED["halve"].graph_for(eager.ones(4), 1.0)
    loop = next(n for n in graph.nodes if isinstance(n, While))
    loop.outs[0].shape = (5,)
    try:
        with pytest.raises(GraphError, match="initial values and the outputs differ"):
            graph.verify()
    finally:
        loop.outs[0].shape = (4,)
    branch = next(n for n in walk(SCRIPTED["branchy"].graph_for(eager.ones(4), eager.ones(4)))
                  if isinstance(n, If))
    assert branch.check_types() is None


# ---- ScriptError: file, line, column, caret ------------------------------------------

def helper(x):
    return x * 2


def err_try(x):
    try:
        return x
    except ValueError:
        return x


def err_generator(x):
    yield x


def err_with(x):
    with open("nothing") as f:
        return f


def err_call(x):
    return helper(x)


def err_types(x):
    if x.sum() > 0:
        y = x
    else:
        y = x.sum()
    return y


def err_recursion(x):
    if x.sum() > 0:
        return err_recursion(x - 1.0)
    return x


def err_host_read(x):
    return x * x.sum().item()


def err_one_branch(x):
    if x.sum() > 0:
        y = x
    return y


def err_setitem(x):
    x[0] = 1.0
    return x


def err_augmented_argument_in_loop(x):
    while x.sum() < 10.0:
        x += 1.0
    return x


def err_lambda(x):
    f = lambda t: t
    return f(x)


def err_for_over_str(x):
    for c in "ab":
        x = x * 2.0
    return x


def err_for_zip_mixed(x):
    for a, b in zip(x, (1.0, 2.0)):
        x = x + a * b
    return x


def err_for_over_scalar_tensor(x):
    for a in x.sum():
        x = x + a
    return x


def err_comprehension(x):
    return [t for t in (x, x)][0]  # noqa: RUF015


def err_dict(x):
    d = {"a": x}  # noqa: F841
    return x


def err_raise(x):
    raise ValueError("no")


def err_nested_def(x):
    def inner(t):
        return t
    return x


def err_assert(x):
    assert x.sum() > 0
    return x


def err_while_else(x):
    while x.sum() > 0:
        x = x - 1.0
        if x.max() > 5.0:
            break
    else:
        x = x + 1.0
    return x


def err_for_else(x):
    for _ in range(3):
        x = x * 2.0
        if x.max() > 5.0:
            break
    else:
        x = x + 1.0
    return x


def err_range_step(x):
    for i in range(0, 4, 0):
        x = x * 2.0
    return x


def err_range_float_bound(x):
    for i in range(x.sum()):
        x = x * 2.0
    return x


def err_loop_changes_type(x):
    y = x.sum()
    while y < 10.0:
        y = x * y
    return y


def err_endless(x):
    while True:
        x = x * 2.0
    return x


def err_expression_statement(x):
    x.sum()
    return x


def err_random_in_loop(x):
    while x.sum() < 1.0:
        x = x + eager.rand(3)
    return x


def err_dynamic_shape(x):
    return x[x > 0]


def err_grad(x):
    return x.grad


def err_in(x):
    if 1.0 in (x, x):
        return x
    return x


def err_unpack(x):
    a, b = (x, x, x)  # noqa: F841
    return a


def err_fall_off(x):
    if x.sum() > 0:
        return x


def err_in_place_method(x):
    return x.add_(1.0)


ERRORS = [
    (err_try, 1, 4, "`try` is not supported"),
    (err_generator, 1, 4, "generators are not supported"),
    (err_with, 1, 9, "`with` is supported only as `with eager.no_grad():`"),
    (err_call, 1, 11, "calls `helper`"),
    (err_types, 1, 7, "`y` is a tensor f32[3] on one path and a tensor f32[] on another"),
    (err_recursion, 2, 15, "calls itself (recursion)"),
    (err_host_read, 1, 15, "`Tensor.item` is not supported"),
    (err_one_branch, 3, 11, "assigned on only one branch"),
    (err_setitem, 1, 4, "assignment to attributes or items"),
    (err_lambda, 1, 8, "`lambda` is not supported"),
    (err_augmented_argument_in_loop, 2, 8, "would update the caller's tensor in place"),
    (err_for_over_str, 1, 13, "`for` loops are supported over `range(...)`, tensors"),
    (err_for_zip_mixed, 1, 16, "`zip` of tensors and Python sequences"),
    (err_for_over_scalar_tensor, 1, 13, "iteration over a 0-d tensor"),
    (err_comprehension, 1, 11, "comprehensions are not supported"),
    (err_dict, 1, 8, "dicts are not supported"),
    (err_raise, 1, 4, "`raise` is not supported"),
    (err_nested_def, 1, 4, "nested function definitions are not supported"),
    (err_assert, 1, 4, "`assert` is not supported"),
    (err_while_else, 1, 4, "`while ... else` is not supported"),
    (err_for_else, 1, 4, "`for ... else` is not supported"),
    (err_range_step, 1, 13, "the step of `range` must be a nonzero Python int"),
    (err_range_float_bound, 1, 13, "a `range` bound must be an int or a 0-d integer tensor"),
    (err_loop_changes_type, 2, 4, "`y` changes type in the loop: f32[] before, f32[3] after"),
    (err_endless, 1, 4, "an endless loop"),
    (err_expression_statement, 1, 4, "an expression statement has no effect"),
    (err_random_in_loop, 1, 4, "random generators are not supported"),
    (err_dynamic_shape, 1, 11, "`nonzero` gives a shape that depends on values"),
    (err_grad, 1, 11, "Tensor attribute `grad` is not available"),
    (err_in, 1, 7, "`in` is not supported"),
    (err_unpack, 1, 4, "cannot unpack a tuple of 3 into 2 names"),
    (err_fall_off, 1, 4, "some paths fall off the end of the function"),
    (err_in_place_method, 1, 11, "`Tensor.add_` is not supported"),
]


@pytest.mark.parametrize("fn,line,column,message", ERRORS, ids=[e[0].__name__ for e in ERRORS])
def test_script_errors_name_file_line_and_column(fn, line, column, message):
    first = inspect.getsourcelines(fn)[1]
    with pytest.raises(ScriptError) as info:
        scripted = script(fn)
        if fn is err_recursion:
            globals()["err_recursion"] = scripted
        try:
            scripted(eager.ones(3))
        finally:
            globals()["err_recursion"] = err_recursion_plain
    err = info.value
    assert message in str(err)
    assert err.file == __file__
    assert (err.line, err.column) == (first + line, column + 1)
    source_line = inspect.getsourcelines(fn)[0][line]
    shown = str(err).splitlines()
    assert shown[-2].strip() == source_line.strip()
    assert shown[-1].index("^") - 4 == column


err_recursion_plain = err_recursion


def test_script_is_an_attribute_of_the_jit_decorator_too():
    from jit import jit as decorator

    assert decorator.script is script and jit.script is script
    assert decorator.ScriptError is ScriptError


def test_scripted_method_compiles_once_per_instance():
    class Grower:
        def __init__(self, target):
            self.target = target

        @script
        def grow(self, x):
            while x.sum() < self.target:
                x = x * 2.0
            return x

    small, big = Grower(4.0), Grower(100.0)
    assert small.grow(eager.ones(2)).tolist() == [2.0, 2.0]
    assert big.grow(eager.ones(2)).tolist() == [64.0, 64.0]
    small.grow(eager.ones(2))
    assert small.grow is small.grow and small.grow.compiles == 1


def test_bound_state_changing_shape_lowers_again():
    state = {"w": eager.ones(2)}

    @script
    def scaled(x):
        return x * w

    w = state["w"]
    assert scaled(eager.ones(1)).tolist() == [1.0, 1.0]
    w._data = np.full(3, 2.0, np.float32)   # the bound tensor now holds another shape
    assert scaled(eager.ones(1)).tolist() == [2.0, 2.0, 2.0]
    assert scaled.compiles == 2


@pytest.mark.parametrize("values", [[1.0, float("nan")] + [0.0] * 30,
                                    [float(i) for i in range(40)],
                                    [-3.0] * 17 + [float("inf")]])
def test_compiled_max_and_min_match_numpy_with_nan_and_inf(values):
    @script
    def extremes(x):
        return x.max(), x.min(), (x * 2.0).abs().max()

    x = eager.tensor(values)
    compiled = extremes._lowered((x,))
    assert compiled.program is not None
    same(compiled.run([x]), compiled.interpreter.run([x]))
