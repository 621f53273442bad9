"""The backward of a scripted `while` does O(n) body trips (two levels of C checkpoint
slots) instead of recomputing every trip from the start (n²/2), gives the gradients
eager autograd gives for every trip count around the slot boundaries, and stays one
graph under `@jit`; the slot reads and writes it stands on (`jit.script.slots`) agree
with numpy, clamp, differentiate and compile."""
import numpy as np
import pytest

import eager
import jit
from eager.autograd import gradcheck
from eager.interpreters import DispatchHook, interpreting
from jit import script
from jit.script import loop_backward
from jit.script.slots import read_slot, write_slot
from kernels.errors import DTypeError, ShapeError

F64 = eager.float64
SLOTS = 3


@pytest.fixture
def three_slots(monkeypatch):
    """Backward loops built from now on use C = 3 slots per level (C² + 3 = 12 trips)."""
    monkeypatch.setattr(loop_backward, "MAX_SLOTS", SLOTS)


# ---- programs: each run eagerly and scripted -----------------------------------------


def walk(x, r, n):
    i = eager.tensor(0)
    while i < n:
        x = x * r + 0.1 * x.sin() + 0.01 * i.astype(x.dtype)   # reads the carried int
        i = i + 1
    return x


def nested(x, r, n):
    i = eager.tensor(0)
    while i < n:
        j = eager.tensor(0)
        while j < 2:
            x = x * r + 0.1 * x.sin()
            j = j + 1
        i = i + 1
    return x


def two_carried(x, y, r, n):
    i = eager.tensor(0)
    while i < n:
        x, y = x * r + 0.1 * y.sin(), y - 0.2 * x.tanh()
        i = i + 1
    return x + y


def _inputs(n):
    x = eager.tensor([0.3, -0.7, 1.1], dtype=F64, requires_grad=True)
    r = eager.tensor(0.9, dtype=F64, requires_grad=True)
    return x, r, eager.tensor(n)


def _grads(fn, *args):
    loss = (fn(*args) * eager.tensor([1.0, -2.0, 0.5], dtype=F64)).sum()
    wanted = [a for a in args if a.requires_grad]
    grads = eager.grad(loss, wanted, allow_unused=True)   # r: unused by 0 eager trips
    return [np.zeros(a.shape) if g is None else g.numpy() for g, a in zip(grads, wanted)]


@pytest.mark.parametrize("n", [0, 1, 2, SLOTS - 1, SLOTS, SLOTS + 1, SLOTS ** 2,
                               SLOTS ** 2 + 3])
def test_gradients_match_eager_autograd_and_finite_differences(three_slots, n):
    scripted = script(walk)
    for got, want in zip(_grads(scripted, *_inputs(n)), _grads(walk, *_inputs(n))):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    x, r, count = _inputs(n)
    assert gradcheck(lambda x, r: scripted(x, r, count), [x, r])


@pytest.mark.parametrize("n", [0, 1, 5, SLOTS ** 2 + 3])
def test_nested_loops_and_two_carried_values(three_slots, n):
    for fn in (nested, two_carried):
        scripted = script(fn)
        x, r, count = _inputs(n)
        args = (x, r, count) if fn is nested else (x, x.detach().flip(0).requires_grad_(),
                                                   r, count)
        fresh = [a.detach().requires_grad_() if a.dtype == F64 else a for a in args]
        for got, want in zip(_grads(scripted, *args), _grads(fn, *fresh)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
        floats = [a for a in args if a.dtype == F64]
        assert gradcheck(lambda *fs, f=scripted, n=count: f(*fs, n), floats)


def test_a_long_loop_with_the_default_slots():
    n = loop_backward.MAX_SLOTS ** 2 + 3   # past two full levels: recomputes within slots
    for got, want in zip(_grads(script(walk), *_inputs(n)), _grads(walk, *_inputs(n))):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


# ---- how many body trips the backward pass runs ----------------------------------------


class _CountSin(DispatchHook):
    """Counts the `sin` ops eager runs: one per trip of `walk`'s body (sin's own backward
    is a cos), so this counts the body trips of a backward pass."""

    def __init__(self):
        self.trips = 0

    def record(self, op, inputs, attrs, out):
        self.trips += op.name == "sin"


def _backward_trips(n):
    x, r, count = _inputs(n)
    out = script(walk)(x, r, count).sum()
    with interpreting(_CountSin()) as counter:
        out.backward()
    return counter.trips


@pytest.mark.parametrize("n, trips", [
    (0, 0),
    (1, 1 + 0 + 1),     # count, store (nothing after the last slot), one pull-back
    (30, 30 + 29 + 30),  # n <= C, one trip per slot: count n, store n - 1, pull back n
])
def test_backward_trips_with_one_trip_per_slot(n, trips):
    assert n <= loop_backward.MAX_SLOTS
    assert _backward_trips(n) == trips


def test_backward_trips_with_two_levels(three_slots):
    # n = 12, C = 3: 3 segments of 4 trips; each stores after 0 and 2 of its trips.
    count, store, segments, recompute, pull_back = 12, 8, 3 * 2, 3 * 2, 12
    assert _backward_trips(12) == count + store + segments + recompute + pull_back


@pytest.mark.parametrize("n", [SLOTS ** 2, 25, 60])
def test_backward_trips_grow_linearly_not_quadratically(three_slots, n):
    trips = _backward_trips(n)
    # n + n * ceil(n / C²) / 2 at most besides count, two stores and the pull-backs; the
    # old recompute-from-the-start backward ran n + n(n-1)/2 + n.
    assert trips <= 4 * n + n * (-(-n // SLOTS ** 2) - 1) // 2
    assert trips < n + n * (n - 1) // 2


# ---- jit: one graph for every trip count ------------------------------------------------


def test_jitted_training_step_replays_one_graph_across_trip_counts():
    scripted = script(walk)
    w = eager.tensor([1.0, 0.5, -0.5], dtype=F64, requires_grad=True)
    r = eager.tensor(0.95, dtype=F64, requires_grad=True)

    def step(x, n, fn):
        w.grad, r.grad = None, None
        loss = (fn(x * w, r, n) ** 2).sum()
        loss.backward()
        return loss.detach(), w.grad, r.grad

    def arrays(tensors):   # r.grad: None after 0 eager trips
        return [np.zeros(()) if t is None else t.numpy().copy() for t in tensors]

    jitted = jit.jit(lambda x, n: step(x, n, scripted))
    x = eager.tensor([0.2, -0.4, 0.6], dtype=F64)
    for n in [0, 3, 70, 1, 200, 7]:
        want = arrays(step(x, eager.tensor(n), walk))
        got = arrays(jitted(x, eager.tensor(n)))
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    info = jitted.cache_info()
    assert info.misses == 1 and info.hits == 5
    assert not [g for g in jitted.graph_for(x, eager.tensor(3)).guards if g.kind == "bool"]


def test_every_backward_loop_compiles():
    x, r, count = _inputs(4)
    scripted = script(walk)
    scripted(x, r, count).sum().backward()
    loop = next(n for n in scripted.graph_for(x.detach(), r.detach(), count).nodes
                if type(n).__name__ == "While")
    loops = loop_backward.backward_of(loop, [x.detach(), eager.tensor(0), r.detach(), count])
    for unit in (loops.count, loops.advance, loops.store, loops.segment, loops.reverse):
        assert unit.program is not None, unit.reason


def test_slot_count_follows_the_memory_budget():
    assert loop_backward.slot_count(8) == loop_backward.MAX_SLOTS
    assert loop_backward.slot_count(loop_backward.SLOT_BUDGET_BYTES // 10) == 10
    assert loop_backward.slot_count(10 * loop_backward.SLOT_BUDGET_BYTES) == 2


# ---- the slots: values, clamping, gradients, jit, compiled loops -----------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("shape", [(4,), (4, 3), (2, 1, 5)])
def test_slots_agree_with_numpy(dtype, shape):
    rng = np.random.default_rng(0)
    data = (rng.standard_normal(shape) * 3).astype(dtype)
    value = (rng.standard_normal(shape[1:]) * 3).astype(dtype)
    for m in range(shape[0]):
        got = read_slot(eager.asarray(data), eager.tensor(m))
        np.testing.assert_array_equal(got.numpy(), data[m])
        want = data.copy()
        want[m] = value
        written = write_slot(eager.asarray(data), eager.tensor(m), eager.asarray(value))
        np.testing.assert_array_equal(written.numpy(), want)
        assert written.dtype == data.dtype


def test_slots_clamp_the_index_into_range():
    data = np.arange(12.0).reshape(4, 3)
    buffer = eager.asarray(data)
    for m, slot in [(-5, 0), (-1, 0), (4, 3), (100, 3)]:
        np.testing.assert_array_equal(read_slot(buffer, eager.tensor(m)).numpy(), data[slot])
        want = data.copy()
        want[slot] = -1.0
        got = write_slot(buffer, eager.tensor(m), eager.full((3,), -1.0, dtype=F64))
        np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal(buffer.numpy(), data)   # a write makes a new buffer


def test_slot_gradients():
    buffer = eager.tensor(np.linspace(-1, 1, 12).reshape(4, 3), dtype=F64, requires_grad=True)
    x = eager.tensor([0.5, -0.25, 2.0], dtype=F64, requires_grad=True)
    m = eager.tensor(2)
    assert gradcheck(lambda b: read_slot(b, m) ** 2, [buffer])
    assert gradcheck(lambda b, x: write_slot(b, m, x) ** 2, [buffer, x])
    write_slot(buffer, m, x).sum().backward()
    np.testing.assert_array_equal(buffer.grad.numpy()[2], 0.0)   # overwritten slot
    np.testing.assert_array_equal(x.grad.numpy(), 1.0)


def test_slots_under_jit_read_no_host_value():
    @jit.jit
    def swap_in(buffer, m, x):
        return read_slot(buffer, m), write_slot(buffer, m + 1, x)

    data = np.arange(8.0, dtype=np.float32).reshape(4, 2)
    for m in [0, 2, 3, -1]:
        old, new = swap_in(eager.asarray(data), eager.tensor(m), eager.ones(2))
        np.testing.assert_array_equal(old.numpy(), data[min(max(m, 0), 3)])
        want = data.copy()
        want[min(max(m + 1, 0), 3)] = 1.0
        np.testing.assert_array_equal(new.numpy(), want)
    assert swap_in.cache_info().misses == 1
    assert not swap_in.graph_for(eager.asarray(data), eager.tensor(0), eager.ones(2)).guards


def fill_rows(buffer, x, n):
    i = eager.tensor(0)
    while i < n:
        buffer = write_slot(buffer, i, x * i.astype(x.dtype))
        i = i + 1
    return buffer


def sum_rows(buffer, n):
    i = eager.tensor(0)
    total = read_slot(buffer, i) * 0.0
    while i < n:
        total = total + read_slot(buffer, i)
        i = i + 1
    return total


def test_slots_in_a_compiled_loop_agree_with_eager():
    filled, summed = script(fill_rows), script(sum_rows)
    buffer, x = eager.zeros(5, 3), eager.tensor([1.0, -2.0, 0.5])
    for n in [0, 2, 5, 9]:   # 9: writes past the end land in the last slot
        got = filled(buffer, x, eager.tensor(n))
        np.testing.assert_array_equal(got.numpy(), fill_rows(buffer, x, eager.tensor(n)).numpy())
        np.testing.assert_array_equal(summed(got, eager.tensor(n)).numpy(),
                                      sum_rows(got, eager.tensor(n)).numpy())
    assert filled.compiled_for(buffer, x, eager.tensor(1))
    assert summed.compiled_for(buffer, eager.tensor(1))
    np.testing.assert_array_equal(buffer.numpy(), 0.0)   # the caller's buffer is untouched


def cross_rows(a, b, x, n):
    i = eager.tensor(0)
    while i < n:
        a, b = write_slot(b, i, x + i.astype(x.dtype)), write_slot(a, i + 1, x * 2.0)
        i = i + 1
    return a, b


def test_slot_writes_that_exchange_carried_buffers_in_a_compiled_loop():
    crossed = script(cross_rows)
    a, b, x = eager.zeros(4, 2), eager.ones(4, 2), eager.tensor([1.0, -1.0])
    for n in [0, 1, 2, 3, 6]:
        for got, want in zip(crossed(a, b, x, eager.tensor(n)),
                             cross_rows(a, b, x, eager.tensor(n))):
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert crossed.compiled_for(a, b, x, eager.tensor(1))


def test_slot_errors_name_the_function_and_the_argument():
    buffer = eager.zeros(3, 2)
    with pytest.raises(DTypeError, match=r"read_slot: slot must be a 0-d integer tensor"):
        read_slot(buffer, eager.tensor(1.0))
    with pytest.raises(DTypeError, match=r"write_slot: slot .* int64\[2\]"):
        write_slot(buffer, eager.tensor([0, 1]), eager.zeros(2))
    with pytest.raises(ShapeError, match=r"write_slot: value of shape \(3,\)"):
        write_slot(buffer, eager.tensor(0), eager.zeros(3))
    with pytest.raises(ShapeError, match=r"read_slot: buffer must have at least one slot"):
        read_slot(eager.zeros(()), eager.tensor(0))
