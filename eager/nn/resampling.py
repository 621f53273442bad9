"""Padding, resizing and average pooling with PyTorch's arguments: `pad`
(constant / reflect / replicate), `interpolate` (nearest / bilinear), `avg_pool2d` and
`adaptive_avg_pool2d`; re-exported by `eager.nn.functional`.

Reflect and replicate padding and resizing pick source positions with integer-array
indexing (one gather per axis; its gradient is a scatter-add), and adaptive pooling is
two small matmuls with averaging matrices, so autograd, the tracer and the fuser see
ordinary primitives.

>>> import eager
>>> import eager.nn.functional as F
>>> F.pad(eager.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect").tolist()
[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
"""
from __future__ import annotations

import math

import numpy as np

from eager import arguments
from eager.dispatch import user_line_suffix
from eager.nn._windows import ceil_mode_overhang, sliding_windows
from eager.nn.errors import ArgumentError
from eager.ops import reductions as R
from eager.ops.linalg import matmul
from eager.ops.shape import pad as constant_pad
from eager.tensor import Tensor
from kernels.errors import ShapeError

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _take(x: Tensor, axis: int, positions: np.ndarray) -> Tensor:
    """x indexed along axis by a fixed integer array (a gather whose gradient adds up)."""
    from eager.creation import asarray

    key = (slice(None),) * axis + (asarray(positions, device=x.device),)
    return x[key]


def _source_positions(size: int, before: int, after: int, mode: str) -> np.ndarray:
    out = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(out, 0, size - 1)
    if mode == "circular":
        return out % size
    period = 2 * (size - 1)  # reflect: mirror about the first and last element
    folded = np.abs(out) % period if period else np.zeros_like(out)
    return np.where(folded >= size, period - folded, folded)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad) // 2 dims: pad = (left, right) for the last dim, then
    (top, bottom) for the one before, ... (PyTorch's order). mode "constant" fills
    `value` (default 0); "reflect" mirrors without repeating the edge; "replicate" repeats
    the edge; "circular" wraps around.

    >>> import eager
    >>> pad(eager.tensor([[1.0, 2.0]]), (1, 2), mode="replicate").tolist()
    [[1.0, 1.0, 2.0, 2.0, 2.0]]
    >>> pad(eager.ones(1, 2), (0, 0, 1, 0), value=5.0).tolist()
    [[5.0, 5.0], [1.0, 1.0]]
    """
    arguments.tensor("pad", "input", input)
    if not isinstance(pad, (tuple, list)) or len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ArgumentError(f"pad: pad must be an even-length sequence (left, right, top, "
                            f"bottom, ...) of at most {2 * input.ndim} ints for input of "
                            f"shape {input.shape}, got {pad!r}")
    widths = [arguments.integer("pad", "pad", w) for w in pad]
    if mode not in _PAD_MODES:
        raise ArgumentError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}")
    pairs = [(widths[i], widths[i + 1]) for i in range(0, len(widths), 2)]
    per_axis = [(0, 0)] * (input.ndim - len(pairs)) + pairs[::-1]
    if mode == "constant":
        fill = 0.0 if value is None else arguments.real("pad", "value", value, finite=False)
        if min(min(p) for p in per_axis) < 0:
            raise ArgumentError(f"pad: negative padding {tuple(widths)} is not supported")
        return constant_pad(input, tuple(per_axis), value=fill)
    out = input
    for axis, (before, after) in enumerate(per_axis):
        if before == after == 0:
            continue
        size = input.shape[axis]
        limit = size - 1 if mode == "reflect" else size
        if before < 0 or after < 0 or size == 0 or (mode != "replicate" and
                                                   max(before, after) > limit):
            raise ShapeError(f"pad: {mode} padding ({before}, {after}) does not fit dim "
                             f"{axis} of size {size} of input {input.shape}"
                             f"{user_line_suffix()}")
        out = _take(out, axis, _source_positions(size, before, after, mode))
    return out


def _output_size(op: str, x: Tensor, size, scale_factor) -> tuple[tuple[int, int], tuple]:
    spatial = x.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ArgumentError(f"{op}: give exactly one of size and scale_factor")
    if size is not None:
        sizes = (size,) * len(spatial) if isinstance(size, int) else tuple(size)
        sizes = tuple(arguments.integer(op, "size", s, minimum=1) for s in sizes)
        if len(sizes) != len(spatial):
            raise ArgumentError(f"{op}: size {size!r} needs {len(spatial)} entries for input "
                                f"{x.shape}")
        return sizes, tuple(i / o for i, o in zip(spatial, sizes))
    factors = (scale_factor,) * len(spatial) if not isinstance(scale_factor, (tuple, list)) \
        else tuple(scale_factor)
    factors = tuple(arguments.real(op, "scale_factor", f, low=0.0, low_open=True)
                    for f in factors)
    if len(factors) != len(spatial):
        raise ArgumentError(f"{op}: scale_factor {scale_factor!r} needs {len(spatial)} "
                            f"entries for input {x.shape}")
    sizes = tuple(math.floor(i * f) for i, f in zip(spatial, factors))
    return sizes, tuple(1.0 / f for f in factors)


def _linear_axis(x: Tensor, axis: int, out_size: int, scale: float,
                 align_corners: bool) -> Tensor:
    in_size = x.shape[axis]
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        src = dst * ((in_size - 1) / (out_size - 1)) if out_size > 1 else np.zeros_like(dst)
    else:
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    frac = (src - low).reshape((-1,) + (1,) * (x.ndim - axis - 1))
    from eager.creation import asarray

    frac = asarray(frac, dtype=x.dtype, device=x.device)
    return _take(x, axis, low) * (1.0 - frac) + _take(x, axis, high) * frac


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None) -> Tensor:
    """Resize the spatial dims of (N, C, ...) input: mode "nearest" (PyTorch's legacy
    nearest: source = floor(dst * in / out)), "linear" (3-d input) or "bilinear" (4-d).

    >>> import eager
    >>> interpolate(eager.tensor([[[[1.0, 2.0]]]]), scale_factor=2).tolist()
    [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
    >>> interpolate(eager.tensor([[[0.0, 1.0]]]), size=4, mode="linear").tolist()
    [[[0.0, 0.25, 0.75, 1.0]]]
    """
    arguments.tensor("interpolate", "input", input)
    if input.ndim < 3:
        raise ShapeError(f"interpolate: input must be (N, C, ...) with spatial dims, got "
                         f"{input.shape}{user_line_suffix()}")
    sizes, scales = _output_size("interpolate", input, size, scale_factor)
    if mode == "nearest":
        if align_corners is not None:
            raise ArgumentError("interpolate: align_corners only applies to linear modes")
        out = input
        for k, (o, s) in enumerate(zip(sizes, scales)):
            src = np.minimum(np.floor(np.arange(o) * s).astype(np.int64), input.shape[2 + k] - 1)
            out = _take(out, 2 + k, src)
        return out
    wanted = {"linear": 3, "bilinear": 4}.get(mode)
    if wanted is None:
        raise ArgumentError(f"interpolate: mode must be 'nearest', 'linear' or 'bilinear', got "
                            f"{mode!r}")
    if input.ndim != wanted:
        raise ShapeError(f"interpolate: mode {mode!r} needs a {wanted}-d input, got "
                         f"{input.shape}{user_line_suffix()}")
    out = input
    for k, (o, s) in enumerate(zip(sizes, scales)):
        out = _linear_axis(out, 2 + k, o, s, bool(align_corners))
    return out


def _pool_args(op: str, x: Tensor, kernel_size, stride, padding):
    arguments.tensor(op, "input", x)
    kernel = arguments.pair(op, "kernel_size", kernel_size, minimum=1)
    stride = kernel if stride is None else arguments.pair(op, "stride", stride, minimum=1)
    padding = arguments.pair(op, "padding", padding, minimum=0)
    if x.ndim != 4:
        raise ShapeError(f"{op}: expected input (N, C, H, W), got {x.shape}"
                         f"{user_line_suffix()}")
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise ArgumentError(f"{op}: padding {padding} must be at most half the kernel "
                            f"size {kernel}")
    return kernel, stride, padding


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean of each kernel_size window of (N, C, H, W); stride defaults to the kernel.
    Zero padding counts in the mean unless count_include_pad=False. ceil_mode=True rounds
    the output size up as PyTorch does; the part of a last window past the input and its
    padding never counts in its mean.

    >>> import eager
    >>> avg_pool2d(eager.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[2.5, 4.5], [10.5, 12.5]]]]
    >>> avg_pool2d(eager.arange(9.0).reshape(1, 1, 3, 3), 2, ceil_mode=True).tolist()
    [[[[2.0, 3.5], [6.5, 8.0]]]]
    """
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


def _averaging_matrix(in_size: int, out_size: int) -> np.ndarray:
    rows = np.zeros((out_size, in_size))
    for i in range(out_size):
        start = (i * in_size) // out_size
        end = -((-(i + 1) * in_size) // out_size)
        rows[i, start:end] = 1.0 / (end - start)
    return rows


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
    rows = asarray(_averaging_matrix(h, oh), dtype=input.dtype, device=input.device)
    cols = asarray(_averaging_matrix(w, ow).T, dtype=input.dtype, device=input.device)
    return matmul(matmul(rows, input), cols)
