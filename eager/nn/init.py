"""Weight initialisation, in place and without recording gradients (PyTorch's nn.init).

Each function draws from `generator` (default: the device's default generator, seeded by
`eager.manual_seed`), so a seeded model starts from the same weights on every run.

>>> import eager
>>> from eager.nn import init
>>> w = eager.zeros(3, 4)
>>> _ = init.uniform_(w, -0.1, 0.1)
>>> bool((w.abs() <= 0.1).all())
True
"""
from __future__ import annotations

import math

from eager import arguments
from eager.autograd import no_grad
from eager.nn.errors import ArgumentError
from eager.tensor import Tensor
from kernels.errors import ShapeError


def _fill_from(tensor: Tensor, draw: Tensor) -> Tensor:
    with no_grad():
        tensor.copy_(draw)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from U(a, b).

    >>> import eager
    >>> bool((uniform_(eager.zeros(5), 2.0, 3.0) >= 2.0).all())
    True
    """
    from eager.random import uniform

    return _fill_from(tensor, uniform(a, b, tensor.shape, dtype=tensor.dtype,
                                      device=tensor.device, generator=generator))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from N(mean, std**2).

    >>> import eager
    >>> normal_(eager.zeros(2, 2)).shape
    (2, 2)
    """
    from eager.random import normal

    return _fill_from(tensor, normal(mean, std, tensor.shape, dtype=tensor.dtype,
                                     device=tensor.device, generator=generator))


def constant_(tensor: Tensor, value: float) -> Tensor:
    """Fill with `value`.

    >>> import eager
    >>> constant_(eager.zeros(2), 3.0).tolist()
    [3.0, 3.0]
    """
    with no_grad():
        tensor.fill_(value)
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: (in, out) features times the kernel size.

    >>> import eager
    >>> fan_in_and_fan_out(eager.zeros(16, 3, 5, 5))
    (75, 400)
    """
    if arguments.tensor("fan_in_and_fan_out", "tensor", tensor).ndim < 2:
        raise ShapeError(f"fan_in_and_fan_out: needs a weight with at least 2 dims, got shape "
                         f"{tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale for a nonlinearity ("linear", "relu", "tanh", "leaky_relu", ...).

    >>> round(calculate_gain("relu"), 4)
    1.4142
    """
    if not isinstance(nonlinearity, str):
        raise ArgumentError(f"calculate_gain: nonlinearity must be a name such as 'relu', got "
                            f"{type(nonlinearity).__name__}")
    if nonlinearity in ("linear", "conv2d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else arguments.real("calculate_gain", "param", param)
        return math.sqrt(2.0 / (1 + slope * slope))
    raise ArgumentError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, nonlinearity: str = "leaky_relu",
                     generator=None) -> Tensor:
    """U(-bound, bound) with bound = gain * sqrt(3 / fan_in) (He et al., 2015).

    `nn.Linear` and `nn.Conv2d` use a=sqrt(5), which gives bound = 1 / sqrt(fan_in).

    >>> import eager
    >>> w = kaiming_uniform_(eager.zeros(10, 25), a=5 ** 0.5)
    >>> bool((w.abs() <= 0.2).all())
    True
    """
    fan_in, _ = fan_in_and_fan_out(tensor)
    if tensor.size == 0:  # nothing to fill; fan_in may be 0 (PyTorch: a no-op)
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan_in)
    return uniform_(tensor, -bound, bound, generator)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out)) (Glorot, 2010).

    >>> import eager
    >>> bool((xavier_uniform_(eager.zeros(3, 3)).abs() <= 1.0).all())
    True
    """
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    if tensor.size == 0:
        return tensor
    bound = arguments.real("xavier_uniform_", "gain", gain) * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)
