"""`Categorical(probs=|logits=)`: K categories, samples are int64 indices in [0, K);
`OneHotCategorical`, the same with one-hot samples.

Probabilities are normalised along the last dim, as in PyTorch (probs / probs.sum,
logits - logsumexp(logits)); both forms are available as `probs` and `logits`.

>>> import eager
>>> from eager.distributions import Categorical
>>> m = Categorical(eager.tensor([1.0, 3.0]))
>>> m.probs.tolist(), m.sample((4,)).dtype
([0.25, 0.75], dtype('int64'))
"""
from __future__ import annotations

from functools import cached_property
from typing import ClassVar

from eager.creation import arange, full
from eager.distributions import constraints
from eager.distributions.distribution import Distribution
from eager.distributions.errors import DistributionError
from eager.distributions.probabilities import one_of, probs_to_logits
from eager.dtypes import finfo
from eager.nn.functional import one_hot, softmax
from eager.ops.reductions import logsumexp
from eager.random import rand
from eager.tensor import Tensor
from kernels.shapes import broadcast_shapes


class Categorical(Distribution):
    """A distribution over K categories, batched over all but the last parameter dim.

    >>> import eager
    >>> m = Categorical(logits=eager.zeros(2, 4))
    >>> m.batch_shape, round(m.entropy()[0].item(), 4)
    ((2,), 1.3863)
    >>> m.log_prob(eager.tensor([0, 3])).exp().tolist()
    [0.25, 0.25]
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None) -> None:
        self._param_name, param = one_of(type(self).__name__, probs, logits)
        if param.ndim < 1:
            raise DistributionError(f"{type(self).__name__}: {self._param_name} must be at "
                                    f"least one-dimensional, got shape {param.shape}")
        if self._param_name == "probs":
            self.probs = param / param.sum(-1, keepdim=True)
        else:
            self.logits = param - logsumexp(param, dim=-1, keepdim=True)
        self._param = param
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1], validate_args=validate_args)
        self._check_parameters(**{self._param_name: getattr(self, self._param_name)})

    @cached_property
    def probs(self) -> Tensor:
        """The normalised probabilities, shape batch_shape + (K,)."""
        return softmax(self.logits, dim=-1)

    @cached_property
    def logits(self) -> Tensor:
        """The normalised log-probabilities (log-softmax of the logits given)."""
        return probs_to_logits(self.probs)

    @property
    def param_shape(self) -> tuple[int, ...]:
        """The shape of probs and logits: batch_shape + (K,)."""
        return self._param.shape

    @property
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self._num_events - 1)

    def expand(self, batch_shape) -> Categorical:
        """This distribution with its parameter broadcast to batch_shape + (K,).

        >>> import eager
        >>> Categorical(eager.tensor([0.5, 0.5])).expand((3,)).batch_shape
        (3,)
        """
        shape = self._expanded_shape(batch_shape) + (self._num_events,)
        given = getattr(self, self._param_name).expand(shape)
        return type(self)(**{self._param_name: given}, validate_args=False)

    @property
    def mean(self) -> Tensor:
        """NaN: categories have no mean (as PyTorch)."""
        return full(self._batch_shape, float("nan"), dtype=self.probs.dtype,
                    device=self.probs.device)

    @property
    def variance(self) -> Tensor:
        """NaN: categories have no variance (as PyTorch)."""
        return self.mean

    @property
    def mode(self) -> Tensor:
        """The most probable category."""
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()) -> Tensor:
        """int64 category indices, shape sample_shape + batch_shape, drawn by inverting
        the cumulative probabilities with one uniform draw each (eager's generator, so a
        jitted function draws fresh samples on every call).

        >>> import eager
        >>> Categorical(eager.tensor([0.0, 1.0, 0.0])).sample((3,)).tolist()
        [1, 1, 1]
        """
        shape = self._extended_shape(sample_shape)
        probs = self.probs.detach()
        cdf = probs.cumsum(-1)
        u = rand(*shape, 1, dtype=probs.dtype, device=probs.device) * cdf[..., -1:]
        # The index is how many cumulative probabilities lie at or below the draw; the
        # last one is left out, so rounding in the sum never gives index K.
        return (cdf[..., :-1] <= u).sum(-1)

    def log_prob(self, value: Tensor | float) -> Tensor:
        """log p[value], with value broadcast against batch_shape.

        >>> import eager
        >>> round(Categorical(eager.tensor([0.2, 0.8])).log_prob(eager.tensor(1)).item(), 4)
        -0.2231
        """
        value = self._validate_sample(value).long().unsqueeze(-1)
        shape = _broadcast_shape(value.shape[:-1], self._batch_shape)
        log_pmf = self.logits.expand(shape + (self._num_events,))
        return log_pmf.gather(-1, value.expand(shape + (1,))).squeeze(-1)

    def entropy(self) -> Tensor:
        """-sum p log p over the categories (a zero p contributes nothing)."""
        logits = self.logits.clamp(min=float(finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """Every category, shape (K,) + batch_shape (expanded) or (K,) + (1,)*len.

        >>> import eager
        >>> Categorical(eager.ones(2, 3)).enumerate_support().tolist()
        [[0, 0], [1, 1], [2, 2]]
        """
        values = arange(self._num_events, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values


def _broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(broadcast_shapes("Categorical.log_prob", a, b))


class OneHotCategorical(Distribution):
    """Categorical with one-hot samples: event_shape (K,), samples in the probs dtype.

    >>> import eager
    >>> m = OneHotCategorical(eager.tensor([0.0, 1.0]))
    >>> m.sample().tolist(), m.event_shape
    ([0.0, 1.0], (2,))
    """

    arg_constraints = Categorical.arg_constraints
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def param_shape(self) -> tuple[int, ...]:
        return self._categorical.param_shape

    def expand(self, batch_shape) -> OneHotCategorical:
        """This distribution with its parameter broadcast to batch_shape + (K,).

        >>> import eager
        >>> OneHotCategorical(eager.tensor([0.5, 0.5])).expand((3,)).batch_shape
        (3,)
        """
        expanded = self._categorical.expand(batch_shape)
        return OneHotCategorical(**{expanded._param_name: getattr(expanded, expanded._param_name)},
                                 validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        return one_hot(self.probs.argmax(-1), self._event_shape[0]).to(self.probs.dtype)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        """One-hot vectors, shape sample_shape + batch_shape + (K,)."""
        indices = self._categorical.sample(sample_shape)
        return one_hot(indices, self._event_shape[0]).to(self.probs.dtype)

    def log_prob(self, value: Tensor | float) -> Tensor:
        """log p of the category each one-hot vector marks."""
        value = self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self) -> Tensor:
        """The entropy of the underlying Categorical."""
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The K one-hot vectors, shape (K,) + batch_shape + (K,) (expanded).

        >>> import eager
        >>> OneHotCategorical(eager.ones(3)).enumerate_support().tolist()[1]
        [0.0, 1.0, 0.0]
        """
        n = self._event_shape[0]
        values = one_hot(arange(n, device=self.probs.device), n).to(self.probs.dtype)
        values = values.reshape((n,) + (1,) * len(self._batch_shape) + (n,))
        return values.expand((n,) + self._batch_shape + (n,)) if expand else values
