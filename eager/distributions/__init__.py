"""Probability distributions with PyTorch's `torch.distributions` API, built from eager
ops, so gradients flow through log_prob, entropy and rsample, and a jitted function that
samples draws fresh numbers on every call (eager's generator, `eager.manual_seed`).

Categorical, OneHotCategorical, Bernoulli, Normal, Uniform, Independent, Exponential,
Laplace, Cauchy, Gamma, Beta, Dirichlet, Poisson, Binomial, Geometric, StudentT,
MultivariateNormal, LogNormal,
TransformedDistribution (with `transforms`), kl_divergence.

>>> import eager
>>> from eager.distributions import Categorical
>>> _ = eager.manual_seed(0)
>>> m = Categorical(eager.tensor([0.1, 0.2, 0.7]))
>>> action = m.sample()
>>> m.log_prob(action).shape, action.dtype
((), dtype('int64'))
"""
from eager.distributions import constraints, transforms
from eager.distributions.bernoulli import Bernoulli
from eager.distributions.beta import Beta
from eager.distributions.binomial import Binomial
from eager.distributions.categorical import Categorical, OneHotCategorical
from eager.distributions.cauchy import Cauchy
from eager.distributions.dirichlet import Dirichlet
from eager.distributions.distribution import Distribution
from eager.distributions.errors import DistributionError
from eager.distributions.exponential import Exponential
from eager.distributions.gamma import Gamma
from eager.distributions.geometric import Geometric
from eager.distributions.independent import Independent
from eager.distributions.kl import kl_divergence, register_kl
from eager.distributions.laplace import Laplace
from eager.distributions.multivariate_normal import MultivariateNormal
from eager.distributions.normal import Normal
from eager.distributions.poisson import Poisson
from eager.distributions.student_t import StudentT
from eager.distributions.transformed import LogNormal, TransformedDistribution
from eager.distributions.uniform import Uniform

__all__ = [
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "Dirichlet",
    "Distribution",
    "DistributionError",
    "Exponential",
    "Gamma",
    "Geometric",
    "Independent",
    "Laplace",
    "LogNormal",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "Poisson",
    "StudentT",
    "TransformedDistribution",
    "Uniform",
    "constraints",
    "kl_divergence",
    "register_kl",
    "transforms",
]
