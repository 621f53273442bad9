"""`Independent(base, n)`: the base's n rightmost batch dims become event dims, so
log_prob and entropy sum over them (a diagonal Normal as one multivariate event).

>>> import eager
>>> from eager.distributions import Independent, Normal
>>> d = Independent(Normal(eager.zeros(2, 3), 1.0), 1)
>>> d.batch_shape, d.event_shape, d.log_prob(eager.zeros(2, 3)).shape
((2,), (3,), (2,))
"""
from __future__ import annotations

from eager import arguments
from eager.distributions import constraints
from eager.distributions.distribution import Distribution
from eager.distributions.errors import DistributionError
from eager.tensor import Tensor


def sum_rightmost(value: Tensor, dims: int) -> Tensor:
    """value summed over its `dims` rightmost dims.

    >>> import eager
    >>> sum_rightmost(eager.ones(2, 3), 1).tolist()
    [3.0, 3.0]
    """
    for _ in range(dims):
        value = value.sum(-1)
    return value


class Independent(Distribution):
    """Reinterpret `reinterpreted_batch_ndims` batch dims of `base_distribution` as
    event dims.

    >>> import eager
    >>> from eager.distributions import Bernoulli
    >>> Independent(Bernoulli(eager.full((4,), 0.5)), 1).log_prob(eager.ones(4)).exp().item()
    0.0625
    """

    def __init__(self, base_distribution: Distribution, reinterpreted_batch_ndims: int,
                 validate_args: bool | None = None) -> None:
        if not isinstance(base_distribution, Distribution):
            raise DistributionError(f"Independent: base_distribution must be a Distribution, "
                                    f"got {type(base_distribution).__name__}")
        n = arguments.integer("Independent", "reinterpreted_batch_ndims",
                              reinterpreted_batch_ndims, minimum=0)
        shape = base_distribution.batch_shape + base_distribution.event_shape
        batch_ndims = len(base_distribution.batch_shape)
        if n > batch_ndims:
            raise DistributionError(f"Independent: reinterpreted_batch_ndims ({n}) must be at "
                                    f"most the base's batch dims {base_distribution.batch_shape}")
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        split = batch_ndims - n
        super().__init__(shape[:split], shape[split:], validate_args=validate_args)

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    @property
    def support(self) -> constraints.Constraint:
        return constraints.independent(self.base_dist.support, self.reinterpreted_batch_ndims)

    def expand(self, batch_shape) -> Independent:
        """The base expanded to batch_shape + the reinterpreted dims.

        >>> import eager
        >>> from eager.distributions import Normal
        >>> Independent(Normal(eager.zeros(3), 1.0), 1).expand((2,)).batch_shape
        (2,)
        """
        n = self.reinterpreted_batch_ndims
        reinterpreted = self._event_shape[:len(self._event_shape)
                                          - len(self.base_dist.event_shape)]
        base = self.base_dist.expand(self._expanded_shape(batch_shape) + reinterpreted)
        return Independent(base, n, validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def mode(self) -> Tensor:
        return self.base_dist.mode

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def sample(self, sample_shape=()) -> Tensor:
        """The base's sample (its shape is already batch_shape + event_shape)."""
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        """The base's reparameterized sample."""
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value: Tensor | float) -> Tensor:
        """The base's log_prob summed over the reinterpreted dims."""
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self) -> Tensor:
        """The base's entropy summed over the reinterpreted dims."""
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
