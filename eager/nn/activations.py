"""Activation layers with PyTorch's names and arguments (GELU, SiLU, LeakyReLU, ELU,
Softmax, LogSoftmax, Softplus, Mish); each calls its function in `eager.nn.functional`.

>>> import eager
>>> from eager import nn
>>> nn.Sequential(nn.Linear(3, 4), nn.GELU(approximate="tanh"))(eager.ones(2, 3)).shape
(2, 4)
"""
from __future__ import annotations

from eager import arguments
from eager.nn import activation_functions as A
from eager.nn.errors import ArgumentError
from eager.nn.module import Module
from eager.tensor import Tensor


class GELU(Module):
    """x * Phi(x); approximate="tanh" for the tanh approximation (GPT-2's)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ArgumentError(f"GELU: approximate must be 'none' or 'tanh', got "
                                f"{approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return A.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = arguments.boolean("SiLU", "inplace", inplace)

    def forward(self, x: Tensor) -> Tensor:
        return A.silu(x, self.inplace)


class Mish(Module):
    """x * tanh(softplus(x))."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = arguments.boolean("Mish", "inplace", inplace)

    def forward(self, x: Tensor) -> Tensor:
        return A.mish(x, self.inplace)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = arguments.real("LeakyReLU", "negative_slope", negative_slope)
        self.inplace = arguments.boolean("LeakyReLU", "inplace", inplace)

    def forward(self, x: Tensor) -> Tensor:
        return A.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x where x > 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = arguments.real("ELU", "alpha", alpha)
        self.inplace = arguments.boolean("ELU", "inplace", inplace)

    def forward(self, x: Tensor) -> Tensor:
        return A.elu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    """log(1 + exp(beta x)) / beta (linear above threshold)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = arguments.real("Softplus", "beta", beta)
        self.threshold = arguments.real("Softplus", "threshold", threshold)

    def forward(self, x: Tensor) -> Tensor:
        return A.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """softmax along dim (None: PyTorch's implicit choice, with its warning: 0 for 0-,
    1- and 3-d inputs, else 1).

    >>> import eager
    >>> from eager import nn
    >>> nn.Softmax(dim=-1)(eager.zeros(1, 4)).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = None if dim is None else arguments.integer("Softmax", "dim", dim)

    def forward(self, x: Tensor) -> Tensor:
        from eager.nn.functional import softmax

        return softmax(x, self.dim)  # None: PyTorch's implicit choice, with its warning

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log_softmax along dim (None: as Softmax)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = None if dim is None else arguments.integer("LogSoftmax", "dim", dim)

    def forward(self, x: Tensor) -> Tensor:
        from eager.nn.functional import log_softmax

        return log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
