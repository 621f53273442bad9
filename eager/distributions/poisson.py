"""`Poisson(rate)`: counts of events at rate `rate` (>= 0).

Samples invert the distribution function over counts 0..K-1, K set from the largest
rate so that the mass left above it is below 1e-20. K is read from the rates (a host
read, so under `@jit` a guard: a replay whose rates need another K retraces).

>>> import eager
>>> from eager.distributions import Poisson
>>> round(Poisson(2.0).log_prob(eager.tensor(0.0)).exp().item(), 6)
0.135335
"""
from __future__ import annotations

import math
from typing import ClassVar

from eager.autograd import no_grad
from eager.creation import arange
from eager.distributions import constraints
from eager.distributions.distribution import Distribution, broadcast_all
from eager.distributions.special import lgamma
from eager.ops.elementwise import where
from eager.random import rand
from eager.tensor import Tensor


def _counts_needed(max_rate: float) -> int:
    """How many counts 0..K-1 carry all but < 1e-20 of Poisson(max_rate)'s mass."""
    return int(max_rate + 12 * math.sqrt(max_rate) + 40)


class Poisson(Distribution):
    """P(k) = rate^k exp(-rate) / k! for k = 0, 1, 2, ...

    >>> import eager
    >>> d = Poisson(eager.tensor([1.0, 4.0]))
    >>> d.variance.tolist(), d.sample((3,)).shape
    ([1.0, 4.0], (3, 2))
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all("Poisson", rate=rate)
        super().__init__(self.rate.shape, validate_args=validate_args)
        self._check_parameters(rate=self.rate)

    def expand(self, batch_shape) -> Poisson:
        """This distribution with rate broadcast to batch_shape.

        >>> Poisson(1.0).expand((2,)).batch_shape
        (2,)
        """
        return Poisson(self.rate.expand(self._expanded_shape(batch_shape)), validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape=()) -> Tensor:
        """Counts (as floats, as PyTorch) of shape sample_shape + batch_shape, no gradient.

        >>> import eager
        >>> Poisson(eager.tensor([0.0])).sample((2,)).tolist()
        [[0.0], [0.0]]
        """
        shape = self._extended_shape(sample_shape)
        with no_grad():
            rate = self.rate.detach()
            k = arange(_counts_needed(float(rate.max().item()) if rate.size else 0.0),
                       dtype=rate.dtype, device=rate.device)
            cdf = self._log_pmf(k, rate.unsqueeze(-1)).exp().cumsum(-1)
            u = rand(*shape, dtype=rate.dtype, device=rate.device)
            return (cdf[..., :-1] < u.unsqueeze(-1)).sum(-1).to(rate.dtype)

    @staticmethod
    def _log_pmf(value: Tensor, rate: Tensor) -> Tensor:
        # 0 log 0 is 0: a zero count has probability exp(-rate) even at rate 0, any
        # other count none.
        safe_log = where(rate > 0, rate, 1.0).log()
        counts = where(value == 0, 0.0, where(rate > 0, value * safe_log, -math.inf))
        return counts - rate - lgamma(value + 1)

    def log_prob(self, value: Tensor | float) -> Tensor:
        """value log(rate) - rate - lgamma(value + 1)."""
        value = self._validate_sample(value)
        return self._log_pmf(value, self.rate)
