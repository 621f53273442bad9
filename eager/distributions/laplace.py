"""`Laplace(loc, scale)`: the double exponential, reparameterizable.

>>> import eager
>>> from eager.distributions import Laplace
>>> round(Laplace(0.0, 1.0).log_prob(eager.tensor(0.0)).item(), 6)
-0.693147
"""
from __future__ import annotations

from eager.distributions.location_scale import LocationScale
from eager.dtypes import finfo
from eager.random import rand
from eager.tensor import Tensor


class Laplace(LocationScale):
    """The Laplace distribution: density exp(-|x - loc| / scale) / (2 scale), scale > 0.

    >>> import eager
    >>> Laplace(eager.tensor([0.0, 1.0]), 2.0).variance.tolist()
    [8.0, 8.0]
    """

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale * 2 ** 0.5

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale * self.scale

    def rsample(self, sample_shape=()) -> Tensor:
        """loc - scale sign(u) log(1 - |u|) with u ~ U(-1, 1): gradients reach loc and scale.

        >>> import eager
        >>> loc = eager.tensor(1.0, requires_grad=True)
        >>> Laplace(loc, 2.0).rsample((3,)).sum().backward(); loc.grad.item()
        3.0
        """
        shape = self._extended_shape(sample_shape)
        eps = float(finfo(self.loc.dtype).eps)
        # u = -1 exactly would give log(0): keep it inside (-1, 1), as PyTorch does.
        u = (rand(*shape, dtype=self.loc.dtype, device=self.loc.device) * 2 - 1).clamp(
            min=eps - 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Tensor | float) -> Tensor:
        """-log(2 scale) - |value - loc| / scale."""
        value = self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value: Tensor | float) -> Tensor:
        """1/2 - sign(value - loc) (exp(-|value - loc| / scale) - 1) / 2.

        >>> import eager
        >>> Laplace(0.0, 1.0).cdf(eager.tensor(0.0)).item()
        0.5
        """
        value = self._validate_sample(value, "cdf")
        z = value - self.loc
        return 0.5 - 0.5 * z.sign() * (-z.abs() / self.scale).expm1()

    def icdf(self, value: Tensor | float) -> Tensor:
        """loc - scale sign(value - 1/2) log(1 - 2 |value - 1/2|), the inverse of cdf.

        >>> import eager
        >>> Laplace(0.0, 1.0).icdf(eager.tensor(0.5)).item()
        0.0
        """
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        """1 + log(2 scale)."""
        return 1 + (2 * self.scale).log()
