"""The distributions beyond the first set (Exponential, Laplace, Cauchy, Gamma, Beta,
Dirichlet, MultivariateNormal, LogNormal, TransformedDistribution and its transforms),
their special functions and KL pairs: values against closed forms (math.lgamma) and
torch.distributions, gradients by finite differences, seeded sample statistics,
validation errors, and a jitted SAC actor update against eager."""
import math

import numpy as np
import pytest

import eager
from eager.autograd import gradcheck
from eager.distributions import (
    Beta,
    Binomial,
    Cauchy,
    Dirichlet,
    DistributionError,
    Exponential,
    Gamma,
    Geometric,
    Laplace,
    LogNormal,
    MultivariateNormal,
    Normal,
    Poisson,
    StudentT,
    TransformedDistribution,
    kl_divergence,
)
from eager.distributions.special import digamma, erfinv, lgamma
from eager.distributions.transforms import (
    AffineTransform,
    ExpTransform,
    SigmoidTransform,
    TanhTransform,
)
from jit import jit

F64 = eager.float64
COV = np.array([[2.0, 0.6, 0.1], [0.6, 1.0, -0.3], [0.1, -0.3, 0.5]])


def t64(a, requires_grad=False):
    return eager.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def close(a, b, tol=1e-12):
    np.testing.assert_allclose(np.asarray(a.detach().numpy() if hasattr(a, "detach") else a),
                               np.asarray(b, dtype=np.float64), rtol=tol, atol=tol)


def num_digamma(x):
    # A central difference of math.lgamma, taken at x + 10 where lgamma is smooth, and
    # brought back by the recurrence digamma(x) = digamma(x + 1) - 1 / x.
    h, y = 1e-5, x + 10
    return ((math.lgamma(y + h) - math.lgamma(y - h)) / (2 * h)
            - sum(1 / (x + k) for k in range(10)))


vlgamma = np.vectorize(math.lgamma)
vdigamma = np.vectorize(num_digamma)


# ---- special functions --------------------------------------------------------------

def test_lgamma_and_digamma_match_math_over_a_wide_range():
    x = np.array([1e-3, 0.1, 0.5, 1.0, 2.5, 7.0, 30.0, 300.0, 1e4])
    close(lgamma(t64(x)), vlgamma(x), 1e-12)
    close(digamma(t64(x)), vdigamma(x), 1e-7)
    close(digamma(t64([1.0])), [-0.5772156649015329], 1e-13)


def test_digamma_is_the_derivative_of_lgamma_and_has_the_trigamma_as_its_own():
    x = t64([0.3, 1.0, 4.0, 50.0], True)
    (g,) = eager.grad(lgamma(x).sum(), [x])
    close(g, digamma(x), 1e-12)
    (h,) = eager.grad(digamma(x).sum(), [x])
    trigamma = [sum(1 / (v + k) ** 2 for k in range(200000)) + 1 / (v + 200000)
                for v in x.tolist()]
    close(h, trigamma, 1e-8)


def test_erfinv_inverts_erf_and_is_infinite_at_the_ends():
    y = np.array([-0.999999, -0.9, -0.3, 0.0, 0.2, 0.7, 0.99, 0.9999999])
    x = erfinv(t64(y))
    close([math.erf(v) for v in x.tolist()], y, 1e-14)
    assert erfinv(t64([-1.0, 1.0])).tolist() == [-math.inf, math.inf]
    assert gradcheck(erfinv, [t64([-0.8, 0.1, 0.95], True)])
    f32 = eager.erfinv(eager.tensor([0.5], dtype=eager.float32))
    assert f32.dtype == eager.float32 and abs(f32.item() - 0.4769362762) < 1e-6


def test_a_jitted_normal_icdf_matches_eager():
    f = jit(lambda p: Normal(1.0, 2.0).icdf(p))
    p = eager.tensor([0.01, 0.3, 0.5, 0.999], dtype=eager.float32)
    want = Normal(1.0, 2.0).icdf(p).numpy()
    for _ in range(3):
        np.testing.assert_allclose(f(p).numpy(), want, rtol=1e-5, atol=1e-6)
    assert f.cache_info().hits == 2


# ---- closed forms -------------------------------------------------------------------

def test_exponential_laplace_cauchy_match_their_closed_forms():
    rate, x = np.array([0.5, 2.0]), np.array([1.5, 0.2])
    d = Exponential(t64(rate))
    close(d.log_prob(t64(x)), np.log(rate) - rate * x), close(d.entropy(), 1 - np.log(rate))
    close(d.mean, 1 / rate), close(d.variance, 1 / rate ** 2), close(d.stddev, 1 / rate)
    close(d.cdf(t64(x)), 1 - np.exp(-rate * x)), close(d.icdf(d.cdf(t64(x))), x)
    loc, scale = np.array([0.0, 1.0]), np.array([1.0, 0.5])
    d = Laplace(t64(loc), t64(scale))
    close(d.log_prob(t64(x)), -np.log(2 * scale) - np.abs(x - loc) / scale)
    close(d.entropy(), 1 + np.log(2 * scale)), close(d.variance, 2 * scale ** 2)
    close(d.cdf(t64(x)), [1 - 0.5 * math.exp(-1.5), 0.5 * math.exp(-1.6)])
    close(d.icdf(d.cdf(t64(x))), x)
    d = Cauchy(t64(loc), t64(scale))
    z = (x - loc) / scale
    close(d.log_prob(t64(x)), -np.log(np.pi * scale * (1 + z ** 2)))
    close(d.entropy(), np.log(4 * np.pi * scale)), close(d.cdf(t64(x)), np.arctan(z) / np.pi + 0.5)
    close(d.icdf(d.cdf(t64(x))), x)
    assert math.isnan(d.mean.tolist()[0]) and d.variance.tolist()[0] == math.inf


def test_gamma_and_beta_match_their_closed_forms():
    a, r, x = np.array([0.5, 2.0, 7.5]), np.array([1.0, 3.0, 0.5]), np.array([0.3, 1.0, 12.0])
    d = Gamma(t64(a), t64(r))
    close(d.log_prob(t64(x)), a * np.log(r) + (a - 1) * np.log(x) - r * x - vlgamma(a))
    close(d.entropy(), a - np.log(r) + vlgamma(a) + (1 - a) * vdigamma(a), 1e-8)
    close(d.mean, a / r), close(d.variance, a / r ** 2), close(d.mode, np.maximum(a - 1, 0) / r)
    b, u = np.array([3.0, 0.5, 1.0]), np.array([0.2, 0.9, 0.5])
    d = Beta(t64(a), t64(b))
    log_b = vlgamma(a) + vlgamma(b) - vlgamma(a + b)
    close(d.log_prob(t64(u)), (a - 1) * np.log(u) + (b - 1) * np.log1p(-u) - log_b)
    close(d.entropy(), log_b - (a - 1) * vdigamma(a) - (b - 1) * vdigamma(b)
          + (a + b - 2) * vdigamma(a + b), 1e-8)
    close(d.mean, a / (a + b)), close(d.variance, a * b / ((a + b) ** 2 * (a + b + 1)))


def test_dirichlet_matches_its_closed_forms():
    a = np.array([[0.5, 1.0, 2.0], [3.0, 3.0, 0.7]])
    x = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    d = Dirichlet(t64(a))
    assert d.batch_shape == (2,) and d.event_shape == (3,)
    a0 = a.sum(-1)
    close(d.log_prob(t64(x)), ((a - 1) * np.log(x)).sum(-1) + vlgamma(a0) - vlgamma(a).sum(-1))
    close(d.entropy(), vlgamma(a).sum(-1) - vlgamma(a0) + (a0 - 3) * vdigamma(a0)
          - ((a - 1) * vdigamma(a)).sum(-1), 1e-8)
    close(d.mean, a / a0[:, None])
    close(d.variance, a * (a0[:, None] - a) / (a0[:, None] ** 2 * (a0[:, None] + 1)))


def test_poisson_binomial_geometric_match_their_closed_forms():
    rate, k = np.array([0.5, 2.0, 0.0, 0.0]), np.array([3.0, 0.0, 0.0, 2.0])
    d = Poisson(t64(rate))
    want = [k_ * math.log(r) - r - math.lgamma(k_ + 1) if r else (0.0 if k_ == 0 else -math.inf)
            for r, k_ in zip(rate, k)]
    close(d.log_prob(t64(k)), want), close(d.mean, rate), close(d.variance, rate)
    n, p, k = np.array([10.0, 3.0, 5.0]), np.array([0.3, 0.5, 1.0]), np.array([4.0, 3.0, 5.0])
    for d in (Binomial(t64(n), t64(p)), Binomial(t64(n), logits=t64(np.log(p / (1 - p + 1e-300))))):
        want = [math.log(math.comb(int(n_), int(k_)) * p_ ** k_ * (1 - p_) ** (n_ - k_))
                for n_, p_, k_ in zip(n, p, k)]
        close(d.log_prob(t64(k)), want, 1e-10)
    close(d.mean, n * p), close(d.variance, n * p * (1 - p))
    p, k = np.array([0.3, 0.9, 1.0]), np.array([4.0, 1.0, 0.0])
    d = Geometric(t64(p))
    close(d.log_prob(t64(k)), [math.log(0.7 ** 4 * 0.3), math.log(0.1 * 0.9), 0.0])
    assert Geometric(t64([1.0])).log_prob(t64([2.0])).tolist() == [-math.inf]
    close(d.mean, (1 - p) / p), close(d.variance, (1 - p) / p ** 2)
    q = p[:2]
    close(Geometric(t64(q)).entropy(), (-(1 - q) * np.log(1 - q) - q * np.log(q)) / q)
    close(Geometric(logits=t64([-1.0])).log_prob(t64([2.0])),
          [2 * math.log(1 - 1 / (1 + math.e)) + math.log(1 / (1 + math.e))])


def test_student_t_matches_its_closed_forms():
    df, loc, scale = np.array([0.5, 1.5, 3.0, 30.0]), np.array([0.0, 1.0, 2.0, -1.0]), \
        np.array([1.0, 2.0, 0.5, 1.0])
    x = np.array([0.3, -2.0, 2.5, 0.0])
    d = StudentT(t64(df), t64(loc), t64(scale))
    z = (x - loc) / scale
    close(d.log_prob(t64(x)), vlgamma((df + 1) / 2) - vlgamma(df / 2)
          - 0.5 * np.log(df * np.pi) - np.log(scale) - (df + 1) / 2 * np.log1p(z ** 2 / df))
    log_beta = vlgamma(df / 2) + math.lgamma(0.5) - vlgamma((df + 1) / 2)
    close(d.entropy(), np.log(scale) + (df + 1) / 2 * (vdigamma((df + 1) / 2) - vdigamma(df / 2))
          + 0.5 * np.log(df) + log_beta, 1e-8)
    mean, var = d.mean.tolist(), d.variance.tolist()
    assert math.isnan(mean[0]) and mean[1:] == [1.0, 2.0, -1.0]
    assert math.isnan(var[0]) and var[1] == math.inf
    close(var[2:], scale[2:] ** 2 * df[2:] / (df[2:] - 2))
    close(StudentT(t64(1.0)).log_prob(t64([0.7])), Cauchy(t64(0.0), t64(1.0)).log_prob(t64([0.7])))


def _mvn_log_pdf(x, loc, cov):
    diff = x - loc
    m = np.einsum("...i,ij,...j->...", diff, np.linalg.inv(cov), diff)
    return -0.5 * (loc.shape[-1] * math.log(2 * math.pi) + np.log(np.linalg.det(cov)) + m)


@pytest.mark.parametrize("key", ["covariance_matrix", "scale_tril", "precision_matrix"])
def test_multivariate_normal_matches_its_closed_forms_from_each_matrix(key):
    loc = np.array([1.0, -1.0, 0.5])
    matrix = {"covariance_matrix": COV, "scale_tril": np.linalg.cholesky(COV),
              "precision_matrix": np.linalg.inv(COV)}[key]
    d = MultivariateNormal(t64(loc), **{key: t64(matrix)})
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    assert d.log_prob(t64(x)).shape == (4, 2)
    close(d.log_prob(t64(x)), _mvn_log_pdf(x, loc, COV), 1e-10)
    close(d.entropy(), 0.5 * (3 * (1 + math.log(2 * math.pi)) + math.log(np.linalg.det(COV))),
          1e-10)
    close(d.covariance_matrix, COV, 1e-10), close(d.precision_matrix, np.linalg.inv(COV), 1e-10)
    close(d.variance, np.diag(COV), 1e-10), close(d.mean, loc)


def test_multivariate_normal_batches_loc_against_the_matrix():
    loc = np.random.default_rng(1).standard_normal((5, 3))
    d = MultivariateNormal(t64(loc), t64(COV))
    assert d.batch_shape == (5,) and d.event_shape == (3,) and d.entropy().shape == (5,)
    close(d.log_prob(t64(np.zeros(3))), _mvn_log_pdf(np.zeros(3), loc, COV), 1e-10)
    assert d.expand((2, 5)).sample((7,)).shape == (7, 2, 5, 3)


def test_lognormal_matches_its_closed_forms():
    loc, scale, x = np.array([0.0, 1.0]), np.array([1.0, 0.5]), np.array([0.5, 3.0])
    d = LogNormal(t64(loc), t64(scale))
    close(d.log_prob(t64(x)), -np.log(x * scale * math.sqrt(2 * math.pi))
          - (np.log(x) - loc) ** 2 / (2 * scale ** 2))
    close(d.mean, np.exp(loc + scale ** 2 / 2))
    close(d.variance, (np.exp(scale ** 2) - 1) * np.exp(2 * loc + scale ** 2))
    close(d.entropy(), loc + 0.5 + 0.5 * np.log(2 * np.pi * scale ** 2))
    close(d.cdf(t64(x)), [0.5 * (1 + math.erf((math.log(v) - m) / (s * math.sqrt(2))))
                          for v, m, s in zip(x, loc, scale)], 1e-7)


def test_normal_icdf_inverts_cdf():
    d = Normal(t64([0.0, 2.0, -1.0]), t64([1.0, 0.5, 3.0]))
    p = t64([0.025, 0.5, 0.9])
    close(d.cdf(d.icdf(p)), p, 1e-12)
    close(Normal(t64(0.0), t64(1.0)).icdf(t64(0.975)), 1.959963984540054, 1e-12)


# ---- transforms ---------------------------------------------------------------------

@pytest.mark.parametrize("transform, x", [
    (ExpTransform(), [-1.0, 0.5, 2.0]),
    (SigmoidTransform(), [-3.0, 0.0, 4.0]),
    (TanhTransform(), [-2.0, 0.1, 3.0]),
    (AffineTransform(t64([1.0, 2.0, 3.0]), t64([-2.0, 0.5, 3.0])), [-1.0, 0.5, 2.0]),
    (AffineTransform(1.0, -3.0), [-1.0, 0.5, 2.0]),
])
def test_transforms_invert_and_give_the_log_derivative(transform, x):
    x = t64(x, True)
    y = transform(x)
    close(transform.inv(y), x, 1e-10)
    (dy,) = eager.grad(y.sum(), [x])
    close(transform.log_abs_det_jacobian(x, y), np.log(np.abs(dy.numpy())), 1e-10)


def test_a_change_of_variables_matches_the_distribution_it_builds():
    d = TransformedDistribution(Normal(t64(0.0), t64(1.0)), [AffineTransform(1.0, 2.0)])
    x = t64([-1.0, 0.5, 4.0])
    close(d.log_prob(x), Normal(t64(1.0), t64(2.0)).log_prob(x))
    d = TransformedDistribution(Normal(t64(0.0), t64(1.0)), ExpTransform())
    close(d.log_prob(t64([0.5, 2.0])), LogNormal(t64(0.0), t64(1.0)).log_prob(t64([0.5, 2.0])))
    block = AffineTransform(t64([1.0, 1.0]), t64([2.0, 3.0]), event_dim=1)
    d = TransformedDistribution(Normal(t64([0.0, 0.0]), t64(1.0)), [block])
    assert d.batch_shape == () and d.event_shape == (2,)
    close(d.log_prob(t64([1.0, 1.0])), 2 * -0.5 * math.log(2 * math.pi) - math.log(6.0))


def test_squashed_normal_log_prob_of_its_own_saturated_sample_is_finite():
    d = TransformedDistribution(Normal(t64([30.0, 0.0]), t64([0.1, 1.0])),
                                [TanhTransform(cache_size=1)])
    a = d.rsample()
    assert a.tolist()[0] == 1.0
    lp = d.log_prob(a)
    assert np.isfinite(lp.numpy()).all()
    uncached = TransformedDistribution(d.base_dist, [TanhTransform()])
    close(uncached.log_prob(t64([0.3, -0.2])),
          d.base_dist.log_prob(t64(np.arctanh([0.3, -0.2])))
          - np.log(1 - np.array([0.3, -0.2]) ** 2), 1e-12)


# ---- KL -----------------------------------------------------------------------------

def _mc_kl(p, q, n=200000, seed=0):
    eager.manual_seed(seed)
    x = p.sample((n,))
    return (p.log_prob(x) - q.log_prob(x)).mean(0)


@pytest.mark.parametrize("p, q", [
    (Exponential(t64([0.5, 2.0])), Exponential(t64([1.0, 1.5]))),
    (Laplace(t64([0.0, 1.0]), t64([1.0, 0.5])), Laplace(t64([0.5, 0.0]), t64([2.0, 1.0]))),
    (Gamma(t64([0.7, 3.0]), t64([1.0, 2.0])), Gamma(t64([1.5, 2.0]), t64([0.5, 3.0]))),
    (Beta(t64([0.7, 3.0]), t64([2.0, 2.0])), Beta(t64([1.5, 1.0]), t64([0.5, 3.0]))),
    (Dirichlet(t64([[0.7, 3.0, 1.0]])), Dirichlet(t64([[1.5, 1.0, 2.0]]))),
    (MultivariateNormal(t64([0.0, 1.0, 0.0]), t64(COV)),
     MultivariateNormal(t64([0.5, 0.0, -1.0]), scale_tril=t64(np.diag([1.0, 2.0, 0.5])))),
    (Exponential(t64([0.5, 2.0])), Gamma(t64([1.5, 0.7]), t64([2.0, 1.0]))),
    (Gamma(t64([1.5, 0.7]), t64([2.0, 1.0])), Exponential(t64([0.5, 2.0]))),
    (Poisson(t64([1.5, 0.7])), Poisson(t64([2.0, 1.0]))),
    (Geometric(t64([0.5, 0.7])), Geometric(t64([0.2, 0.9]))),
    (Binomial(t64([5.0, 6.0]), t64([0.5, 0.7])), Binomial(t64([5.0, 6.0]), t64([0.2, 0.9]))),
    (LogNormal(t64([0.5, 0.7]), t64([1.0, 2.0])), LogNormal(t64([0.2, 0.9]), t64([3.0, 1.0]))),
], ids=lambda d: type(d).__name__)
def test_kl_closed_forms_match_monte_carlo_and_vanish_on_themselves(p, q):
    kl = kl_divergence(p, q)
    assert kl.shape == p.batch_shape
    close(kl, _mc_kl(p, q), 0.03)
    close(kl_divergence(p, p), np.zeros(p.batch_shape), 1e-10)


def test_kl_of_binomials_is_infinite_for_more_trials_and_refused_for_fewer():
    p, q = Binomial(t64([5.0, 6.0]), t64(0.5)), Binomial(t64([5.0, 3.0]), t64(0.5))
    assert kl_divergence(p, q).tolist() == [0.0, math.inf]
    with pytest.raises(NotImplementedError, match="p.total_count >= q.total_count"):
        kl_divergence(q, p)


def test_kl_of_transformed_distributions_needs_the_same_transforms():
    tanh = TanhTransform()
    p = TransformedDistribution(Normal(t64([0.0]), t64([1.0])), [tanh])
    q = TransformedDistribution(Normal(t64([1.0]), t64([2.0])), [TanhTransform()])
    close(kl_divergence(p, q), kl_divergence(p.base_dist, q.base_dist))
    r = TransformedDistribution(Normal(t64([1.0]), t64([2.0])), [AffineTransform(0.0, 2.0)])
    with pytest.raises(NotImplementedError, match="the same transforms"):
        kl_divergence(p, r)


def test_kl_of_gamma_matches_the_exponential_kl_at_concentration_one():
    p, q = Gamma(t64([1.0]), t64([0.5])), Gamma(t64([1.0]), t64([3.0]))
    close(kl_divergence(p, q), kl_divergence(Exponential(t64([0.5])), Exponential(t64([3.0]))))


# ---- against torch.distributions ----------------------------------------------------

TORCH_CASES = [
    ("Exponential", {"rate": [0.5, 2.0]}, [1.5, 0.2]),
    ("Laplace", {"loc": [0.0, 1.0], "scale": [1.0, 0.5]}, [1.5, 0.2]),
    ("Cauchy", {"loc": [0.0, 1.0], "scale": [1.0, 0.5]}, [1.5, 0.2]),
    ("Gamma", {"concentration": [0.5, 2.0], "rate": [1.0, 3.0]}, [0.3, 1.0]),
    ("Beta", {"concentration1": [0.5, 2.0], "concentration0": [3.0, 1.0]}, [0.3, 0.9]),
    ("Dirichlet", {"concentration": [[0.5, 2.0, 1.0]]}, [[0.2, 0.3, 0.5]]),
    ("LogNormal", {"loc": [0.0, 1.0], "scale": [1.0, 0.5]}, [0.5, 3.0]),
    ("StudentT", {"df": [1.5, 4.0], "loc": [0.0, 1.0], "scale": [1.0, 0.5]}, [0.5, 3.0]),
    ("Geometric", {"probs": [0.3, 0.9]}, [2.0, 0.0]),
    ("MultivariateNormal", {"loc": [1.0, -1.0, 0.5], "covariance_matrix": COV.tolist()},
     [[0.0, 0.0, 0.0], [1.0, 2.0, -1.0]]),
]


@pytest.mark.parametrize("name, params, value", TORCH_CASES)
def test_values_match_torch_distributions(name, params, value):
    torch = pytest.importorskip("torch")
    import eager.distributions as ours

    theirs = getattr(torch.distributions, name)(
        **{k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()})
    mine = getattr(ours, name)(**{k: t64(v) for k, v in params.items()})
    assert mine.batch_shape == tuple(theirs.batch_shape)
    assert mine.event_shape == tuple(theirs.event_shape)
    tvalue = torch.tensor(value, dtype=torch.float64)
    close(mine.log_prob(t64(value)), theirs.log_prob(tvalue).numpy(), 1e-10)
    close(mine.entropy(), theirs.entropy().numpy(), 1e-9)
    for attr in ("mean", "variance"):
        if name != "Cauchy":
            np.testing.assert_allclose(getattr(mine, attr).numpy(),
                                       getattr(theirs, attr).numpy(), rtol=1e-10)
    if name in ("Exponential", "Laplace", "Cauchy"):
        p = torch.tensor([0.3, 0.8], dtype=torch.float64)
        close(mine.icdf(t64(p.numpy())), theirs.icdf(p).numpy(), 1e-10)


def test_discrete_log_probs_match_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions

    def T(v):
        return torch.tensor(np.asarray(v, dtype=np.float64))

    k = np.array([0.0, 1.0, 3.0, 7.0])
    rate, n, p = [0.5, 2.0, 3.0, 0.0], [10.0, 3.0, 7.0, 7.0], [0.3, 0.5, 0.0, 1.0]
    close(Poisson(t64(rate)).log_prob(t64(k)),
          td.Poisson(T(rate)).log_prob(T(k)).numpy(), 1e-12)
    close(Binomial(t64(n), t64(p)).log_prob(t64(k)),
          td.Binomial(T(n), T(p)).log_prob(T(k)).numpy(), 1e-10)
    logits = [-3.0, 0.5, 2.0, 40.0]
    close(Binomial(t64(n), logits=t64(logits)).log_prob(t64(k)),
          td.Binomial(T(n), logits=T(logits))
          .log_prob(T(k)).numpy(), 1e-10)
    # At logits 40 torch rounds sigmoid to 1 and gives -inf for k > 0; ours stays finite.
    logits[-1] = 10.0
    close(Geometric(logits=t64(logits)).log_prob(t64(k)),
          td.Geometric(logits=T(logits)).log_prob(T(k)).numpy(), 1e-10)
    assert Geometric(logits=t64([40.0])).log_prob(t64([7.0])).item() == pytest.approx(-280.0)


def test_normal_icdf_and_tanh_squash_match_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    p = np.array([1e-6, 0.1, 0.5, 0.77, 0.999999])
    close(Normal(t64(1.0), t64(2.0)).icdf(t64(p)),
          td.Normal(1.0, 2.0).icdf(torch.tensor(p)).numpy(), 1e-9)
    loc, scale, a = np.array([0.2, -1.0]), np.array([0.5, 2.0]), np.array([0.3, -0.95])
    theirs = td.TransformedDistribution(td.Normal(torch.tensor(loc), torch.tensor(scale)),
                                        [td.transforms.TanhTransform()])
    mine = TransformedDistribution(Normal(t64(loc), t64(scale)), [TanhTransform()])
    close(mine.log_prob(t64(a)), theirs.log_prob(torch.tensor(a)).numpy(), 1e-10)


def test_kl_divergences_match_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions

    def both(name, **params):
        import eager.distributions as ours

        return (getattr(ours, name)(**{k: t64(v) for k, v in params.items()}),
                getattr(td, name)(**{k: torch.tensor(np.asarray(v, dtype=np.float64))
                                     for k, v in params.items()}))

    pairs = [
        (both("Gamma", concentration=[0.7, 3.0], rate=[1.0, 2.0]),
         both("Gamma", concentration=[1.5, 2.0], rate=[0.5, 3.0])),
        (both("Beta", concentration1=[0.7, 3.0], concentration0=[2.0, 2.0]),
         both("Beta", concentration1=[1.5, 1.0], concentration0=[0.5, 3.0])),
        (both("Dirichlet", concentration=[[0.7, 3.0, 1.0]]),
         both("Dirichlet", concentration=[[1.5, 1.0, 2.0]])),
        (both("Laplace", loc=[0.0, 1.0], scale=[1.0, 0.5]),
         both("Laplace", loc=[0.5, 0.0], scale=[2.0, 1.0])),
        (both("Exponential", rate=[0.5, 2.0]), both("Exponential", rate=[1.0, 1.5])),
        (both("Exponential", rate=[0.5, 2.0]), both("Gamma", concentration=[1.5, 0.7],
                                                    rate=[2.0, 1.0])),
        (both("Gamma", concentration=[1.5, 0.7], rate=[2.0, 1.0]),
         both("Exponential", rate=[0.5, 2.0])),
        (both("Poisson", rate=[1.5, 0.7]), both("Poisson", rate=[2.0, 1.0])),
        (both("Geometric", probs=[0.5, 0.7]), both("Geometric", probs=[0.2, 0.9])),
        (both("Binomial", total_count=[5.0, 6.0], probs=[0.5, 0.7]),
         both("Binomial", total_count=[5.0, 3.0], probs=[0.2, 0.9])),
        (both("LogNormal", loc=[0.5, 0.7], scale=[1.0, 2.0]),
         both("LogNormal", loc=[0.2, 0.9], scale=[3.0, 1.0])),
        (both("MultivariateNormal", loc=[0.0, 1.0, 0.0], covariance_matrix=COV),
         both("MultivariateNormal", loc=[[0.5, 0.0, -1.0]], covariance_matrix=np.eye(3) * 2)),
    ]
    for (mp, tp), (mq, tq) in pairs:
        np.testing.assert_allclose(kl_divergence(mp, mq).numpy(), td.kl_divergence(tp, tq).numpy(),
                                   rtol=1e-9, atol=1e-9)


# ---- gradients ----------------------------------------------------------------------

def test_log_prob_and_entropy_gradients_match_finite_differences():
    a, b, x = t64([0.7, 2.5], True), t64([1.5, 0.4], True), t64([0.3, 0.8])
    assert gradcheck(lambda a, b: Gamma(a, b).log_prob(x), [a, b])
    assert gradcheck(lambda a, b: Gamma(a, b).entropy(), [a, b])
    assert gradcheck(lambda a, b: Beta(a, b).log_prob(x), [a, b])
    assert gradcheck(lambda a, b: Beta(a, b).entropy(), [a, b])
    assert gradcheck(lambda c: Dirichlet(c).log_prob(t64([0.2, 0.8])), [a])
    assert gradcheck(lambda r: Exponential(r).log_prob(x), [b])
    assert gradcheck(lambda m, s: Laplace(m, s).log_prob(x), [a, b])
    assert gradcheck(lambda m, s: Cauchy(m, s).log_prob(x), [a, b])
    assert gradcheck(lambda m, s: LogNormal(m, s).log_prob(x), [a, b])
    assert gradcheck(lambda df, m, s: StudentT(df, m, s).log_prob(x), [b, a, b])
    assert gradcheck(lambda df: StudentT(df).entropy(), [b])
    counts = t64([2.0, 0.0])
    assert gradcheck(lambda r: Poisson(r).log_prob(counts), [b])
    assert gradcheck(lambda p: Binomial(t64([5.0, 3.0]), p).log_prob(counts), [t64([0.3, 0.6], True)])
    assert gradcheck(lambda p: Geometric(p).log_prob(counts), [t64([0.3, 0.6], True)])
    assert gradcheck(lambda p: Geometric(p).entropy(), [t64([0.3, 0.6], True)])
    tril = t64(np.linalg.cholesky(COV), True)
    loc = t64([0.1, 0.2, 0.3], True)
    value = t64([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
    assert gradcheck(lambda m, l: MultivariateNormal(m, scale_tril=l, validate_args=False)
                     .log_prob(value), [loc, tril])
    cov = t64(COV, True)
    assert gradcheck(lambda c: MultivariateNormal(loc, (c + c.mT) / 2).entropy(), [cov])
    assert gradcheck(lambda a, b: kl_divergence(Beta(a, b), Beta(b, a)), [a, b])
    assert gradcheck(lambda a, b: kl_divergence(Gamma(a, b), Gamma(b, a)), [a, b])


def _seeded(make):
    def sample(*params):
        eager.manual_seed(7)  # the same noise on every evaluation of the finite differences
        return make(*params).rsample((3,))
    return sample


def test_rsample_gradients_match_finite_differences():
    a, b = t64([0.3, 1.5], True), t64([0.8, 1.7], True)
    assert gradcheck(_seeded(lambda r: Exponential(r)), [b])
    assert gradcheck(_seeded(lambda m, s: Laplace(m, s)), [a, b])
    assert gradcheck(_seeded(lambda m, s: Cauchy(m, s)), [a, b])
    assert gradcheck(_seeded(lambda m, s: LogNormal(m, s)), [a, b])
    assert gradcheck(_seeded(lambda m, s: TransformedDistribution(
        Normal(m, s), [TanhTransform(cache_size=1)])), [a, b])
    loc, tril = t64([0.1, 0.2, 0.3], True), t64(np.linalg.cholesky(COV), True)
    assert gradcheck(_seeded(lambda m, l: MultivariateNormal(m, scale_tril=l,
                                                             validate_args=False)), [loc, tril])


def test_gamma_family_samples_carry_no_gradient_and_refuse_rsample():
    a = t64([2.0], True)
    for d in (Gamma(a, 1.0), Beta(a, a), Dirichlet(t64([1.0, 2.0], True))):
        assert not d.has_rsample and not d.sample().requires_grad
        with pytest.raises(NotImplementedError, match=f"{type(d).__name__}.rsample"):
            d.rsample()


# ---- samples ------------------------------------------------------------------------

N = 40000


@pytest.mark.parametrize("d", [
    Exponential(t64([0.5, 3.0])),
    Laplace(t64([0.0, 2.0]), t64([1.0, 0.3])),
    Gamma(t64([0.1, 0.5, 1.0, 4.0, 40.0]), t64([1.0, 2.0, 0.5, 1.0, 3.0])),
    Beta(t64([0.3, 2.0, 5.0]), t64([0.7, 2.0, 1.0])),
    Dirichlet(t64([0.5, 1.0, 3.0])),
    LogNormal(t64([0.0, 0.5]), t64([0.25, 0.5])),
    MultivariateNormal(t64([1.0, -1.0, 0.5]), t64(COV)),
    Poisson(t64([0.3, 4.0, 50.0])),
    Binomial(t64([10.0, 3.0, 40.0]), t64([0.3, 0.9, 0.5])),
    Geometric(t64([0.3, 0.9])),
    StudentT(t64([5.0, 30.0]), t64([1.0, -1.0]), t64([2.0, 0.5])),
], ids=lambda d: type(d).__name__)
def test_sample_moments_match_mean_and_variance(d):
    eager.manual_seed(0)
    x = d.sample((N,)).numpy()
    assert x.shape == (N,) + d.batch_shape + d.event_shape
    assert np.all(d.support.check(d.sample((50,))).numpy())
    sd = np.sqrt(d.variance.numpy())
    np.testing.assert_array_less(np.abs(x.mean(0) - d.mean.numpy()), 5 * sd / math.sqrt(N))
    np.testing.assert_allclose(x.var(0), d.variance.numpy(), rtol=0.05)


def test_multivariate_normal_samples_have_the_covariance():
    eager.manual_seed(1)
    x = MultivariateNormal(t64(np.zeros(3)), t64(COV)).sample((N,)).numpy()
    np.testing.assert_allclose(np.cov(x.T), COV, atol=0.04)


def test_gamma_samples_follow_the_distribution_function_at_small_concentration():
    eager.manual_seed(2)
    x = Gamma(t64(0.5), t64(1.0)).sample((N,)).numpy()
    # P(X <= 0.5) for Gamma(1/2, 1) is erf(sqrt(0.5)).
    assert abs((x <= 0.5).mean() - math.erf(math.sqrt(0.5))) < 0.01
    assert x.min() > 0


def test_samples_are_reproducible_and_float32_stays_float32():
    for make in (lambda: Gamma(eager.tensor([2.0]), 1.0), lambda: Laplace(0.0, 1.0),
                 lambda: Dirichlet(eager.ones(3))):
        eager.manual_seed(4)
        a = make().sample((5,))
        eager.manual_seed(4)
        assert make().sample((5,)).tolist() == a.tolist() and a.dtype == eager.float32


# ---- validation ---------------------------------------------------------------------

@pytest.mark.parametrize("make, pattern", [
    (lambda: Exponential(t64([1.0, -1.0])), r"Exponential: parameter rate .*GreaterThan"),
    (lambda: Laplace(0.0, t64([0.0])), r"Laplace: parameter scale"),
    (lambda: Gamma(t64([-1.0]), 1.0), r"Gamma: parameter concentration"),
    (lambda: Beta(1.0, t64([0.0])), r"Beta: parameter concentration0"),
    (lambda: Dirichlet(t64([1.0, -2.0])), r"Dirichlet: parameter concentration"),
    (lambda: Dirichlet(t64(1.0)), r"Dirichlet: concentration must be a tensor of at least 1"),
    (lambda: MultivariateNormal(t64([0.0, 0.0])), r"exactly one of covariance_matrix"),
    (lambda: MultivariateNormal(t64([0.0, 0.0]), t64(np.eye(3))), r"must be \(\.\.\., n, n\)"),
    (lambda: MultivariateNormal(t64([0.0, 0.0]), t64([[1.0, 2.0], [2.0, 1.0]])),
     r"covariance_matrix .*PositiveDefinite"),
    (lambda: MultivariateNormal(t64([0.0, 0.0]), scale_tril=t64([[1.0, 1.0], [0.0, 1.0]])),
     r"scale_tril .*LowerCholesky"),
    (lambda: MultivariateNormal(t64(np.zeros((2, 3))), t64(np.ones((4, 3, 3)))),
     r"do not broadcast"),
    (lambda: Poisson(t64([-1.0])), r"Poisson: parameter rate"),
    (lambda: Binomial(t64([2.5]), t64([0.5])), r"Binomial: parameter total_count"),
    (lambda: Binomial(3, t64([1.5])), r"Binomial: parameter probs"),
    (lambda: Binomial(3, t64([0.5]), logits=t64([0.0])), r"exactly one of them"),
    (lambda: Geometric(t64([0.0])), r"Geometric: probs must be > 0"),
    (lambda: StudentT(t64([0.0])), r"StudentT: parameter df"),
    (lambda: TransformedDistribution(Normal(0.0, 1.0), [np.exp]), r"Transform objects"),
    (lambda: TanhTransform(cache_size=2), r"TanhTransform: cache_size must be 0 or 1"),
    (lambda: TransformedDistribution(Normal(0.0, 1.0), AffineTransform(0.0, 1.0, event_dim=1)),
     r"event_dim \(1\) exceeds"),
])
def test_bad_parameters_raise_a_value_error_naming_the_distribution(make, pattern):
    with pytest.raises(DistributionError, match=pattern):
        make()
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize("d, value, pattern", [
    (Exponential(1.0), -0.5, r"Exponential.log_prob: value is outside the support"),
    (Gamma(1.0, 1.0), -0.5, r"Gamma.log_prob: .*GreaterThanEq"),
    (Beta(1.0, 1.0), 1.5, r"Beta.log_prob: .*Interval"),
    (Dirichlet(eager.ones(3)), eager.tensor([0.5, 0.6, 0.1]), r"Dirichlet.log_prob: .*Simplex"),
    (Dirichlet(eager.ones(3)), eager.tensor([0.5, 0.5]), r"rightmost sizes"),
    (LogNormal(0.0, 1.0), 0.0, r"LogNormal.log_prob: .*GreaterThan"),
    (Poisson(1.0), 1.5, r"Poisson.log_prob: .*IntegerGreaterThanEq"),
    (Binomial(3, 0.5), 4.0, r"Binomial.log_prob: .*IntegerInterval"),
    (Geometric(0.5), -1.0, r"Geometric.log_prob: .*IntegerGreaterThanEq"),
    (TransformedDistribution(Normal(0.0, 1.0), [TanhTransform()]), 2.0, r"Interval"),
])
def test_values_outside_the_support_raise(d, value, pattern):
    with pytest.raises(DistributionError, match=pattern):
        d.log_prob(value)


# ---- jit ----------------------------------------------------------------------------

class _Actor(eager.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = eager.nn.Sequential(eager.nn.Linear(3, 16), eager.nn.ReLU())
        self.mu, self.log_std = eager.nn.Linear(16, 2), eager.nn.Linear(16, 2)

    def forward(self, s):
        h = self.body(s)
        return self.mu(h), self.log_std(h).clamp(-5, 2).exp()


def _sac_setup():
    eager.manual_seed(0)
    actor = _Actor()
    return actor, eager.optim.Adam(actor.parameters(), lr=3e-3)


def test_a_jitted_sac_actor_update_matches_eager():
    states = eager.tensor(np.random.default_rng(1).standard_normal((8, 3)).astype(np.float32))

    def make_step(actor, opt):
        def step(states):
            mu, std = actor(states)
            pi = TransformedDistribution(Normal(mu, std), [TanhTransform(cache_size=1)])
            a = pi.rsample()
            log_pi = pi.log_prob(a).sum(-1)
            q = -(a - 0.5).pow(2).sum(-1)  # a stand-in critic
            loss = (0.2 * log_pi - q).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach(), a.detach()
        return step

    eager_actor, eager_opt = _sac_setup()
    jit_actor, jit_opt = _sac_setup()
    eager_step, jit_step = make_step(eager_actor, eager_opt), jit(make_step(jit_actor, jit_opt))
    for i in range(4):
        eager.manual_seed(10 + i)
        got_loss, got_a = jit_step(states)
        eager.manual_seed(10 + i)
        want_loss, want_a = eager_step(states)
        np.testing.assert_allclose(got_loss.item(), want_loss.item(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got_a.numpy(), want_a.numpy(), rtol=1e-5, atol=1e-6)
    assert jit_step.cache_info().hits == 3
    for a, b in zip(jit_actor.parameters(), eager_actor.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-6)


def test_a_jitted_gamma_sampler_draws_fresh_numbers_each_call():
    f = jit(lambda a: Beta(a, a).sample((6,)))
    a = eager.full((2,), 2.0)
    eager.manual_seed(3)
    got = [f(a).tolist() for _ in range(3)]
    eager.manual_seed(3)
    want = [Beta(a, a).sample((6,)).tolist() for _ in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert got[1] != got[2] and f.cache_info().hits == 2


def test_a_jitted_poisson_sampler_guards_on_the_largest_rate():
    f = jit(lambda r: Poisson(r).sample((4,)))
    rates = eager.tensor([1.0, 3.0])
    eager.manual_seed(0)
    got = [f(rates).tolist() for _ in range(3)]
    eager.manual_seed(0)
    assert got == [Poisson(rates).sample((4,)).tolist() for _ in range(3)]
    assert f.cache_info().hits == 2
    big = f(eager.tensor([100.0, 3.0]))  # needs more counts: the guard retraces
    assert f.cache_info().misses == 2 and big.numpy()[:, 0].min() > 50
