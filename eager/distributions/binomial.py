"""`Binomial(total_count, probs=|logits=)`: successes in total_count independent trials.

Samples count successes over max(total_count) Bernoulli draws per element (those past
an element's own count masked off); that maximum is a host read, so under `@jit` a
guard.

>>> import eager
>>> from eager.distributions import Binomial
>>> round(Binomial(4, eager.tensor(0.5)).log_prob(eager.tensor(2.0)).exp().item(), 6)
0.375
"""
from __future__ import annotations

from typing import ClassVar

from eager.autograd import no_grad
from eager.creation import arange
from eager.distributions import constraints
from eager.distributions.distribution import Distribution, broadcast_all
from eager.distributions.probabilities import SuccessProbability, one_of
from eager.distributions.special import lgamma
from eager.nn.functional import softplus
from eager.random import rand
from eager.tensor import Tensor


class Binomial(SuccessProbability, Distribution):
    """P(k) = C(n, k) p^k (1 - p)^(n - k), k = 0..n, n = total_count (integers >= 0).

    >>> import eager
    >>> d = Binomial(eager.tensor([10.0, 4.0]), eager.tensor([0.5, 0.25]))
    >>> d.mean.tolist(), d.variance.tolist()
    ([5.0, 1.0], [2.5, 0.75])
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval, "logits": constraints.real}

    def __init__(self, total_count=1, probs=None, logits=None,
                 validate_args: bool | None = None) -> None:
        self._param_name, param = one_of("Binomial", probs, logits)
        self.total_count, param = broadcast_all("Binomial", total_count=total_count,
                                                **{self._param_name: param})
        setattr(self, self._param_name, param)
        self._param = param
        super().__init__(param.shape, validate_args=validate_args)
        self._check_parameters(total_count=self.total_count, **{self._param_name: param})

    @property
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)

    def expand(self, batch_shape) -> Binomial:
        """This distribution with its parameters broadcast to batch_shape.

        >>> Binomial(3, 0.5).expand((2,)).batch_shape
        (2,)
        """
        shape = self._expanded_shape(batch_shape)
        return Binomial(self.total_count.expand(shape),
                        **{self._param_name: self._param.expand(shape)}, validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        """Success counts (as floats, as PyTorch), shape sample_shape + batch_shape.

        >>> import eager
        >>> Binomial(eager.tensor([3.0]), eager.tensor([1.0])).sample((2,)).tolist()
        [[3.0], [3.0]]
        """
        shape = self._extended_shape(sample_shape)
        with no_grad():
            probs, n = self.probs.detach(), self.total_count.detach()
            trials = int(n.max().item()) if n.size else 0
            u = rand(*shape, trials, dtype=probs.dtype, device=probs.device)
            counted = arange(trials, dtype=probs.dtype, device=probs.device) < n.unsqueeze(-1)
            return ((u < probs.unsqueeze(-1)) & counted).sum(-1).to(probs.dtype)

    def log_prob(self, value: Tensor | float) -> Tensor:
        """log C(n, k) + k logits - n softplus(logits), stable for large |logits|."""
        value = self._validate_sample(value)
        n, logits = self.total_count, self.logits
        log_choose = lgamma(n + 1) - lgamma(value + 1) - lgamma(n - value + 1)
        # k logits - n softplus(logits) = k log p + (n - k) log(1 - p), with 0 log 0 = 0 at
        # p = 0 or 1 (where probs_to_logits clamped the logits to a large finite value).
        return log_choose + value * logits - n * softplus(logits)
