"""Neural-network functions (`import eager.nn.functional as F`), each written once in
terms of eager ops, so autograd, the tracer and the jit's fusion all see through them.

>>> import eager
>>> import eager.nn.functional as F
>>> logits = eager.tensor([[2.0, 0.5, -1.0]])
>>> round(F.cross_entropy(logits, eager.tensor([0])).item(), 4)
0.2413
"""
from __future__ import annotations

import math
import warnings

from eager import arguments
from eager.dispatch import apply, get_hook, user_line_suffix
from eager.nn._windows import ceil_mode_overhang, sliding_windows
from eager.nn.activation_functions import (
    elu,
    erf,
    gelu,
    leaky_relu,
    logsigmoid,
    mish,
    normalize,
    one_hot,
    silu,
    softplus,
)
from eager.nn.attention import multi_head_attention_forward, scaled_dot_product_attention
from eager.nn.convolution import (
    conv1d,
    conv_transpose2d,
    raise_if_channels_differ,
    string_padding,
    unbatched_hint,
)
from eager.nn.errors import ArgumentError, TargetError
from eager.nn.instance_norm import instance_norm
from eager.nn.interpolation import interpolate
from eager.nn.loss_functions import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy_general,
    huber_loss,
    l1_loss,
    nll_loss,
    raise_if_target_outside,
    smooth_l1_loss,
)
from eager.nn.normalization import batch_norm, group_norm, standardize
from eager.nn.padding import pad
from eager.nn.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from eager.nn.resampling import adaptive_avg_pool2d, avg_pool2d
from eager.nn.softmax_functions import log_softmax, softmax, softmin
from eager.ops import elementwise as E
from eager.ops import reductions as R
from eager.ops.indexing import gather_in_range
from eager.ops.linalg import matmul
from eager.ops.operands import promote
from eager.ops.shape import reshape, squeeze, unsqueeze
from eager.tensor import Tensor
from kernels import OPS
from kernels.dtypes import float32, float64
from kernels.errors import DTypeError, ShapeError

_REDUCTIONS = ("mean", "sum", "none")
_LINEAR_DTYPES = (float32, float64)


def _raise_if_out_of_range(op: str, indices: Tensor, size: int, described: str) -> None:
    # A host read (a guard when traced): a negative index would otherwise wrap around
    # silently (x[-1] is the last row), and PyTorch rejects it.
    outside = (indices < 0) | (indices >= size)
    if indices.size and bool(outside.any()):
        first = indices[outside].tolist()[0]
        raise TargetError(f"{op}: an index is outside [0, {size}) for {described} (the "
                          f"first is {first}){user_line_suffix()}") from None


def relu(x: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0) of a tensor; `eager.relu` is the one definition (gradient 0 at 0).

    >>> import eager
    >>> relu(eager.tensor([-1.0, 0.0, 2.0])).tolist()
    [0.0, 0.0, 2.0]
    """
    arguments.tensor("relu", "input", x)
    return x.relu_() if inplace else E.relu(x)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent.

    >>> import eager
    >>> tanh(eager.tensor([0.0])).tolist()
    [0.0]
    """
    arguments.tensor("tanh", "input", x)
    return E.tanh(x)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)).

    >>> import eager
    >>> sigmoid(eager.tensor([0.0])).tolist()
    [0.5]
    """
    arguments.tensor("sigmoid", "input", x)
    return E.sigmoid(x)


def _reduce(name: str, loss: Tensor, reduction: str) -> Tensor:
    if not isinstance(reduction, str):
        reduction = repr(reduction)  # reported below, never compared as an array
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    if reduction == "none":
        return loss
    raise ArgumentError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Negative log-likelihood of the targets under softmax(input), as PyTorch's.

    input has shape (N, C) of unnormalised scores (logits), or (N, C, d1, ...), or (C,);
    target holds class indices in [0, C) of shape (N,) / (N, d1, ...) / (), or class
    probabilities of input's shape. weight (C,) scales each class; targets equal to
    ignore_index count for nothing; label_smoothing mixes in the uniform distribution.
    reduction is "mean", "sum" or "none". (size_average and reduce are PyTorch's
    deprecated spellings and must stay None.)

    >>> import eager
    >>> loss = cross_entropy(eager.zeros(2, 4), eager.tensor([1, 3]))
    >>> round(loss.item(), 4) == round(math.log(4), 4)
    True
    >>> round(cross_entropy(eager.zeros(2, 4), eager.tensor([1, -100])).item(), 4)
    1.3863
    """
    arguments.tensor("cross_entropy", "input", input)
    arguments.tensor("cross_entropy", "target", target)
    if isinstance(weight, str):  # the positional reduction of earlier versions
        weight, reduction = None, weight
    if weight is not None and not isinstance(weight, Tensor):
        raise ArgumentError(f"cross_entropy: weight (the third argument) must be a Tensor of "
                            f"per-class weights or None, got {type(weight).__name__}; pass "
                            f"reduction= by keyword")
    if size_average is not None or reduce is not None:
        raise ArgumentError("cross_entropy: size_average and reduce are deprecated in "
                            "PyTorch and not supported; use reduction='mean'/'sum'/'none'")
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ArgumentError(f"cross_entropy: reduction must be one of {_REDUCTIONS}, got "
                            f"{reduction!r}")
    if input.ndim < 2 and target.ndim != 0 or input.ndim == 0:
        raise ShapeError(f"cross_entropy: input must have shape (batch, classes), (batch, "
                         f"classes, d1, ...) or (classes,), got {input.shape} with target "
                         f"{target.shape}{user_line_suffix()}")
    if target.dtype.kind not in "iu" and target.shape != input.shape:
        raise DTypeError(f"cross_entropy: target must hold integer class indices, got "
                         f"{target.dtype.name}{user_line_suffix()}; use target.long() (or "
                         f"give probabilities of the input's shape {input.shape})")
    if input.ndim == 2 and target.dtype.kind in "iu" and target.shape != input.shape[:1]:
        raise ShapeError(f"cross_entropy: target of shape {target.shape} does not match input "
                         f"of shape {input.shape}; expected ({input.shape[0]},)"
                         f"{user_line_suffix()}")
    if reduction != "none" and weight is None and input.ndim == 2 and \
            _one_op_cross_entropy(input, target, ignore_index, label_smoothing):
        # eager: one op each way (kernels/cross_entropy.py); a tracer records the composite
        raise_if_target_outside("cross_entropy", target, input.shape[1], ignore_index)
        return apply(OPS.cross_entropy_rows, input, target, ignore_index=ignore_index,
                     mean=reduction == "mean")
    return cross_entropy_general(input, target, weight, ignore_index, reduction,
                                 label_smoothing)


def _one_op_cross_entropy(input: Tensor, target: Tensor, ignore_index, label_smoothing
                          ) -> bool:
    return get_hook() is None and type(ignore_index) is int and \
        type(label_smoothing) in (int, float) and label_smoothing == 0 and \
        input._data.dtype in _LINEAR_DTYPES and input.shape[1] > 0 and \
        target._data.dtype.kind in "iu" and target._device == input._device


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error: mean((input - target) ** 2); shapes must match exactly (where
    PyTorch broadcasts with a warning, this raises ShapeError).

    >>> import eager
    >>> mse_loss(eager.tensor([1.0, 3.0]), eager.tensor([0.0, 0.0])).item()
    5.0
    """
    arguments.tensor("mse_loss", "input", input)
    arguments.tensor("mse_loss", "target", target)
    if input.shape != target.shape:
        raise ShapeError(f"mse_loss: input of shape {input.shape} and target of shape "
                         f"{target.shape} differ{user_line_suffix()}; PyTorch broadcasts them "
                         f"with a warning, which is rarely meant: give both one shape"
                         + (f", e.g. target.reshape({input.shape})"
                            if input.size == target.size else ""))
    diff = input - target
    return _reduce("mse_loss", diff * diff, reduction)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, with weight of shape (out_features, in_features).

    >>> import eager
    >>> linear(eager.ones(1, 2), eager.tensor([[1.0, 2.0]]), eager.tensor([0.5])).tolist()
    [[3.5]]
    """
    arguments.tensor("linear", "input", x)
    arguments.tensor("linear", "weight", weight)
    arguments.optional_tensor("linear", "bias", bias)
    if x.shape[-1:] != weight.shape[1:]:
        got = f"{x.shape[-1]} features" if x.ndim else "no feature dim"
        raise ShapeError(f"linear: input of shape {x.shape} has {got} but the weight of shape "
                         f"{weight.shape} expects {weight.shape[-1]}{user_line_suffix()}")
    if bias is not None and get_hook() is None and \
            x._data.dtype == weight._data.dtype == bias._data.dtype and \
            x._data.dtype in _LINEAR_DTYPES:
        # eager: one op (kernels/affine.py); a tracer records the composite below
        return apply(OPS.linear, x, weight, bias)
    if x.ndim > 2:
        # One (batch * ..., in) x (in, out) GEMM, not one per leading index: its weight
        # gradient is then one GEMM too, instead of a batch of them summed afterwards.
        rows = math.prod(x.shape[:-1])
        out = reshape(matmul(reshape(x, (rows, x.shape[-1])), weight.T),
                      x.shape[:-1] + weight.shape[:1])
    else:
        out = matmul(x, weight.T)
    return out if bias is None else out + bias


def _pair(op: str, name: str, value) -> tuple[int, int]:
    return arguments.pair(op, name, value, minimum=None)  # sliding_windows checks ranges


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
           padding=0, dilation=1, groups: int = 1) -> Tensor:
    """2-D cross-correlation (PyTorch's conv2d): the input's windows (im2col, read
    through a strided view into the layout BLAS reads), then one (grouped) matmul.

    x: (N, C, H, W), or (C, H, W) unbatched as in PyTorch; weight: (O, C // groups, kh,
    kw); bias: (O,). Returns (N, O, H', W'), or (O, H', W') for an unbatched x. padding
    is numbers, or "valid" (none) or "same" (stride 1: the output keeps the input's size,
    an odd total padding puts the extra zero after, as PyTorch).

    >>> import eager
    >>> conv2d(eager.ones(1, 1, 3, 3), eager.ones(1, 1, 2, 2)).tolist()
    [[[[4.0, 4.0], [4.0, 4.0]]]]
    >>> conv2d(eager.ones(1, 4, 5, 5), eager.ones(6, 2, 3, 3), dilation=2, groups=2).shape
    (1, 6, 1, 1)
    >>> conv2d(eager.ones(4, 5, 5), eager.ones(6, 4, 3, 3)).shape
    (6, 3, 3)
    >>> conv2d(eager.ones(1, 1, 5, 6), eager.ones(1, 1, 2, 3), padding="same").shape
    (1, 1, 5, 6)
    """
    arguments.tensor("conv2d", "input", x)
    arguments.tensor("conv2d", "weight", weight)
    arguments.optional_tensor("conv2d", "bias", bias)
    if x.ndim == 3 and weight.ndim == 4:
        raise_if_channels_differ("conv2d", x, weight, groups)
        return squeeze(conv2d(unsqueeze(x, 0), weight, bias, stride, padding, dilation,
                              groups), 0)
    stride = _pair("conv2d", "stride", stride)
    if not isinstance(padding, str):
        padding = _pair("conv2d", "padding", padding)
    dilation = _pair("conv2d", "dilation", dilation)
    groups = arguments.integer("conv2d", "groups", groups, minimum=1)
    if x.ndim != 4 and weight.ndim == 4:
        raise ShapeError(f"conv2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                         f"shape {x.shape}{user_line_suffix()}{unbatched_hint(x.ndim, 2)}")
    if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[1] * groups or \
            weight.shape[0] % groups:
        detail = ""
        if x.ndim == 4 and weight.ndim == 4 and x.shape[1] % groups == weight.shape[0] % groups == 0:
            detail = (f": the input has {x.shape[1]} channels but the weight expects "
                      f"{weight.shape[1] * groups}")
        raise ShapeError(f"conv2d: expected input (N, C, H, W) and weight "
                         f"(O, C // groups, kh, kw) with O and C divisible by groups={groups}, "
                         f"got input {x.shape} and weight {weight.shape}{detail}"
                         f"{user_line_suffix()}")
    n = x.shape[0]
    out_channels, c_group, kh, kw = weight.shape
    if isinstance(padding, str):
        x, padding = string_padding("conv2d", x, padding, (kh, kw), stride, dilation)
    cols = sliding_windows("conv2d", x, (kh, kw), stride, padding, dilation, 0.0)
    oh, ow = cols.shape[-2:]
    k = c_group * kh * kw
    if groups == 1:
        out = matmul(reshape(weight, (out_channels, k)), reshape(cols, (n, k, oh * ow)))
    else:
        out = matmul(reshape(weight, (groups, out_channels // groups, k)),
                     reshape(cols, (n, groups, k, oh * ow)))
    out = reshape(out, (n, out_channels, oh, ow))
    return out if bias is None else out + reshape(bias, (1, out_channels, 1, 1))


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False) -> Tensor:
    """Largest value in each kernel_size window of (N, C, H, W); stride defaults to the
    kernel size. Padding uses -inf, so it never wins. The gradient goes to the first
    largest element of each window (its argmax), as in PyTorch. ceil_mode=True rounds the
    output size up (a last, partial window on the bottom/right), as PyTorch: a window
    must start inside the input or its left/top padding. A 3-D input (C, H, W) is
    unbatched, as in PyTorch, and so is the result.

    >>> import eager
    >>> max_pool2d(eager.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    arguments.tensor("max_pool2d", "input", x)
    if x.ndim == 3:
        return squeeze(max_pool2d(unsqueeze(x, 0), kernel_size, stride, padding, dilation,
                                  ceil_mode), 0)
    kernel = _pair("max_pool2d", "kernel_size", kernel_size)
    stride = kernel if stride is None else _pair("max_pool2d", "stride", stride)
    padding = _pair("max_pool2d", "padding", padding)
    dilation = _pair("max_pool2d", "dilation", dilation)
    if x.ndim != 4:
        raise ShapeError(f"max_pool2d: expected input (C, H, W) or (N, C, H, W), got "
                         f"{x.shape}{user_line_suffix()}{unbatched_hint(x.ndim, 2)}")
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise ArgumentError(f"max_pool2d: padding {padding} must be at most half the kernel "
                            f"size {kernel}")
    if ceil_mode:
        extra = ceil_mode_overhang(x.shape[2:], kernel, stride, padding, dilation)
        if any(extra):
            x = pad(x, (0, extra[1], 0, extra[0]), value=-math.inf)
    if (stride == kernel and padding == (0, 0) and dilation == (1, 1)
            and x.dtype in (float32, float64) and 0 < kernel[0] <= x.shape[2]
            and 0 < kernel[1] <= x.shape[3]):
        # One pass each way (C loops on cpu), traced too: the windows composite costs
        # five whole-array passes (windows, argmax, gather; scatter and fold back).
        return apply(OPS.max_pool_blocks, x, kernel=kernel)
    return _max_pool_windows(x, kernel, stride, padding, dilation)


def _max_pool_windows(x: Tensor, kernel: tuple[int, int], stride: tuple[int, int],
                      padding: tuple[int, int], dilation: tuple[int, int]) -> Tensor:
    """max_pool2d as the windows composite (any stride, padding and dilation): the
    windows, padded with -inf, then each window's argmax and a gather there, so the
    gradient goes to the first largest element.

    >>> import eager
    >>> _max_pool_windows(eager.arange(16.0).reshape(1, 1, 4, 4), (2, 2), (2, 2), (0, 0),
    ...                   (1, 1)).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    cols = sliding_windows("max_pool2d", x, kernel, stride, padding, dilation, -math.inf,
                           kernel_last=True)
    oh, ow = cols.shape[2:4]
    flat = reshape(cols, x.shape[:2] + (oh, ow, kernel[0] * kernel[1]))
    best = R.argmax(flat.detach(), axis=4, keepdims=True)
    return reshape(gather_in_range(flat, 4, best), x.shape[:2] + (oh, ow))


def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator=None) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) while
    training; the identity otherwise. Draws from `generator` (default: the device's);
    inplace=True writes the result into x.

    >>> import eager
    >>> dropout(eager.ones(3), p=0.5, training=False).tolist()
    [1.0, 1.0, 1.0]
    """
    arguments.tensor("dropout", "input", x)
    p = arguments.probability("dropout", "p", p)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x.zero_() if inplace else x * 0.0
    from eager.random import Generator, default_generator, uniform

    if get_hook() is None and x._data.dtype in _LINEAR_DTYPES:
        # eager: the mask in one op and its product in one each way (kernels/dropout.py),
        # from the same draw; a tracer records the composite below
        gen = default_generator(x.device) if generator is None else generator
        if isinstance(gen, Generator) and gen.device == x.device:
            keep = apply(OPS.dropout_keep, gen, shape=x.shape, dtype=x.dtype, p=p,
                         device=gen.device)
            out = apply(OPS.masked_scale, x, keep, scale=1.0 / (1.0 - p))
            return x.copy_(out) if inplace else out
    keep = uniform(0.0, 1.0, x.shape, dtype=x.dtype, device=x.device,
                   generator=generator) >= p
    out = E.where(keep, x * (1.0 / (1.0 - p)), 0.0)
    return x.copy_(out) if inplace else out


def dropout2d(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None) -> Tensor:
    """Zero whole channels with probability p and scale the kept ones by 1 / (1 - p) while
    training; the identity otherwise. As in PyTorch, the first two dims are (N, C) and
    the rest is one channel: (N, C, H, W), and a 3-D input is read as (N, C, L). A 2-D
    input is deprecated there and drops single elements (as `dropout`), with a warning.

    >>> import eager
    >>> y = dropout2d(eager.ones(2, 3, 4, 4), p=0.5)
    >>> sorted({float(v) for v in y.sum(axis=(2, 3)).reshape(-1).tolist()} - {0.0})
    [32.0]
    """
    arguments.tensor("dropout2d", "input", x)
    if x.ndim < 2:
        raise ShapeError(f"dropout2d: input must be (N, C, H, W) or (N, C, L), got "
                         f"{x.shape}{user_line_suffix()}")
    if x.ndim == 2:
        warnings.warn(f"dropout2d: a 2-D input {x.shape} drops single elements, as "
                      f"dropout does; use dropout for it{user_line_suffix()}",
                      UserWarning, stacklevel=2)
        return dropout(x, p, training, inplace, generator)
    p = arguments.probability("dropout2d", "p", p)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x.zero_() if inplace else x * 0.0
    from eager.random import uniform

    channels = x.shape[:2] + (1,) * (x.ndim - 2)
    keep = uniform(0.0, 1.0, channels, dtype=x.dtype, device=x.device,
                   generator=generator) >= p
    out = E.where(keep, x * (1.0 / (1.0 - p)), 0.0)
    return x.copy_(out) if inplace else out

def layer_norm(x: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing `normalized_shape` dims to zero mean and unit variance
    (biased variance, as in PyTorch), then scale by weight and shift by bias.

    >>> import eager
    >>> [round(v, 3) for v in layer_norm(eager.tensor([[1.0, 3.0]]), (2,)).tolist()[0]]
    [-1.0, 1.0]
    """
    arguments.tensor("layer_norm", "input", x)
    arguments.optional_tensor("layer_norm", "weight", weight)
    arguments.optional_tensor("layer_norm", "bias", bias)
    shape = arguments.shape("layer_norm", normalized_shape, name="normalized_shape")
    eps = arguments.real("layer_norm", "eps", eps)
    if x.shape[x.ndim - len(shape):] != shape or len(shape) > x.ndim:
        raise ShapeError(f"layer_norm: normalized_shape {shape} does not match the trailing "
                         f"dims of input {x.shape}{user_line_suffix()}")
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    (x,) = promote("f", x)
    out = standardize(x, axes, eps)
    if weight is not None and bias is not None and get_hook() is None and \
            out._data.dtype == weight._data.dtype == bias._data.dtype and \
            out._data.dtype in _LINEAR_DTYPES and weight.shape == bias.shape == shape:
        return apply(OPS.scale_shift, out, weight, bias)   # eager: one op for both
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def embedding(indices: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0) -> Tensor:
    """Rows of weight (num_embeddings, dim) picked by integer indices of any shape.
    Rows picked by padding_idx get no gradient (as in PyTorch). With max_norm, each row
    looked up whose norm_type-norm exceeds max_norm is first scaled to that norm in
    weight itself, in place (PyTorch's embedding_renorm_).

    >>> import eager
    >>> embedding(eager.tensor([2, 0]), eager.arange(6.0).reshape(3, 2)).tolist()
    [[4.0, 5.0], [0.0, 1.0]]
    >>> table = eager.tensor([[3.0, 4.0], [0.3, 0.4]])
    >>> [round(v, 4) for v in embedding(eager.tensor([0]), table, max_norm=1.0)[0].tolist()]
    [0.6, 0.8]
    """
    arguments.tensor("embedding", "indices", indices)
    arguments.tensor("embedding", "weight", weight)
    if indices.dtype.kind not in "iu":
        raise DTypeError(f"embedding: indices must be integers, got {indices.dtype.name}"
                         f"{user_line_suffix()}")
    _raise_if_out_of_range("embedding", indices, weight.shape[0],
                           f"a table of shape {weight.shape}")
    if max_norm is not None:
        _renorm_rows(weight, indices, arguments.real("embedding", "max_norm", max_norm,
                                                     low=0.0),
                     arguments.real("embedding", "norm_type", norm_type, low=0.0,
                                    low_open=True, finite=False))
    rows = weight[indices]
    if padding_idx is None:
        return rows
    padding_idx = arguments.integer("embedding", "padding_idx", padding_idx)
    if padding_idx < 0:
        padding_idx += weight.shape[0]
    keep = unsqueeze(indices != padding_idx, -1)
    return E.where(keep, rows, rows.detach())


def _renorm_rows(weight: Tensor, indices: Tensor, max_norm: float, norm_type: float
                 ) -> None:
    from eager.autograd import no_grad

    with no_grad():
        rows = weight[indices]
        if math.isinf(norm_type):
            norms = R.max(rows.abs(), axis=-1, keepdims=True)
        else:
            norms = R.sum(rows.abs() ** norm_type, axis=-1, keepdims=True) ** (1.0 / norm_type)
        # PyTorch's 1e-7 keeps the scaled norm just under max_norm; rows picked twice
        # get the same value written twice
        weight[indices] = E.where(norms > max_norm, rows * (max_norm / (norms + 1e-7)), rows)


__all__ = [
    "TargetError",
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "elu",
    "embedding",
    "erf",
    "gelu",
    "group_norm",
    "huber_loss",
    "instance_norm",
    "interpolate",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool2d",
    "mish",
    "mse_loss",
    "multi_head_attention_forward",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "pixel_shuffle",
    "pixel_unshuffle",
    "relu",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softmin",
    "softplus",
    "tanh",
]
