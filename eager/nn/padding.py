"""Padding with PyTorch's arguments: `F.pad` (constant / reflect / replicate / circular,
negative widths crop) and the layers `ReflectionPad1d/2d/3d`, `ReplicationPad1d/2d/3d`,
`ZeroPad1d/2d/3d`, `ConstantPad1d/2d/3d`.

Constant padding is the `pad` primitive (after a slice for the negative widths); the
other modes concatenate slices of the input (flipped for reflect, broadcast for
replicate) and crop, so autograd, the tracer and the fuser see ordinary primitives.

>>> import eager
>>> from eager import nn
>>> import eager.nn.functional as F
>>> F.pad(eager.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect").tolist()
[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
>>> nn.ReflectionPad2d(1)(eager.ones(1, 3, 4, 4)).shape
(1, 3, 6, 6)
"""
from __future__ import annotations

from eager import arguments
from eager.dispatch import user_line_suffix
from eager.nn.errors import ArgumentError
from eager.nn.module import Module
from eager.ops.shape import pad as constant_pad
from eager.tensor import Tensor
from kernels.errors import ShapeError

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _along(x: Tensor, axis: int, start: int, stop: int) -> Tensor:
    return x[(slice(None),) * axis + (slice(start, stop),)]


def _extend(x: Tensor, axis: int, before: int, after: int, mode: str) -> Tensor:
    """x with before / after (>= 0) positions added along axis, from slices of x: a
    mirrored slice (reflect), the edge broadcast (replicate) or the other end (circular).
    Their gradients are slices and sums, where a gather's is a slow scatter-add."""
    from eager.ops.shape import concat, flip

    size = x.shape[axis]
    if mode == "circular" and max(before, after) > size:
        # PyTorch wraps a cropped axis around more than once: tile it, then take the middle.
        copies = -(-max(before, after) // size)
        tiled = concat([x] * (2 * copies + 1), axis=axis)
        return _along(tiled, axis, copies * size - before, (copies + 1) * size + after)
    if mode == "reflect":
        left, right = (1, before + 1), (size - 1 - after, size - 1)
    elif mode == "replicate":
        left, right = (0, 1), (size - 1, size)
    else:
        left, right = (size - before, size), (0, after)

    def edge(start: int, stop: int, width: int) -> Tensor:
        piece = _along(x, axis, start, stop)
        if mode == "reflect":
            return flip(piece, axis=axis)
        if mode == "replicate":
            return piece.expand(*(x.shape[:axis] + (width,) + x.shape[axis + 1:]))
        return piece

    parts = ([edge(*left, before)] if before else []) + [x] + \
        ([edge(*right, after)] if after else [])
    return concat(parts, axis=axis) if len(parts) > 1 else x


def _crop(x: Tensor, per_axis: list[tuple[int, int]]) -> Tensor:
    """x without the positions that negative widths cut off each end."""
    if min(min(p) for p in per_axis) >= 0:
        return x
    key = tuple(slice(max(-b, 0), size - max(-a, 0))
                for (b, a), size in zip(per_axis, x.shape))
    return x[key]


def _check_fits(mode: str, axis: int, size: int, before: int, after: int,
                shape: tuple) -> None:
    out_size = size + before + after
    cropped = size + min(before, 0) + min(after, 0)
    if mode == "constant":  # PyTorch crops first, so the crop alone must fit
        fits = cropped >= 0
    elif mode == "reflect":
        fits = out_size >= 0 and max(before, after) < size
    elif mode == "replicate":
        fits = out_size >= 0 and size > 0
    else:  # circular: widths up to the size, wrapping around what the crop leaves
        grow = max(before, after, 0)
        fits = cropped >= 0 and grow <= size and (cropped > 0 or grow == 0)
    if not fits:
        rule = {"constant": "cropping must leave a size >= 0",
                "reflect": "each width must be less than the size",
                "replicate": "the input must be non-empty, the result of size >= 0",
                "circular": "each width must be at most the size, and a crop must leave "
                            "something to wrap around"}[mode]
        raise ShapeError(f"pad: {mode} padding ({before}, {after}) does not fit dim {axis} "
                         f"of size {size} of input {shape} ({rule}){user_line_suffix()}")


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad) // 2 dims: pad = (left, right) for the last dim, then
    (top, bottom) for the one before, ... (PyTorch's order). mode "constant" fills
    `value` (default 0); "reflect" mirrors without repeating the edge; "replicate" repeats
    the edge; "circular" wraps around. A negative width removes that many positions, as
    in PyTorch.

    >>> import eager
    >>> pad(eager.tensor([[1.0, 2.0]]), (1, 2), mode="replicate").tolist()
    [[1.0, 1.0, 2.0, 2.0, 2.0]]
    >>> pad(eager.ones(1, 2), (0, 0, 1, 0), value=5.0).tolist()
    [[5.0, 5.0], [1.0, 1.0]]
    >>> pad(eager.tensor([[1.0, 2.0, 3.0]]), (-1, 1)).tolist()
    [[2.0, 3.0, 0.0]]
    """
    arguments.tensor("pad", "input", input)
    if not isinstance(pad, (tuple, list)) or len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ArgumentError(f"pad: pad must be an even-length sequence (left, right, top, "
                            f"bottom, ...) of at most {2 * input.ndim} ints for input of "
                            f"shape {input.shape}, got {pad!r}")
    widths = [arguments.integer("pad", "pad", w) for w in pad]
    if mode not in _PAD_MODES:
        raise ArgumentError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}")
    if mode != "constant" and value is not None and value != 0:
        raise ArgumentError(f"pad: value={value!r} only applies to mode 'constant', not "
                            f"{mode!r}")
    pairs = [(widths[i], widths[i + 1]) for i in range(0, len(widths), 2)]
    per_axis = [(0, 0)] * (input.ndim - len(pairs)) + pairs[::-1]
    for axis, ((before, after), size) in enumerate(zip(per_axis, input.shape)):
        if before or after:
            _check_fits(mode, axis, size, before, after, input.shape)
    if mode == "constant":
        fill = 0.0 if value is None else arguments.real("pad", "value", value, finite=False)
        grown = tuple((max(b, 0), max(a, 0)) for b, a in per_axis)
        return constant_pad(_crop(input, per_axis), grown, value=fill)
    if mode == "circular":  # PyTorch crops first, then wraps around what is left
        out = _crop(input, per_axis)
        for axis, (before, after) in enumerate(per_axis):
            out = _extend(out, axis, max(before, 0), max(after, 0), mode)
        return out
    out = input  # reflect and replicate read the whole input, then crop
    for axis, (before, after) in enumerate(per_axis):
        out = _extend(out, axis, max(before, 0), max(after, 0), mode)
    return _crop(out, per_axis)


def _widths(layer: str, padding, dims: int) -> tuple[int, ...]:
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2 * dims:
            raise ArgumentError(f"{layer}: padding must be an int or {2 * dims} ints, got "
                                f"{padding!r}")
        return tuple(arguments.integer(layer, "padding", p) for p in padding)
    return (arguments.integer(layer, "padding", padding),) * (2 * dims)


class _PadNd(Module):
    """Shared by the padding layers: `dims` trailing dims padded in `mode`; the layers
    of the gather modes take a batched or an unbatched input, as PyTorch's."""

    dims = 1
    mode = "constant"

    def __init__(self, padding, value: float = 0.0) -> None:
        super().__init__()
        name = type(self).__name__
        self.padding = _widths(name, padding, self.dims)
        self.value = arguments.real(name, "value", value, finite=False)

    def forward(self, x: Tensor) -> Tensor:
        ranks = (self.dims + 1, self.dims + 2)
        if self.mode != "constant" and x.ndim not in ranks:
            raise ShapeError(f"{type(self).__name__}: expected a {ranks[0]}-d or "
                             f"{ranks[1]}-d input, got {x.shape}{user_line_suffix()}")
        value = self.value if self.mode == "constant" else None
        return pad(x, self.padding, self.mode, value)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ReflectionPad1d(_PadNd):
    """Mirror the last dim of (N, C, W) or (C, W) without repeating the edge; padding is
    an int or (left, right).

    >>> import eager
    >>> from eager import nn
    >>> nn.ReflectionPad1d((2, 1))(eager.tensor([[1.0, 2.0, 3.0]])).tolist()
    [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    """

    dims, mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Mirror the last two dims of (N, C, H, W) or (C, H, W); padding is an int or
    (left, right, top, bottom)."""

    dims, mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Mirror the last three dims of (N, C, D, H, W) or (C, D, H, W)."""

    dims, mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Repeat the edge of the last dim of (N, C, W) or (C, W).

    >>> import eager
    >>> from eager import nn
    >>> nn.ReplicationPad1d(1)(eager.tensor([[1.0, 2.0]])).tolist()
    [[1.0, 1.0, 2.0, 2.0]]
    """

    dims, mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Repeat the edges of the last two dims of (N, C, H, W) or (C, H, W)."""

    dims, mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Repeat the edges of the last three dims of (N, C, D, H, W) or (C, D, H, W)."""

    dims, mode = 3, "replicate"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with `value`; negative widths crop.

    >>> import eager
    >>> from eager import nn
    >>> nn.ConstantPad1d((1, -1), 7.0)(eager.tensor([[1.0, 2.0]])).tolist()
    [[7.0, 1.0]]
    """

    dims = 1

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding, value)


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with `value`: padding (left, right, top, bottom) or an int."""

    dims = 2

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding, value)


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with `value`."""

    dims = 3

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding, value)


class ZeroPad1d(_PadNd):
    """Pad the last dim with zeros."""

    dims = 1


class ZeroPad2d(_PadNd):
    """Pad the last two dims with zeros: padding (left, right, top, bottom) or an int.

    >>> import eager
    >>> from eager import nn
    >>> nn.ZeroPad2d((1, 0, 0, 1))(eager.ones(1, 1, 1, 1)).tolist()
    [[[[0.0, 1.0], [0.0, 0.0]]]]
    """

    dims = 2


class ZeroPad3d(_PadNd):
    """Pad the last three dims with zeros."""

    dims = 3


__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d",
           "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "pad"]
