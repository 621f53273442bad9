"""`kl_divergence(p, q)`: KL(p || q) in closed form for the registered pairs, and
`register_kl(type_p, type_q)` to add one.

>>> import eager
>>> from eager.distributions import Normal, kl_divergence
>>> round(kl_divergence(Normal(0.0, 1.0), Normal(1.0, 1.0)).item(), 4)
0.5
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from eager.distributions.bernoulli import Bernoulli
from eager.distributions.beta import Beta
from eager.distributions.binomial import Binomial
from eager.distributions.categorical import Categorical, OneHotCategorical
from eager.distributions.dirichlet import Dirichlet
from eager.distributions.distribution import Distribution
from eager.distributions.errors import DistributionError
from eager.distributions.exponential import Exponential
from eager.distributions.gamma import Gamma
from eager.distributions.geometric import Geometric
from eager.distributions.independent import Independent, sum_rightmost
from eager.distributions.laplace import Laplace
from eager.distributions.multivariate_normal import MultivariateNormal, mahalanobis_squared
from eager.distributions.normal import Normal
from eager.distributions.poisson import Poisson
from eager.distributions.special import digamma, lgamma
from eager.distributions.transformed import TransformedDistribution
from eager.distributions.transforms import AffineTransform, Transform
from eager.distributions.uniform import Uniform
from eager.linalg import solve
from eager.nn.functional import softplus
from eager.ops.elementwise import where
from eager.tensor import Tensor

_REGISTRY: dict[tuple[type, type], Callable] = {}
_EULER_GAMMA = 0.5772156649015329


def register_kl(type_p: type, type_q: type) -> Callable:
    """Decorator: `fn(p, q)` computes KL(p || q) for p of type_p and q of type_q (or
    subclasses; the most specific registered pair wins).

    >>> from eager.distributions import Normal
    >>> class Point(Normal):
    ...     pass
    >>> @register_kl(Point, Point)
    ... def _kl_point(p, q):
    ...     return (p.loc - q.loc).abs()
    >>> kl_divergence(Point(0.0, 1.0), Point(3.0, 1.0)).item()
    3.0
    """
    for t in (type_p, type_q):
        if not (isinstance(t, type) and issubclass(t, Distribution)):
            raise DistributionError(f"register_kl: expected Distribution subclasses, got {t!r}")

    def decorator(fn: Callable) -> Callable:
        _REGISTRY[type_p, type_q] = fn
        return fn
    return decorator


def _lookup(type_p: type, type_q: type) -> Callable | None:
    matches = [(type_p.__mro__.index(a) + type_q.__mro__.index(b), fn)
               for (a, b), fn in _REGISTRY.items()
               if issubclass(type_p, a) and issubclass(type_q, b)]
    return min(matches, key=lambda m: m[0])[1] if matches else None


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) = E_p[log p(x) - log q(x)], shape batch_shape (broadcast).

    >>> import eager
    >>> from eager.distributions import Bernoulli
    >>> kl_divergence(Bernoulli(0.5), Bernoulli(0.5)).item()
    0.0
    """
    fn = _lookup(type(p), type(q))
    if fn is None:
        raise NotImplementedError(f"kl_divergence: no closed form registered for "
                                  f"{type(p).__name__} || {type(q).__name__}; add one with "
                                  f"register_kl({type(p).__name__}, {type(q).__name__})")
    return fn(p, q)


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    ratio = p.scale / q.scale
    var_ratio = ratio * ratio
    t = (p.loc - q.loc) / q.scale
    return 0.5 * (var_ratio + t * t - 1 - var_ratio.log())


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    t = p.probs * (p.logits - q.logits)
    t = where(q.probs == 0, math.inf, t)
    return where(p.probs == 0, 0.0, t).sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p: OneHotCategorical, q: OneHotCategorical) -> Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = where(p.probs == 0, 0.0, where(q.probs == 0, math.inf, t1))
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = where(p.probs == 1, 0.0, where(q.probs == 1, math.inf, t2))
    return t1 + t2


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return where((q.low > p.low) | (q.high < p.high), math.inf, result)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p: Uniform, q: Normal) -> Tensor:
    # -H(p) - E_p[log q(x)], with E_p[(x - m)^2] = var_p + (mean_p - m)^2.
    width = p.high - p.low
    t = (p.mean - q.loc) / q.scale
    spread = width * width / (12 * q.scale * q.scale)
    return (-width.log() + q.scale.log() + 0.5 * math.log(2 * math.pi)
            + 0.5 * (t * t + spread))


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independent distributions with different "
                                  f"reinterpreted_batch_ndims ({p.reinterpreted_batch_ndims} "
                                  f"and {q.reinterpreted_batch_ndims})")
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> Tensor:
    ratio = q.rate / p.rate
    return ratio - 1 - ratio.log()


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    ratio = p.scale / q.scale
    gap = (p.loc - q.loc).abs()
    return -ratio.log() + gap / q.scale + ratio * (-gap / p.scale).exp() - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    a, b = p.concentration, q.concentration
    return (b * (p.rate / q.rate).log() + lgamma(b) - lgamma(a) + (a - b) * digamma(a)
            + (q.rate - p.rate) * a / p.rate)


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    a1, b1, a2, b2 = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    total = a1 + b1
    return (lgamma(a2) + lgamma(b2) + lgamma(total) - lgamma(a1) - lgamma(b1) - lgamma(a2 + b2)
            + (a1 - a2) * digamma(a1) + (b1 - b2) * digamma(b1)
            + (a2 + b2 - total) * digamma(total))


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    a, b = p.concentration, q.concentration
    total = a.sum(-1)
    return (lgamma(total) - lgamma(b.sum(-1)) - (lgamma(a) - lgamma(b)).sum(-1)
            + ((a - b) * (digamma(a) - digamma(total).unsqueeze(-1))).sum(-1))


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    # (tr(Sq^-1 Sp) + |Lq^-1 (mq - mp)|^2 - n + log det Sq - log det Sp) / 2, with
    # tr(Sq^-1 Sp) = |Lq^-1 Lp|_F^2.
    if p.event_shape != q.event_shape:
        raise DistributionError(f"kl_divergence: MultivariateNormal event shapes differ: "
                                f"{p.event_shape} and {q.event_shape}")
    n = p.event_shape[0]
    lp, lq = p.scale_tril, q.scale_tril
    batch = tuple(np.broadcast_shapes(lp.shape[:-2], lq.shape[:-2]))
    m = solve(lq.expand(batch + (n, n)), lp.expand(batch + (n, n)))
    half_log_dets = (lq.diagonal(dim1=-2, dim2=-1).log().sum(-1)
                     - lp.diagonal(dim1=-2, dim2=-1).log().sum(-1))
    return (half_log_dets + 0.5 * ((m * m).sum((-2, -1))
                                   + mahalanobis_squared(lq, q.loc - p.loc) - n))


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p: Exponential, q: Gamma) -> Tensor:
    ratio = q.rate / p.rate
    a = q.concentration
    return (-a * ratio.log() + ratio + lgamma(a) + a * _EULER_GAMMA - (1 + _EULER_GAMMA))


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p: Gamma, q: Exponential) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> Tensor:
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p: Geometric, q: Geometric) -> Tensor:
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p: Binomial, q: Binomial) -> Tensor:
    # A p with fewer trials than q is not absolutely continuous the other way round and
    # has no closed form here (as in PyTorch); more trials put mass where q has none.
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError("kl_divergence: Binomial || Binomial needs p.total_count "
                                  ">= q.total_count everywhere")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p()
                          - (-q.probs).log1p())
    return where(p.total_count > q.total_count, math.inf, kl)


def _same_transform(a: Transform, b: Transform) -> bool:
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, AffineTransform):
        return (a.event_dim == b.event_dim and
                all(x is y or (not isinstance(x, Tensor) and x == y)
                    for x, y in ((a.loc, b.loc), (a.scale, b.scale))))
    return True


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p: TransformedDistribution,
                                q: TransformedDistribution) -> Tensor:
    # A bijection leaves KL unchanged: with the same transforms it is the bases' KL.
    if (len(p.transforms) != len(q.transforms)
            or not all(map(_same_transform, p.transforms, q.transforms))
            or p.event_shape != q.event_shape):
        raise NotImplementedError("kl_divergence: TransformedDistributions need the same "
                                  "transforms and event_shape for a closed form")
    extra = len(p.event_shape) - len(p.base_dist.event_shape)
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), extra)
