"""Max pooling over non-overlapping blocks (stride = kernel, no padding or dilation, the
common `F.max_pool2d(x, k)`) as eager-mode primitives on (N, C, H, W):

- `max_pool_blocks(x)`: the largest value of each kernel block (rows and columns that do
  not fill a block are dropped);
- `block_argmax_scatter(g, x)`: g (one value per block) written at the first largest
  element of each of x's blocks, zero elsewhere: the gradient of max_pool_blocks;
- `block_argmax_pick(v, x)`: v read at those same positions, the transpose of the scatter.

The scatter and the pick are each other's gradients, so every order of derivative stays
two or three numpy passes. Traced code never sees them: eager's F.max_pool2d spells the
composite (windows, argmax, gather) under a tracer.

>>> import numpy as np
>>> from kernels import OPS
>>> x = np.array([[[[1.0, 5.0], [5.0, 2.0]]]])
>>> OPS.max_pool_blocks.cpu_kernel(x, kernel=(2, 2)).tolist()
[[[[5.0]]]]
>>> OPS.block_argmax_scatter.cpu_kernel(np.ones((1, 1, 1, 1)), x, kernel=(2, 2)).tolist()
[[[[0.0, 1.0], [0.0, 0.0]]]]
"""
from __future__ import annotations

from kernels.dtypes import FLOATING
from kernels.errors import DTypeError, ShapeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register


def _blocks(x, kernel):
    """x's whole blocks as (N, C, OH, KH, OW, KW), a view."""
    (kh, kw), (n, c, h, w) = kernel, x.shape
    oh, ow = h // kh, w // kw
    return x[:, :, :oh * kh, :ow * kw].reshape(n, c, oh, kh, ow, kw)


def _first_argmax(xp, x, kernel):
    """(N, C, OH, OW, 1) index into each block's row-major KH * KW elements."""
    b = _blocks(x, kernel)
    n, c, oh, kh, ow, kw = b.shape
    flat = b.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw)
    return xp.argmax(flat, axis=4)[..., None]


def _max_pool_blocks_impl(xp):
    def max_pool_blocks(x, *, kernel):
        return _blocks(x, kernel).max(axis=(3, 5))
    return max_pool_blocks


def _scatter_impl(xp):
    def block_argmax_scatter(g, x, *, kernel):
        (kh, kw), (n, c, oh, ow) = kernel, g.shape
        spread = xp.zeros((n, c, oh, ow, kh * kw), dtype=g.dtype)
        xp.put_along_axis(spread, _first_argmax(xp, x, kernel), g[..., None], axis=4)
        out = xp.zeros(x.shape, dtype=g.dtype)
        out[:, :, :oh * kh, :ow * kw] = spread.reshape(n, c, oh, ow, kh, kw).transpose(
            0, 1, 2, 4, 3, 5).reshape(n, c, oh * kh, ow * kw)
        return out
    return block_argmax_scatter


def _pick_impl(xp):
    def block_argmax_pick(v, x, *, kernel):
        b = _blocks(v, kernel)
        n, c, oh, kh, ow, kw = b.shape
        flat = b.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw)
        return xp.take_along_axis(flat, _first_argmax(xp, x, kernel), axis=4)[..., 0]
    return block_argmax_pick


def _pooled(name: str, x: TensorSpec, kernel) -> tuple[int, ...]:
    if x.dtype not in FLOATING:
        raise DTypeError(f"{name}: dtype {x.dtype.name} is not supported; expected floating "
                         "tensors")
    if len(x.shape) != 4 or len(kernel) != 2 or min(kernel) < 1:
        raise ShapeError(f"{name}: expected (N, C, H, W) and a kernel of two positive sizes, "
                         f"got {x.shape} and {kernel}")
    return x.shape[:2] + (x.shape[2] // kernel[0], x.shape[3] // kernel[1])


def _max_pool_blocks_rule(x: TensorSpec, *, kernel):
    return TensorSpec(_pooled("max_pool_blocks", x, kernel), x.dtype)


def _scatter_rule(g: TensorSpec, x: TensorSpec, *, kernel):
    if g.shape != _pooled("block_argmax_scatter", x, kernel):
        raise ShapeError(f"block_argmax_scatter: gradient {g.shape} does not match the blocks "
                         f"of {x.shape} with kernel {kernel}")
    return TensorSpec(x.shape, g.dtype)


def _pick_rule(v: TensorSpec, x: TensorSpec, *, kernel):
    if v.shape != x.shape:
        raise ShapeError(f"block_argmax_pick: values {v.shape} and positions {x.shape} "
                         "differ")
    return TensorSpec(_pooled("block_argmax_pick", x, kernel), v.dtype)


max_pool_blocks = register(OpDef("max_pool_blocks", OpKind.OTHER, 1, _max_pool_blocks_impl,
                                 _max_pool_blocks_rule, fusable=False))
block_argmax_scatter = register(OpDef("block_argmax_scatter", OpKind.OTHER, 2, _scatter_impl,
                                      _scatter_rule, fusable=False))
block_argmax_pick = register(OpDef("block_argmax_pick", OpKind.OTHER, 2, _pick_impl,
                                   _pick_rule, fusable=False))
