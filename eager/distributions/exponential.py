"""`Exponential(rate)`: waiting times of rate `rate` (> 0), reparameterizable
(`rsample` is -log(1 - u) / rate).

>>> import eager
>>> from eager.distributions import Exponential
>>> Exponential(2.0).mean.item()
0.5
"""
from __future__ import annotations

from typing import ClassVar

from eager.distributions import constraints
from eager.distributions.distribution import Distribution, broadcast_all
from eager.random import rand
from eager.tensor import Tensor


class Exponential(Distribution):
    """The exponential distribution with density rate exp(-rate x) on x >= 0.

    >>> import eager
    >>> d = Exponential(eager.tensor([1.0, 4.0]))
    >>> d.variance.tolist(), d.sample((3,)).shape
    ([1.0, 0.0625], (3, 2))
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all("Exponential", rate=rate)
        super().__init__(self.rate.shape, validate_args=validate_args)
        self._check_parameters(rate=self.rate)

    def expand(self, batch_shape) -> Exponential:
        """This distribution with rate broadcast to batch_shape.

        >>> Exponential(1.0).expand((2,)).batch_shape
        (2,)
        """
        return Exponential(self.rate.expand(self._expanded_shape(batch_shape)),
                           validate_args=False)

    @property
    def mean(self) -> Tensor:
        return 1 / self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate * 0

    @property
    def stddev(self) -> Tensor:
        return 1 / self.rate

    @property
    def variance(self) -> Tensor:
        return 1 / (self.rate * self.rate)

    def rsample(self, sample_shape=()) -> Tensor:
        """-log(1 - u) / rate with u ~ U[0, 1): the gradient reaches rate.

        >>> import eager
        >>> rate = eager.tensor(2.0, requires_grad=True)
        >>> x = Exponential(rate).rsample((3,)); x.sum().backward()
        >>> bool(abs(rate.grad.item() + (x / 2).sum().item()) < 1e-6)
        True
        """
        shape = self._extended_shape(sample_shape)
        u = rand(*shape, dtype=self.rate.dtype, device=self.rate.device)
        return -(-u).log1p() / self.rate

    def log_prob(self, value: Tensor | float) -> Tensor:
        """log(rate) - rate value."""
        value = self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value: Tensor | float) -> Tensor:
        """1 - exp(-rate value).

        >>> import eager
        >>> round(Exponential(1.0).cdf(eager.tensor(1.0)).item(), 6)
        0.632121
        """
        value = self._validate_sample(value, "cdf")
        return -(-self.rate * value).expm1()

    def icdf(self, value: Tensor | float) -> Tensor:
        """-log(1 - value) / rate, the inverse of cdf.

        >>> import eager
        >>> round(Exponential(1.0).icdf(eager.tensor(0.5)).item(), 6)
        0.693147
        """
        return -(-value).log1p() / self.rate

    def entropy(self) -> Tensor:
        """1 - log(rate)."""
        return 1 - self.rate.log()
