"""Where parameters and values of a distribution may lie (PyTorch's
`torch.distributions.constraints`, the part distributions here use).

A constraint's `check(value)` is a boolean tensor, True where the value is allowed; its
repr names it in error messages.

>>> import eager
>>> from eager.distributions import constraints
>>> constraints.positive.check(eager.tensor([1.0, 0.0])).tolist()
[True, False]
>>> constraints.integer_interval(0, 2)
IntegerInterval(lower_bound=0, upper_bound=2)
"""
from __future__ import annotations

from eager.tensor import Tensor


class Constraint:
    """A set of allowed values: `check(value)` is True where the value is in it.

    `event_dim` is how many rightmost dims one check spans (1 for a simplex: a whole
    probability vector is valid or not); `is_discrete` says the set is countable.

    >>> import eager
    >>> from eager.distributions.constraints import real
    >>> real.check(eager.tensor([0.0, float("nan")])).tolist()
    [True, False]
    """

    is_discrete = False
    event_dim = 0

    def check(self, value: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.check")

    def __repr__(self) -> str:
        return type(self).__name__.lstrip("_") + "()"


class _Real(Constraint):
    def check(self, value: Tensor) -> Tensor:
        return ~value.isnan()


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value: Tensor) -> Tensor:
        return (value == 0) | (value == 1)


class _GreaterThan(Constraint):
    def __init__(self, lower_bound) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Tensor) -> Tensor:
        return value > self.lower_bound

    def __repr__(self) -> str:
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _GreaterThanEq(_GreaterThan):
    def check(self, value: Tensor) -> Tensor:
        return value >= self.lower_bound

    def __repr__(self) -> str:
        return f"GreaterThanEq(lower_bound={self.lower_bound})"


class _IntegerGreaterThanEq(_GreaterThanEq):
    is_discrete = True

    def check(self, value: Tensor) -> Tensor:
        return (value % 1 == 0) & super().check(value)

    def __repr__(self) -> str:
        return f"IntegerGreaterThanEq(lower_bound={self.lower_bound})"


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Tensor) -> Tensor:
        return (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self) -> str:
        bounds = [b if not isinstance(b, Tensor) else f"tensor of shape {b.shape}"
                  for b in (self.lower_bound, self.upper_bound)]
        return f"Interval(lower_bound={bounds[0]}, upper_bound={bounds[1]})"


class _IntegerInterval(_Interval):
    is_discrete = True

    def check(self, value: Tensor) -> Tensor:
        return (value % 1 == 0) & super().check(value)

    def __repr__(self) -> str:
        return f"IntegerInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value: Tensor) -> Tensor:
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value: Tensor) -> Tensor:
        return ((value == 0) | (value == 1)).all(-1) & (value.sum(-1) == 1)


class _LowerCholesky(Constraint):
    """Square lower-triangular matrices with a positive diagonal."""

    event_dim = 2

    def check(self, value: Tensor) -> Tensor:
        lower = (value.tril() == value).all(-1).all(-1)
        return lower & (value.diagonal(dim1=-2, dim2=-1) > 0).all(-1)


class _PositiveDefinite(Constraint):
    """Symmetric matrices whose eigenvalues are all positive."""

    event_dim = 2

    def check(self, value: Tensor) -> Tensor:
        from eager.linalg import eigvalsh

        symmetric = ((value - value.mT).abs() <= 1e-6 * value.abs().amax()).all(-1).all(-1)
        return symmetric & (eigvalsh(value) > 0).all(-1)


class _Independent(Constraint):
    """A base constraint whose checks are reduced over `reinterpreted_batch_ndims` more
    rightmost dims (each event must be valid as a whole)."""

    def __init__(self, base: Constraint, reinterpreted_batch_ndims: int) -> None:
        self.base, self.reinterpreted_batch_ndims = base, reinterpreted_batch_ndims
        self.is_discrete = base.is_discrete
        self.event_dim = base.event_dim + reinterpreted_batch_ndims

    def check(self, value: Tensor) -> Tensor:
        result = self.base.check(value)
        for _ in range(self.reinterpreted_batch_ndims):
            result = result.all(-1)
        return result

    def __repr__(self) -> str:
        return f"Independent({self.base!r}, {self.reinterpreted_batch_ndims})"


real = _Real()
boolean = _Boolean()
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
nonnegative_integer = _IntegerGreaterThanEq(0)
lower_cholesky = _LowerCholesky()
positive_definite = _PositiveDefinite()
unit_interval = _Interval(0.0, 1.0)
simplex = _Simplex()
one_hot = _OneHot()
real_vector = _Independent(real, 1)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
interval = _Interval
integer_interval = _IntegerInterval
independent = _Independent
