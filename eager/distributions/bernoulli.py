"""`Bernoulli(probs=|logits=)`: 1 with probability p, else 0; samples in the parameter's
floating dtype, as in PyTorch.

>>> import eager
>>> from eager.distributions import Bernoulli
>>> Bernoulli(logits=eager.tensor([0.0])).probs.tolist()
[0.5]
"""
from __future__ import annotations

from typing import ClassVar

from eager.distributions import constraints
from eager.distributions.distribution import Distribution, broadcast_all
from eager.distributions.probabilities import SuccessProbability, one_of
from eager.nn.functional import logsigmoid
from eager.ops.elementwise import where
from eager.random import rand
from eager.tensor import Tensor


class Bernoulli(SuccessProbability, Distribution):
    """A coin with P(1) = probs (or sigmoid(logits)), batched over the parameter's shape.

    >>> import eager
    >>> b = Bernoulli(eager.tensor([0.25, 1.0]))
    >>> b.variance.tolist()
    [0.1875, 0.0]
    >>> [round(v, 6) for v in b.log_prob(eager.tensor([0.0, 1.0])).exp().tolist()]
    [0.75, 1.0]
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None) -> None:
        self._param_name, param = one_of("Bernoulli", probs, logits)
        setattr(self, self._param_name, param)
        self._param = param
        super().__init__(param.shape, validate_args=validate_args)
        self._check_parameters(**{self._param_name: param})

    @property
    def param_shape(self) -> tuple[int, ...]:
        return self._param.shape

    def expand(self, batch_shape) -> Bernoulli:
        """This distribution with its parameter broadcast to batch_shape.

        >>> Bernoulli(0.5).expand((2,)).batch_shape
        (2,)
        """
        given = self._param.expand(self._expanded_shape(batch_shape))
        return Bernoulli(**{self._param_name: given}, validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        """1 where p > 1/2, 0 where p < 1/2, NaN at a tie (as PyTorch)."""
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return where(self.probs == 0.5, float("nan"), mode)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        """0.0 / 1.0 draws, shape sample_shape + batch_shape.

        >>> import eager
        >>> Bernoulli(eager.tensor([0.0, 1.0])).sample((2,)).tolist()
        [[0.0, 1.0], [0.0, 1.0]]
        """
        shape = self._extended_shape(sample_shape)
        probs = self.probs.detach()
        u = rand(*shape, dtype=probs.dtype, device=probs.device)
        return (u < probs).to(probs.dtype)

    def log_prob(self, value: Tensor | float) -> Tensor:
        """value log sigmoid(logits) + (1 - value) log sigmoid(-logits), stable for large
        logits (minus binary_cross_entropy_with_logits)."""
        value = self._validate_sample(value)
        logits, value = broadcast_all("Bernoulli.log_prob", logits=self.logits, value=value)
        return value * logsigmoid(logits) + (1 - value) * logsigmoid(-logits)

    def entropy(self) -> Tensor:
        """-p log p - (1 - p) log(1 - p)."""
        p = self.probs
        return -(p * logsigmoid(self.logits) + (1 - p) * logsigmoid(-self.logits))

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """[0., 1.], shape (2,) + batch_shape (expanded) or (2,) + (1,)*len.

        >>> import eager
        >>> Bernoulli(eager.tensor([0.3, 0.6])).enumerate_support().tolist()
        [[0.0, 0.0], [1.0, 1.0]]
        """
        from eager.creation import tensor

        values = tensor([0.0, 1.0], dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((2,) + (1,) * len(self._batch_shape))
        return values.expand((2,) + self._batch_shape) if expand else values
