"""`Dirichlet(concentration)`: distributions over the simplex (events along the last
dim), sampled by normalising Gamma draws (not reparameterizable here, as Gamma).

>>> import eager
>>> from eager.distributions import Dirichlet
>>> Dirichlet(eager.tensor([1.0, 1.0, 2.0])).mean.tolist()
[0.25, 0.25, 0.5]
"""
from __future__ import annotations

from typing import ClassVar

from eager.distributions import constraints
from eager.distributions.distribution import Distribution
from eager.distributions.errors import DistributionError
from eager.distributions.gamma import standard_gamma
from eager.distributions.special import digamma, lgamma
from eager.tensor import Tensor


class Dirichlet(Distribution):
    """Density Gamma(sum a) / prod Gamma(a_i) prod x_i^(a_i - 1) on the simplex,
    concentration a > 0 of shape batch_shape + (k,).

    >>> import eager
    >>> d = Dirichlet(eager.ones(2, 3))
    >>> d.batch_shape, d.event_shape, d.sample((4,)).shape
    ((2,), (3,), (4, 2, 3))
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if not isinstance(concentration, Tensor) or concentration.ndim < 1:
            raise DistributionError(
                f"Dirichlet: concentration must be a tensor of at least 1 dim (the last "
                f"indexes the categories), got {getattr(concentration, 'shape', concentration)!r}")
        if concentration.dtype.kind != "f":
            concentration = concentration.float()
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:],
                         validate_args=validate_args)
        self._check_parameters(concentration=concentration)

    def expand(self, batch_shape) -> Dirichlet:
        """This distribution with concentration broadcast to batch_shape + event_shape.

        >>> import eager
        >>> Dirichlet(eager.ones(3)).expand((2,)).batch_shape
        (2,)
        """
        shape = self._expanded_shape(batch_shape) + self._event_shape
        return Dirichlet(self.concentration.expand(shape), validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        shifted = (self.concentration - 1).clamp(min=0)
        return shifted / shifted.sum(-1, keepdim=True)

    @property
    def variance(self) -> Tensor:
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) / (total * total * (total + 1))

    def sample(self, sample_shape=()) -> Tensor:
        """Gamma draws normalised along the last dim; shape sample_shape + batch + event."""
        x = standard_gamma(self.concentration, self._extended_shape(sample_shape))
        return x / x.sum(-1, keepdim=True)

    def log_prob(self, value: Tensor | float) -> Tensor:
        """sum (a_i - 1) log x_i + lgamma(sum a) - sum lgamma(a_i)."""
        value = self._validate_sample(value)
        a = self.concentration
        return (((a - 1) * value.log()).sum(-1) + lgamma(a.sum(-1)) - lgamma(a).sum(-1))

    def entropy(self) -> Tensor:
        """sum lgamma(a_i) - lgamma(a0) + (a0 - k) digamma(a0) - sum (a_i - 1) digamma(a_i)."""
        a = self.concentration
        total, k = a.sum(-1), a.shape[-1]
        return (lgamma(a).sum(-1) - lgamma(total) + (total - k) * digamma(total)
                - ((a - 1) * digamma(a)).sum(-1))
