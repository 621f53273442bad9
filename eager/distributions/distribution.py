"""`Distribution`, the base of every distribution here, and the helpers they share:
parameter broadcasting, validation of parameters and of values passed to `log_prob`.

Validation is on by default, as in PyTorch (`Distribution.set_default_validate_args`
or `validate_args=False` turns it off). A check is a host read, so under `@jit` it
becomes a guard: a replay whose parameters break the constraint falls back to eager
and raises there.

>>> import eager
>>> from eager.distributions import Normal
>>> d = Normal(eager.zeros(3), 1.0)
>>> d.batch_shape, d.event_shape, d.sample((2,)).shape
((3,), (), (2, 3))
"""
from __future__ import annotations

import numbers
from typing import ClassVar

from eager import arguments
from eager.autograd import no_grad
from eager.creation import tensor
from eager.distributions import constraints
from eager.distributions.errors import DistributionError
from eager.dtypes import result_type
from eager.ops.shape import broadcast_arrays
from eager.tensor import Tensor
from kernels.dtypes import current_default_float


def broadcast_all(name: str, **values) -> tuple[Tensor, ...]:
    """The values (tensors or Python numbers) as floating tensors of one broadcast shape
    and dtype; numbers take the tensors' dtype and device, as PyTorch's `broadcast_all`.

    >>> import eager
    >>> from eager.distributions.distribution import broadcast_all
    >>> [t.shape for t in broadcast_all("Normal", loc=0.0, scale=eager.ones(2))]
    [(2,), (2,)]
    """
    tensors = [v for v in values.values() if isinstance(v, Tensor)]
    for key, v in values.items():
        if not isinstance(v, (Tensor, numbers.Real)) or isinstance(v, bool):
            raise DistributionError(f"{name}: {key} must be a Tensor or a real number, got "
                                    f"{type(v).__name__}")
    floating = [t for t in tensors if t.dtype.kind == "f"]
    dtype = result_type(*floating) if floating else current_default_float()
    device = tensors[0].device if tensors else None
    as_tensors = [v.to(dtype) if isinstance(v, Tensor) else tensor(v, dtype=dtype, device=device)
                  for v in values.values()]
    try:
        return tuple(broadcast_arrays(*as_tensors))
    except ValueError:
        shapes = ", ".join(f"{k} {t.shape}" for k, t in zip(values, as_tensors))
        raise DistributionError(f"{name}: parameters do not broadcast: {shapes}") from None


def _some_invalid(value: Tensor, ok: Tensor, limit: int = 4) -> str:
    """The first few values (or events) where `ok` is False, for an error message."""
    bad = value.detach().expand(ok.shape + value.shape[ok.ndim:])[~ok]
    shown = ", ".join(repr(v) for v in bad[:limit].tolist())
    return f"[{shown}{', ...' if bad.shape[0] > limit else ''}]"


class Distribution:
    """The interface PyTorch's distributions share: `sample`, `rsample` (where
    reparameterizable), `log_prob`, `entropy`, `mean`, `variance`, `stddev`,
    `batch_shape`, `event_shape`, `expand`, `support`, `arg_constraints`.

    Samples have shape `sample_shape + batch_shape + event_shape`; `log_prob` of such a
    value has shape `sample_shape + batch_shape`.

    >>> import eager
    >>> from eager.distributions import Bernoulli
    >>> Bernoulli(eager.tensor([0.2, 0.7])).mean.tolist()
    [0.20000000298023224, 0.699999988079071]
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {}
    support: constraints.Constraint | None = None
    has_rsample = False
    has_enumerate_support = False
    _validate_default = True

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Validate parameters and `log_prob` values by default (True, as PyTorch) or not.

        >>> from eager.distributions import Distribution
        >>> Distribution.set_default_validate_args(True)
        """
        if value not in (True, False):
            raise DistributionError(f"Distribution.set_default_validate_args: value must be "
                                    f"True or False, got {value!r}")
        Distribution._validate_default = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args: bool | None = None) -> None:
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        self._validate_args = (Distribution._validate_default if validate_args is None
                               else bool(validate_args))

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The shape over which parameters are batched (independent distributions)."""
        return self._batch_shape

    @property
    def event_shape(self) -> tuple[int, ...]:
        """The shape of one sample of one distribution of the batch."""
        return self._event_shape

    def _check_parameters(self, **params: Tensor) -> None:
        """Raise DistributionError when a given parameter breaks its constraint."""
        if not self._validate_args:
            return
        for key, value in params.items():
            constraint = self.arg_constraints[key]
            ok = constraint.check(value)
            if not bool(ok.all()):
                raise DistributionError(
                    f"{type(self).__name__}: parameter {key} (tensor of shape {value.shape}) "
                    f"must satisfy the constraint {constraint!r}, but found invalid values "
                    f"{_some_invalid(value, ok)}")

    def _extended_shape(self, sample_shape=()) -> tuple[int, ...]:
        sample_shape = arguments.shape(f"{type(self).__name__}.sample", sample_shape,
                                       name="sample_shape")
        return sample_shape + self._batch_shape + self._event_shape

    def _validate_sample(self, value, op: str = "log_prob") -> Tensor:
        """value as a tensor, checked (when validating) against the shapes and support."""
        name = f"{type(self).__name__}.{op}"
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = tensor(value, dtype=current_default_float())
        if not isinstance(value, Tensor):
            raise DistributionError(f"{name}: the value must be a Tensor, got "
                                    f"{type(value).__name__}")
        if not self._validate_args:
            return value
        n_event = len(self._event_shape)
        if n_event and value.shape[len(value.shape) - n_event:] != self._event_shape:
            raise DistributionError(f"{name}: the rightmost sizes of value {value.shape} must "
                                    f"match event_shape {self._event_shape}")
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(value.shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise DistributionError(f"{name}: value of shape {value.shape} does not "
                                        f"broadcast with batch_shape + event_shape {expected}")
        support = self.support
        ok = support.check(value)
        if not bool(ok.all()):
            raise DistributionError(f"{name}: value is outside the support {support!r} of "
                                    f"{self!r}: {_some_invalid(value, ok)}")
        return value

    def sample(self, sample_shape=()) -> Tensor:
        """A sample (no gradient) of shape sample_shape + batch_shape + event_shape."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        """A reparameterized sample: gradients flow to the parameters."""
        raise NotImplementedError(f"{type(self).__name__}.rsample: the distribution is not "
                                  "reparameterizable (has_rsample is False); use sample()")

    def log_prob(self, value: Tensor | float) -> Tensor:
        """The log density (or log mass) of value, shape sample_shape + batch_shape."""
        raise NotImplementedError(f"{type(self).__name__}.log_prob")

    def entropy(self) -> Tensor:
        """The entropy of each distribution of the batch, shape batch_shape."""
        raise NotImplementedError(f"{type(self).__name__}.entropy")

    def expand(self, batch_shape) -> Distribution:
        """The same distribution with its parameters broadcast to batch_shape."""
        raise NotImplementedError(f"{type(self).__name__}.expand")

    @property
    def mean(self) -> Tensor:
        """The mean of each distribution of the batch."""
        raise NotImplementedError(f"{type(self).__name__}.mean")

    @property
    def mode(self) -> Tensor:
        """The most probable value."""
        raise NotImplementedError(f"{type(self).__name__}.mode")

    @property
    def variance(self) -> Tensor:
        """The variance of each distribution of the batch."""
        raise NotImplementedError(f"{type(self).__name__}.variance")

    @property
    def stddev(self) -> Tensor:
        """The standard deviation: sqrt(variance)."""
        return self.variance.sqrt()

    def _expanded_shape(self, batch_shape) -> tuple[int, ...]:
        return arguments.shape(f"{type(self).__name__}.expand", batch_shape,
                               name="batch_shape")

    def __repr__(self) -> str:
        given = getattr(self, "_param_name", None)  # probs or logits, whichever was given
        names = [given] if given else [k for k in self.arg_constraints if k in self.__dict__]
        params = ", ".join(f"{k}: {self._param_repr(getattr(self, k))}" for k in names)
        return f"{type(self).__name__}({params})"

    @staticmethod
    def _param_repr(value) -> str:
        if isinstance(value, Tensor) and value.size == 1:
            return repr(value.detach().reshape(()).item())
        return f"shape {getattr(value, 'shape', ())}"
