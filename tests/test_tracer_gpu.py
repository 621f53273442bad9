"""The tracer on cuda tensors: the graph records the device, replays with cupy kernels,
writes back into device memory and moves data across devices like eager."""
import numpy as np
import pytest

import eager
import tracer

pytestmark = pytest.mark.gpu


def test_training_step_on_cuda_replays_like_eager():
    def build():
        gen = eager.Generator(device="cuda", seed=1)
        return [eager.randn(4, 2, device="cuda", generator=gen, requires_grad=True), gen]

    def make(state):
        w, gen = state

        def step(x):
            noise = eager.rand(4, 2, device="cuda", generator=gen)
            loss = ((x @ (w * noise)).tanh() ** 2).sum()
            loss.backward()
            with eager.no_grad():
                w.sub_(0.1 * w.grad)
                w.grad = None
            return loss.to("cpu")
        return step

    traced, eagerly = build(), build()
    x = eager.randn(3, 4, device="cuda")
    g = tracer.trace(make(traced), x)
    assert {v.device for v in g.inputs} == {"cuda"}
    assert g.output_values()[0].device == "cpu"
    eager_step = make(eagerly)
    eager_step(x)
    for _ in range(3):
        np.testing.assert_allclose(g(x).numpy(), eager_step(x).numpy(), rtol=1e-5)
    np.testing.assert_allclose(traced[0].detach().cpu().numpy(),
                               eagerly[0].detach().cpu().numpy(), rtol=1e-5)


def test_guards_and_constants_on_cuda():
    def f(x):
        c = eager.tensor([1., 2.], device="cuda")
        if (x > 0).all():
            return x + c
        return x - c

    g = tracer.trace(f, eager.ones(2, device="cuda"))
    assert g.consts[0].device == "cuda" and "[1.0, 2.0]" in str(g)
    assert g(eager.full((2,), 2., device="cuda")).cpu().tolist() == [3., 4.]
    with pytest.raises(tracer.GuardFailure):
        g(-eager.ones(2, device="cuda"))


def test_placeholder_on_cuda():
    a, b = tracer.Placeholder("a"), tracer.Placeholder("b")
    c = (a**2 + b**2) ** 0.5
    out = c(eager.tensor([3., 6.], device="cuda"), eager.tensor([4., 8.], device="cuda"))
    assert out.device == "cuda" and out.cpu().tolist() == [5., 10.]
