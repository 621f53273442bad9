"""Learning-rate schedules: closed-form values, and correct replays of a traced step."""
import math

import numpy as np
import pytest

import eager
from eager import optim
from eager.nn import ArgumentError
from eager.optim import lr_scheduler


def rates(make, epochs=8, lr=0.8):
    p = eager.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=lr)
    sched = make(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"].item())
        sched.step()
    return np.array(out)


def test_step_lr():
    got = rates(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5))
    assert np.allclose(got, [0.8 * 0.5 ** (e // 3) for e in range(8)])


def test_exponential_lr():
    got = rates(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9))
    assert np.allclose(got, [0.8 * 0.9 ** e for e in range(8)])


def test_cosine_annealing_lr_stays_at_the_minimum_after_t_max():
    got = rates(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=0.1))
    expected = [0.1 + 0.7 * (1 + math.cos(math.pi * min(e, 5) / 5)) / 2 for e in range(8)]
    assert np.allclose(got, expected)


def test_schedulers_write_the_optimizers_lr_tensor_in_place():
    p = eager.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    lr = opt.param_groups[0]["lr"]
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and lr.item() == 0.5
    assert sched.get_last_lr() == [0.5]


def test_state_dict_round_trip(tmp_path):
    p = eager.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(3):
        sched.step()
    eager.save(sched.state_dict(), tmp_path / "s.eager")
    other = lr_scheduler.StepLR(optim.SGD([eager.zeros(1, requires_grad=True)], lr=1.0), 2, 0.1)
    other.load_state_dict(eager.load(tmp_path / "s.eager"))
    other.step()
    sched.step()
    assert other.get_last_lr() == pytest.approx(sched.get_last_lr())
    assert other.last_epoch.item() == 4


def test_invalid_arguments():
    opt = optim.SGD([eager.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ArgumentError, match="StepLR: step_size must be positive"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ArgumentError, match="CosineAnnealingLR: T_max must be positive"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)


def test_traced_step_with_scheduler_replays_the_schedule():
    """The epoch counter is a tensor, so one trace serves every later epoch."""
    import tracer
    p = eager.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    def step(target):
        loss = ((p - target) ** 2).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
        sched.step()
        return loss.detach()

    q = eager.tensor([1.0], requires_grad=True)
    ref_opt = optim.SGD([q], lr=0.5)
    ref_sched = lr_scheduler.StepLR(ref_opt, step_size=2, gamma=0.5)
    targets = [eager.tensor([float(i)]) for i in range(6)]
    graph = tracer.trace(step, targets[0])
    for target in targets[1:]:
        graph(target)
    for target in targets:
        ((q - target) ** 2).sum().backward()
        ref_opt.step()
        ref_opt.zero_grad()
        ref_sched.step()
    assert np.allclose(p.detach().numpy(), q.detach().numpy())
    assert opt.param_groups[0]["lr"].item() == ref_opt.param_groups[0]["lr"].item() == 0.0625
