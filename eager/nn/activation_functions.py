"""Activation functions beyond relu/tanh/sigmoid (GELU, SiLU, ELU, Softplus, Mish, ...),
plus `normalize` and `one_hot`; re-exported by `eager.nn.functional`.

Each is a composite of eager primitives, so autograd, the tracer and the fuser see
through it, except GPT-2's tanh GELU: a primitive (kernels/activations.py), because as a
composite it is two dozen small ops per call. The exact GELU needs erf, which is written here as a composite too
(Numerical Recipes' Chebyshev fit of erfc, relative error below 1.2e-7).

>>> import eager
>>> import eager.nn.functional as F
>>> [round(v, 4) for v in F.gelu(eager.tensor([-1.0, 0.0, 1.0])).tolist()]
[-0.1587, 0.0, 0.8413]
"""
from __future__ import annotations

import math

from eager import arguments
from eager.dispatch import apply, user_line_suffix
from eager.nn.errors import ArgumentError, TargetError
from eager.ops import elementwise as E
from eager.ops import reductions as R
from eager.ops.operands import promote
from eager.tensor import Tensor
from kernels import OPS
from kernels.dtypes import int64
from kernels.errors import DTypeError

# Numerical Recipes (2nd ed., 6.2) erfc(z) = t * exp(-z^2 + P(t)), t = 1 / (1 + z / 2).
_ERFC_COEFFICIENTS = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
                      0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277)


def _floating(op: str, x) -> Tensor:
    (x,) = promote("f", arguments.tensor(op, "input", x))
    return x


def _result(x: Tensor, compute, inplace: bool) -> Tensor:
    """compute(x), or with inplace=True (PyTorch's flag) compute(x) written into x, which is
    returned. The in-place form computes from a copy when autograd records, because the
    backward rules of these composites read their input, which the write overwrites."""
    if not inplace:
        return compute(x)
    return x.copy_(compute(x.clone() if x.requires_grad else x))


def erf(x: Tensor) -> Tensor:
    """The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt (relative error < 1.2e-7).

    >>> import eager
    >>> [round(v, 6) for v in erf(eager.tensor([-1.0, 0.0, 0.5])).tolist()]
    [-0.842701, 0.0, 0.5205]
    """
    x = _floating("erf", x)
    z = x.abs()
    t = 1.0 / (1.0 + 0.5 * z)
    poly = _ERFC_COEFFICIENTS[-1]
    for c in reversed(_ERFC_COEFFICIENTS[:-1]):
        poly = c + t * poly
    erfc = t * E.exp(poly - z * z)
    return E.where(x >= 0, 1.0 - erfc, erfc - 1.0)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF; approximate="tanh" uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) as GPT-2 does.

    >>> import eager
    >>> round(gelu(eager.tensor([1.0]), approximate="tanh").item(), 4)
    0.8412
    """
    x = _floating("gelu", x)
    if approximate == "tanh":
        return apply(OPS.gelu_tanh, x)
    if approximate != "none":
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))


def silu(x: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish).

    >>> import eager
    >>> round(silu(eager.tensor([1.0])).item(), 4)
    0.7311
    """
    x = _floating("silu", x)
    return _result(x, lambda v: v * E.sigmoid(v), inplace)


def leaky_relu(x: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope * x.

    >>> import eager
    >>> leaky_relu(eager.tensor([-2.0, 3.0]), 0.5).tolist()
    [-1.0, 3.0]
    """
    x = _floating("leaky_relu", x)
    slope = arguments.real("leaky_relu", "negative_slope", negative_slope)
    return _result(x, lambda v: E.where(v > 0, v, v * slope), inplace)


def elu(x: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha * (exp(x) - 1).

    >>> import eager
    >>> [round(v, 4) for v in elu(eager.tensor([-1.0, 2.0])).tolist()]
    [-0.6321, 2.0]
    """
    x = _floating("elu", x)
    alpha = arguments.real("elu", "alpha", alpha)
    # exp of the clipped value: exp(large x) in the branch not taken would give inf * 0.
    return _result(x, lambda v: E.where(v > 0, v, alpha * (E.exp(E.minimum(v, 0.0)) - 1.0)),
                   inplace)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (as PyTorch).

    >>> import eager
    >>> [round(v, 4) for v in softplus(eager.tensor([0.0, 30.0])).tolist()]
    [0.6931, 30.0]
    """
    x = _floating("softplus", x)
    beta = arguments.real("softplus", "beta", beta)
    threshold = arguments.real("softplus", "threshold", threshold)
    bx = x * beta
    stable = E.maximum(bx, 0.0) + E.log(1.0 + E.exp(-bx.abs()))
    return E.where(bx > threshold, x, stable / beta)


def mish(x: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)) (Misra, 2019).

    >>> import eager
    >>> round(mish(eager.tensor([1.0])).item(), 4)
    0.8651
    """
    x = _floating("mish", x)
    return _result(x, lambda v: v * E.tanh(softplus(v)), inplace)


def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|.

    >>> import eager
    >>> round(logsigmoid(eager.tensor([-100.0])).item(), 1)
    -100.0
    """
    x = _floating("logsigmoid", x)
    return -(E.maximum(-x, 0.0) + E.log(1.0 + E.exp(-x.abs())))


def normalize(x: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along dim.

    >>> import eager
    >>> normalize(eager.tensor([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """
    x = _floating("normalize", x)
    p = arguments.real("normalize", "p", p, low=0.0, low_open=True)
    eps = arguments.real("normalize", "eps", eps, low=0.0)
    norm = R.sum(x.abs() ** p, axis=dim, keepdims=True) ** (1.0 / p)
    return x / E.maximum(norm, eps)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor with a trailing axis of num_classes (default: max + 1, a host
    read) that is 1 at each index and 0 elsewhere.

    >>> import eager
    >>> one_hot(eager.tensor([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    from eager.creation import arange

    arguments.tensor("one_hot", "tensor", tensor)
    if tensor.dtype.kind not in "iu":
        raise DTypeError(f"one_hot: expects an integer index tensor, got "
                         f"{tensor.dtype.name}{user_line_suffix()}; use .long()")
    num_classes = arguments.integer("one_hot", "num_classes", num_classes, minimum=-1)
    if num_classes == -1:
        num_classes = int(R.max(tensor).item()) + 1 if tensor.size else 0
    if tensor.size and bool(((tensor < 0) | (tensor >= num_classes)).any()):
        raise TargetError(f"one_hot: class values must be in [0, {num_classes}), got "
                          f"{R.min(tensor).item()} .. {R.max(tensor).item()}"
                          f"{user_line_suffix()}")
    classes = arange(num_classes, device=tensor.device)
    return E.astype(tensor.reshape(tensor.shape + (1,)) == classes, int64)
