"""`Beta(concentration1, concentration0)` on [0, 1], sampled as X / (X + Y) from two
Gamma draws (not reparameterizable here, as Gamma).

>>> import eager
>>> from eager.distributions import Beta
>>> Beta(2.0, 2.0).mean.item()
0.5
"""
from __future__ import annotations

from typing import ClassVar

from eager.distributions import constraints
from eager.distributions.distribution import Distribution, broadcast_all
from eager.distributions.gamma import standard_gamma
from eager.distributions.special import digamma, lgamma
from eager.tensor import Tensor


def log_beta(a: Tensor, b: Tensor) -> Tensor:
    """log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b).

    >>> import eager
    >>> round(log_beta(eager.tensor(1.0), eager.tensor(1.0)).item(), 6)
    0.0
    """
    return lgamma(a) + lgamma(b) - lgamma(a + b)


class Beta(Distribution):
    """Density x^(a-1) (1-x)^(b-1) / B(a, b), a = concentration1 > 0,
    b = concentration0 > 0.

    >>> import eager
    >>> round(Beta(eager.tensor(2.0), 3.0).variance.item(), 6)
    0.04
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval

    def __init__(self, concentration1, concentration0,
                 validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(
            "Beta", concentration1=concentration1, concentration0=concentration0)
        super().__init__(self.concentration1.shape, validate_args=validate_args)
        self._check_parameters(concentration1=self.concentration1,
                               concentration0=self.concentration0)

    def expand(self, batch_shape) -> Beta:
        """This distribution with its parameters broadcast to batch_shape.

        >>> Beta(1.0, 1.0).expand((2,)).batch_shape
        (2,)
        """
        shape = self._expanded_shape(batch_shape)
        return Beta(self.concentration1.expand(shape), self.concentration0.expand(shape),
                    validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return (self.concentration1 - 1) / (self.concentration1 + self.concentration0 - 2)

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total * total * (total + 1))

    def sample(self, sample_shape=()) -> Tensor:
        """X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b); shape sample_shape + batch_shape."""
        shape = self._extended_shape(sample_shape)
        x = standard_gamma(self.concentration1, shape)
        y = standard_gamma(self.concentration0, shape)
        return x / (x + y)

    def log_prob(self, value: Tensor | float) -> Tensor:
        """(a - 1) log(value) + (b - 1) log(1 - value) - log B(a, b)."""
        value = self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return (a - 1) * value.log() + (b - 1) * (-value).log1p() - log_beta(a, b)

    def entropy(self) -> Tensor:
        """log B(a, b) - (a - 1) digamma(a) - (b - 1) digamma(b) + (a + b - 2) digamma(a + b)."""
        a, b = self.concentration1, self.concentration0
        return (log_beta(a, b) - (a - 1) * digamma(a) - (b - 1) * digamma(b)
                + (a + b - 2) * digamma(a + b))
