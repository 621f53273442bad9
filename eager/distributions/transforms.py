"""Bijections for `TransformedDistribution` (PyTorch's `torch.distributions.transforms`,
the ones ported programs use): AffineTransform, ExpTransform, SigmoidTransform,
TanhTransform.

A transform maps x to y = t(x), inverts with `t.inv(y)`, and gives
log |det dy/dx| with `t.log_abs_det_jacobian(x, y)`. With `cache_size=1` it remembers its
last (x, y) pair, so the inverse of the y it just produced is that x exactly: SAC's
log_prob of its own tanh-squashed sample never takes atanh of a rounded 1.0.

>>> import eager
>>> from eager.distributions.transforms import TanhTransform
>>> t = TanhTransform(cache_size=1)
>>> x = eager.tensor([30.0]); y = t(x)
>>> y.tolist(), t.inv(y) is x
([1.0], True)
"""
from __future__ import annotations

import math

import numpy as np

from eager import arguments
from eager.creation import tensor
from eager.distributions import constraints
from eager.distributions.errors import DistributionError
from eager.distributions.probabilities import clamp_probs
from eager.dtypes import finfo
from eager.nn.functional import softplus
from eager.tensor import Tensor


class Transform:
    """A bijection with its inverse and log |Jacobian determinant|; `event_dim` is how many
    rightmost dims one application couples (0: elementwise).

    >>> import eager
    >>> ExpTransform().inv(eager.tensor([1.0])).tolist()
    [0.0]
    """

    domain: constraints.Constraint = constraints.real
    codomain: constraints.Constraint = constraints.real
    bijective = True
    event_dim = 0

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size not in (0, 1):
            raise DistributionError(f"{type(self).__name__}: cache_size must be 0 or 1, got "
                                    f"{cache_size!r}")
        self._cache_size = cache_size
        self._cached: tuple[Tensor, Tensor] | None = None

    def __call__(self, x: Tensor) -> Tensor:
        """y = t(x)."""
        if self._cached is not None and self._cached[0] is x:
            return self._cached[1]
        y = self._call(x)
        if self._cache_size:
            self._cached = (x, y)
        return y

    def inv(self, y: Tensor) -> Tensor:
        """x with t(x) = y (the cached x when y is the last output)."""
        if self._cached is not None and self._cached[1] is y:
            return self._cached[0]
        x = self._inverse(y)
        if self._cache_size:
            self._cached = (x, y)
        return x

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}._call")

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}._inverse")

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """log |dy/dx| (summed over event_dim rightmost dims), shape of x without them."""
        raise NotImplementedError(f"{type(self).__name__}.log_abs_det_jacobian")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ExpTransform(Transform):
    """y = exp(x).

    >>> import eager
    >>> ExpTransform().log_abs_det_jacobian(eager.tensor(2.0), eager.tensor(0.0)).item()
    2.0
    """

    codomain = constraints.positive

    def _call(self, x: Tensor) -> Tensor:
        return x.exp()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x


class SigmoidTransform(Transform):
    """y = sigmoid(x); the inverse is the logit of y clamped inside (0, 1).

    >>> import eager
    >>> SigmoidTransform()(eager.tensor(0.0)).item()
    0.5
    """

    codomain = constraints.unit_interval

    def _call(self, x: Tensor) -> Tensor:
        return x.sigmoid()

    def _inverse(self, y: Tensor) -> Tensor:
        y = clamp_probs(y)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    """y = tanh(x); log |dy/dx| = 2 (log 2 - x - softplus(-2x)), stable for large |x|.

    >>> import eager
    >>> TanhTransform().log_abs_det_jacobian(eager.tensor(0.0), eager.tensor(0.0)).item()
    0.0
    """

    codomain = constraints.interval(-1.0, 1.0)

    def _call(self, x: Tensor) -> Tensor:
        return x.tanh()

    def _inverse(self, y: Tensor) -> Tensor:
        # atanh(+-1) is infinite: a y rounded onto the boundary maps just inside it.
        eps = float(finfo(y.dtype).eps)
        return y.clamp(-1 + eps, 1 - eps).atanh()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AffineTransform(Transform):
    """y = loc + scale x, over `event_dim` rightmost dims (0: elementwise).

    >>> import eager
    >>> t = AffineTransform(1.0, 2.0)
    >>> t(eager.tensor([1.0])).tolist(), t.inv(eager.tensor([3.0])).tolist()
    ([3.0], [1.0])
    """

    def __init__(self, loc, scale, event_dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        for key, value in (("loc", loc), ("scale", scale)):
            if isinstance(value, bool) or not isinstance(value, (Tensor, int, float)):
                raise DistributionError(f"AffineTransform: {key} must be a Tensor or a real "
                                        f"number, got {type(value).__name__}")
        self.loc, self.scale = loc, scale
        self.event_dim = arguments.integer("AffineTransform", "event_dim", event_dim, minimum=0)

    def _call(self, x: Tensor) -> Tensor:
        return self.loc + self.scale * x

    def _inverse(self, y: Tensor) -> Tensor:
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        if isinstance(self.scale, Tensor):
            log_scale = self.scale.abs().log()
        else:
            log_scale = tensor(math.log(abs(self.scale)), dtype=x.dtype, device=x.device)
        result = log_scale.expand(tuple(np.broadcast_shapes(x.shape, log_scale.shape)))
        for _ in range(self.event_dim):
            result = result.sum(-1)
        return result

    def __repr__(self) -> str:
        return f"AffineTransform(event_dim={self.event_dim})"
