"""Max pooling over non-overlapping blocks (stride = kernel, no padding or dilation, the
common `F.max_pool2d(x, k)`) as primitives on (N, C, H, W):

- `max_pool_blocks(x)`: the largest value of each kernel block (rows and columns that do
  not fill a block are dropped);
- `block_argmax_scatter(g, x)`: g (one value per block) written at the first largest
  element of each of x's blocks, zero elsewhere: the gradient of max_pool_blocks;
- `block_argmax_pick(v, x)`: v read at those same positions, the transpose of the scatter.

The scatter and the pick are each other's gradients, so every order of derivative stays
one pass: a C loop over the blocks on cpu (kernels/codegen/windows_c.py), two or three
numpy passes over strided views elsewhere. F.max_pool2d(x, k) records them under a
tracer too, so a jitted CNN runs one pass forward and one back; other pools are the
windows composite (windows, argmax, gather).

>>> import numpy as np
>>> from kernels import OPS
>>> x = np.array([[[[1.0, 5.0], [5.0, 2.0]]]])
>>> OPS.max_pool_blocks.cpu_kernel(x, kernel=(2, 2)).tolist()
[[[[5.0]]]]
>>> OPS.block_argmax_scatter.cpu_kernel(np.ones((1, 1, 1, 1)), x, kernel=(2, 2)).tolist()
[[[[0.0, 1.0], [0.0, 0.0]]]]
"""
from __future__ import annotations

import numpy as np

from kernels.dtypes import FLOATING
from kernels.errors import DTypeError, ShapeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register


def _c_loops(xp, *arrays):
    """The C block loops when they serve these arrays on cpu, else None. Imported on first
    use, so that importing eager does not load codegen."""
    if xp is not np or arrays[0].dtype != arrays[-1].dtype:
        return None
    from kernels.codegen import windows_c

    return windows_c if windows_c.available(arrays[0].dtype) else None


def _blocks(x, kernel):
    """x's whole blocks as (N, C, OH, KH, OW, KW), a view."""
    (kh, kw), (n, c, h, w) = kernel, x.shape
    oh, ow = h // kh, w // kw
    return x[:, :, :oh * kh, :ow * kw].reshape(n, c, oh, kh, ow, kw)


def _positions(kernel):
    """Each block's (row, column) offsets in row-major order."""
    return [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]


def _block_max(xp, b):
    out = b[:, :, :, 0, :, 0].copy()
    for i, j in _positions(b.shape[3:6:2])[1:]:
        xp.maximum(out, b[:, :, :, i, :, j], out=out)
    return out


def _first_max_masks(xp, x, kernel):
    """((i, j), mask) per block offset, row-major: mask marks the blocks whose first
    largest element (first NaN, if any, as argmax) sits at that offset. Whole-array
    passes over strided views: a reduction over the block axes would walk them element
    by element, and boolean indexing is slower still."""
    b = _blocks(x, kernel)
    top = _block_max(xp, b)
    has_nan = bool(xp.isnan(top).any())
    taken = xp.zeros(top.shape, dtype=bool)
    for i, j in _positions(kernel):
        v = b[:, :, :, i, :, j]
        hit = v == top
        if has_nan:
            hit |= xp.isnan(v)
        xp.greater(hit, taken, out=hit)   # and not taken by an earlier offset
        taken |= hit
        yield (i, j), hit


def _max_pool_blocks_impl(xp):
    def max_pool_blocks(x, *, kernel):
        loops = _c_loops(xp, x)
        if loops is not None:
            x = np.ascontiguousarray(x)
            out = np.empty(x.shape[:2] + (x.shape[2] // kernel[0], x.shape[3] // kernel[1]),
                           x.dtype)
            if loops.block_max(x, out, kernel):
                return out
        return _block_max(xp, _blocks(x, kernel))
    return max_pool_blocks


def _masked(xp, values, hit, out, finite: bool) -> None:
    """out = values where hit, else 0. A product is five times faster than a masked
    copy into a strided view, but would turn inf * 0 into NaN."""
    if finite:
        xp.multiply(values, hit, out=out)
    else:
        out[...] = 0
        xp.copyto(out, values, where=hit)


def _scatter_impl(xp):
    def block_argmax_scatter(g, x, *, kernel):
        out = xp.zeros(x.shape, dtype=g.dtype)
        loops = _c_loops(xp, g, x)
        if loops is not None and loops.block_scatter(np.ascontiguousarray(g),
                                                     np.ascontiguousarray(x), out, kernel):
            return out
        b = _blocks(out, kernel)
        finite = bool(xp.isfinite(g).all())
        for (i, j), hit in _first_max_masks(xp, x, kernel):
            _masked(xp, g, hit, b[:, :, :, i, :, j], finite)
        return out
    return block_argmax_scatter


def _pick_impl(xp):
    def block_argmax_pick(v, x, *, kernel):
        loops = _c_loops(xp, v, x)
        if loops is not None:
            out = np.empty(x.shape[:2] + (x.shape[2] // kernel[0], x.shape[3] // kernel[1]),
                           v.dtype)
            if loops.block_pick(np.ascontiguousarray(v), np.ascontiguousarray(x), out,
                                kernel):
                return out
        b = _blocks(v, kernel)
        out = xp.zeros(b[:, :, :, 0, :, 0].shape, dtype=v.dtype)
        for (i, j), hit in _first_max_masks(xp, x, kernel):
            xp.copyto(out, b[:, :, :, i, :, j], where=hit)
        return out
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
