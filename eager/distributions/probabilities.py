"""Conversions between probabilities and logits, and the given-one-of-two parameter
rule that Categorical and Bernoulli share.

>>> import eager
>>> from eager.distributions.probabilities import probs_to_logits
>>> [round(v, 4) for v in probs_to_logits(eager.tensor([0.5]), is_binary=True).tolist()]
[0.0]
"""
from __future__ import annotations

from functools import cached_property

from eager.distributions.distribution import broadcast_all
from eager.distributions.errors import DistributionError
from eager.dtypes import finfo
from eager.tensor import Tensor


def clamp_probs(probs: Tensor) -> Tensor:
    """probs kept in [eps, 1 - eps] so that their logs stay finite (as PyTorch).

    >>> import eager
    >>> clamp_probs(eager.tensor([0.0, 1.0])).tolist()[0] > 0
    True
    """
    eps = float(finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log(p) for categories (log(p) - log(1 - p) when binary), from clamped probs.

    >>> import eager
    >>> round(probs_to_logits(eager.tensor([1.0])).item(), 6)
    -0.0
    """
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


def one_of(name: str, probs, logits) -> tuple[str, Tensor]:
    """("probs", probs) or ("logits", logits): exactly one must be given, a tensor (a
    Python number becomes one).

    >>> import eager
    >>> one_of("Bernoulli", None, 0.0)[0]
    'logits'
    """
    if (probs is None) == (logits is None):
        raise DistributionError(f"{name}: pass either probs or logits, exactly one of them")
    key, value = ("probs", probs) if probs is not None else ("logits", logits)
    return key, broadcast_all(name, **{key: value})[0]


class SuccessProbability:
    """`probs` and `logits` of one success probability (Bernoulli, Binomial, Geometric):
    the one given at construction is an attribute, the other computed from it once."""

    @cached_property
    def probs(self) -> Tensor:
        """The success probability sigmoid(logits)."""
        from eager.nn.functional import sigmoid

        return sigmoid(self.logits)

    @cached_property
    def logits(self) -> Tensor:
        """log(p) - log(1 - p), from probs clamped away from 0 and 1."""
        return probs_to_logits(self.probs, is_binary=True)
