"""`Geometric(probs=|logits=)`: the number of failures before the first success of
independent trials with success probability p.

>>> import eager
>>> from eager.distributions import Geometric
>>> Geometric(0.5).log_prob(eager.tensor(1.0)).exp().item()
0.25
"""
from __future__ import annotations

from typing import ClassVar

from eager.autograd import no_grad
from eager.distributions import constraints
from eager.distributions.distribution import Distribution
from eager.distributions.errors import DistributionError
from eager.distributions.probabilities import (
    SuccessProbability,
    clamp_probs,
    one_of,
)
from eager.dtypes import finfo
from eager.nn.functional import softplus
from eager.ops.elementwise import where
from eager.random import rand
from eager.tensor import Tensor


class Geometric(SuccessProbability, Distribution):
    """P(k) = (1 - p)^k p for k = 0, 1, 2, ..., p in (0, 1].

    >>> import eager
    >>> Geometric(eager.tensor([0.5, 0.25])).mean.tolist()
    [1.0, 3.0]
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.interval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None) -> None:
        self._param_name, param = one_of("Geometric", probs, logits)
        setattr(self, self._param_name, param)
        self._param = param
        super().__init__(param.shape, validate_args=validate_args)
        self._check_parameters(**{self._param_name: param})
        if (self._param_name == "probs" and self._validate_args
                and not bool((param > 0).all())):
            raise DistributionError(f"Geometric: probs must be > 0 (a success must be "
                                    f"possible), got {param.detach().tolist()}")

    def expand(self, batch_shape) -> Geometric:
        """This distribution with its parameter broadcast to batch_shape.

        >>> Geometric(0.5).expand((2,)).batch_shape
        (2,)
        """
        given = self._param.expand(self._expanded_shape(batch_shape))
        return Geometric(**{self._param_name: given}, validate_args=False)

    @property
    def mean(self) -> Tensor:
        return 1 / self.probs - 1

    @property
    def mode(self) -> Tensor:
        return self.probs * 0

    @property
    def variance(self) -> Tensor:
        return (1 / self.probs - 1) / self.probs

    def sample(self, sample_shape=()) -> Tensor:
        """floor(log(u) / log(1 - p)) with u ~ U(0, 1), as floats (as PyTorch)."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            probs = self.probs.detach()
            tiny = float(finfo(probs.dtype).tiny)
            u = rand(*shape, dtype=probs.dtype, device=probs.device).clamp(min=tiny)
            return (u.log() / (-clamp_probs(probs)).log1p()).floor()

    def log_prob(self, value: Tensor | float) -> Tensor:
        """value log(1 - p) + log(p), from logits: -value softplus(l) - softplus(-l)."""
        value = self._validate_sample(value)
        if self._param_name == "probs":
            p = self.probs
            # At p = 1 only k = 0 is possible: there 0 log 0 counts as 0, as in PyTorch.
            p_fail = where((p == 1) & (value == 0), 0.0, p)
            return value * (-p_fail).log1p() + p.log()
        return -value * softplus(self.logits) - softplus(-self.logits)

    def entropy(self) -> Tensor:
        """(-(1 - p) log(1 - p) - p log p) / p, from the binary cross-entropy."""
        logits = self.logits
        return (softplus(logits) - self.probs * logits) / self.probs
