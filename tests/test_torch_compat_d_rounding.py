"""Issue 11, part D: floor, ceil, round, trunc and sign have a zero gradient, as in
PyTorch (their outputs require grad; backward gives zeros, not "does not require grad")."""
import numpy as np
import pytest

import eager as torch
from eager.autograd import gradcheck
from jit import jit

X = [1.25, -2.75, 0.5, 2.5, -0.4, 3.0]
FUNCS = {
    "floor": lambda t: t.floor(),
    "ceil": lambda t: t.ceil(),
    "round": lambda t: t.round(),
    "round_decimals": lambda t: t.round(decimals=1),
    "trunc": lambda t: t.trunc(),
    "sign": lambda t: t.sign(),
    "frac": lambda t: t.frac(),
    "mixed": lambda t: (t * t.floor() + t.sign() * t.exp()).sum(),
}


def _grad(lib, name, values):
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    y = FUNCS[name](x)
    assert y.requires_grad
    y.sum().backward()
    return x.grad


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_gradients_are_torchs(name):
    got = _grad(torch, name, X).numpy()
    want = {"frac": np.ones(6), "mixed": np.floor(X) + np.sign(X) * np.exp(X)}.get(
        name, np.zeros(6))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    pt = pytest.importorskip("torch")
    np.testing.assert_allclose(got, _grad(pt, name, X).numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_gradcheck_away_from_the_jumps(name):
    x = torch.tensor([1.3, -2.6, 0.2, 2.7], dtype=torch.float64, requires_grad=True)
    assert gradcheck(FUNCS[name], [x])


def test_an_infinite_upstream_gradient_stays_zero_not_nan():
    x = torch.tensor([1.5, -0.5], dtype=torch.float64, requires_grad=True)
    y = x.floor()
    y.backward(torch.tensor([float("inf"), 1.0], dtype=torch.float64))
    assert x.grad.tolist() == [0.0, 0.0]


def test_jitted_gradients_equal_eager():
    def step(x):
        x = x.detach().requires_grad_()
        loss = (x * x.round() + x.ceil() * 2 + x.sign()).sum()
        (g,) = torch.grad(loss, [x])
        return loss.detach(), g

    f = jit(step)
    x = torch.tensor(X, dtype=torch.float64)
    for _ in range(2):
        (loss, g), (want_loss, want_g) = f(x), step(x)
        assert loss.item() == want_loss.item() and g.tolist() == want_g.tolist()
    assert f.cache_info().hits == 1
    np.testing.assert_allclose(g.numpy(), np.round(X), rtol=1e-12)
