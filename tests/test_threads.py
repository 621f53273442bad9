"""The interpreter stack, grad mode and jit switches are per thread: a trace records only
its own thread's ops, and nothing one thread sets is seen by another.

The threads here really run at once: a tiny switch interval makes the interpreter change
threads every few bytecodes, so ops of the two threads interleave inside every trace.
"""
import sys
import threading

import numpy as np
import pytest

import eager
import tracer
from eager.dispatch import get_hook
from jit import jit, jit_enabled

TRIALS = 200


@pytest.fixture(autouse=True)
def _switch_often(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def run_in_threads(*targets):
    """Run each target in its own thread, started together; return their results and the
    interpreter state each thread was left in. An exception in a thread is re-raised."""
    start = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def body(i, target):
        try:
            start.wait()
            value = target()
            results[i] = ("ok", value, leftover_state())
        except BaseException as exc:  # noqa: BLE001  (reported in the main thread)
            results[i] = ("error", exc, None)

    threads = [threading.Thread(target=body, args=(i, t)) for i, t in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for status, value, _ in results:
        if status == "error":
            raise value
    return [value for _, value, _ in results], [state for _, _, state in results]


def leftover_state():
    return get_hook(), eager.is_grad_enabled(), jit_enabled()


CLEAN = (None, True, True)


def traced_step(w):
    def step(x):
        y = (x * 2 + 1).tanh()
        for _ in range(5):
            y = y * 0.5 + x
        w.add_(y)
        return (y * y).sum()
    return step


def eager_work(v):
    total = eager.zeros(3)
    for i in range(40):
        total = total + (v * float(i)).sin()
        v.add_(1.0)
    return total.numpy()


def reference_graph_ops():
    graph = tracer.trace(traced_step(eager.zeros(3)), eager.ones(3))
    return [n.op.name for n in graph.nodes]


def test_a_trace_records_only_its_own_threads_ops():
    expected_ops = reference_graph_ops()
    expected_eager = eager_work(eager.zeros(3))
    for _ in range(TRIALS):
        w, v = eager.zeros(3), eager.zeros(3)
        x = eager.tensor([0.1, 0.2, 0.3])
        (graph, eager_result), states = run_in_threads(
            lambda w=w, x=x: tracer.trace(traced_step(w), x), lambda v=v: eager_work(v))
        assert states == [CLEAN, CLEAN]
        assert [n.op.name for n in graph.nodes] == expected_ops
        np.testing.assert_allclose(eager_result, expected_eager, rtol=1e-6)
        v_after = v.tolist()
        w_before = w.numpy().copy()
        out = graph(x)
        # The replay repeats the traced thread's side effect, never the other thread's.
        assert v.tolist() == v_after
        expected = traced_step(eager.tensor(w_before))(x)
        np.testing.assert_allclose(w.numpy(), 2 * w_before, rtol=1e-6)
        np.testing.assert_allclose(out.item(), expected.item(), rtol=1e-6)
    assert leftover_state() == CLEAN


def test_two_threads_tracing_at_once_each_get_their_own_graph():
    def trace_one(scale):
        return lambda: tracer.trace(lambda x: (x * scale).exp().sum(), eager.ones(4))

    for _ in range(TRIALS // 4):
        (g1, g2), states = run_in_threads(trace_one(1.0), trace_one(2.0))
        assert states == [CLEAN, CLEAN]
        assert [n.op.name for n in g1.nodes] == [n.op.name for n in g2.nodes] == \
            ["mul", "exp", "sum"]
        assert g1(eager.zeros(4)).item() == g2(eager.zeros(4)).item() == 4.0
        np.testing.assert_allclose(g2(eager.ones(4)).item(), 4 * np.exp(2.0), rtol=1e-6)


def test_grad_mode_is_per_thread():
    inside = threading.Event()
    checked = threading.Event()
    x = eager.tensor([1.0, 2.0], requires_grad=True)

    def without_grad():
        with eager.no_grad():
            inside.set()
            checked.wait(timeout=10)
            return eager.is_grad_enabled(), (x * 2).requires_grad

    def with_grad():
        inside.wait(timeout=10)
        seen = eager.is_grad_enabled(), (x * 2).requires_grad
        checked.set()
        return seen

    (in_no_grad, other), states = run_in_threads(without_grad, with_grad)
    assert in_no_grad == (False, False)
    assert other == (True, True)
    assert states == [CLEAN, CLEAN] and leftover_state() == CLEAN


def test_jit_disabled_is_per_thread():
    f = jit(lambda x: x * 3)
    inside = threading.Event()
    called = threading.Event()

    def disabled_thread():
        import jit as jit_package

        with jit_package.disabled():
            inside.set()
            called.wait(timeout=10)
            return jit_enabled(), f(eager.ones(2)).tolist()

    def enabled_thread():
        inside.wait(timeout=10)
        seen = jit_enabled(), f(eager.ones(2)).tolist(), f(eager.ones(2)).tolist()
        called.set()
        return seen

    (in_disabled, other), states = run_in_threads(disabled_thread, enabled_thread)
    assert in_disabled == (False, [3.0, 3.0])
    assert other == (True, [3.0, 3.0], [3.0, 3.0])
    info = f.cache_info()
    # The enabled thread traced once and replayed once; the disabled thread ran eagerly.
    assert (info.misses, info.hits, info.variants) == (1, 1, 1)
    assert states == [CLEAN, CLEAN] and leftover_state() == CLEAN


def test_racing_first_calls_of_one_jitted_function():
    w = eager.tensor([1.0, 2.0, 3.0])

    def fn(x):
        y = x * w
        if y.sum() > 0:        # a guard, read while other threads trace too
            return (y + 1).tanh() * 2
        return y

    def reference(x):
        return fn(x).numpy()

    for trial in range(20):
        f = jit(fn)
        inputs = [eager.tensor(np.random.default_rng(trial * 4 + i).uniform(0, 1, 3)
                               .astype(np.float32)) for i in range(4)]
        results, states = run_in_threads(*[lambda x=x, f=f: f(x).numpy() for x in inputs])
        assert states == [CLEAN] * 4
        for x, got in zip(inputs, results):
            np.testing.assert_allclose(got, reference(x), rtol=1e-6)
        info = f.cache_info()
        assert info.variants == 1 and 1 <= info.misses <= 4
        before = info.hits
        again = eager.tensor([0.5, 0.25, 0.125])
        np.testing.assert_allclose(f(again).numpy(), reference(again), rtol=1e-6)
        assert f.cache_info().hits == before + 1 and f.cache_info().variants == 1
    assert leftover_state() == CLEAN


def test_jitted_call_in_one_thread_while_another_traces():
    """A trace in one thread must not make another thread's jitted calls run eagerly (or
    be recorded): each thread's jit sees only its own stack."""
    g = jit(lambda x: (x + 1) * 2)

    def jitted_calls():
        return [g(eager.full((2,), float(i))).tolist() for i in range(30)]

    def tracing():
        return tracer.trace(lambda x: sum((x * i for i in range(30)), x), eager.ones(2))

    trials = TRIALS // 20
    for _ in range(trials):
        (calls, graph), states = run_in_threads(jitted_calls, tracing)
        assert states == [CLEAN, CLEAN]
        assert calls == [[(i + 1) * 2.0] * 2 for i in range(30)]
        assert [n.op.name for n in graph.nodes] == ["mul", "add"] * 30
    info = g.cache_info()
    # Every call but the first replayed: none ran eagerly because the other thread traced.
    assert (info.misses, info.hits, info.eager_calls) == (1, 30 * trials - 1, 0)
