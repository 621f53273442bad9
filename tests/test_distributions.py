"""eager.distributions: values against closed forms (numpy math) and torch.distributions,
gradients by finite differences, sample statistics, validation errors, and jit."""
import math

import numpy as np
import pytest

import eager
from eager.autograd import gradcheck
from eager.distributions import (
    Bernoulli,
    Categorical,
    Distribution,
    DistributionError,
    Independent,
    Normal,
    OneHotCategorical,
    Uniform,
    constraints,
    kl_divergence,
    register_kl,
)
from jit import jit

F64 = eager.float64
RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((3, 4))
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)


def t64(a, requires_grad=False):
    return eager.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def close(a, b, tol=1e-12):
    np.testing.assert_allclose(np.asarray(a.detach().numpy() if hasattr(a, "detach") else a),
                               np.asarray(b, dtype=np.float64), rtol=tol, atol=tol)


# ---- closed forms -------------------------------------------------------------------

def test_normal_matches_its_closed_forms():
    loc, scale, x = np.array([0.0, 1.5, -2.0]), np.array([1.0, 0.5, 3.0]), np.array([0.3, 1.0, 4.0])
    d = Normal(t64(loc), t64(scale))
    close(d.log_prob(t64(x)), -(x - loc) ** 2 / (2 * scale ** 2) - np.log(scale)
          - 0.5 * np.log(2 * np.pi))
    close(d.entropy(), 0.5 + 0.5 * np.log(2 * np.pi * scale ** 2))
    close(d.mean, loc), close(d.mode, loc), close(d.stddev, scale), close(d.variance, scale ** 2)
    cdf = [0.5 * (1 + math.erf((xi - m) / (s * math.sqrt(2)))) for xi, m, s in zip(x, loc, scale)]
    close(d.cdf(t64(x)), cdf, 1e-7)
    assert d.batch_shape == (3,) and d.event_shape == () and d.has_rsample


def test_python_number_parameters_broadcast_against_tensors():
    d = Normal(0.0, t64([[1.0], [2.0]]))
    assert d.batch_shape == (2, 1) and d.loc.dtype == np.float64
    assert Normal(0.0, 1.0).batch_shape == () and Normal(0.0, 1.0).loc.dtype == np.float32
    assert Normal(eager.tensor(0), 1.0).loc.dtype == np.float32  # an int loc becomes float


def test_uniform_matches_its_closed_forms_and_is_minus_inf_outside():
    low, high = np.array([0.0, -1.0]), np.array([2.0, 3.0])
    d = Uniform(t64(low), t64(high), validate_args=False)
    close(d.log_prob(t64([1.0, 0.0])), -np.log(high - low))
    assert d.log_prob(t64([2.0, -1.5])).tolist() == [-math.inf, -math.inf]  # high is excluded
    close(d.entropy(), np.log(high - low)), close(d.mean, (low + high) / 2)
    close(d.variance, (high - low) ** 2 / 12), close(d.stddev, (high - low) / math.sqrt(12))
    close(d.cdf(t64([1.0, 5.0])), [0.5, 1.0]), close(d.icdf(t64([0.5, 0.25])), [1.0, 0.0])


def test_bernoulli_from_probs_or_logits_matches_its_closed_forms():
    p = np.array([0.1, 0.5, 0.9])
    for d in (Bernoulli(t64(p)), Bernoulli(logits=t64(np.log(p / (1 - p))))):
        close(d.probs, p), close(d.logits, np.log(p / (1 - p)))
        close(d.log_prob(t64([1.0, 0.0, 0.0])), np.log([0.1, 0.5, 0.1]))
        close(d.entropy(), -(p * np.log(p) + (1 - p) * np.log(1 - p)))
        close(d.mean, p), close(d.variance, p * (1 - p))
    mode = Bernoulli(t64(p)).mode.tolist()
    assert mode[0] == 0.0 and math.isnan(mode[1]) and mode[2] == 1.0


def test_bernoulli_log_prob_is_finite_for_huge_logits():
    d = Bernoulli(logits=t64([200.0, -200.0]))
    close(d.log_prob(t64([1.0, 0.0])), [0.0, 0.0]), close(d.log_prob(t64([0.0, 1.0])), [-200, -200])


def test_categorical_normalises_probs_and_logits_like_torch():
    d = Categorical(t64(PROBS * 3.0))             # unnormalised weights
    close(d.probs, PROBS), close(d.logits, np.log(PROBS))
    d = Categorical(logits=t64(LOGITS + 7.0))
    close(d.probs, PROBS), close(d.logits, np.log(PROBS))
    close(d.log_prob(eager.tensor([0, 3, 1])), np.log(PROBS[[0, 1, 2], [0, 3, 1]]))
    close(d.entropy(), -(PROBS * np.log(PROBS)).sum(-1))
    assert d.mode.tolist() == PROBS.argmax(-1).tolist() and d.batch_shape == (3,)
    assert np.isnan(d.mean.numpy()).all() and d.mean.shape == (3,)
    assert d.support.check(eager.tensor([0, 3, 4])).tolist() == [True, True, False]


def test_categorical_log_prob_broadcasts_values_over_the_batch():
    d = Categorical(logits=t64(LOGITS))
    out = d.log_prob(eager.tensor([[0], [2]]))  # (2, 1) against batch (3,)
    assert out.shape == (2, 3)
    close(out, np.log(PROBS[:, [0, 2]].T))


def test_a_zero_probability_adds_nothing_to_the_entropy():
    d = Categorical(t64([0.5, 0.5, 0.0]))
    close(d.entropy(), math.log(2))
    close(d.log_prob(eager.tensor(2)), math.log(np.finfo(np.float64).eps))  # clamped, as torch


def test_one_hot_categorical_and_enumerate_support():
    d = OneHotCategorical(t64(PROBS))
    assert d.event_shape == (4,) and d.batch_shape == (3,) and d.sample((5,)).shape == (5, 3, 4)
    close(d.log_prob(eager.tensor(np.eye(4)[[1, 1, 3]])), np.log(PROBS[[0, 1, 2], [1, 1, 3]]))
    close(d.mean, PROBS), close(d.variance, PROBS * (1 - PROBS))
    assert d.enumerate_support().shape == (4, 3, 4)
    assert Categorical(t64(PROBS)).enumerate_support(expand=False).shape == (4, 1)


def test_independent_sums_log_prob_and_entropy_over_reinterpreted_dims():
    loc, scale = RNG.standard_normal((2, 3)), RNG.uniform(0.5, 2, (2, 3))
    base = Normal(t64(loc), t64(scale))
    d = Independent(base, 1)
    assert (d.batch_shape, d.event_shape) == ((2,), (3,)) and d.has_rsample
    x = t64(RNG.standard_normal((2, 3)))
    close(d.log_prob(x), base.log_prob(x).numpy().sum(-1))
    close(d.entropy(), base.entropy().numpy().sum(-1))
    assert d.rsample((4,)).shape == (4, 2, 3) and d.expand((5, 2)).batch_shape == (5, 2)
    with pytest.raises(DistributionError, match="Independent: reinterpreted_batch_ndims"):
        Independent(base, 3)


def test_expand_broadcasts_the_parameters():
    for d in (Normal(0.0, 1.0), Uniform(0.0, 1.0), Bernoulli(0.3), Categorical(t64([0.2, 0.8]))):
        e = d.expand((2, 3))
        assert e.batch_shape == (2, 3) and e.sample().shape == (2, 3) and type(e) is type(d)
    assert Categorical(logits=t64(LOGITS[0])).expand((2,)).logits.shape == (2, 4)


# ---- KL divergence ------------------------------------------------------------------

def test_kl_divergences_match_their_closed_forms():
    q_probs = PROBS[::-1].copy()
    close(kl_divergence(Categorical(t64(PROBS)), Categorical(t64(q_probs))),
          (PROBS * np.log(PROBS / q_probs)).sum(-1))
    close(kl_divergence(OneHotCategorical(t64(PROBS)), OneHotCategorical(t64(q_probs))),
          (PROBS * np.log(PROBS / q_probs)).sum(-1))
    m1, s1, m2, s2 = 0.3, 0.7, -1.0, 2.0
    close(kl_divergence(Normal(t64(m1), t64(s1)), Normal(t64(m2), t64(s2))),
          np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5)
    p, q = np.array([0.2, 0.0, 1.0]), np.array([0.6, 0.3, 0.5])
    expected = [0.2 * np.log(0.2 / 0.6) + 0.8 * np.log(0.8 / 0.4), np.log(1 / 0.7), np.log(2)]
    close(kl_divergence(Bernoulli(t64(p)), Bernoulli(t64(q))), expected, 1e-9)
    p, q = Uniform(t64([0.0, 0.0]), t64([1.0, 1.0])), Uniform(t64([-1.0, 0.5]), t64([3.0, 2.0]))
    close(kl_divergence(p, q), [np.log(4.0), np.inf])
    p, q = Categorical(t64([0.5, 0.5])), Categorical(t64([1.0, 0.0]))
    assert kl_divergence(p, q).item() == math.inf


def test_kl_of_uniform_from_normal_matches_numerical_integration():
    low, high, m, s = -0.5, 1.5, 0.2, 0.8
    x = np.linspace(low, high, 200001)
    log_q = -(x - m) ** 2 / (2 * s * s) - np.log(s) - 0.5 * np.log(2 * np.pi)
    expected = np.trapezoid((-np.log(high - low) - log_q) / (high - low), x)
    close(kl_divergence(Uniform(t64(low), t64(high)), Normal(t64(m), t64(s))), expected, 1e-9)


def test_kl_of_independents_sums_the_base_kl():
    p = Independent(Normal(t64([0.0, 1.0]), t64([1.0, 2.0])), 1)
    q = Independent(Normal(t64([1.0, 1.0]), t64([1.0, 1.0])), 1)
    close(kl_divergence(p, q), kl_divergence(p.base_dist, q.base_dist).numpy().sum())


def test_kl_of_an_unregistered_pair_says_how_to_add_one():
    with pytest.raises(NotImplementedError, match=r"Normal \|\| Categorical.*register_kl"):
        kl_divergence(Normal(0.0, 1.0), Categorical(eager.tensor([0.5, 0.5])))

    class Shifted(Normal):
        pass

    assert kl_divergence(Shifted(0.0, 1.0), Normal(1.0, 1.0)).item() == pytest.approx(0.5)

    @register_kl(Shifted, Normal)
    def _twice(p, q):
        return 2 * kl_divergence(Normal(p.loc, p.scale), q)

    assert kl_divergence(Shifted(0.0, 1.0), Normal(1.0, 1.0)).item() == pytest.approx(1.0)
    assert kl_divergence(Normal(0.0, 1.0), Normal(1.0, 1.0)).item() == pytest.approx(0.5)


# ---- against torch.distributions ----------------------------------------------------

CASES = [
    ("Normal", {"loc": RNG.standard_normal(3), "scale": RNG.uniform(0.2, 2, 3)},
     RNG.standard_normal(3)),
    ("Uniform", {"low": np.array([-1.0, 0.0]), "high": np.array([1.0, 4.0])}, np.array([0.5, 3.0])),
    ("Bernoulli", {"probs": np.array([0.1, 0.6, 0.99])}, np.array([1.0, 0.0, 1.0])),
    ("Bernoulli", {"logits": np.array([-3.0, 0.2, 5.0])}, np.array([0.0, 0.0, 1.0])),
    ("Categorical", {"probs": PROBS * 2}, np.array([3, 0, 2])),
    ("Categorical", {"logits": LOGITS}, np.array([1, 1, 0])),
    ("OneHotCategorical", {"logits": LOGITS}, np.eye(4)[[2, 0, 3]]),
]


@pytest.mark.parametrize("name,params,value", CASES,
                         ids=[c[0] + "-" + next(iter(c[1])) for c in CASES])
def test_values_match_torch_distributions(name, params, value):
    torch = pytest.importorskip("torch")
    ours = getattr(eager.distributions, name)(**{k: t64(v) for k, v in params.items()})
    theirs = getattr(torch.distributions, name)(**{k: torch.tensor(v) for k, v in params.items()})
    tvalue = torch.tensor(value)
    close(ours.log_prob(eager.tensor(value)), theirs.log_prob(tvalue).numpy())
    close(ours.entropy(), theirs.entropy().numpy())
    for attr in ("mean", "variance", "stddev"):
        np.testing.assert_allclose(getattr(ours, attr).numpy(), getattr(theirs, attr).numpy(),
                                   rtol=1e-12, atol=1e-12)
    assert ours.batch_shape == tuple(theirs.batch_shape)
    assert ours.event_shape == tuple(theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    for attr in ("probs", "logits"):
        if hasattr(theirs, attr):
            close(getattr(ours, attr), getattr(theirs, attr).numpy())
    assert ours.sample((2,)).shape == tuple(theirs.sample((2,)).shape)


def test_kl_divergences_match_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    q_logits = RNG.standard_normal((3, 4))
    pairs = [
        ("Normal", {"loc": [0.0, 1.0], "scale": [1.0, 0.5]},
         {"loc": [0.5, -1.0], "scale": [2.0, 0.3]}, "Normal"),
        ("Categorical", {"logits": LOGITS}, {"logits": q_logits}, "Categorical"),
        ("Bernoulli", {"probs": [0.2, 0.0, 1.0, 0.7]},
         {"probs": [0.5, 0.1, 0.3, 0.0]}, "Bernoulli"),
        ("Uniform", {"low": [0.0, 0.0], "high": [1.0, 1.0]},
         {"low": [-1.0, 0.5], "high": [2.0, 2.0]}, "Uniform"),
        ("Uniform", {"low": -0.5, "high": 1.5}, {"loc": 0.2, "scale": 0.8}, "Normal"),
    ]

    def ours(name, params):
        return getattr(eager.distributions, name)(**{k: t64(v) for k, v in params.items()})

    def theirs(name, params):
        return getattr(td, name)(**{k: torch.tensor(np.asarray(v, dtype=np.float64))
                                    for k, v in params.items()})

    for p_name, p, q, q_name in pairs:
        np.testing.assert_allclose(kl_divergence(ours(p_name, p), ours(q_name, q)).numpy(),
                                   td.kl_divergence(theirs(p_name, p), theirs(q_name, q)).numpy(),
                                   rtol=1e-10, err_msg=f"{p_name} || {q_name}")


def test_float32_parameters_give_float32_results_as_torch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal(5).astype(np.float32)
    ours = Normal(eager.tensor(x), 1.0).log_prob(eager.tensor(x[::-1].copy()))
    theirs = torch.distributions.Normal(torch.tensor(x), 1.0).log_prob(torch.tensor(x[::-1].copy()))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


# ---- gradients ----------------------------------------------------------------------

def test_log_prob_and_entropy_gradients_match_finite_differences():
    loc, scale = t64([0.3, -1.0], True), t64([0.8, 1.7], True)
    x = t64([1.0, 0.5])
    assert gradcheck(lambda m, s: Normal(m, s).log_prob(x), [loc, scale])
    assert gradcheck(lambda s: Normal(0.0, s).entropy(), [scale])
    logits = t64(LOGITS, True)
    assert gradcheck(lambda l: Categorical(logits=l).log_prob(eager.tensor([0, 3, 2])), [logits])
    assert gradcheck(lambda l: Categorical(logits=l).entropy(), [logits])
    probs = t64(PROBS + 0.1, True)
    assert gradcheck(lambda p: Categorical(p).log_prob(eager.tensor([1, 1, 2])), [probs])
    b_logits, b_probs = t64([-2.0, 0.1, 3.0], True), t64([0.2, 0.5, 0.9], True)
    assert gradcheck(lambda l: Bernoulli(logits=l).log_prob(t64([1.0, 0.0, 1.0])), [b_logits])
    assert gradcheck(lambda l: Bernoulli(logits=l).entropy(), [b_logits])
    assert gradcheck(lambda p: Bernoulli(p).log_prob(t64([1.0, 0.0, 0.0])), [b_probs])
    low, high = t64([-1.0, 0.0], True), t64([1.0, 3.0], True)
    assert gradcheck(lambda a, b: Uniform(a, b).log_prob(t64([0.0, 1.0])), [low, high])


def test_kl_gradients_match_finite_differences():
    a, b = t64(LOGITS, True), t64(RNG.standard_normal((3, 4)), True)
    assert gradcheck(lambda p, q: kl_divergence(Categorical(logits=p), Categorical(logits=q)),
                     [a, b])
    m, s = t64([0.1, 0.4], True), t64([0.5, 2.0], True)
    assert gradcheck(lambda m, s: kl_divergence(Normal(m, s), Normal(1.0, 1.5)), [m, s])
    p = t64([0.3, 0.6], True)
    assert gradcheck(lambda p: kl_divergence(Bernoulli(p), Bernoulli(t64([0.5, 0.2]))), [p])


def test_rsample_gradients_flow_to_the_parameters():
    loc, scale = t64([0.3, -1.0], True), t64([0.8, 1.7], True)

    def normal_sample(m, s):
        eager.manual_seed(5)  # the same noise on every evaluation of the finite differences
        return Normal(m, s).rsample((3,))

    assert gradcheck(normal_sample, [loc, scale])
    low, high = t64([-1.0, 0.0], True), t64([1.0, 3.0], True)

    def uniform_sample(a, b):
        eager.manual_seed(5)
        return Uniform(a, b).rsample((3,))

    assert gradcheck(uniform_sample, [low, high])
    eager.manual_seed(1)
    x = Normal(loc, scale).rsample()
    x.sum().backward()
    eager.manual_seed(1)
    eps = eager.randn(2, dtype=F64)
    close(scale.grad, eps.numpy()), close(loc.grad, [1.0, 1.0])


def test_sample_carries_no_gradient_and_categorical_has_no_rsample():
    loc = t64([0.0], True)
    assert not Normal(loc, 1.0).sample().requires_grad
    assert Normal(loc, 1.0).rsample().requires_grad
    assert not Categorical(logits=t64(LOGITS, True)).sample().requires_grad
    with pytest.raises(NotImplementedError, match="Categorical.rsample.*sample"):
        Categorical(t64([0.5, 0.5])).rsample()


# ---- samples ------------------------------------------------------------------------

N = 20000


def test_sample_statistics_match_the_moments():
    eager.manual_seed(0)
    x = Normal(t64([1.0, -2.0]), t64([0.5, 3.0])).sample((N,)).numpy()
    np.testing.assert_allclose(x.mean(0), [1.0, -2.0], atol=0.06)
    np.testing.assert_allclose(x.var(0), [0.25, 9.0], rtol=0.05)
    u = Uniform(t64([0.0, -3.0]), t64([1.0, 5.0])).sample((N,)).numpy()
    assert (u.min(0) >= [0.0, -3.0]).all() and (u.max(0) < [1.0, 5.0]).all()
    np.testing.assert_allclose(u.mean(0), [0.5, 1.0], atol=0.05)
    np.testing.assert_allclose(u.var(0), [1 / 12, 64 / 12], rtol=0.05)
    b = Bernoulli(t64([0.1, 0.5, 0.95])).sample((N,)).numpy()
    assert set(np.unique(b)) <= {0.0, 1.0}
    np.testing.assert_allclose(b.mean(0), [0.1, 0.5, 0.95], atol=0.015)


def test_categorical_sample_frequencies_match_the_probabilities():
    eager.manual_seed(0)
    probs = np.array([[0.1, 0.0, 0.6, 0.3], [0.25, 0.25, 0.25, 0.25]])
    s = Categorical(t64(probs)).sample((N,))
    assert s.shape == (N, 2) and s.dtype == np.int64
    counts = np.stack([np.bincount(s.numpy()[:, i], minlength=4) for i in range(2)]) / N
    np.testing.assert_allclose(counts, probs, atol=0.015)
    assert counts[0, 1] == 0.0          # a zero-probability category is never drawn
    onehot = OneHotCategorical(t64(probs)).sample((N,)).numpy()
    assert (onehot.sum(-1) == 1).all()
    np.testing.assert_allclose(onehot.mean(0), probs, atol=0.015)


def test_samples_are_reproducible_with_manual_seed():
    d = Categorical(eager.tensor([0.2, 0.3, 0.5]))
    eager.manual_seed(7)
    first = d.sample((50,)).tolist(), Normal(0.0, 1.0).sample((3,)).tolist()
    eager.manual_seed(7)
    assert (d.sample((50,)).tolist(), Normal(0.0, 1.0).sample((3,)).tolist()) == first
    assert d.sample((50,)).tolist() != first[0]


def test_sample_shapes():
    d = Normal(eager.zeros(2, 3), 1.0)
    assert d.sample().shape == (2, 3) and d.sample((4,)).shape == (4, 2, 3)
    assert d.sample([4, 5]).shape == (4, 5, 2, 3) and d.sample(4).shape == (4, 2, 3)
    assert Categorical(eager.ones(2, 3)).sample((5, 1)).shape == (5, 1, 2)


# ---- validation ---------------------------------------------------------------------

@pytest.mark.parametrize("make,pattern", [
    (lambda: Normal(eager.zeros(2), eager.tensor([1.0, -1.0])),
     r"Normal: parameter scale .*GreaterThan"),
    (lambda: Normal(eager.tensor([math.nan]), 1.0), r"Normal: parameter loc"),
    (lambda: Bernoulli(eager.tensor([1.5])), r"Bernoulli: parameter probs .*Interval"),
    (lambda: Categorical(eager.tensor([0.5, -0.1])), r"Categorical: parameter probs .*Simplex"),
    (lambda: Categorical(eager.tensor([0.0, 0.0])), r"Categorical: parameter probs"),
    (lambda: Categorical(logits=eager.tensor([0.0, math.nan])), r"Categorical: parameter logits"),
    (lambda: Uniform(1.0, 1.0), r"Uniform: low must be less than high"),
    (lambda: Categorical(eager.tensor(0.5)),
     r"Categorical: probs must be at least one-dimensional"),
    (lambda: Categorical(), r"Categorical: pass either probs or logits"),
    (lambda: Bernoulli(probs=0.5, logits=0.0), r"Bernoulli: pass either probs or logits"),
    (lambda: Normal("a", 1.0), r"Normal: loc must be a Tensor or a real number, got str"),
    (lambda: Normal(eager.zeros(2), eager.ones(3)), r"Normal: parameters do not broadcast"),
])
def test_bad_parameters_raise_a_value_error_naming_the_distribution(make, pattern):
    with pytest.raises(ValueError, match=pattern) as info:
        make()
    assert isinstance(info.value, DistributionError)
    assert "test_distributions.py" in str(info.value)  # the user's line


@pytest.mark.parametrize("d,value,pattern", [
    (Categorical(eager.tensor([0.5, 0.5])), eager.tensor(2),
     r"Categorical.log_prob: value is outside .*IntegerInterval"),
    (Categorical(eager.tensor([0.5, 0.5])), eager.tensor(0.5), r"outside the support"),
    (Bernoulli(eager.tensor([0.5])), eager.tensor([0.3]),
     r"Bernoulli.log_prob: value is outside .*Boolean"),
    (Uniform(0.0, 1.0), eager.tensor(1.5), r"Uniform.log_prob: value is outside .*Interval"),
    (Normal(eager.zeros(3), 1.0), eager.zeros(2),
     r"Normal.log_prob: value of shape \(2,\) does not broadcast"),
    (OneHotCategorical(eager.ones(3)), eager.zeros(2),
     r"rightmost sizes of value \(2,\) must match event_shape \(3,\)"),
    (Normal(0.0, 1.0), "x", r"Normal.log_prob: the value must be a Tensor, got str"),
])
def test_values_outside_the_support_raise(d, value, pattern):
    with pytest.raises(DistributionError, match=pattern):
        d.log_prob(value)


def test_error_messages_show_only_a_few_of_the_invalid_values():
    scale = eager.ones(1000)
    scale[3] = -2.0
    with pytest.raises(DistributionError, match=r"invalid values \[-2.0\] \(at "):
        Normal(0.0, scale)
    with pytest.raises(DistributionError, match=r"values \[-1.0, -1.0, -1.0, -2.0, \.\.\.\] \(at "):
        Normal(0.0, -scale.abs())
    with pytest.raises(DistributionError, match=r"IntegerInterval.*: \[7\] \(at "):
        Categorical(eager.ones(4, 3)).log_prob(eager.tensor([0, 1, 7, 2]))


def test_validation_can_be_turned_off():
    d = Normal(0.0, eager.tensor(-1.0), validate_args=False)
    assert math.isnan(d.log_prob(eager.tensor(0.0)).item())
    unchecked = Categorical(eager.tensor([0.5, 0.5]), validate_args=False)
    assert unchecked.log_prob(eager.tensor(1)).item() == pytest.approx(math.log(0.5))
    Distribution.set_default_validate_args(False)
    try:
        assert Uniform(0.0, 1.0).log_prob(eager.tensor(2.0)).item() == -math.inf
    finally:
        Distribution.set_default_validate_args(True)
    with pytest.raises(DistributionError):
        Uniform(0.0, 1.0).log_prob(eager.tensor(2.0))
    with pytest.raises(DistributionError, match="set_default_validate_args"):
        Distribution.set_default_validate_args("yes")


def test_constraints_read_as_their_names():
    assert repr(constraints.positive) == "GreaterThan(lower_bound=0.0)"
    assert constraints.simplex.check(eager.tensor([[0.5, 0.5], [0.5, 0.6]])).tolist() \
        == [True, False]
    assert constraints.one_hot.check(eager.tensor([[0., 1.], [1., 1.]])).tolist() == [True, False]
    assert constraints.real_vector.check(eager.tensor([[0., math.nan], [1., 1.]])).tolist() \
        == [False, True]
    assert repr(Normal(0.0, eager.ones(2))) == "Normal(loc: shape (2,), scale: shape (2,))"
    assert repr(Categorical(logits=eager.zeros(3))) == "Categorical(logits: shape (3,))"


# ---- jit ----------------------------------------------------------------------------

def test_a_jitted_function_that_samples_draws_fresh_numbers_each_call():
    def act(logits):
        m = Categorical(logits=logits)
        a = m.sample((16,))
        return a, m.log_prob(a), Normal(0.0, 1.0).sample((2,))

    jitted, logits = jit(act), eager.zeros(4)
    eager.manual_seed(3)
    got = [[t.tolist() for t in jitted(logits)] for _ in range(4)]
    eager.manual_seed(3)
    want = [[t.tolist() for t in act(logits)] for _ in range(4)]
    assert jitted.cache_info().hits == 3
    assert [g[0] for g in got] == [w[0] for w in want] and got[1][0] != got[2][0]
    np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want], rtol=1e-6)
    np.testing.assert_allclose([g[2] for g in got], [w[2] for w in want], rtol=1e-6)


def test_a_jitted_replay_with_bad_parameters_raises_as_eager():
    f = jit(lambda s: Normal(0.0, s).log_prob(eager.zeros(2)))
    f(eager.ones(2))
    f(eager.ones(2))
    with pytest.raises(DistributionError, match="Normal: parameter scale"):
        f(-eager.ones(2))


def _reinforce_setup():
    eager.manual_seed(0)
    policy = eager.nn.Sequential(eager.nn.Linear(4, 16), eager.nn.ReLU(), eager.nn.Linear(16, 3),
                                 eager.nn.Softmax(dim=-1))
    return policy, eager.optim.Adam(policy.parameters(), lr=1e-2)


def test_a_jitted_reinforce_update_matches_eager():
    states = eager.tensor(np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32))
    actions = eager.tensor([0, 2, 1, 1, 0, 2])
    returns = eager.tensor([1.0, 0.9, 0.7, 0.5, 0.2, 0.1])

    def make_step(policy, opt):
        def step(states, actions, returns):
            m = Categorical(policy(states))
            r = (returns - returns.mean()) / (returns.std() + 1e-6)
            loss = (-m.log_prob(actions) * r).sum() - 0.01 * m.entropy().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach()
        return step

    eager_policy, eager_opt = _reinforce_setup()
    jit_policy, jit_opt = _reinforce_setup()
    eager_step, jit_step = make_step(eager_policy, eager_opt), jit(make_step(jit_policy, jit_opt))
    for _ in range(4):
        np.testing.assert_allclose(jit_step(states, actions, returns).item(),
                                   eager_step(states, actions, returns).item(),
                                   rtol=1e-5, atol=1e-6)
    assert jit_step.cache_info().hits == 3
    for a, b in zip(jit_policy.parameters(), eager_policy.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
