"""The Graph IR: printing, the verifier, and hand-built graphs run by the interpreter."""
import numpy as np
import pytest

import eager
import tracer
from kernels import OPS, float32
from tracer import Graph, GraphError, Value


def small_graph() -> tuple[Graph, Value]:
    """y = tanh(x * 2) built by hand, the way a pass would."""
    g = Graph("hand")
    x = g.add_input("arg", (3,), float32, "cpu", label="x")
    g.in_tree = ((x,), {})
    g.arg_names = ("x",)
    m = g.add_node("mul", (x, 2.0), {}, (3,), float32, "cpu")
    y = g.add_node("tanh", (m,), {}, (3,), float32, "cpu")
    g.outputs = y
    return g, y


def test_print_is_one_typed_line_per_node():
    g = tracer.trace(lambda x, y: (x @ y).sum(axis=0), eager.ones(2, 3), eager.ones(3, 4))
    assert str(g).splitlines() == [
        "graph(x: %0 f32[2,3], y: %1 f32[3,4]) {",
        "  %2: f32[2,4] = matmul %0 %1",
        "  %3: f32[4] = sum %2 axis=(0,) keepdims=False",
        "  return %3",
        "}",
    ]


def test_hand_built_graph_verifies_and_runs_with_the_same_kernels():
    g, _ = small_graph()
    g.verify()
    x = eager.tensor([0.1, -0.5, 2.0])
    np.testing.assert_allclose(g(x).numpy(), np.tanh(x.numpy() * 2), rtol=1e-6)


def test_verify_rejects_a_wrong_output_type():
    g, _ = small_graph()
    g.nodes[-1].out.shape = (4,)
    with pytest.raises(GraphError, match=r"output is f32\[4\] but tanh's rule gives f32\[3\]"):
        g.verify()


def test_verify_rejects_use_before_definition():
    g, _ = small_graph()
    g.nodes.reverse()
    with pytest.raises(GraphError, match="used before it is defined"):
        g.verify()


def test_verify_rejects_reassignment():
    g, _ = small_graph()
    g.nodes.append(g.nodes[-1])
    with pytest.raises(GraphError, match="assigned twice"):
        g.verify()


def test_verify_rejects_wrong_arity_and_unknown_op_object():
    g, _ = small_graph()
    g.nodes[0].inputs = g.nodes[0].inputs[:1]
    with pytest.raises(GraphError, match="mul takes 2 inputs, got 1"):
        g.verify()
    g, _ = small_graph()
    g.nodes[1].op = type(OPS["tanh"])("tanh", "unary", 1, OPS["tanh"].impl, OPS["tanh"].infer)
    with pytest.raises(GraphError, match="not the registered"):
        g.verify()


def test_verify_rejects_undefined_outputs_and_bad_writebacks():
    g, y = small_graph()
    stray = g.new_value((3,), float32, "cpu")
    g.outputs = (y, stray)
    with pytest.raises(GraphError, match="output %.* is not defined"):
        g.verify()
    g, y = small_graph()
    g.writebacks.append(tracer.WriteBack(y, y))
    with pytest.raises(GraphError, match="target must be an argument or bound tensor"):
        g.verify()


def test_verify_rejects_shape_rule_violations():
    g = Graph()
    a = g.add_input("arg", (2,), float32, "cpu")
    b = g.add_input("arg", (3,), float32, "cpu")
    g.in_tree = ((a, b), {})
    g.add_node("add", (a, b), {}, (3,), float32, "cpu")
    with pytest.raises(GraphError, match="shape rule rejects its inputs: add: shapes"):
        g.verify()


def test_queries_over_the_graph():
    g = tracer.trace(lambda x: x * x + x, eager.ones(2))
    (x,) = g.args
    users = g.users()[x.id]
    assert [n.op.name for n in users] == ["mul", "add"]
    assert g.producers()[g.outputs.id].op.name == "add"
    assert [v.id for v in g.values()] == [0, 1, 2]


def test_trace_counts_each_op_once_and_interpreter_matches_eager():
    calls = []

    def f(x):
        calls.append(1)
        return (x.exp() - 1).relu().mean(axis=1, keepdims=True)

    x = eager.randn(3, 4)
    g = tracer.trace(f, x)
    assert len(calls) == 1
    for _ in range(3):
        y = eager.randn(3, 4)
        np.testing.assert_allclose(g(y).numpy(), f(y).numpy(), rtol=1e-6)
    assert len(calls) == 4
