"""`Normal(loc, scale)`: the Gaussian, reparameterizable (`rsample` is loc + scale * eps).

>>> import eager
>>> from eager.distributions import Normal
>>> round(Normal(0.0, 1.0).log_prob(eager.tensor(0.0)).item(), 4)
-0.9189
"""
from __future__ import annotations

import math

from eager.distributions.location_scale import LocationScale
from eager.distributions.special import erfinv
from eager.random import randn
from eager.tensor import Tensor

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class Normal(LocationScale):
    """The normal distribution with mean `loc` and standard deviation `scale` (> 0).

    >>> import eager
    >>> d = Normal(eager.tensor([0.0, 1.0]), eager.tensor([1.0, 2.0]))
    >>> d.sample((5,)).shape, d.variance.tolist()
    ((5, 2), [1.0, 4.0])
    """

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale * self.scale

    def rsample(self, sample_shape=()) -> Tensor:
        """loc + scale * eps with eps ~ N(0, 1): the gradient reaches loc and scale.

        >>> import eager
        >>> loc = eager.tensor(1.0, requires_grad=True)
        >>> Normal(loc, 2.0).rsample((3,)).sum().backward(); loc.grad.item()
        3.0
        """
        shape = self._extended_shape(sample_shape)
        eps = randn(*shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor | float) -> Tensor:
        """-(value - loc)^2 / (2 scale^2) - log(scale) - log(sqrt(2 pi))."""
        value = self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -0.5 * z * z - self.scale.log() - _HALF_LOG_2PI

    def cdf(self, value: Tensor | float) -> Tensor:
        """P(X <= value) = (1 + erf((value - loc) / (scale sqrt 2))) / 2.

        >>> import eager
        >>> Normal(0.0, 1.0).cdf(eager.tensor(0.0)).item()
        0.5
        """
        value = self._validate_sample(value, "cdf")
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    def icdf(self, value: Tensor | float) -> Tensor:
        """loc + scale sqrt(2) erfinv(2 value - 1), the inverse of cdf.

        >>> import eager
        >>> round(Normal(0.0, 1.0).icdf(eager.tensor(0.975)).item(), 4)
        1.96
        """
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        """1/2 + log(sqrt(2 pi)) + log(scale)."""
        return 0.5 + _HALF_LOG_2PI + self.scale.log()
