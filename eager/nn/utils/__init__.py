"""`nn.utils`: gradient clipping and flattening parameters into one vector, as PyTorch.

Clipping is computed with tensor ops only (no host read of the norm), so a jitted
training step that clips replays correctly whatever the gradients' size.

>>> import eager
>>> from eager import nn
>>> w = eager.zeros(2, requires_grad=True)
>>> w.grad = eager.tensor([3.0, 4.0])
>>> round(nn.utils.clip_grad_norm_([w], max_norm=1.0).item(), 4)
5.0
>>> [round(v, 3) for v in w.grad.tolist()]
[0.6, 0.8]
"""
from __future__ import annotations

import math
from collections.abc import Iterable

from eager import arguments
from eager.autograd import no_grad
from eager.creation import zeros
from eager.dispatch import user_line_suffix
from eager.nn.errors import ArgumentError
from eager.nn.utils import rnn as rnn  # `nn.utils.rnn`, as in torch
from eager.ops import elementwise as E
from eager.ops import reductions as R
from eager.ops.shape import concat, reshape
from eager.tensor import Tensor
from kernels.errors import EagerError, ShapeError


class NonFiniteGradientError(EagerError, RuntimeError):
    """clip_grad_norm_(error_if_nonfinite=True) found a nan or inf gradient norm."""


def _tensors(op: str, parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    if not isinstance(parameters, Iterable):
        raise ArgumentError(f"{op}: parameters must be a Tensor or an iterable of Tensors, "
                            f"got {type(parameters).__name__}")
    out = list(parameters)
    for i, p in enumerate(out):
        if not isinstance(p, Tensor):
            raise ArgumentError(f"{op}: parameter {i} is a {type(p).__name__}, not a Tensor")
    return out


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale the gradients in place so that their joint norm is at most max_norm, and
    return the norm they had (a 0-d tensor). norm_type may be float("inf").

    >>> import eager
    >>> w = eager.zeros(1, requires_grad=True); w.grad = eager.tensor([0.5])
    >>> clip_grad_norm_(w, 1.0).item(), w.grad.tolist()
    (0.5, [0.5])
    """
    op = "clip_grad_norm_"
    grads = [g for g in (p.grad for p in _tensors(op, parameters)) if g is not None]
    max_norm = arguments.real(op, "max_norm", max_norm, low=0.0)
    norm_type = arguments.real(op, "norm_type", norm_type, low=0.0, low_open=True,
                               finite=False)
    if not grads:
        return zeros(())
    with no_grad():
        if math.isinf(norm_type):
            total = R.max(concat([reshape(R.max(g.abs()), (1,)) for g in grads]))
        else:
            parts = [reshape(R.sum(g.abs() ** norm_type), (1,)) for g in grads]
            total = R.sum(concat(parts)) ** (1.0 / norm_type)
        if error_if_nonfinite and not bool(E.isfinite(total)):
            raise NonFiniteGradientError(f"{op}: the total norm of order {norm_type} of the "
                                         f"gradients is {total.item()}{user_line_suffix()}")
        scale = E.minimum(max_norm / (total + 1e-6), 1.0)
        for g in grads:
            g.mul_(scale.astype(g.dtype))
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place.

    >>> import eager
    >>> w = eager.zeros(2, requires_grad=True); w.grad = eager.tensor([-3.0, 0.5])
    >>> clip_grad_value_(w, 1.0); w.grad.tolist()
    [-1.0, 0.5]
    """
    op = "clip_grad_value_"
    clip_value = arguments.real(op, "clip_value", clip_value, low=0.0)
    with no_grad():
        for p in _tensors(op, parameters):
            g = p.grad
            if g is not None:
                g.copy_(E.clip(g, -clip_value, clip_value))


def parameters_to_vector(parameters) -> Tensor:
    """Every parameter flattened and joined into one 1-d tensor.

    >>> import eager
    >>> parameters_to_vector([eager.ones(2, 2), eager.zeros(1)]).tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0]
    """
    return concat([reshape(p, (-1,)) for p in _tensors("parameters_to_vector", parameters)])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of vec into the parameters, in place.

    >>> import eager
    >>> a, b = eager.zeros(2), eager.zeros(1)
    >>> vector_to_parameters(eager.tensor([1.0, 2.0, 3.0]), [a, b]); a.tolist(), b.tolist()
    ([1.0, 2.0], [3.0])
    """
    params = _tensors("vector_to_parameters", parameters)
    arguments.tensor("vector_to_parameters", "vec", vec)
    total = sum(p.size for p in params)
    if vec.shape != (total,):
        raise ShapeError(f"vector_to_parameters: vec of shape {vec.shape} does not hold the "
                         f"{total} values of the parameters{user_line_suffix()}")
    start = 0
    with no_grad():
        for p in params:
            p.copy_(reshape(vec[start:start + p.size], p.shape))
            start += p.size

