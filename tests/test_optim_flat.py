"""Adam's one-pass update over a whole parameter group (eager/optim/flat.py) against the
same optimizer's one-parameter-at-a-time `update`, bit for bit."""
import numpy as np
import pytest

import eager
from eager import optim
from eager.dispatch import DispatchHook
from eager.interpreters import interpreting
from eager.optim import flat_adam
from eager.optim.flat import FlatState
from jit import jit

SHAPES = [(3, 4), (4,), (), (2, 1, 3)]
VARIANTS = {
    "adam": lambda ps: optim.Adam(ps, lr=0.05, betas=(0.8, 0.9)),
    "adam_l2": lambda ps: optim.Adam(ps, lr=0.05, weight_decay=0.1),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0.2),
    "amsgrad": lambda ps: optim.AdamW(ps, lr=0.05, amsgrad=True),
}


def params(seed=0):
    rng = np.random.default_rng(seed)
    return [eager.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
            for s in SHAPES]


def grads(step, seed=1):
    rng = np.random.default_rng(seed + step)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def one_at_a_time(opt):
    """A step through the per-parameter `update` (what a group without flat state runs)."""
    with eager.no_grad():
        for group in opt.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    opt.update(p, p.grad, opt.state[p], group)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_one_pass_equals_one_parameter_at_a_time(variant):
    flat_ps, ref_ps = params(), params()
    flat_opt, ref_opt = VARIANTS[variant](flat_ps), VARIANTS[variant](ref_ps)
    for step in range(4):
        for ps in (flat_ps, ref_ps):
            for p, g in zip(ps, grads(step)):
                p.grad = eager.tensor(g)
        flat_opt.step()
        one_at_a_time(ref_opt)
    for p, q in zip(flat_ps, ref_ps):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
        for key, value in flat_opt.state[p].items():
            assert np.array_equal(value.numpy(), ref_opt.state[q][key].numpy()), key
    assert flat_opt.state[flat_ps[2]]["step"].item() == 4


def test_state_is_views_of_one_buffer_per_key():
    ps = params()
    opt = optim.Adam(ps, lr=0.1)
    for p, g in zip(ps, grads(0)):
        p.grad = eager.tensor(g)
    opt.step()
    for p in ps:
        assert opt.state[p]["exp_avg"].shape == p.shape and opt.state[p]["step"].shape == ()
        assert opt.state[p]["exp_avg"]._base is not None
    expected = np.concatenate([0.1 * g.reshape(-1) for g in grads(0)])
    buffers = {t._base for p in ps for t in (opt.state[p]["exp_avg"],)}
    (buffer,) = buffers
    assert np.allclose(buffer.numpy(), expected)


def test_loaded_state_reaches_the_flat_update():
    trained, fresh = params(), params()
    a, b = optim.Adam(trained, lr=0.05), optim.Adam(fresh, lr=0.05)
    for step in range(2):
        for p, g in zip(trained, grads(step)):
            p.grad = eager.tensor(g)
        a.step()
    with eager.no_grad():
        for p, q in zip(fresh, trained):
            p.copy_(q)
    b.load_state_dict(a.state_dict())
    for ps in (trained, fresh):
        for p, g in zip(ps, grads(2)):
            p.grad = eager.tensor(g)
    a.step()
    b.step()
    for p, q in zip(trained, fresh):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
    assert b.state[fresh[0]]["step"].item() == 3


def test_a_parameter_without_gradient_is_skipped_and_counts_stay_per_parameter():
    flat_ps, ref_ps = params(), params()
    flat_opt, ref_opt = optim.Adam(flat_ps, lr=0.05), optim.Adam(ref_ps, lr=0.05)
    for step in range(4):
        for ps in (flat_ps, ref_ps):
            for i, (p, g) in enumerate(zip(ps, grads(step))):
                p.grad = None if step == 1 and i == 1 else eager.tensor(g)
        flat_opt.step()
        one_at_a_time(ref_opt)
    assert [flat_opt.state[p]["step"].item() for p in flat_ps] == [4, 3, 4, 4]
    for p, q in zip(flat_ps, ref_ps):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())


def test_groups_of_mixed_dtypes_keep_per_parameter_state():
    a = eager.zeros(2, requires_grad=True)
    b = eager.zeros(2, dtype=eager.float64, requires_grad=True)
    assert FlatState.over([a, b], [{"m": eager.zeros(2)}, {"m": eager.zeros(2)}]) is None
    opt = optim.Adam([a, b], lr=0.1)
    a.grad, b.grad = eager.ones(2), eager.ones(2, dtype=eager.float64)
    opt.step()
    assert a.tolist() == pytest.approx([-0.1, -0.1]) and b.tolist() == pytest.approx([-0.1, -0.1])
    assert opt.state[b]["exp_avg"]._base is None


@pytest.mark.parametrize("variant", ["adamw", "amsgrad"])
def test_jitted_step_matches_eager(variant):
    def make():
        ps = params()
        opt = VARIANTS[variant](ps)

        def step(x):
            loss = sum(((p * x) ** 2).sum() for p in ps)
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss.detach()
        return ps, opt, step

    eager_ps, eager_opt, eager_step = make()
    jit_ps, jit_opt, jit_step = make()
    jitted = jit(jit_step)
    for i in range(4):
        x = eager.tensor(0.5 + i)
        assert np.allclose(eager_step(x).item(), jitted(x).item(), rtol=1e-6)
    assert jitted.cache_info().hits >= 2
    for p, q in zip(eager_ps, jit_ps):
        assert np.allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7)
        assert np.allclose(eager_opt.state[p]["exp_avg_sq"].numpy(),
                           jit_opt.state[q]["exp_avg_sq"].numpy(), rtol=1e-6, atol=1e-9)


def test_a_parameter_appended_to_a_group_later_is_still_updated():
    a, b = eager.ones(2, requires_grad=True), eager.ones(3, requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    group = opt.param_groups[0]
    group["params"].append(b)
    opt.state[b] = opt.init_state(b, group)
    a.grad, b.grad = eager.ones(2), eager.ones(3)
    opt.step()
    assert a.tolist() == pytest.approx([0.9, 0.9]) and b.tolist() == pytest.approx([0.9] * 3)


class _Listening(DispatchHook):
    """A hook that records nothing: with it on, the flat update runs as ops."""

    def record(self, op, inputs, attrs, out):
        pass


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eager_array_update_equals_the_ops_bit_for_bit(variant, dtype, monkeypatch):
    ran = []
    monkeypatch.setattr(flat_adam, "adam_step",
                        lambda *a, _real=flat_adam.adam_step: ran.append(1) or _real(*a))
    array_ps, op_ps = ([eager.tensor(p.detach().numpy().astype(dtype), requires_grad=True)
                        for p in params()] for _ in range(2))
    array_opt, op_opt = VARIANTS[variant](array_ps), VARIANTS[variant](op_ps)
    for step in range(3):
        for ps in (array_ps, op_ps):
            for p, g in zip(ps, grads(step)):
                p.grad = eager.tensor(g.astype(dtype))
        array_opt.step()
        with interpreting(_Listening()):
            op_opt.step()
    assert len(ran) == 3
    for p, q in zip(array_ps, op_ps):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
        assert p._version == q._version
        for key, value in array_opt.state[p].items():
            assert np.array_equal(value.numpy(), op_opt.state[q][key].numpy()), key
            assert value._base._version == op_opt.state[q][key]._base._version, key


def test_float16_parameters_take_the_ops():
    ps = [eager.tensor([1.0, 2.0], dtype=eager.float16, requires_grad=True)]
    opt = optim.Adam(ps, lr=0.1)
    assert not flat_adam.applies(opt._flat[id(opt.param_groups[0])])
    ps[0].grad = eager.tensor([1.0, -1.0], dtype=eager.float16)
    opt.step()
    assert ps[0].tolist() == [0.89990234375, 2.099609375]
