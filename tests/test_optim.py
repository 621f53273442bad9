"""Optimizers against the textbook update rules computed by hand in numpy."""
import numpy as np
import pytest

import eager
import eager.nn.functional as F
from eager import nn, optim
from eager.nn import ArgumentError

P0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.25]])
GRADS = [np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]),
         np.array([[-0.3, 0.1, 0.2], [0.0, -0.4, 0.8]]),
         np.array([[0.2, 0.2, -0.1], [0.3, -0.1, 0.05]])]


def run(make_opt, grads=GRADS):
    """Apply the optimizer to a float64 parameter with the given gradients; return it."""
    p = eager.tensor(P0, dtype=eager.float64, requires_grad=True)
    opt = make_opt([p])
    for g in grads:
        p.grad = eager.tensor(g, dtype=eager.float64)
        opt.step()
    return p.detach().numpy(), opt


def test_sgd_plain_and_weight_decay():
    got, _ = run(lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.01))
    p = P0.copy()
    for g in GRADS:
        p = p - 0.1 * (g + 0.01 * p)
    assert np.allclose(got, p, atol=1e-7)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_and_nesterov(nesterov):
    got, _ = run(lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=nesterov,
                                      weight_decay=0.1))
    p, buf = P0.copy(), None
    for g in GRADS:
        g = g + 0.1 * p
        buf = g.copy() if buf is None else 0.9 * buf + g
        p = p - 0.05 * (g + 0.9 * buf if nesterov else buf)
    assert np.allclose(got, p, atol=1e-7)


def adam_reference(decoupled, lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.0):
    p, m, v = P0.copy(), np.zeros_like(P0), np.zeros_like(P0)
    for t, g in enumerate(GRADS, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def test_adam_matches_textbook():
    got, opt = run(lambda ps: optim.Adam(ps, lr=0.01, betas=(0.9, 0.99)))
    assert np.allclose(got, adam_reference(False, betas=(0.9, 0.99)), atol=1e-7)
    state = next(iter(opt.state.values()))
    assert isinstance(state["step"], eager.Tensor) and state["step"].item() == 3


def test_adam_l2_weight_decay_matches_textbook():
    got, _ = run(lambda ps: optim.Adam(ps, lr=0.01, betas=(0.9, 0.99), weight_decay=0.1))
    assert np.allclose(got, adam_reference(False, weight_decay=0.1), atol=1e-7)


def test_adamw_matches_textbook():
    got, _ = run(lambda ps: optim.AdamW(ps, lr=0.01, betas=(0.9, 0.99), weight_decay=0.1))
    assert np.allclose(got, adam_reference(True, weight_decay=0.1), atol=1e-7)
    assert not np.allclose(got, adam_reference(False, weight_decay=0.1), atol=1e-7)


def test_step_updates_in_place_and_skips_parameters_without_gradients():
    a = eager.tensor([1.0, 2.0], requires_grad=True)
    b = eager.tensor([3.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    data = a._data
    (a * a).sum().backward()
    opt.step()
    assert a._data is data and a.requires_grad
    assert a.tolist() == [pytest.approx(0.9), pytest.approx(1.9)]
    assert b.tolist() == [3.0] and opt.state[b]["step"].item() == 0


def test_zero_grad_modes():
    p = eager.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_learning_rate_lives_in_a_tensor_updated_in_place():
    p = eager.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    lr = opt.param_groups[0]["lr"]
    assert isinstance(lr, eager.Tensor)
    opt.set_lr(0.25)
    assert opt.param_groups[0]["lr"] is lr and lr.item() == 0.25
    p.grad = eager.tensor([2.0])
    opt.step()
    assert p.tolist() == [0.5]


def test_param_groups_have_their_own_hyperparameters():
    a = eager.tensor([1.0], requires_grad=True)
    b = eager.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad, b.grad = eager.tensor([1.0]), eager.tensor([1.0])
    opt.step()
    assert a.tolist() == [pytest.approx(0.9)] and b.tolist() == [0.5]


def test_constructor_errors():
    with pytest.raises(ArgumentError, match="SGD: got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(eager.DTypeError, match="parameter 0 has dtype int64"):
        optim.SGD([eager.arange(3)], lr=0.1)
    p = eager.ones(2, requires_grad=True)
    with pytest.raises(ArgumentError, match="appears in more than one group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ArgumentError, match="nesterov=True needs a momentum"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ArgumentError, match="learning rate must be non-negative"):
        optim.Adam([p], lr=-1.0)
    with pytest.raises(ArgumentError, match="not a leaf"):
        optim.Adam([p * 2], lr=0.1)


def test_state_dict_round_trip_restores_every_tensor_in_place():
    _, opt = run(lambda ps: optim.Adam(ps, lr=0.01))
    sd = opt.state_dict()
    q = eager.tensor(P0, dtype=eager.float64, requires_grad=True)
    fresh = optim.Adam([q], lr=0.5)
    exp_avg = fresh.state[q]["exp_avg"]
    fresh.load_state_dict(sd)
    assert fresh.state[q]["exp_avg"] is exp_avg
    assert np.array_equal(exp_avg.numpy(), next(iter(opt.state.values()))["exp_avg"].numpy())
    assert fresh.param_groups[0]["lr"].item() == pytest.approx(0.01)
    assert fresh.state[q]["step"].item() == 3


def test_load_state_dict_rejects_a_different_model():
    _, opt = run(lambda ps: optim.Adam(ps, lr=0.01))
    other = optim.Adam([eager.zeros(2, requires_grad=True), eager.zeros(2, requires_grad=True)])
    with pytest.raises(optim.OptimizerStateError, match=r"hold \[1\] parameters but this "
                                                        r"optimizer's hold \[2\]"):
        other.load_state_dict(opt.state_dict())
    wrong_shape = optim.Adam([eager.zeros(3, 2, requires_grad=True)])
    with pytest.raises(eager.ShapeError, match=r"state 'exp_avg' of parameter 0 has shape "
                                               r"\(2, 3\)"):
        wrong_shape.load_state_dict(opt.state_dict())
    sgd = optim.SGD([eager.zeros(2, 3, requires_grad=True)], momentum=0.9)
    with pytest.raises(optim.OptimizerStateError, match="has keys"):
        sgd.load_state_dict(opt.state_dict())


def _model_and_step(opt_cls, **kw):
    eager.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = opt_cls(model.parameters(), **kw)

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss
    return model, step


@pytest.mark.parametrize("opt_cls,kw", [(optim.Adam, {"lr": 0.05, "weight_decay": 0.01}),
                                        (optim.SGD, {"lr": 0.1, "momentum": 0.9}),
                                        (optim.AdamW, {"lr": 0.05})])
def test_traced_training_step_replays_the_same_updates_as_eager(opt_cls, kw):
    """All per-step state is in tensors, so replaying one trace stays exact."""
    import tracer
    eager.manual_seed(42)
    batches = [(eager.randn(5, 4), eager.randint(0, 3, (5,))) for _ in range(4)]
    eager_model, eager_step = _model_and_step(opt_cls, **kw)
    expected = [eager_step(x, y).item() for x, y in batches]
    traced_model, traced_step = _model_and_step(opt_cls, **kw)
    graph = tracer.trace(traced_step, *batches[0])
    got = [expected[0]] + [graph(x, y).item() for x, y in batches[1:]]
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-6)
    for a, b in zip(eager_model.parameters(), traced_model.parameters()):
        assert np.allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-5)
