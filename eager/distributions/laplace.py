"""`Laplace(loc, scale)`: the double exponential, reparameterizable.

>>> import eager
>>> from eager.distributions import Laplace
>>> round(Laplace(0.0, 1.0).log_prob(eager.tensor(0.0)).item(), 6)
-0.693147
"""
from __future__ import annotations

from typing import ClassVar

from eager.distributions import constraints
from eager.distributions.distribution import Distribution, broadcast_all
from eager.dtypes import finfo
from eager.random import rand
from eager.tensor import Tensor


class Laplace(Distribution):
    """The Laplace distribution: density exp(-|x - loc| / scale) / (2 scale), scale > 0.

    >>> import eager
    >>> Laplace(eager.tensor([0.0, 1.0]), 2.0).variance.tolist()
    [8.0, 8.0]
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all("Laplace", loc=loc, scale=scale)
        super().__init__(self.loc.shape, validate_args=validate_args)
        self._check_parameters(loc=self.loc, scale=self.scale)

    def expand(self, batch_shape) -> Laplace:
        """This distribution with loc and scale broadcast to batch_shape.

        >>> Laplace(0.0, 1.0).expand((3,)).batch_shape
        (3,)
        """
        shape = self._expanded_shape(batch_shape)
        return Laplace(self.loc.expand(shape), self.scale.expand(shape), validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
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
