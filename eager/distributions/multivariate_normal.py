"""`MultivariateNormal(loc, covariance_matrix= | scale_tril= | precision_matrix=)`:
the Gaussian over vectors, reparameterizable, computed through the Cholesky factor L
of the covariance (log det = 2 sum log diag L; Mahalanobis terms by solving with L).

>>> import eager
>>> from eager.distributions import MultivariateNormal
>>> d = MultivariateNormal(eager.zeros(2), covariance_matrix=eager.eye(2))
>>> d.batch_shape, d.event_shape, round(d.log_prob(eager.zeros(2)).item(), 4)
((), (2,), -1.8379)
"""
from __future__ import annotations

import math
from functools import cached_property
from typing import ClassVar

import numpy as np

from eager import linalg
from eager.distributions import constraints
from eager.distributions.distribution import Distribution
from eager.distributions.errors import DistributionError
from eager.random import randn
from eager.tensor import Tensor

_MATRICES = ("covariance_matrix", "scale_tril", "precision_matrix")


def _batch_shape(name: str, loc: Tensor, matrix: Tensor) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(loc.shape[:-1], matrix.shape[:-2]))
    except ValueError:
        raise DistributionError(f"{name}: the batch dims of loc {loc.shape} and of the "
                                f"matrix {matrix.shape} do not broadcast") from None


def mahalanobis_squared(scale_tril: Tensor, diff: Tensor) -> Tensor:
    """|L^-1 diff|^2 over the last dim, L broadcast against diff's batch dims.

    >>> import eager
    >>> mahalanobis_squared(2 * eager.eye(2), eager.ones(2)).item()
    0.5
    """
    n = diff.shape[-1]
    batch = tuple(np.broadcast_shapes(diff.shape[:-1], scale_tril.shape[:-2]))
    solved = linalg.solve(scale_tril.expand(batch + (n, n)),
                          diff.expand(batch + (n,)).unsqueeze(-1))
    return (solved * solved).sum((-2, -1))


class MultivariateNormal(Distribution):
    """Mean `loc` (..., n) and one of covariance_matrix, scale_tril (its lower Cholesky
    factor) or precision_matrix (its inverse), each (..., n, n).

    >>> import eager
    >>> cov = eager.tensor([[2.0, 0.5], [0.5, 1.0]])
    >>> d = MultivariateNormal(eager.zeros(2), cov)
    >>> [round(v, 4) for v in d.variance.tolist()], d.rsample((3,)).shape
    ([2.0, 1.0], (3, 2))
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None,
                 precision_matrix: Tensor | None = None, scale_tril: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        given = {k: v for k, v in zip(_MATRICES, (covariance_matrix, scale_tril,
                                                  precision_matrix)) if v is not None}
        if len(given) != 1:
            raise DistributionError("MultivariateNormal: pass exactly one of "
                                    "covariance_matrix, scale_tril or precision_matrix, got "
                                    f"{sorted(given) or 'none'}")
        (key, matrix), = given.items()
        if not isinstance(loc, Tensor) or loc.ndim < 1:
            raise DistributionError(f"MultivariateNormal: loc must be a tensor of at least 1 "
                                    f"dim, got {getattr(loc, 'shape', type(loc).__name__)}")
        if (not isinstance(matrix, Tensor) or matrix.ndim < 2
                or matrix.shape[-2:] != (loc.shape[-1],) * 2):
            raise DistributionError(f"MultivariateNormal: {key} must be (..., n, n) with n = "
                                    f"{loc.shape[-1]} from loc {loc.shape}, got "
                                    f"{getattr(matrix, 'shape', type(matrix).__name__)}")
        batch = _batch_shape("MultivariateNormal", loc, matrix)
        self._param_name = key
        self.loc = loc.expand(batch + loc.shape[-1:])
        setattr(self, key, matrix)
        self._matrix = matrix
        super().__init__(batch, loc.shape[-1:], validate_args=validate_args)
        self._check_parameters(**{"loc": self.loc, key: matrix})

    @cached_property
    def scale_tril(self) -> Tensor:
        """The lower Cholesky factor L of the covariance (L L^T = covariance)."""
        if self._param_name == "covariance_matrix":
            return linalg.cholesky(self.covariance_matrix)
        return linalg.cholesky(linalg.inv(self.precision_matrix))

    @cached_property
    def covariance_matrix(self) -> Tensor:
        """L L^T."""
        return self.scale_tril @ self.scale_tril.mT

    @cached_property
    def precision_matrix(self) -> Tensor:
        """The inverse of the covariance."""
        return linalg.inv(self.covariance_matrix)

    def expand(self, batch_shape) -> MultivariateNormal:
        """This distribution with loc and its matrix broadcast to batch_shape.

        >>> import eager
        >>> MultivariateNormal(eager.zeros(2), eager.eye(2)).expand((3,)).batch_shape
        (3,)
        """
        shape = self._expanded_shape(batch_shape)
        n = self._event_shape[0]
        return MultivariateNormal(self.loc.expand(shape + (n,)), validate_args=False,
                                  **{self._param_name: self._matrix.expand(shape + (n, n))})

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return (self.scale_tril * self.scale_tril).sum(-1).expand(self.loc.shape)

    def _half_log_det(self) -> Tensor:
        return self.scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def rsample(self, sample_shape=()) -> Tensor:
        """loc + L eps with eps ~ N(0, I): gradients reach loc and the matrix.

        >>> import eager
        >>> loc = eager.zeros(2, requires_grad=True)
        >>> MultivariateNormal(loc, eager.eye(2)).rsample((4,)).sum().backward()
        >>> loc.grad.tolist()
        [4.0, 4.0]
        """
        shape = self._extended_shape(sample_shape)
        eps = randn(*shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + (self.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value: Tensor | float) -> Tensor:
        """-(n log(2 pi) + |L^-1 (value - loc)|^2) / 2 - sum log diag L."""
        value = self._validate_sample(value)
        n = self._event_shape[0]
        m = mahalanobis_squared(self.scale_tril, value - self.loc)
        return -0.5 * (n * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self) -> Tensor:
        """n (1 + log(2 pi)) / 2 + sum log diag L."""
        n = self._event_shape[0]
        return (0.5 * n * (1 + math.log(2 * math.pi)) + self._half_log_det()).expand(
            self._batch_shape)
