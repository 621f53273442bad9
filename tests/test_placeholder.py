"""Placeholders: the founding description's deferred-execution example, verbatim, and the
rules around it (errors surface when called, with the expression's source line)."""
import numpy as np
import pytest

import eager
import tracer
from tracer import InputParameterPlaceholder, Placeholder


def test_founding_description_example_verbatim():
    a = InputParameterPlaceholder()
    b = InputParameterPlaceholder()
    c = (a**2 + b**2) ** 0.5
    assert callable(c) is True
    assert c(3, 4) == 5.0


def test_issue_example_with_names_and_tensors():
    a = tracer.Placeholder("a")
    b = tracer.Placeholder("b")
    c = (a**2 + b**2) ** 0.5
    out = c(eager.tensor([3., 6.]), eager.tensor([4., 8.]))
    assert isinstance(out, eager.Tensor)
    assert out.tolist() == [5., 10.]
    assert c(a=3, b=4) == 5.0 and c(3, b=4) == 5.0
    assert repr(c) == "Expr(((a ** 2) + (b ** 2)) ** 0.5)"


def test_building_computes_nothing():
    calls = []
    hook = eager.dispatch.DispatchHook()
    hook.record = lambda *args: calls.append(args)
    previous = eager.dispatch.set_hook(hook)
    try:
        a = Placeholder("a")
        expr = (a.exp() * 2 - a).sum(axis=0)
    finally:
        eager.dispatch.set_hook(previous)
    assert calls == []
    x = np.array([[0.5, 1.0], [2.0, -1.0]], np.float32)
    np.testing.assert_allclose(expr(eager.tensor(x)).numpy(), (np.exp(x) * 2 - x).sum(0),
                               rtol=1e-6)


def test_errors_are_raised_when_called_with_the_expression_line():
    a = Placeholder("a")
    b = Placeholder("b")
    d = a + b * 2  # the line the error must name
    with pytest.raises(eager.ShapeError) as info:
        d(eager.ones(2), eager.ones(3))
    message = str(info.value)
    assert "shapes (2,) and (3,) cannot be broadcast" in message
    assert "test_placeholder.py" in message
    assert "d = a + b * 2  # the line the error must name" in message
    assert "d(eager.ones(2), eager.ones(3))" in message  # and the call that triggered it


def test_each_input_signature_is_traced_once_and_replayed():
    x = Placeholder("x")
    e = (x.T @ x).sum(axis=0)
    first = e.trace(eager.ones(2, 3))
    assert e.trace(eager.ones(2, 3)) is first
    assert e.trace(eager.ones(4, 3)) is not first
    assert [n.op.name for n in first.nodes] == ["permute", "matmul", "sum"]
    assert e(eager.ones(2, 3)).tolist() == [6., 6., 6.]


def test_methods_properties_indexing_and_reflected_operators():
    x = Placeholder("x")
    e = (1 - x[0]).tanh() + abs(-x.T[1]) / 2
    data = np.array([[0.5, -1.0], [2.0, 3.0]], np.float32)
    expected = np.tanh(1 - data[0]) + np.abs(-data.T[1]) / 2
    np.testing.assert_allclose(e(eager.tensor(data)).numpy(), expected, rtol=1e-6)
    assert repr(e) == "Expr((1 - x[0]).tanh() + (abs(-x.T[1]) / 2))"


def test_gradients_flow_through_a_called_expression():
    w = Placeholder("w")
    loss = (w * w).sum()
    t = eager.tensor([1., 2.], requires_grad=True)
    loss(t).backward()
    assert t.grad.tolist() == [2., 4.]


def test_an_expression_called_inside_a_trace_is_recorded_by_that_trace():
    a = Placeholder("a")
    e = a.sin() * 2
    g = tracer.trace(lambda x: e(x) + 1, eager.zeros(2))
    assert [n.op.name for n in g.nodes] == ["sin", "mul", "add"]


def test_misuse_is_reported_clearly():
    a, b = Placeholder("a"), Placeholder("b")
    c = a * b
    with pytest.raises(TypeError, match=r"missing a value for placeholder\(s\) b"):
        c(1)
    with pytest.raises(TypeError, match=r"takes the placeholders \(a, b\)"):
        c(1, 2, 3)
    with pytest.raises(TypeError, match="has no truth value until it is called"):
        bool(a > 0)
    with pytest.raises(AttributeError, match="Tensor has no method or property"):
        a.no_such_method()
