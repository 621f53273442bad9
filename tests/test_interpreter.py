"""One Graph interpreter, several backends of one ExecutionPlan: they agree bit for bit on
generated programs; guard failures are structured; guards print where they are checked;
nodes with subgraphs verify, print and run."""
import numpy as np
import pytest
from hypothesis import given, settings

import eager
import tracer
from jit import jit
from jit.executable import Executable, GuardFailed
from jit.passes import count_nodes, dce, optimize
from kernels import float32
from tests.jit_programs import (
    make_inputs,
    make_typed_inputs,
    programs,
    run_program,
    run_typed_program,
    typed_programs,
)
from tracer import ExecutionPlan, Graph, GraphError, GuardFailure, Interpreter, Kernel, walk
from tracer.nested import DispatchInterpreter


def traced_program(program, shapes, acc):
    """fn(*xs) runs the program and adds its sum into `acc`, a tensor bound by reference,
    so every backend also reads state in and writes it back."""
    def fn(*xs):
        out = run_program(program, xs)
        with eager.no_grad():
            acc.add_(out.sum())
        return out
    return fn, tracer.trace(fn, *make_inputs(shapes, 0))


def observe(run, leaves, acc):
    """(output, acc after) of one backend run starting from acc == 0."""
    with eager.no_grad():
        acc[...] = 0.0
    out = run(list(leaves))
    return out.numpy().copy(), acc.numpy().copy()


def same_bits(a, b, what):
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.shape == y.shape, what
        assert np.array_equal(x, y, equal_nan=True), what


@settings(max_examples=25, deadline=None)
@given(programs())
def test_backends_of_one_plan_agree_bit_for_bit(prog):
    shapes, program = prog
    acc = eager.zeros((), dtype=eager.float64)
    _, graph = traced_program(program, shapes, acc)
    leaves = make_inputs(shapes, 1)
    want = observe(Interpreter(graph).run, leaves, acc)
    same_bits(observe(DispatchInterpreter(graph, False).run, leaves, acc), want, "dispatch")
    for disable in [(), ("fuse",), ("memory",), ("fuse", "memory")]:
        optimized = optimize(graph, disable)[0]
        same_bits(observe(Interpreter(optimized).run, leaves, acc), want, f"interp {disable}")
        if "fuse" in disable:   # the replay runs the interpreter's numpy kernels
            replay = Executable(optimized, plan_memory="memory" not in disable)
            same_bits(observe(replay, leaves, acc), want, f"replay {disable}")
    # Fused kernels are generated C: libm's exp/tanh may differ from numpy's in the last
    # bit, so the fused replay is bit-identical to itself with and without buffer reuse,
    # and within rounding of the interpreter.
    fused = optimize(graph)[0]
    pooled = observe(Executable(fused), leaves, acc)
    same_bits(observe(Executable(fused, plan_memory=False), leaves, acc), pooled, "memory")
    for got, ref in zip(pooled, want):
        tol = {8: 1e-12, 4: 1e-5, 2: 1e-2}[got.dtype.itemsize] if got.dtype.kind == "f" else 0
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)


@settings(max_examples=40, deadline=None)
@given(typed_programs())
def test_backends_agree_bit_for_bit_on_int_bool_and_float16_programs(prog):
    """No libm here: integer, bool and float16 programs give the same bits on every
    backend, the fused C replay included."""
    dtype, shapes, program = prog
    graph = tracer.trace(lambda *xs: run_typed_program(program, xs),
                         *make_typed_inputs(dtype, shapes, 0))
    leaves = make_typed_inputs(dtype, shapes, 1)
    want = [Interpreter(graph).run(list(leaves)).numpy()]
    runs = {"dispatch": DispatchInterpreter(graph, False).run}
    for disable in [(), ("fuse",), ("memory",), ("fuse", "memory")]:
        optimized = optimize(graph, disable)[0]
        runs[f"interp {disable}"] = Interpreter(optimized).run
        runs[f"replay {disable}"] = Executable(optimized, plan_memory="memory" not in disable)
    for what, run in runs.items():
        same_bits([run(list(leaves)).numpy()], want, what)


@settings(max_examples=10, deadline=None)
@given(programs())
def test_check_mode_returns_the_replay_bit_for_bit(prog):
    shapes, program = prog
    results = []
    for check in (False, True):
        acc = eager.zeros((), dtype=eager.float64)
        fn, _ = traced_program(program, shapes, acc)
        jitted = jit(fn, check=check)
        jitted(*make_inputs(shapes, 0))                 # traces
        with eager.no_grad():
            acc[...] = 0.0
        out = jitted(*make_inputs(shapes, 1))           # a replay (compared with eager)
        results.append((out.numpy(), acc.numpy()))
        assert jitted.cache_info().hits == 1
    same_bits(results[1], results[0], "check mode")


# ---- guards ----------------------------------------------------------------------------
def branchy(x):
    y = x.exp()
    if y.sum() > 3.0:
        return y * 2.0
    return y - 1.0


def test_a_failed_guard_carries_the_guard_and_the_value_found():
    g = tracer.trace(branchy, eager.ones(2))
    with pytest.raises(GuardFailure) as info:
        g(eager.zeros(2))
    failure = info.value
    assert failure.guard is g.guards[0]
    assert (failure.kind, failure.expected, failure.actual) == ("bool", True, False)
    assert failure.where == g.guards[0].where and "if y.sum() > 3.0:" in failure.where
    assert failure.reason == (f"guard failed: bool({g.guards[0].value!r}) == True while "
                              f"tracing ({failure.where})")
    assert str(failure).startswith(failure.reason.replace(" (", ", but it is False now; ", 1)
                                   .split(";")[0])


def test_the_generated_replay_reports_the_same_structured_failure():
    g, _ = optimize(tracer.trace(branchy, eager.ones(2)))
    outcome = Executable(g).replay([eager.zeros(2)])
    assert isinstance(outcome, GuardFailed)
    assert (outcome.failure.kind, outcome.failure.actual) == ("bool", False)
    assert outcome.failure.guard.value is g.guards[0].value


def test_jit_retrace_reason_is_the_failure_reason_without_the_new_value():
    f = jit(branchy)
    f(eager.ones(2))
    f(eager.zeros(2))
    reason = f.cache_info().reasons[1]
    assert reason.startswith("guard failed: bool(%") and "== True while tracing" in reason
    assert "False" not in reason and "if y.sum() > 3.0:" in reason


def test_implicit_guards_on_bound_state_are_structured_too():
    w = eager.ones(2)
    g = tracer.trace(lambda x: x + w, eager.ones(2))
    w._data = np.ones(3, np.float32)
    with pytest.raises(GuardFailure) as info:
        g(eager.ones(2))
    assert (info.value.kind, info.value.expected, info.value.actual) == ("type", "f32[2]",
                                                                         "f32[3]")
    p = eager.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        (p * x).sum().backward()       # accumulates into p.grad: was it None?
        return p.grad * 1
    g = tracer.trace(step, eager.ones(2))   # leaves p.grad set
    with pytest.raises(GuardFailure) as info:
        g(eager.ones(2))
    assert (info.value.kind, info.value.expected, info.value.actual) == ("grad_defined",
                                                                         False, True)


def test_guards_print_right_after_the_node_they_read():
    g = tracer.trace(branchy, eager.ones(2))
    lines = str(g).splitlines()
    gt = next(i for i, line in enumerate(lines) if "= gt " in line)
    assert lines[gt + 1].startswith("  guard bool(")
    assert "= mul " in lines[gt + 2]          # the taken branch runs after the check


def test_entry_guards_print_after_the_inputs():
    w = eager.tensor(2.0)
    g = tracer.trace(lambda x: x * w if w.item() > 1 else x, eager.ones(2))
    lines = str(g).splitlines()
    assert lines[1].startswith("  ref %1: f32[]")
    assert lines[2].startswith("  guard item(%1) == 2.0")
    assert "= mul " in lines[3]
    assert [s.guards for s in ExecutionPlan(g).steps] == [()]
    assert ExecutionPlan(g).entry_guards == tuple(g.guards)


# ---- nodes with subgraphs --------------------------------------------------------------
def kernel_graph():
    """y = exp(x * 2) + x, with mul and exp wrapped in a Kernel node writing the exp."""
    g = Graph("hand")
    x = g.add_input("arg", (3,), float32, "cpu", label="x")
    g.in_tree, g.arg_names = ((x,), {}), ("x",)
    m = g.add_node("mul", (x, 2.0), {}, (3,), float32, "cpu")
    e = g.add_node("exp", (m,), {}, (3,), float32, "cpu")
    y = g.add_node("add", (e, x), {}, (3,), float32, "cpu")
    kernel = Kernel.of(g, g.nodes[:2], [e])
    g.nodes = [kernel, g.nodes[2]]
    g.outputs = y
    return g, kernel


def test_a_graph_with_a_subgraph_node_verifies_prints_and_interprets():
    g, kernel = kernel_graph()
    assert str(g.verify()).splitlines() == [
        "hand(x: %0 f32[3]) {",
        "  %2: f32[3] = kernel(%4 = %0) {",
        "    %1: f32[3] = mul %4 2.0",
        "    %2: f32[3] = exp %1",
        "  }",
        "  %3: f32[3] = add %2 %0",
        "  return %3",
        "}",
    ]
    assert [n.op.name for n in walk(g)] == ["kernel", "mul", "exp", "add"]
    assert kernel.subgraphs == (kernel.body,) and kernel.outs == (g.nodes[1].inputs[0],)
    x = eager.tensor([0.0, 0.5, -1.0])
    want = np.exp(x.numpy() * 2) + x.numpy()
    np.testing.assert_allclose(g(x).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(DispatchInterpreter(g, False).run([x]).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(Executable(g)([x]).numpy(), want, rtol=1e-6)
    # an outer trace sees every op inside the kernel
    outer = tracer.trace(lambda x: g(x) * 3.0, eager.ones(3))
    assert [n.op.name for n in outer.nodes] == ["mul", "exp", "add", "mul"]


def test_passes_walk_subgraph_nodes_whole():
    g, _ = kernel_graph()
    assert count_nodes(g) == 3
    g.outputs = g.inputs[0]
    assert dce(g).verify().nodes == []         # nothing reads the kernel's write
    g, kernel = kernel_graph()
    assert dce(g).nodes[0].body is kernel.body


def test_verify_rejects_malformed_subgraphs():
    g, kernel = kernel_graph()
    kernel.body.nodes[0].inputs = (g.inputs[0], 2.0)   # reads the outer x, not its parameter
    with pytest.raises(GraphError, match=r"node 0 \(%2: f32\[3\] = kernel\(%4 = %0\)\): in "
                                         r"its subgraph: .*%0 is used before it is defined"):
        g.verify()
    g, kernel = kernel_graph()
    kernel.body.inputs[0].shape = (4,)
    with pytest.raises(GraphError, match=r"parameter %4 \(arg f32\[4\]\) does not bind %0"):
        g.verify()
    g, kernel = kernel_graph()
    g.nodes[0] = kernel.with_inputs(())
    with pytest.raises(GraphError, match="takes 1 parameters but the node passes 0"):
        g.verify()
    g, kernel = kernel_graph()
    kernel.body.outputs = kernel.body.inputs[0]
    with pytest.raises(GraphError, match="outputs must be a tuple of its node Values"):
        g.verify()
    g, kernel = kernel_graph()
    g.nodes.append(kernel)
    with pytest.raises(GraphError, match="reuses an id of the enclosing graph"):
        g.verify()
