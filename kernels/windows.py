"""Sliding windows over the last two dims (`windows`, im2col) and their adjoint (`fold`,
col2im: one strided accumulation per kernel offset).

`windows(x)` of x (..., H, W) is (..., kh, kw, oh, ow), or (..., oh, ow, kh, kw) with
kernel_last: element [..., i, j, r, c] is x[..., r*sh + i*dh - ph, c*sw + j*dw - pw], or
pad_value where that falls in the (ph, pw) padding around x. It reads x
through a strided view and writes the one contiguous copy BLAS (or an argmax along the
last axis) needs: a C loop on cpu (kernels/codegen/windows_c.py), numpy's copy of the
view elsewhere. Nothing is gathered by index. `fold` sums such windows back into an
(..., H, W) image, so it is windows' backward and windows is fold's.

>>> import numpy as np
>>> x = np.arange(9.0).reshape(3, 3)
>>> attrs = dict(kernel=(2, 2), stride=(1, 1), dilation=(1, 1), kernel_last=False)
>>> w = OPS.windows.cpu_kernel(x, **attrs)
>>> w.shape, w[1, 0].tolist()
((2, 2, 2, 2), [[3.0, 4.0], [6.0, 7.0]])
>>> OPS.fold.cpu_kernel(np.ones((2, 2, 2, 2)), size=(3, 3), **attrs).tolist()
[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
"""
from __future__ import annotations

import numpy as np

from kernels.errors import ShapeError
from kernels.opdef import OPS, OpDef, OpKind, TensorSpec, register

Pair = tuple[int, int]


def window_count(size: int, kernel: int, stride: int, dilation: int) -> int:
    """How many windows of `kernel` taps `dilation` apart fit in `size` at `stride`.

    >>> window_count(8, 3, 1, 1), window_count(8, 3, 2, 2), window_count(2, 3, 1, 1)
    (6, 2, 0)
    """
    span = dilation * (kernel - 1) + 1
    return max(0, (size - span) // stride + 1)


def _check(op: str, shape: tuple[int, ...], kernel: Pair, stride: Pair,
           dilation: Pair, padding: Pair) -> None:
    if len(shape) < 2:
        raise ShapeError(f"{op}: needs at least 2 dims (..., H, W), got shape {shape}")
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ShapeError(f"{op}: kernel {kernel}, stride {stride} and dilation {dilation} "
                         f"must be positive and padding {padding} non-negative")


def _windows_rule(x: TensorSpec, *, kernel: Pair, stride: Pair, dilation: Pair,
                  padding: Pair = (0, 0), pad_value: float = 0.0, kernel_last: bool = False):
    _check("windows", x.shape, kernel, stride, dilation, padding)
    h, w = x.shape[-2] + 2 * padding[0], x.shape[-1] + 2 * padding[1]
    oh = window_count(h, kernel[0], stride[0], dilation[0])
    ow = window_count(w, kernel[1], stride[1], dilation[1])
    if oh == 0 or ow == 0:
        raise ShapeError(f"windows: kernel {kernel} with dilation {dilation} does not fit in "
                         f"the ({h}, {w}) image of shape {x.shape}")
    return TensorSpec(x.shape[:-2] + _window_dims(kernel, (oh, ow), kernel_last), x.dtype)


def _window_dims(kernel: Pair, count: Pair, kernel_last: bool) -> tuple[int, ...]:
    return tuple(count) + tuple(kernel) if kernel_last else tuple(kernel) + tuple(count)


def _c_loops(xp, dtype):
    """The C loops when they serve `dtype` on cpu, else None. Imported on first use, so
    that importing eager does not load codegen."""
    if xp is not np:
        return None
    from kernels.codegen import windows_c

    return windows_c if windows_c.available(dtype) else None


def _strided(xp, x, kernel, stride, dilation, kernel_last):
    """The windows as a strided view of x (no copy)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    h, w = x.shape[-2:]
    oh, ow = window_count(h, kh, sh, dh), window_count(w, kw, sw, dw)
    *lead, rs, cs = x.strides
    view = xp.lib.stride_tricks.as_strided(
        x, x.shape[:-2] + (kh, kw, oh, ow), (*lead, rs * dh, cs * dw, rs * sh, cs * sw))
    if kernel_last:
        n = len(lead)
        view = view.transpose(tuple(range(n)) + (n + 2, n + 3, n, n + 1))
    return view


def _windows_impl(xp):
    def windows(x, *, kernel, stride, dilation, padding=(0, 0), pad_value=0.0,
                kernel_last=False):
        loops = _c_loops(xp, x.dtype)
        if loops is not None:
            x = np.ascontiguousarray(x)
            oh = window_count(x.shape[-2] + 2 * padding[0], kernel[0], stride[0], dilation[0])
            ow = window_count(x.shape[-1] + 2 * padding[1], kernel[1], stride[1], dilation[1])
            out = np.empty(x.shape[:-2] + _window_dims(kernel, (oh, ow), kernel_last),
                           x.dtype)
            loops.unfold(x, out, kernel, stride, dilation, padding, pad_value,
                         kernel_last=kernel_last)
            return out
        if padding != (0, 0):
            widths = ((0, 0),) * (x.ndim - 2) + ((padding[0],) * 2, (padding[1],) * 2)
            x = xp.pad(x, widths, constant_values=pad_value)
        return xp.ascontiguousarray(_strided(xp, x, kernel, stride, dilation, kernel_last))
    return windows


windows = register(OpDef("windows", OpKind.MOVEMENT, 1, _windows_impl, _windows_rule))


def _fold_rule(g: TensorSpec, *, size: Pair, kernel: Pair, stride: Pair, dilation: Pair,
               padding: Pair = (0, 0), pad_value: float = 0.0, kernel_last: bool = False):
    _check("fold", g.shape[:-2], kernel, stride, dilation, padding)
    count = tuple(window_count(n + 2 * p, k, s, d)
                  for n, p, k, s, d in zip(size, padding, kernel, stride, dilation))
    expected = _window_dims(kernel, count, kernel_last)
    if len(g.shape) < 4 or g.shape[-4:] != expected:
        raise ShapeError(f"fold: windows of shape {g.shape} do not end in {expected}, the "
                         f"window dims of kernel {kernel} over an image of size {size}")
    return TensorSpec(g.shape[:-4] + tuple(size), g.dtype)


def _fold_impl(xp):
    def fold(g, *, size, kernel, stride, dilation, padding=(0, 0), pad_value=0.0,
             kernel_last=False):
        # pad_value is windows' (their adjoint drops the padding whatever it held).
        lead = g.shape[:-4]
        (ph, pw) = padding
        loops = _c_loops(xp, g.dtype)
        if loops is not None:
            out = np.zeros(lead + tuple(size), dtype=g.dtype)
            loops.fold(np.ascontiguousarray(g), out, kernel, stride, dilation, padding,
                       kernel_last=kernel_last)
            return out
        out = xp.zeros(lead + (size[0] + 2 * ph, size[1] + 2 * pw), dtype=g.dtype)
        if kernel_last:
            n = len(lead)
            g = g.transpose(tuple(range(n)) + (n + 2, n + 3, n, n + 1))
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        oh, ow = g.shape[-2:]
        for i in range(kh):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            for j in range(kw):
                out[..., rows, j * dw:j * dw + sw * (ow - 1) + 1:sw] += g[..., i, j, :, :]
        return xp.ascontiguousarray(out[..., ph:ph + size[0], pw:pw + size[1]])
    return fold


fold = register(OpDef("fold", OpKind.MOVEMENT, 1, _fold_impl, _fold_rule))

__all__ = ["OPS", "fold", "window_count", "windows"]
