"""`StudentT(df, loc, scale)`: the heavy-tailed location-scale family, sampled as
loc + scale Z / sqrt(V / df) with Z normal and V chi-squared (2 Gamma(df / 2)); not
reparameterizable here, as Gamma.

>>> import eager
>>> from eager.distributions import StudentT
>>> round(StudentT(1.0).log_prob(eager.tensor(0.0)).exp().item(), 6)
0.31831
"""
from __future__ import annotations

import math
from typing import ClassVar

from eager.autograd import no_grad
from eager.distributions import constraints
from eager.distributions.distribution import Distribution, broadcast_all
from eager.distributions.gamma import standard_gamma
from eager.distributions.special import digamma, lgamma
from eager.ops.elementwise import where
from eager.random import randn
from eager.tensor import Tensor


class StudentT(Distribution):
    """Student's t with `df` > 0 degrees of freedom, location loc and scale > 0.

    >>> import eager
    >>> StudentT(eager.tensor([1.0, 1.5, 3.0])).variance.tolist()
    [nan, inf, 3.0]
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, df, loc=0.0, scale=1.0, validate_args: bool | None = None) -> None:
        self.df, self.loc, self.scale = broadcast_all("StudentT", df=df, loc=loc, scale=scale)
        super().__init__(self.df.shape, validate_args=validate_args)
        self._check_parameters(df=self.df, loc=self.loc, scale=self.scale)

    def expand(self, batch_shape) -> StudentT:
        """This distribution with its parameters broadcast to batch_shape.

        >>> StudentT(3.0).expand((2,)).batch_shape
        (2,)
        """
        shape = self._expanded_shape(batch_shape)
        return StudentT(self.df.expand(shape), self.loc.expand(shape), self.scale.expand(shape),
                        validate_args=False)

    @property
    def mean(self) -> Tensor:
        return where(self.df > 1, self.loc, float("nan"))

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        df = self.df
        finite = self.scale * self.scale * df / where(df > 2, df - 2, 1.0)
        return where(df > 2, finite, where(df > 1, float("inf"), float("nan")))

    def sample(self, sample_shape=()) -> Tensor:
        """loc + scale Z / sqrt(V / df), shape sample_shape + batch_shape, no gradient."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            df = self.df.detach()
            chi2 = 2 * standard_gamma(df / 2, shape)
            z = randn(*shape, dtype=df.dtype, device=df.device)
            return self.loc.detach() + self.scale.detach() * z * (df / chi2).sqrt()

    def log_prob(self, value: Tensor | float) -> Tensor:
        """lgamma((df+1)/2) - lgamma(df/2) - log(sqrt(df pi) scale)
        - (df+1)/2 log(1 + z^2 / df)."""
        value = self._validate_sample(value)
        df = self.df
        z = (value - self.loc) / self.scale
        return (lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * (df * math.pi).log()
                - self.scale.log() - (df + 1) / 2 * (z * z / df).log1p())

    def entropy(self) -> Tensor:
        """log(scale) + (df+1)/2 (digamma((df+1)/2) - digamma(df/2)) + log(sqrt(df))
        + log B(df/2, 1/2)."""
        df = self.df
        log_beta = lgamma(df / 2) + 0.5 * math.log(math.pi) - lgamma((df + 1) / 2)
        return (self.scale.log() + (df + 1) / 2 * (digamma((df + 1) / 2) - digamma(df / 2))
                + 0.5 * df.log() + log_beta)
