"""`Cauchy(loc, scale)`: the Lorentz distribution (no mean or variance),
reparameterizable.

>>> import eager
>>> from eager.distributions import Cauchy
>>> Cauchy(0.0, 1.0).cdf(eager.tensor(1.0)).item()
0.75
"""
from __future__ import annotations

import math
from typing import ClassVar

from eager.distributions import constraints
from eager.distributions.distribution import Distribution, broadcast_all
from eager.random import rand
from eager.tensor import Tensor


class Cauchy(Distribution):
    """Density 1 / (pi scale (1 + ((x - loc) / scale)^2)), scale > 0; mean NaN and
    variance inf, as PyTorch.

    >>> import eager
    >>> round(Cauchy(0.0, 1.0).entropy().item(), 6)
    2.531024
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all("Cauchy", loc=loc, scale=scale)
        super().__init__(self.loc.shape, validate_args=validate_args)
        self._check_parameters(loc=self.loc, scale=self.scale)

    def expand(self, batch_shape) -> Cauchy:
        """This distribution with loc and scale broadcast to batch_shape.

        >>> Cauchy(0.0, 1.0).expand((2,)).batch_shape
        (2,)
        """
        shape = self._expanded_shape(batch_shape)
        return Cauchy(self.loc.expand(shape), self.scale.expand(shape), validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.loc * math.nan

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return self.scale * math.inf

    def rsample(self, sample_shape=()) -> Tensor:
        """loc + scale tan(pi (u - 1/2)) with u ~ U[0, 1).

        >>> import eager
        >>> loc = eager.tensor(1.0, requires_grad=True)
        >>> Cauchy(loc, 2.0).rsample((3,)).sum().backward(); loc.grad.item()
        3.0
        """
        shape = self._extended_shape(sample_shape)
        u = rand(*shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + self.scale * (math.pi * (u - 0.5)).tan()

    def log_prob(self, value: Tensor | float) -> Tensor:
        """-log(pi) - log(scale) - log(1 + z^2), z = (value - loc) / scale."""
        value = self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - (z * z).log1p()

    def cdf(self, value: Tensor | float) -> Tensor:
        """atan((value - loc) / scale) / pi + 1/2."""
        value = self._validate_sample(value, "cdf")
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value: Tensor | float) -> Tensor:
        """loc + scale tan(pi (value - 1/2)), the inverse of cdf.

        >>> import eager
        >>> Cauchy(0.0, 1.0).icdf(eager.tensor(0.5)).item()
        0.0
        """
        return self.loc + self.scale * (math.pi * (value - 0.5)).tan()

    def entropy(self) -> Tensor:
        """log(4 pi scale)."""
        return (4 * math.pi * self.scale).log()
