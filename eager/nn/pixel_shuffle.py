"""Sub-pixel rearrangement (Shi et al. 2016, pytorch/examples super_resolution):
`F.pixel_shuffle` / `F.pixel_unshuffle` and the layers `PixelShuffle` / `PixelUnshuffle`.

Each is a reshape, a permute and a reshape, so it costs one copy and its gradient is the
inverse rearrangement.

>>> import eager
>>> from eager import nn
>>> nn.PixelShuffle(3)(eager.ones(1, 9, 4, 4)).shape
(1, 1, 12, 12)
"""
from __future__ import annotations

from eager import arguments
from eager.dispatch import user_line_suffix
from eager.nn.module import Module
from eager.tensor import Tensor
from kernels.errors import ShapeError


def _check(op: str, x: Tensor, factor: int, name: str) -> int:
    arguments.tensor(op, "input", x)
    factor = arguments.integer(op, name, factor, minimum=1)
    if x.ndim < 3:
        raise ShapeError(f"{op}: input must be (*, C, H, W) with at least 3 dims, got "
                         f"{x.shape}{user_line_suffix()}")
    return factor


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r
    block of one channel (channel c r^2 + i r + j goes to row offset i, column offset j).

    >>> import eager
    >>> pixel_shuffle(eager.arange(4.0).reshape(1, 4, 1, 1), 2).tolist()
    [[[[0.0, 1.0], [2.0, 3.0]]]]
    """
    r = _check("pixel_shuffle", input, upscale_factor, "upscale_factor")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise ShapeError(f"pixel_shuffle: the channels of input {input.shape} (dim -3, size "
                         f"{c}) must be divisible by upscale_factor ** 2 = {r * r}"
                         f"{user_line_suffix()}")
    lead = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    x = x.permute(*range(lead), lead, lead + 3, lead + 1, lead + 4, lead + 2)
    return x.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of `pixel_shuffle`.

    >>> import eager
    >>> pixel_unshuffle(eager.arange(4.0).reshape(1, 1, 2, 2), 2).reshape(-1).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    r = _check("pixel_unshuffle", input, downscale_factor, "downscale_factor")
    *batch, c, h, w = input.shape
    if h % r or w % r:
        raise ShapeError(f"pixel_unshuffle: the height and width of input {input.shape} "
                         f"must be divisible by downscale_factor = {r}{user_line_suffix()}")
    lead = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(lead), lead, lead + 2, lead + 4, lead + 1, lead + 3)
    return x.reshape(*batch, c * r * r, h // r, w // r)


class PixelShuffle(Module):
    """`F.pixel_shuffle` with a fixed upscale_factor."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = arguments.integer("PixelShuffle", "upscale_factor",
                                                upscale_factor, minimum=1)

    def forward(self, x: Tensor) -> Tensor:
        return pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """`F.pixel_unshuffle` with a fixed downscale_factor.

    >>> import eager
    >>> from eager import nn
    >>> nn.PixelUnshuffle(2)(eager.ones(1, 1, 4, 4)).shape
    (1, 4, 2, 2)
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = arguments.integer("PixelUnshuffle", "downscale_factor",
                                                  downscale_factor, minimum=1)

    def forward(self, x: Tensor) -> Tensor:
        return pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


__all__ = ["PixelShuffle", "PixelUnshuffle", "pixel_shuffle", "pixel_unshuffle"]
