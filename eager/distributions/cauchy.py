"""`Cauchy(loc, scale)`: the Lorentz distribution (no mean or variance),
reparameterizable.

>>> import eager
>>> from eager.distributions import Cauchy
>>> Cauchy(0.0, 1.0).cdf(eager.tensor(1.0)).item()
0.75
"""
from __future__ import annotations

import math

from eager.distributions.location_scale import LocationScale
from eager.random import rand
from eager.tensor import Tensor


class Cauchy(LocationScale):
    """Density 1 / (pi scale (1 + ((x - loc) / scale)^2)), scale > 0; mean NaN and
    variance inf, as PyTorch.

    >>> import eager
    >>> round(Cauchy(0.0, 1.0).entropy().item(), 6)
    2.531024
    """

    @property
    def mean(self) -> Tensor:
        return self.loc * math.nan

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
