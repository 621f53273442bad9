"""Issue 11, part C (optim): optimizers and schedules as PyTorch programs use them,
checked against numpy implementations of PyTorch's update rules, eagerly and under @jit.
"""
import math

import numpy as np
import pytest

import eager as torch
from eager import nn, optim
from eager.optim import lr_scheduler
from jit import jit

RNG = np.random.default_rng(0)
GRADS = RNG.standard_normal((6, 3))
P0 = RNG.standard_normal(3)


def run(make, grads=GRADS):
    p = torch.tensor(P0, dtype=torch.float64, requires_grad=True)
    opt = make([p])
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    return p.detach().numpy()


def np_rmsprop(lr, alpha, eps, wd, momentum, centered):
    p, v, avg, buf = P0.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    for g in GRADS:
        g = g + wd * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            avg = alpha * avg + (1 - alpha) * g
            denom = np.sqrt(v - avg * avg) + eps
        else:
            denom = np.sqrt(v) + eps
        if momentum:
            buf = momentum * buf + g / denom
            p = p - lr * buf
        else:
            p = p - lr * g / denom
    return p


@pytest.mark.parametrize("momentum, centered, wd", [(0.0, False, 0.0), (0.9, True, 0.1)])
def test_rmsprop_matches_pytorchs_rule(momentum, centered, wd):
    got = run(lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9, momentum=momentum,
                                       centered=centered, weight_decay=wd))
    np.testing.assert_allclose(got, np_rmsprop(0.01, 0.9, 1e-8, wd, momentum, centered),
                               rtol=1e-10)


def test_adagrad_matches_pytorchs_rule():
    p, s = P0.copy(), np.full(3, 0.1)
    for t, g in enumerate(GRADS, 1):
        g = g + 0.01 * p
        s = s + g * g
        p = p - 0.5 / (1 + (t - 1) * 0.1) * g / (np.sqrt(s) + 1e-10)
    got = run(lambda ps: optim.Adagrad(ps, lr=0.5, lr_decay=0.1, weight_decay=0.01,
                                       initial_accumulator_value=0.1))
    np.testing.assert_allclose(got, p, rtol=1e-10)


def test_adadelta_matches_pytorchs_rule():
    p, v, u = P0.copy(), np.zeros(3), np.zeros(3)
    for g in GRADS:
        v = 0.9 * v + 0.1 * g * g
        d = np.sqrt(u + 1e-6) / np.sqrt(v + 1e-6) * g
        u = 0.9 * u + 0.1 * d * d
        p = p - 1.0 * d
    np.testing.assert_allclose(run(lambda ps: optim.Adadelta(ps)), p, rtol=1e-10)


def test_sgd_dampening_leaves_the_first_step_undampened():
    p, buf = P0.copy(), None
    for g in GRADS:
        buf = g.copy() if buf is None else 0.9 * buf + (1 - 0.3) * g
        p = p - 0.1 * buf
    got = run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.3))
    np.testing.assert_allclose(got, p, rtol=1e-10)


def test_adam_amsgrad_divides_by_the_running_maximum():
    p, m, v, vmax = P0.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    grads = GRADS * np.array([[1.0], [5.0], [0.1], [0.1], [3.0], [0.2]])
    for t, g in enumerate(grads, 1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        vmax = np.maximum(vmax, v)
        denom = np.sqrt(vmax) / math.sqrt(1 - 0.999 ** t) + 1e-8
        p = p - 0.01 / (1 - 0.9 ** t) * m / denom
    got = run(lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True), grads)
    np.testing.assert_allclose(got, p, rtol=1e-9)


def test_param_groups_are_dicts_a_program_edits():
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    for group in opt.param_groups:
        group["lr"] = group["lr"] * 2
    assert [round(g["lr"].item(), 6) for g in opt.param_groups] == [0.2, 1.0]
    c = torch.zeros(1, requires_grad=True)
    opt.add_param_group({"params": c, "momentum": 0.0})
    assert opt.param_groups[2]["momentum"] == 0.0 and len(opt.param_groups) == 3
    with pytest.raises(nn.ArgumentError, match="lr"):
        opt.param_groups[0]["lr"] = -1.0


def test_state_dict_with_groups_round_trips():
    a, b = torch.ones(2, requires_grad=True), torch.ones(3, requires_grad=True)
    opt = optim.AdamW([{"params": [a], "weight_decay": 0.0}, {"params": [b]}], lr=0.1)
    a.grad, b.grad = torch.ones(2), torch.ones(3)
    opt.step()
    opt.param_groups[1]["lr"] = 0.05
    saved = opt.state_dict()
    a2, b2 = torch.ones(2, requires_grad=True), torch.ones(3, requires_grad=True)
    fresh = optim.AdamW([{"params": [a2], "weight_decay": 0.0}, {"params": [b2]}], lr=0.1)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[1]["lr"].item() == pytest.approx(0.05)
    assert fresh.param_groups[0]["weight_decay"] == 0.0
    assert fresh.state[b2]["step"].item() == 1


def _linear_problem(seed=0):
    torch.manual_seed(seed)
    model = nn.Linear(4, 1)
    rng = np.random.default_rng(seed)
    data = [(torch.tensor(rng.standard_normal((8, 4)).astype(np.float32)),
             torch.tensor(rng.standard_normal((8, 1)).astype(np.float32))) for _ in range(10)]
    return model, data


def _train(use_jit, make_opt, each_step):
    model, data = _linear_problem()
    opt = make_opt(model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()
    run_step = jit(step) if use_jit else step
    losses = []
    for i, (x, y) in enumerate(data):
        each_step(opt, i)
        losses.append(run_step(x, y).item())
    return losses, [p.detach().numpy().copy() for p in model.parameters()], run_step


def _cosine_lr(opt, i):
    lr = 0.01 + 0.09 * (1 + math.cos(math.pi * i / 10)) / 2  # nanoGPT's get_lr, in short
    for group in opt.param_groups:
        group["lr"] = lr


@pytest.mark.parametrize("make_opt", [lambda ps: optim.AdamW(ps, lr=0.1),
                                      lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9)])
def test_jitted_step_reads_a_learning_rate_assigned_every_iteration(make_opt):
    eager_losses, eager_params, _ = _train(False, make_opt, _cosine_lr)
    jit_losses, jit_params, step = _train(True, make_opt, _cosine_lr)
    np.testing.assert_allclose(jit_losses, eager_losses, rtol=1e-5)
    for pj, pe in zip(jit_params, eager_params):
        np.testing.assert_allclose(pj, pe, rtol=1e-5, atol=1e-6)
    info = step.cache_info()
    assert info.misses == 1 and info.hits == 9  # the new rate needs no retrace
    constant_losses, _, _ = _train(False, make_opt, lambda opt, i: None)
    assert not np.allclose(constant_losses, eager_losses)  # the schedule did matter


def test_assigning_another_hyperparameter_retraces_instead_of_replaying_a_stale_one():
    def change_momentum(opt, i):
        if i == 5:
            opt.param_groups[0]["momentum"] = 0.5
    make = lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9)
    eager_losses, eager_params, _ = _train(False, make, change_momentum)
    jit_losses, jit_params, step = _train(True, make, change_momentum)
    np.testing.assert_allclose(jit_losses, eager_losses, rtol=1e-5)
    for pj, pe in zip(jit_params, eager_params):
        np.testing.assert_allclose(pj, pe, rtol=1e-5, atol=1e-6)
    assert step.cache_info().misses == 2


def test_scheduler_stepped_inside_a_jitted_step_matches_eager():
    def train(use_jit):
        model, data = _linear_problem()
        opt = optim.SGD(model.parameters(), lr=0.1)
        sched = lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, 0.1, total_iters=3),
                                                lr_scheduler.MultiStepLR(opt, [2, 4], 0.5)],
                                          milestones=[3])

        def step(x, y):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            sched.step()
            return loss.detach()
        run_step = jit(step) if use_jit else step
        return [run_step(x, y).item() for x, y in data], run_step
    eager_losses, _ = train(False)
    jit_losses, step = train(True)
    np.testing.assert_allclose(jit_losses, eager_losses, rtol=1e-5)
    assert step.cache_info().misses == 1


def rates(make, epochs=10, lr=1.0):
    p = torch.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=lr, momentum=0.9)
    sched = make(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"].item())
        sched.step()
    return np.array(out)


def test_schedules_follow_pytorchs_formulas():
    np.testing.assert_allclose(rates(lambda o: lr_scheduler.LambdaLR(o, lambda e: 0.9 ** e)),
                               [0.9 ** e for e in range(10)], rtol=1e-6)
    np.testing.assert_allclose(rates(lambda o: lr_scheduler.MultiStepLR(o, [3, 7], 0.1)),
                               [1.0] * 3 + [0.1] * 4 + [0.01] * 3, rtol=1e-6)
    np.testing.assert_allclose(rates(lambda o: lr_scheduler.LinearLR(o, 0.25, 1.0, 4)),
                               [0.25, 0.4375, 0.625, 0.8125] + [1.0] * 6, rtol=1e-6)
    total, top = 10, 0.5
    lo, phase1 = top / 25, 0.3 * total - 1

    def one_cycle(step):
        if step <= phase1:
            start, end, pct = lo, top, step / phase1
        else:
            start, end, pct = top, lo / 1e4, (step - phase1) / (total - 1 - phase1)
        return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)
    got = rates(lambda o: lr_scheduler.OneCycleLR(o, max_lr=top, total_steps=total))
    np.testing.assert_allclose(got, [one_cycle(s) for s in range(10)], rtol=1e-5)


def test_one_cycle_cycles_momentum_and_plateau_reduces():
    p = torch.zeros(1, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.95)
    sched.step(); sched.step()
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.85)
    with pytest.raises(nn.ArgumentError, match="cycle_momentum"):
        lr_scheduler.OneCycleLR(optim.SGD([p], lr=0.1), max_lr=1.0, total_steps=10)
    opt = optim.SGD([p], lr=1.0)
    plateau = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    for loss in [1.0, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]:
        plateau.step(torch.tensor(loss))
    assert plateau.get_last_lr() == [0.25]


def test_more_closed_form_schedules():
    np.testing.assert_allclose(rates(lambda o: lr_scheduler.ConstantLR(o, 0.5, 3), 5),
                               [0.5, 0.5, 0.5, 1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(rates(lambda o: lr_scheduler.PolynomialLR(o, 4, 2.0), 6),
                               [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0], atol=1e-6)

    def sgdr(epoch, t0=3, mult=2):
        start, period = 0, t0
        while epoch >= start + period:
            start, period = start + period, period * mult
        return (1 + math.cos(math.pi * (epoch - start) / period)) / 2
    got = rates(lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, 3, 2), 22)
    np.testing.assert_allclose(got, [sgdr(e) for e in range(22)], atol=1e-6)
    warmup = rates(lambda o: lr_scheduler.LambdaLR(o, lambda e: min(1.0, (e + 1) / 3)), 5)
    np.testing.assert_allclose(warmup, [1 / 3, 2 / 3, 1.0, 1.0, 1.0], rtol=1e-6)
