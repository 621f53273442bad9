"""`F.conv1d` and `F.conv_transpose2d`, built from the primitives conv2d uses.

conv1d is conv2d over a height-1 image. conv_transpose2d is conv2d's adjoint with
respect to its input: one (grouped) matmul gives every kernel offset's contribution,
and the `fold` primitive (col2im, the backward of `windows`) adds them into the output
image with one strided add per offset, so autograd, the tracer and the jit see only
matmul, reshape, fold and slicing.

>>> import eager
>>> conv1d(eager.ones(1, 1, 5), eager.ones(1, 1, 3), padding=1).tolist()
[[[2.0, 3.0, 3.0, 3.0, 2.0]]]
>>> conv_transpose2d(eager.ones(1, 1, 2, 2), eager.ones(1, 1, 2, 2), stride=2).shape
(1, 1, 4, 4)
"""
from __future__ import annotations

from typing import Any

from eager import arguments
from eager.dispatch import apply, user_line_suffix
from eager.nn.errors import ArgumentError
from eager.ops.linalg import matmul
from eager.ops.shape import reshape, squeeze, unsqueeze
from eager.tensor import Tensor
from kernels import OPS
from kernels.errors import ShapeError


def single(op: str, name: str, value: Any, minimum: int) -> int:
    """An int, or a 1-tuple of one (torch's `_single`), at least `minimum`.

    >>> single("conv1d", "stride", (2,), 1)
    2
    """
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ArgumentError(f"{op}: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return arguments.integer(op, name, value, minimum=minimum)


def unbatched_hint(ndim: int, spatial: int) -> str:
    """The fix to suggest for an input with no channel dim: a 2-D image (H, W) or a 1-D
    signal (L,) given where (C, ...) or (N, C, ...) belongs; else nothing.

    >>> unbatched_hint(2, 2)
    '; give a single-channel image its channel dim with x.unsqueeze(0)'
    """
    if ndim != spatial:
        return ""
    what = "image" if spatial == 2 else "signal"
    return f"; give a single-channel {what} its channel dim with x.unsqueeze(0)"


def raise_if_channels_differ(op: str, x: Tensor, weight: Tensor, groups) -> None:
    """The channel check of an unbatched input, before its batch dim is added, so the
    error shows the user's shape.

    >>> import eager
    >>> raise_if_channels_differ("conv1d", eager.ones(4, 9), eager.ones(6, 4, 3), 1)
    """
    channels = x.shape[0]
    if type(groups) is int and groups > 0 and channels != weight.shape[1] * groups:
        raise ShapeError(f"{op}: the unbatched input of shape {x.shape} has {channels} "
                         f"channels but the weight of shape {weight.shape} expects "
                         f"{weight.shape[1] * groups} (groups={groups}){user_line_suffix()}")


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def check_padding_mode(layer: str, mode: Any) -> str:
    """A Conv layer's padding_mode, one of PADDING_MODES (ArgumentError otherwise).

    >>> check_padding_mode("Conv2d", "reflect")
    'reflect'
    """
    if mode not in PADDING_MODES:
        raise ArgumentError(f"{layer}: padding_mode must be one of {PADDING_MODES}, got "
                            f"{mode!r}")
    return mode


def pad_for_mode(x: Tensor, padding: str | tuple[int, ...], kernel: tuple[int, ...],
                 dilation: tuple[int, ...], mode: str) -> Tensor:
    """x padded as a Conv layer with padding_mode `mode` (not "zeros") pads it before a
    convolution that then pads nothing: padding numbers on both sides, or "same" (the
    extra one after), as PyTorch.

    >>> import eager
    >>> pad_for_mode(eager.arange(3.0).reshape(1, 1, 3), (1,), (3,), (1,), "reflect").tolist()
    [[[1.0, 0.0, 1.0, 2.0, 1.0]]]
    """
    from eager.nn.padding import pad

    if padding == "valid":
        return x
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        sides = [(t // 2, t - t // 2) for t in totals]
    else:
        sides = [(p, p) for p in padding]
    return pad(x, tuple(v for side in reversed(sides) for v in side), mode=mode)


def check_string_padding(op: str, padding: str, stride: tuple[int, ...]) -> str:
    """padding "valid" or "same" as given, refused where PyTorch refuses it: another
    string, or "same" with a stride other than 1.

    >>> check_string_padding("conv2d", "same", (1, 1))
    'same'
    """
    if padding not in ("valid", "same"):
        raise ArgumentError(f"{op}: padding must be numbers, 'valid' or 'same', got "
                            f"{padding!r}")
    if padding == "same" and any(s != 1 for s in stride):
        raise ArgumentError(f"{op}: padding='same' is not supported for strided "
                            f"convolutions (stride {stride}), as in PyTorch; give the "
                            f"padding as numbers")
    return padding


def string_padding(op: str, x: Tensor, padding: str, kernel: tuple[int, int],
                   stride: tuple[int, int], dilation: tuple[int, int]
                   ) -> tuple[Tensor, tuple[int, int]]:
    """x and the symmetric padding that give PyTorch's "valid" (none) or "same" (the
    output keeps the input's size); where "same" needs an odd total, x gets the extra
    zero after (bottom / right) first, as in PyTorch.

    >>> import eager
    >>> x, pads = string_padding("conv2d", eager.ones(1, 1, 4, 4), "same", (2, 3), (1, 1),
    ...                          (1, 1))
    >>> x.shape, pads
    ((1, 1, 5, 4), (0, 1))
    """
    from eager.ops.shape import pad

    if check_string_padding(op, padding, stride) == "valid":
        return x, (0, 0)
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    before = (totals[0] // 2, totals[1] // 2)
    extra = [t - 2 * b for t, b in zip(totals, before)]
    if any(extra):
        x = pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
    return x, before


def conv1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D cross-correlation (PyTorch's conv1d).

    x: (N, C, L), or (C, L) unbatched as in PyTorch; weight: (O, C // groups, k); bias:
    (O,). Returns (N, O, L'), or (O, L') for an unbatched x. padding may be "valid" or
    "same", as for conv2d.

    >>> import eager
    >>> conv1d(eager.ones(2, 4, 9), eager.ones(6, 2, 3), stride=2, groups=2).shape
    (2, 6, 4)
    >>> conv1d(eager.ones(4, 9), eager.ones(6, 4, 3)).shape
    (6, 7)
    """
    from eager.nn.functional import conv2d

    arguments.tensor("conv1d", "input", x)
    arguments.tensor("conv1d", "weight", weight)
    if x.ndim == 2 and weight.ndim == 3:
        raise_if_channels_differ("conv1d", x, weight, groups)
        return squeeze(conv1d(unsqueeze(x, 0), weight, bias, stride, padding, dilation,
                              groups), 0)
    if x.ndim != 3 or weight.ndim != 3:
        raise ShapeError(f"conv1d: expected input (C, L) or (N, C, L) and weight (O, C // "
                         f"groups, k), got input {x.shape} and weight {weight.shape}"
                         f"{user_line_suffix()}{unbatched_hint(x.ndim, 1)}")
    stride = single("conv1d", "stride", stride, 1)
    padding = padding if isinstance(padding, str) else (0, single("conv1d", "padding",
                                                                  padding, 0))
    dilation = single("conv1d", "dilation", dilation, 1)
    n, c, length = x.shape
    out = conv2d(reshape(x, (n, c, 1, length)), reshape(weight, weight.shape[:2] + (1, -1)),
                 bias, (1, stride), padding, (1, dilation), groups)
    return reshape(out, out.shape[:2] + (out.shape[-1],))


def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution (PyTorch's conv_transpose2d, the gradient of conv2d
    with respect to its input).

    x: (N, C, H, W), or (C, H, W) unbatched as in PyTorch; weight: (C, O // groups, kh,
    kw); bias: (O,). The output is (N, O, (H - 1) * stride - 2 * padding + dilation *
    (kh - 1) + output_padding + 1, ...), without the N for an unbatched x.

    >>> import eager
    >>> conv_transpose2d(eager.ones(1, 1, 2, 2), eager.ones(1, 1, 2, 2)).tolist()
    [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]
    """
    op = "conv_transpose2d"
    arguments.tensor(op, "input", x)
    arguments.tensor(op, "weight", weight)
    arguments.optional_tensor(op, "bias", bias)
    if x.ndim == 3 and weight.ndim == 4:
        return squeeze(conv_transpose2d(unsqueeze(x, 0), weight, bias, stride, padding,
                                        output_padding, groups, dilation), 0)
    stride = arguments.pair(op, "stride", stride, minimum=1)
    padding = arguments.pair(op, "padding", padding, minimum=0)
    output_padding = arguments.pair(op, "output_padding", output_padding, minimum=0)
    dilation = arguments.pair(op, "dilation", dilation, minimum=1)
    groups = arguments.integer(op, "groups", groups, minimum=1)
    if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[0] or \
            weight.shape[0] % groups:
        raise ShapeError(f"{op}: expected input (C, H, W) or (N, C, H, W) and weight (C, "
                         f"O // groups, kh, kw) with C divisible by groups={groups}, got "
                         f"input {x.shape} and weight {weight.shape}{user_line_suffix()}"
                         f"{unbatched_hint(x.ndim, 2)}")
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        raise ArgumentError(f"{op}: output_padding {output_padding} must be smaller than "
                            f"either stride {stride} or dilation {dilation}")
    n, c, h, w = x.shape
    c_group, o_group, kh, kw = c // groups, weight.shape[1], weight.shape[2], weight.shape[3]
    if bias is not None and bias.shape != (o_group * groups,):
        raise ShapeError(f"{op}: bias of shape {bias.shape} does not match the "
                         f"{o_group * groups} output channels{user_line_suffix()}")
    # Every input pixel's contribution at every kernel offset: (N, groups, O/g * kh * kw, HW).
    kernel_t = reshape(weight, (groups, c_group, o_group * kh * kw)).transpose(1, 2)
    cols = matmul(kernel_t, reshape(x, (n, groups, c_group, h * w)))
    cols = reshape(cols, (n, groups * o_group, kh, kw, h, w))
    full = tuple((size - 1) * s + d * (k - 1) + 1
                 for size, s, d, k in zip((h, w), stride, dilation, (kh, kw)))
    image = apply(OPS.fold, cols, size=full, kernel=(kh, kw), stride=stride,
                  dilation=dilation, padding=(0, 0), kernel_last=False)
    out = _crop(image, full, padding, output_padding)
    return out if bias is None else out + reshape(bias, (1, -1, 1, 1))


def _crop(image: Tensor, full: tuple[int, int], padding, output_padding) -> Tensor:
    """The (padding)-cropped image, extended by output_padding rows and columns; those
    reach past the windows when output_padding exceeds padding, and are zero there."""
    from eager.nn.resampling import pad

    sizes = [f - 2 * p + o for f, p, o in zip(full, padding, output_padding)]
    extra = [max(p + s - f, 0) for f, p, s in zip(full, padding, sizes)]
    if any(extra):
        image = pad(image, (0, extra[1], 0, extra[0]))
    return image[:, :, padding[0]:padding[0] + sizes[0], padding[1]:padding[1] + sizes[1]]
