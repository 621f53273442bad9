"""LBFGS with line_search_fn="strong_wolfe", and its history in state_dict: the line
search's rules, iterates against torch on Rosenbrock and a logistic regression, and a
checkpoint that continues a run exactly as if it had not stopped."""
import numpy as np
import pytest

import eager
from eager import optim
from eager.optim.lbfgs_line_search import cubic_minimum, strong_wolfe
from eager.optim.optimizer import OptimizerStateError
from kernels.errors import ShapeError

START = [-1.5, 2.0, 0.5, -0.3]
RNG = np.random.default_rng(7)
FEATURES = RNG.normal(size=(40, 3))
LABELS = (FEATURES @ np.array([1.5, -2.0, 0.5]) + RNG.normal(size=40) > 0).astype(float)


def rosenbrock(w):
    return ((1 - w[:-1]) ** 2).sum() + 100 * ((w[1:] - w[:-1] ** 2) ** 2).sum()


def make_logistic(lib):
    x, y = lib.tensor(FEATURES), lib.tensor(LABELS)

    def loss(w):
        logits = x @ w[:3] + w[3]
        # log(1 + e^z) - y z, written with ops both libraries share
        return (lib.log(1 + lib.exp(logits)) - y * logits).mean() + 0.01 * (w ** 2).sum()
    return loss


def iterates(lib, loss_fn, steps, start=START, **kw):
    w = lib.tensor(start, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([w], **kw)
    evals = []

    def closure():
        opt.zero_grad()
        loss = loss_fn(w)
        loss.backward()
        evals.append(loss.item())
        return loss
    path = []
    for _ in range(steps):
        opt.step(closure)
        path.append(w.detach().numpy().copy())
    return np.array(path), evals, opt, w, closure


# ---- the line search on its own -------------------------------------------------------
def test_cubic_minimum_finds_a_cubics_minimiser_and_respects_bounds():
    # f(x) = x^3 - 3x has its local minimum at x = 1 (f = -2, f' = 0)
    f, g = (lambda x: x ** 3 - 3 * x), (lambda x: 3 * x ** 2 - 3)
    assert cubic_minimum(0.0, f(0.0), g(0.0), 2.0, f(2.0), g(2.0)) == pytest.approx(1.0)
    assert cubic_minimum(2.0, f(2.0), g(2.0), 0.0, f(0.0), g(0.0)) == pytest.approx(1.0)
    assert cubic_minimum(0.0, f(0.0), g(0.0), 2.0, f(2.0), g(2.0), bounds=(1.5, 3.0)) == 1.5
    # slopes of one sign and no turning point: the midpoint of the bounds
    assert cubic_minimum(0.0, 0.0, -1.0, 1.0, -1.0, -1.0, bounds=(1.0, 5.0)) == 3.0


@pytest.mark.parametrize("t0", [1e-3, 0.5, 1.0, 40.0])
def test_strong_wolfe_returns_a_step_meeting_both_conditions(t0):
    calls = []

    def evaluate(t):  # f(t) = (t - 2)^4 + t along a descent direction (slope -31 at 0)
        calls.append(t)
        return (t - 2) ** 4 + t, None, 4 * (t - 2) ** 3 + 1
    f0, g0 = 16.0, -31.0
    f, _, t, evals = strong_wolfe(evaluate, t0, f0, None, g0, 1.0)
    assert evals == len(calls) and f == (t - 2) ** 4 + t
    assert f <= f0 + 1e-4 * t * g0
    assert abs(4 * (t - 2) ** 3 + 1) <= 0.9 * abs(g0)


def test_strong_wolfe_gives_up_after_max_ls_evaluations():
    def evaluate(t):  # rises on (0, inf) though the slope at 0 says down: nothing to accept
        return t, None, 1.0
    f, _, t, evals = strong_wolfe(evaluate, 1.0, 0.0, None, -1.0, 1.0, max_ls=4)
    assert (f, t, evals) == (0.0, 0.0, 5)  # the first trial, then max_ls zoom trials


# ---- against torch ----------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"max_iter": 3, "history_size": 2}, {"lr": 0.5}])
def test_rosenbrock_iterates_match_torch(kw):
    torch = pytest.importorskip("torch")
    ours, our_evals, *_ = iterates(eager, rosenbrock, 6, line_search_fn="strong_wolfe", **kw)
    theirs, their_evals, *_ = iterates(torch, rosenbrock, 6, line_search_fn="strong_wolfe",
                                       **kw)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert len(our_evals) == len(their_evals)
    np.testing.assert_allclose(our_evals, their_evals, rtol=1e-9, atol=1e-12)


def test_logistic_regression_iterates_match_torch():
    torch = pytest.importorskip("torch")
    ours, our_evals, *_ = iterates(eager, make_logistic(eager), 4, max_iter=5,
                                   line_search_fn="strong_wolfe")
    theirs, their_evals, *_ = iterates(torch, make_logistic(torch), 4, max_iter=5,
                                       line_search_fn="strong_wolfe")
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(our_evals, their_evals, rtol=1e-9)


def test_strong_wolfe_reaches_rosenbrocks_minimum_in_fewer_evaluations():
    kw = {"start": [-1.2, 1.0], "max_iter": 100}
    wolfe, wolfe_evals, *_ = iterates(eager, rosenbrock, 1, line_search_fn="strong_wolfe",
                                      **kw)
    fixed, fixed_evals, *_ = iterates(eager, rosenbrock, 1, **kw)
    np.testing.assert_allclose(wolfe[-1], [1.0, 1.0], atol=1e-4)
    np.testing.assert_allclose(fixed[-1], [1.0, 1.0], atol=1e-4)
    assert len(wolfe_evals) < len(fixed_evals)  # 43 and 62 evaluations, as in torch


# ---- checkpoints --------------------------------------------------------------------------
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_state_dict_round_trip_continues_identically(tmp_path, line_search_fn):
    kw = {"max_iter": 4, "history_size": 3, "line_search_fn": line_search_fn,
          "lr": 1.0 if line_search_fn else 0.05}
    whole, *_ = iterates(eager, rosenbrock, 6, **kw)
    _, _, opt, w, _ = iterates(eager, rosenbrock, 3, **kw)
    path = tmp_path / "lbfgs.ckpt"
    eager.save(opt.state_dict(), path)
    saved = eager.load(path)
    assert {"old_dirs", "old_stps", "ro", "d", "t", "H_diag", "n_iter", "func_evals"} <= \
        set(saved["state"][0])
    w2 = eager.tensor(w.tolist(), dtype=eager.float64, requires_grad=True)
    opt2 = optim.LBFGS([w2], **kw)
    opt2.load_state_dict(saved)

    def closure():
        opt2.zero_grad()
        loss = rosenbrock(w2)
        loss.backward()
        return loss
    rest = []
    for _ in range(3):
        opt2.step(closure)
        rest.append(w2.detach().numpy().copy())
    np.testing.assert_array_equal(np.array(rest), whole[3:])
    # without the history the run takes other steps: the test can see a lost history
    w3 = eager.tensor(w.tolist(), dtype=eager.float64, requires_grad=True)
    fresh = optim.LBFGS([w3], **kw)
    fresh.step(lambda: (fresh.zero_grad(), loss := rosenbrock(w3), loss.backward(), loss)[-1])
    assert not np.array_equal(w3.detach().numpy(), whole[3])


def test_a_torch_checkpoint_loads_and_continues_as_torch_does():
    torch = pytest.importorskip("torch")
    kw = {"max_iter": 4, "history_size": 3, "line_search_fn": "strong_wolfe"}
    whole, *_ = iterates(torch, rosenbrock, 5, **kw)
    _, _, ref, ref_w, _ = iterates(torch, rosenbrock, 2, **kw)

    def to_eager(value):
        if isinstance(value, torch.Tensor):
            return eager.tensor(value.numpy())
        if isinstance(value, dict):
            return {k: to_eager(v) for k, v in value.items()}
        if isinstance(value, list):
            return [to_eager(v) for v in value if v is not None]
        return value
    w = eager.tensor(ref_w.tolist(), dtype=eager.float64, requires_grad=True)
    opt = optim.LBFGS([w], **kw)
    opt.load_state_dict(to_eager(ref.state_dict()))

    def closure():
        opt.zero_grad()
        loss = rosenbrock(w)
        loss.backward()
        return loss
    rest = []
    for _ in range(3):
        opt.step(closure)
        rest.append(w.detach().numpy().copy())
    np.testing.assert_allclose(np.array(rest), whole[2:], rtol=1e-9, atol=1e-12)


def test_state_dict_is_empty_before_a_step_and_loads_back_empty():
    w = eager.zeros(2, requires_grad=True)
    opt = optim.LBFGS([w], line_search_fn="strong_wolfe")
    sd = opt.state_dict()
    assert sd["state"] == {} and sd["param_groups"][0]["line_search_fn"] == "strong_wolfe"
    opt.load_state_dict(sd)
    assert opt.state_dict()["state"] == {}


# ---- errors ----------------------------------------------------------------------------------
def test_unknown_line_search_is_named():
    with pytest.raises(ValueError, match=r"LBFGS: line_search_fn must be None or "
                                         r"'strong_wolfe', got 'backtracking'"):
        optim.LBFGS([eager.zeros(1, requires_grad=True)], line_search_fn="backtracking")


def test_loading_a_history_for_other_parameters_names_the_shapes():
    _, _, opt, _, _ = iterates(eager, rosenbrock, 1, max_iter=3)
    sd = opt.state_dict()
    other = optim.LBFGS([eager.zeros(3, dtype=eager.float64, requires_grad=True)])
    with pytest.raises(ShapeError, match=r"LBFGS.load_state_dict: d must be a tensor of "
                                         r"shape \(3,\).*got \(4,\)"):
        other.load_state_dict(sd)
    sd["state"][0]["ro"] = sd["state"][0]["ro"][:-1]
    same = optim.LBFGS([eager.zeros(4, dtype=eager.float64, requires_grad=True)])
    with pytest.raises(OptimizerStateError, match="as long as each other"):
        same.load_state_dict(sd)
    with pytest.raises(OptimizerStateError, match="one parameter group of 1 parameters"):
        same.load_state_dict({"state": {}, "param_groups": []})
