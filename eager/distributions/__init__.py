"""Probability distributions with PyTorch's `torch.distributions` API, built from eager
ops, so gradients flow through log_prob, entropy and rsample, and a jitted function that
samples draws fresh numbers on every call (eager's generator, `eager.manual_seed`).

Categorical, OneHotCategorical, Bernoulli, Normal, Uniform, Independent, kl_divergence.

>>> import eager
>>> from eager.distributions import Categorical
>>> _ = eager.manual_seed(0)
>>> m = Categorical(eager.tensor([0.1, 0.2, 0.7]))
>>> action = m.sample()
>>> m.log_prob(action).shape, action.dtype
((), dtype('int64'))
"""
from eager.distributions import constraints
from eager.distributions.bernoulli import Bernoulli
from eager.distributions.categorical import Categorical, OneHotCategorical
from eager.distributions.distribution import Distribution
from eager.distributions.errors import DistributionError
from eager.distributions.independent import Independent
from eager.distributions.kl import kl_divergence, register_kl
from eager.distributions.normal import Normal
from eager.distributions.uniform import Uniform

__all__ = [
    "Bernoulli",
    "Categorical",
    "Distribution",
    "DistributionError",
    "Independent",
    "Normal",
    "OneHotCategorical",
    "Uniform",
    "constraints",
    "kl_divergence",
    "register_kl",
]
