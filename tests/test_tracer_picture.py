"""Pictures: Graphviz source for static graphs and for the eager autograd graph."""
import re
import shutil
from pathlib import Path

import pytest

import eager
import tracer
from eager.autograd.picture import GraphvizNotFound

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")


def step_graph():
    w = eager.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    gen = eager.Generator(seed=0)

    def step(x):
        noise = eager.rand(2, generator=gen)
        loss = ((x @ w + eager.tensor([1., 1.])) * noise).sum()
        loss.backward()
        with eager.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad = None
        if loss > -1e9:
            return loss
        return loss * 0

    return tracer.trace(step, eager.ones(3, 2))


def node_line(source, text):
    return next(line for line in source.splitlines() if text in line and "[label=" in line)


def test_graph_dot_styles_each_kind_of_value():
    source = step_graph().to_dot()
    assert source.startswith('digraph "step" {') and source.rstrip().endswith("}")
    assert "shape=ellipse" in node_line(source, "x\\nf32[3,2]")          # argument
    assert "fillcolor=\"#fff3cd\"" in node_line(source, "w\\nf32[2,2]")  # bound parameter
    assert "rng" in source and "shape=note" in node_line(source, "const\\nf32[2]")
    assert "doubleoctagon" in node_line(source, "output 0")
    assert "shape=diamond" in node_line(source, "guard bool")
    assert re.search(r"v\d+ -> v\d+ \[style=dashed color=red .*write-back", source)
    assert "matmul\\nf32[3,2]" in source


def test_every_edge_joins_declared_nodes():
    source = step_graph().to_dot()
    declared = set(re.findall(r"^\s+(\w+) \[label=", source, re.MULTILINE))
    for a, b in re.findall(r"^\s+(\w+) -> (\w+)", source, re.MULTILINE):
        assert a in declared and b in declared


def test_eager_autograd_picture_walks_to_the_leaves():
    x = eager.tensor([1., 2.], requires_grad=True)
    y = eager.tensor([3., 4.], requires_grad=True)
    loss = (x * y + x.exp()).sum()
    source = eager.autograd.to_dot(loss)
    for name in ("SumBackward", "AddBackward", "MulBackward", "ExpBackward"):
        assert name in source
    assert source.count("leaf f32[2]") == 2
    assert "tensor f32[]" in source
    loss.backward()
    assert "(released)" in eager.autograd.to_dot(loss)


def test_picture_of_a_leaf_and_of_a_constant():
    assert "leaf" in eager.autograd.to_dot(eager.ones(2, requires_grad=True))
    assert "no grad" in eager.autograd.to_dot(eager.ones(2))


def test_render_without_graphviz_raises_a_named_error(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(GraphvizNotFound, match="Graphviz `dot` program is not installed"):
        step_graph().render(str(tmp_path / "g.svg"))
    assert step_graph()._repr_svg_() is None
    assert tracer.GraphvizNotFound is GraphvizNotFound


def test_render_rejects_unknown_formats(tmp_path):
    with pytest.raises(ValueError, match="unsupported picture format 'gif'"):
        step_graph().render(str(tmp_path / "g.gif"))


@needs_dot
def test_render_writes_svg_and_png(tmp_path):
    g = step_graph()
    svg = g.render(str(tmp_path / "g.svg"))
    assert Path(svg).read_text().lstrip().startswith(("<?xml", "<svg"))
    png = g.render(str(tmp_path / "g.png"))
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in g._repr_svg_()
    loss = (eager.ones(2, requires_grad=True) * 2).sum()
    from eager.autograd.picture import render
    assert render(eager.autograd.to_dot(loss), str(tmp_path / "a.svg")).endswith("a.svg")
