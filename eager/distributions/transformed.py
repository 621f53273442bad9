"""`TransformedDistribution(base, transforms)`: the distribution of t_n(...t_1(x)) for
x from `base`, with log_prob by the change of variables, and `LogNormal` built on it.

SAC's squashed Gaussian policy:

>>> import eager
>>> from eager.distributions import Normal, TransformedDistribution
>>> from eager.distributions.transforms import TanhTransform
>>> pi = TransformedDistribution(Normal(eager.zeros(2), 1.0), [TanhTransform(cache_size=1)])
>>> a = pi.rsample(); pi.log_prob(a).shape, bool((a.abs() < 1).all())
((2,), True)
"""
from __future__ import annotations

from typing import ClassVar

from eager.autograd import no_grad
from eager.distributions import constraints
from eager.distributions.distribution import Distribution
from eager.distributions.errors import DistributionError
from eager.distributions.independent import sum_rightmost
from eager.distributions.normal import Normal
from eager.distributions.transforms import ExpTransform, Transform
from eager.tensor import Tensor


class TransformedDistribution(Distribution):
    """Samples t(x) for x ~ base_distribution, t the composition of `transforms` (one
    Transform or a list, applied first to last);
    log_prob(y) = base.log_prob(x) - sum log |det dt_i/dx|.

    >>> import eager
    >>> from eager.distributions import Normal
    >>> from eager.distributions.transforms import AffineTransform
    >>> d = TransformedDistribution(Normal(0.0, 1.0), [AffineTransform(1.0, 2.0)])
    >>> round(d.log_prob(eager.tensor(1.0)).item(), 4) == round(Normal(1.0, 2.0).log_prob(
    ...     eager.tensor(1.0)).item(), 4)
    True
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {}

    def __init__(self, base_distribution: Distribution, transforms,
                 validate_args: bool | None = None) -> None:
        if not isinstance(base_distribution, Distribution):
            raise DistributionError(f"TransformedDistribution: base_distribution must be a "
                                    f"Distribution, got {type(base_distribution).__name__}")
        transforms = [transforms] if isinstance(transforms, Transform) else list(transforms)
        for t in transforms:
            if not isinstance(t, Transform):
                raise DistributionError(f"TransformedDistribution: transforms must be "
                                        f"Transform objects, got {type(t).__name__}")
        self.base_dist, self.transforms = base_distribution, transforms
        shape = base_distribution.batch_shape + base_distribution.event_shape
        event_dim = max([len(base_distribution.event_shape)]
                        + [t.event_dim for t in transforms])
        if event_dim > len(shape):
            raise DistributionError(f"TransformedDistribution: a transform's event_dim "
                                    f"({event_dim}) exceeds the base's dims {shape}")
        split = len(shape) - event_dim
        super().__init__(shape[:split], shape[split:], validate_args=validate_args)

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    @property
    def support(self) -> constraints.Constraint:
        return self.transforms[-1].codomain if self.transforms else self.base_dist.support

    def expand(self, batch_shape) -> TransformedDistribution:
        """The base expanded to batch_shape, the same transforms.

        >>> import eager
        >>> from eager.distributions import Normal
        >>> TransformedDistribution(Normal(0.0, 1.0), []).expand((2,)).batch_shape
        (2,)
        """
        shape = self._expanded_shape(batch_shape)
        base_event = len(self.base_dist.event_shape)
        extra = self._event_shape[:len(self._event_shape) - base_event]
        return TransformedDistribution(self.base_dist.expand(shape + extra), self.transforms,
                                       validate_args=False)

    def sample(self, sample_shape=()) -> Tensor:
        """The transforms applied to a base sample (no gradient)."""
        with no_grad():
            x = self.base_dist.sample(sample_shape)
            for t in self.transforms:
                x = t(x)
            return x

    def rsample(self, sample_shape=()) -> Tensor:
        """The transforms applied to a reparameterized base sample."""
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value: Tensor | float) -> Tensor:
        """base.log_prob(x) minus each transform's log |det Jacobian|, x the inverse image."""
        y = self._validate_sample(value)
        event_dim = len(self._event_shape)
        result = 0.0
        for t in reversed(self.transforms):
            x = t.inv(y)
            result = result - sum_rightmost(t.log_abs_det_jacobian(x, y),
                                            event_dim - t.event_dim)
            y = x
        base = sum_rightmost(self.base_dist.log_prob(y),
                             event_dim - len(self.base_dist.event_shape))
        return base + result

    def cdf(self, value: Tensor | float) -> Tensor:
        """The base's cdf of the inverse image (for increasing elementwise transforms).

        >>> import eager
        >>> from eager.distributions import Normal
        >>> LogNormal(0.0, 1.0).cdf(eager.tensor(1.0)).item()
        0.5
        """
        y = self._validate_sample(value, "cdf")
        for t in reversed(self.transforms):
            y = t.inv(y)
        return self.base_dist.cdf(y)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_dist!r}, {self.transforms!r})"


class LogNormal(TransformedDistribution):
    """exp(X) for X ~ Normal(loc, scale).

    >>> import eager
    >>> round(LogNormal(0.0, 1.0).mean.item(), 6)
    1.648721
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        super().__init__(Normal(loc, scale, validate_args=validate_args), [ExpTransform()],
                         validate_args=validate_args)

    def expand(self, batch_shape) -> LogNormal:
        """This distribution with loc and scale broadcast to batch_shape.

        >>> LogNormal(0.0, 1.0).expand((2,)).batch_shape
        (2,)
        """
        base = self.base_dist.expand(batch_shape)
        return LogNormal(base.loc, base.scale, validate_args=False)

    @property
    def loc(self) -> Tensor:
        return self.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    @property
    def mean(self) -> Tensor:
        return (self.loc + self.scale * self.scale / 2).exp()

    @property
    def mode(self) -> Tensor:
        return (self.loc - self.scale * self.scale).exp()

    @property
    def variance(self) -> Tensor:
        s2 = self.scale * self.scale
        return s2.expm1() * (2 * self.loc + s2).exp()

    def entropy(self) -> Tensor:
        """The base's entropy + loc."""
        return self.base_dist.entropy() + self.loc

    def __repr__(self) -> str:
        return f"LogNormal(loc: {self._param_repr(self.loc)}, scale: {self._param_repr(self.scale)})"
