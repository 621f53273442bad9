"""`LocationScale`: what Normal, Laplace and Cauchy share — a real `loc` and a positive
`scale` broadcast together, validated, expandable, reparameterizable, mode at `loc`.

>>> from eager.distributions import Laplace
>>> Laplace(0.0, 1.0).expand((3,)).batch_shape
(3,)
"""
from __future__ import annotations

from typing import ClassVar

from eager.distributions import constraints
from eager.distributions.distribution import Distribution, broadcast_all
from eager.tensor import Tensor


class LocationScale(Distribution):
    """A family with parameters `loc` (real) and `scale` (positive) over the reals."""

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(type(self).__name__, loc=loc, scale=scale)
        super().__init__(self.loc.shape, validate_args=validate_args)
        self._check_parameters(loc=self.loc, scale=self.scale)

    def expand(self, batch_shape) -> LocationScale:
        """This distribution with loc and scale broadcast to batch_shape."""
        shape = self._expanded_shape(batch_shape)
        return type(self)(self.loc.expand(shape), self.scale.expand(shape),
                          validate_args=False)

    @property
    def mode(self) -> Tensor:
        return self.loc
