"""Average pooling with PyTorch's arguments: `avg_pool2d` and `adaptive_avg_pool2d`;
re-exported by `eager.nn.functional`. (Padding lives in padding.py and resizing in
interpolation.py; `pad` and `interpolate` are importable from here as before.)

Adaptive pooling is two small matmuls with averaging matrices, so autograd, the tracer
and the fuser see ordinary primitives.

>>> import eager
>>> import eager.nn.functional as F
>>> F.avg_pool2d(eager.ones(1, 1, 4, 4), 2).shape
(1, 1, 2, 2)
"""
from __future__ import annotations

from eager import arguments
from eager.dispatch import user_line_suffix
from eager.nn._windows import ceil_mode_overhang, sliding_windows
from eager.nn.convolution import unbatched_hint
from eager.nn.errors import ArgumentError
from eager.nn.interpolation import averaging_matrix, interpolate
from eager.nn.padding import pad
from eager.ops import reductions as R
from eager.ops.linalg import matmul
from eager.ops.shape import pad as constant_pad
from eager.ops.shape import squeeze, unsqueeze
from eager.tensor import Tensor
from kernels.errors import ShapeError


def _pool_args(op: str, x: Tensor, kernel_size, stride, padding):
    arguments.tensor(op, "input", x)
    kernel = arguments.pair(op, "kernel_size", kernel_size, minimum=1)
    stride = kernel if stride is None else arguments.pair(op, "stride", stride, minimum=1)
    padding = arguments.pair(op, "padding", padding, minimum=0)
    if x.ndim != 4:
        raise ShapeError(f"{op}: expected input (C, H, W) or (N, C, H, W), got {x.shape}"
                         f"{user_line_suffix()}{unbatched_hint(x.ndim, 2)}")
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise ArgumentError(f"{op}: padding {padding} must be at most half the kernel "
                            f"size {kernel}")
    return kernel, stride, padding


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean of each kernel_size window of (N, C, H, W), or of an unbatched (C, H, W) as
    in PyTorch (the result is then unbatched too); stride defaults to the kernel.
    Zero padding counts in the mean unless count_include_pad=False. ceil_mode=True rounds
    the output size up as PyTorch does; the part of a last window past the input and its
    padding never counts in its mean.

    >>> import eager
    >>> avg_pool2d(eager.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[2.5, 4.5], [10.5, 12.5]]]]
    >>> avg_pool2d(eager.arange(9.0).reshape(1, 1, 3, 3), 2, ceil_mode=True).tolist()
    [[[[2.0, 3.5], [6.5, 8.0]]]]
    """
    if isinstance(input, Tensor) and input.ndim == 3:
        return squeeze(avg_pool2d(unsqueeze(input, 0), kernel_size, stride, padding,
                                  ceil_mode, count_include_pad, divisor_override), 0)
    kernel, stride, padding = _pool_args("avg_pool2d", input, kernel_size, stride, padding)
    extra = ceil_mode_overhang(input.shape[2:], kernel, stride, padding) if ceil_mode \
        else (0, 0)

    def windows_of(t: Tensor, pads: tuple[int, int]) -> Tensor:
        return sliding_windows("avg_pool2d", _pad_after(t, extra), kernel, stride, pads,
                               (1, 1), 0.0, kernel_last=True)

    total = R.sum(windows_of(input, padding), axis=(4, 5))
    if divisor_override is not None:
        return total / arguments.integer("avg_pool2d", "divisor_override", divisor_override,
                                         minimum=1)
    if extra == (0, 0) and (count_include_pad or padding == (0, 0)):
        return total / (kernel[0] * kernel[1])
    from eager.creation import ones

    # the counted area: the input, with its padding when count_include_pad
    area = ones(1, 1, *input.shape[2:], dtype=input.dtype, device=input.device)
    if count_include_pad:
        area = constant_pad(area, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2),
                            value=1.0)
    counts = windows_of(area, (0, 0) if count_include_pad else padding)
    return total / R.sum(counts, axis=(4, 5))


def _pad_after(x: Tensor, extra: tuple[int, int]) -> Tensor:
    """x with `extra` zeros after its last two dims (ceil_mode's overhang)."""
    if extra == (0, 0):
        return x
    return constant_pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average (N, C, H, W) or (C, H, W) into output_size (oh, ow) windows that cover the
    input as evenly as PyTorch's (start = floor(i H / oh), end = ceil((i + 1) H / oh));
    None in output_size keeps that dim.

    >>> import eager
    >>> adaptive_avg_pool2d(eager.arange(16.0).reshape(1, 1, 4, 4), 1).tolist()
    [[[[7.5]]]]
    """
    from eager.creation import asarray

    arguments.tensor("adaptive_avg_pool2d", "input", input)
    if input.ndim not in (3, 4):
        raise ShapeError(f"adaptive_avg_pool2d: expected input (N, C, H, W) or (C, H, W), got "
                         f"{input.shape}{user_line_suffix()}")
    sizes = (output_size,) * 2 if not isinstance(output_size, (tuple, list)) else output_size
    if len(sizes) != 2:
        raise ArgumentError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got "
                            f"{output_size!r}")
    h, w = input.shape[-2:]
    oh, ow = (d if s is None else arguments.integer("adaptive_avg_pool2d", "output_size", s,
                                                     minimum=1)
              for s, d in zip(sizes, (h, w)))
    rows = asarray(averaging_matrix(h, oh), dtype=input.dtype, device=input.device)
    cols = asarray(averaging_matrix(w, ow).T, dtype=input.dtype, device=input.device)
    return matmul(matmul(rows, input), cols)


__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "interpolate", "pad"]
