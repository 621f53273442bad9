"""Sliding windows over the last two dims (im2col), shared by conv2d and max_pool2d.

The windows are one integer-array gather from the flattened (padded) image, so the
forward is a single `index` op and its gradient a single `index_add`: autograd, the
tracer and fusion see ordinary primitives.
"""
from __future__ import annotations

import functools

import numpy as np

from eager.dispatch import user_line_suffix
from eager.nn.errors import ArgumentError
from eager.ops.shape import pad, reshape
from eager.tensor import Tensor
from kernels.errors import ShapeError


@functools.lru_cache(maxsize=128)
def window_index(height: int, width: int, kernel: tuple[int, int],
                 stride: tuple[int, int]) -> np.ndarray:
    """Flat positions (kh*kw*oh*ow,) in a height x width image, ordered kernel row, kernel
    column, output row, output column.

    >>> window_index(3, 3, (2, 2), (1, 1)).reshape(4, 4)[0].tolist()
    [0, 1, 3, 4]
    """
    kh, kw = kernel
    oh, ow = (height - kh) // stride[0] + 1, (width - kw) // stride[1] + 1
    rows = np.arange(kh)[:, None] + stride[0] * np.arange(oh)[None, :]
    cols = np.arange(kw)[:, None] + stride[1] * np.arange(ow)[None, :]
    index = rows[:, None, :, None] * width + cols[None, :, None, :]
    index.setflags(write=False)
    return index.reshape(-1)


def sliding_windows(op: str, x: Tensor, kernel: tuple[int, int], stride: tuple[int, int],
                    padding: tuple[int, int], pad_value: float
                    ) -> tuple[Tensor, tuple[int, int]]:
    """Windows of x (N, C, H, W) as (N, C, kh*kw, oh*ow), and (oh, ow)."""
    from eager.creation import asarray

    if min(stride) < 1 or min(padding) < 0 or min(kernel) < 1:
        raise ArgumentError(f"{op}: kernel {kernel} and stride {stride} must be positive and "
                            f"padding {padding} non-negative")
    n, c, h, w = x.shape
    h, w = h + 2 * padding[0], w + 2 * padding[1]
    if kernel[0] > h or kernel[1] > w:
        raise ShapeError(f"{op}: kernel {kernel} is larger than the padded input "
                         f"({h}, {w}) of input shape {x.shape}{user_line_suffix()}")
    if padding != (0, 0):
        x = pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2), value=pad_value)
    index = window_index(h, w, kernel, stride)
    oh, ow = (h - kernel[0]) // stride[0] + 1, (w - kernel[1]) // stride[1] + 1
    picked = reshape(x, (n, c, h * w))[:, :, asarray(index, device=x.device)]
    return reshape(picked, (n, c, kernel[0] * kernel[1], oh * ow)), (oh, ow)
