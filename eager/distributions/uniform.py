"""`Uniform(low, high)`: constant density on [low, high), reparameterizable.

>>> import eager
>>> from eager.distributions import Uniform
>>> Uniform(0.0, 4.0).log_prob(eager.tensor(1.0)).exp().item()
0.25
"""
from __future__ import annotations

from typing import ClassVar

from eager.distributions import constraints
from eager.distributions.distribution import Distribution, broadcast_all
from eager.distributions.errors import DistributionError
from eager.random import rand
from eager.tensor import Tensor


class Uniform(Distribution):
    """The uniform distribution on [low, high) (low < high, checked when validating).

    >>> import eager
    >>> d = Uniform(eager.tensor([0.0, -1.0]), eager.tensor([1.0, 1.0]))
    >>> d.mean.tolist(), d.entropy().tolist()
    ([0.5, 0.0], [0.0, 0.6931471824645996])
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "low": constraints.real, "high": constraints.real}
    has_rsample = True

    def __init__(self, low, high, validate_args: bool | None = None) -> None:
        self.low, self.high = broadcast_all("Uniform", low=low, high=high)
        super().__init__(self.low.shape, validate_args=validate_args)
        self._check_parameters(low=self.low, high=self.high)
        if self._validate_args and not bool((self.low < self.high).all()):
            raise DistributionError(
                f"Uniform: low must be less than high, got low={self.low.detach().tolist()} "
                f"and high={self.high.detach().tolist()}")

    @property
    def support(self) -> constraints.Constraint:
        return constraints.interval(self.low, self.high)

    def expand(self, batch_shape) -> Uniform:
        """This distribution with low and high broadcast to batch_shape.

        >>> Uniform(0.0, 1.0).expand((2, 3)).batch_shape
        (2, 3)
        """
        shape = self._expanded_shape(batch_shape)
        return Uniform(self.low.expand(shape), self.high.expand(shape), validate_args=False)

    @property
    def mean(self) -> Tensor:
        return (self.low + self.high) / 2

    @property
    def mode(self) -> Tensor:
        return self.low * float("nan")

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self) -> Tensor:
        width = self.high - self.low
        return width * width / 12

    def rsample(self, sample_shape=()) -> Tensor:
        """low + u (high - low) with u ~ U[0, 1): the gradient reaches low and high.

        >>> import eager
        >>> high = eager.tensor(2.0, requires_grad=True)
        >>> x = Uniform(0.0, high).rsample((4,)); x.sum().backward()
        >>> bool(abs(high.grad.item() - (x / 2).sum().item()) < 1e-6)
        True
        """
        shape = self._extended_shape(sample_shape)
        u = rand(*shape, dtype=self.low.dtype, device=self.low.device)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Tensor | float) -> Tensor:
        """-log(high - low) inside [low, high), -inf outside."""
        value = self._validate_sample(value)
        inside = ((self.low <= value) & (self.high > value)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value: Tensor | float) -> Tensor:
        """(value - low) / (high - low), clamped to [0, 1].

        >>> import eager
        >>> Uniform(0.0, 4.0).cdf(eager.tensor(1.0)).item()
        0.25
        """
        value = self._validate_sample(value, "cdf")
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value: Tensor | float) -> Tensor:
        """low + value (high - low), the inverse of cdf.

        >>> import eager
        >>> Uniform(0.0, 4.0).icdf(eager.tensor(0.25)).item()
        1.0
        """
        return self.low + value * (self.high - self.low)

    def entropy(self) -> Tensor:
        """log(high - low)."""
        return (self.high - self.low).log()
