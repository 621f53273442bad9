"""`Gamma(concentration, rate)` and `standard_gamma`, the Gamma sampler that Beta and
Dirichlet share.

Samples come from Marsaglia and Tsang's method written in eager ops, so a jitted
function draws fresh ones on every call. Its rejection loop is unrolled to a fixed
number of rounds: each proposal is accepted with probability above 0.95, so an element
still rejected after all of them (probability below 1e-16) is a one in 10^16 event.
`has_rsample` is False: the implicit reparameterization gradient through the Gamma
CDF in the concentration is not implemented (PyTorch has it).

>>> import eager
>>> from eager.distributions import Gamma
>>> Gamma(3.0, 2.0).mean.item()
1.5
"""
from __future__ import annotations

from typing import ClassVar

from eager.autograd import no_grad
from eager.distributions import constraints
from eager.distributions.distribution import Distribution, broadcast_all
from eager.distributions.special import digamma, lgamma
from eager.dtypes import finfo
from eager.ops.elementwise import where
from eager.random import rand, randn
from eager.tensor import Tensor

_ROUNDS = 12


def standard_gamma(concentration: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Gamma(concentration, 1) draws of `shape` (concentration broadcast to it), no gradient.

    >>> import eager
    >>> _ = eager.manual_seed(0)
    >>> x = standard_gamma(eager.full((20000,), 4.0), (20000,))
    >>> bool(abs(x.mean().item() - 4.0) < 0.1)
    True
    """
    with no_grad():
        a = concentration.detach().expand(shape)
        dtype, device = a.dtype, a.device
        # Below 1 the method needs a boost: Gamma(a) = Gamma(a + 1) U^(1/a).
        boosted = where(a < 1, a + 1, a)
        d = boosted - 1 / 3
        c = 1 / (9 * d).sqrt()
        tiny = float(finfo(dtype).tiny)
        result, done = d * 0, a < 0
        for _ in range(_ROUNDS):
            x = randn(*shape, dtype=dtype, device=device)
            u = rand(*shape, dtype=dtype, device=device)
            v = (1 + c * x) ** 3
            accept = (v > 0) & (u.clamp(min=tiny).log()
                                < 0.5 * x * x + d - d * v + d * v.clamp(min=tiny).log())
            result = where(done | ~accept, result, d * v)
            done = done | accept
        result = where(done, result, d)
        u = rand(*shape, dtype=dtype, device=device).clamp(min=tiny)
        return where(a < 1, result * u ** (1 / a), result).clamp(min=tiny)


class Gamma(Distribution):
    """Density rate^a x^(a-1) exp(-rate x) / Gamma(a) on x > 0, concentration a > 0 and
    rate > 0.

    >>> import eager
    >>> d = Gamma(eager.tensor([1.0, 2.0]), 1.0)
    >>> d.variance.tolist(), d.sample((3,)).shape
    ([1.0, 2.0], (3, 2))
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, concentration, rate, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all("Gamma", concentration=concentration,
                                                      rate=rate)
        super().__init__(self.rate.shape, validate_args=validate_args)
        self._check_parameters(concentration=self.concentration, rate=self.rate)

    def expand(self, batch_shape) -> Gamma:
        """This distribution with its parameters broadcast to batch_shape.

        >>> Gamma(1.0, 1.0).expand((2,)).batch_shape
        (2,)
        """
        shape = self._expanded_shape(batch_shape)
        return Gamma(self.concentration.expand(shape), self.rate.expand(shape),
                     validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / (self.rate * self.rate)

    def sample(self, sample_shape=()) -> Tensor:
        """Draws of shape sample_shape + batch_shape (no gradient)."""
        shape = self._extended_shape(sample_shape)
        return standard_gamma(self.concentration, shape) / self.rate.detach()

    def log_prob(self, value: Tensor | float) -> Tensor:
        """a log(rate) + (a - 1) log(value) - rate value - lgamma(a)."""
        value = self._validate_sample(value)
        a = self.concentration
        return a * self.rate.log() + (a - 1) * value.log() - self.rate * value - lgamma(a)

    def entropy(self) -> Tensor:
        """a - log(rate) + lgamma(a) + (1 - a) digamma(a)."""
        a = self.concentration
        return a - self.rate.log() + lgamma(a) + (1 - a) * digamma(a)
