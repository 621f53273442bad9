"""Sliding windows over the last two dims, shared by conv2d and max_pool2d.

The windows are the `windows` primitive (im2col: a strided read of the image, padding
included, into one contiguous copy, no index gather) and its backward is `fold` (col2im: one strided
accumulation per kernel offset). Autograd, the tracer and the jit see ordinary primitives.
"""
from __future__ import annotations

from eager.dispatch import apply, user_line_suffix
from eager.nn.errors import ArgumentError
from eager.tensor import Tensor
from kernels import OPS
from kernels.errors import ShapeError
from kernels.windows import window_count

Pair = tuple[int, int]


def sliding_windows(op: str, x: Tensor, kernel: Pair, stride: Pair, padding: Pair,
                    dilation: Pair, pad_value: float, kernel_last: bool = False) -> Tensor:
    """Windows of x (N, C, H, W) padded with pad_value: (N, C, kh, kw, oh, ow), or
    (N, C, oh, ow, kh, kw) with kernel_last.

    >>> import eager
    >>> sliding_windows("f", eager.ones(1, 1, 4, 4), (3, 3), (1, 1), (1, 1), (2, 2), 0.0).shape
    (1, 1, 3, 3, 2, 2)
    """
    if min(stride) < 1 or min(padding) < 0 or min(kernel) < 1 or min(dilation) < 1:
        raise ArgumentError(f"{op}: kernel {kernel}, stride {stride} and dilation {dilation} "
                            f"must be positive and padding {padding} non-negative")
    h, w = x.shape[-2] + 2 * padding[0], x.shape[-1] + 2 * padding[1]
    if not (window_count(h, kernel[0], 1, dilation[0]) and
            window_count(w, kernel[1], 1, dilation[1])):
        raise ShapeError(f"{op}: kernel {kernel} (dilation {dilation}) is larger than the "
                         f"padded input ({h}, {w}) of input shape {x.shape}"
                         f"{user_line_suffix()}")
    return apply(OPS.windows, x, kernel=kernel, stride=stride, dilation=dilation,
                 padding=padding, pad_value=pad_value, kernel_last=kernel_last)


def ceil_mode_overhang(size: tuple[int, int], kernel: Pair, stride: Pair, padding: Pair,
                       dilation: Pair = (1, 1)) -> tuple[int, int]:
    """Elements to add after the end of each spatial dim so that floor-mode windows give
    ceil_mode's output size (PyTorch's rule: rounded up, less one where the last window
    would start past the input and its left padding).

    >>> ceil_mode_overhang((7, 6), (2, 2), (2, 2), (0, 0))
    (1, 0)
    """
    extra = []
    for n, k, s, p, d in zip(size, kernel, stride, padding, dilation):
        span = d * (k - 1) + 1
        out = -(-(n + 2 * p - span) // s) + 1
        if (out - 1) * s >= n + p:
            out -= 1
        extra.append(max(0, (out - 1) * s + span - (n + 2 * p)))
    return extra[0], extra[1]
