"""Average-pooling layers: `AvgPool2d` and `AdaptiveAvgPool2d` (MaxPool2d lives with the
other weightless layers in containers.py).

>>> import eager
>>> from eager import nn
>>> nn.AdaptiveAvgPool2d((1, 1))(eager.ones(2, 8, 5, 7)).shape
(2, 8, 1, 1)
"""
from __future__ import annotations

from eager import arguments
from eager.nn import resampling
from eager.nn.module import Module
from eager.tensor import Tensor


class AvgPool2d(Module):
    """Mean of each window of (N, C, H, W); stride defaults to kernel_size.

    >>> import eager
    >>> from eager import nn
    >>> nn.AvgPool2d(2)(eager.ones(1, 3, 8, 8)).shape
    (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        arguments.pair("AvgPool2d", "kernel_size", kernel_size, minimum=1)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return resampling.avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                                     self.ceil_mode, self.count_include_pad,
                                     self.divisor_override)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, "
                f"padding={self.padding}")


class AdaptiveAvgPool2d(Module):
    """Average into a fixed output_size whatever the input's height and width."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return resampling.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
