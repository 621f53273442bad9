"""Layers with weights: Linear, Conv1d, Conv2d, ConvTranspose2d, Embedding, LayerNorm.

Each draws its initial weights like PyTorch does (kaiming-uniform with a=sqrt(5) for
Linear and the convolutions, N(0, 1) for Embedding), from the default generator unless
one is given.

>>> import eager
>>> from eager import nn
>>> _ = eager.manual_seed(0)
>>> nn.Linear(3, 2)(eager.ones(4, 3)).shape
(4, 2)
"""
from __future__ import annotations

import math

from eager import arguments
from eager.autograd import no_grad
from eager.creation import empty, ones, zeros
from eager.nn import functional as F
from eager.nn import init
from eager.nn.convolution import (
    check_padding_mode,
    check_string_padding,
    pad_for_mode,
    single,
    unbatched_hint,
)
from eager.nn.errors import ArgumentError
from eager.nn.module import Module
from eager.nn.parameter import Parameter
from eager.tensor import Tensor
from kernels.errors import ShapeError


def _new(shape, dtype, device) -> Tensor:
    return empty(*shape, dtype=dtype, device=device)


def _reset_weight_and_bias(weight: Tensor, bias: Tensor | None, generator) -> None:
    """PyTorch's default for Linear and Conv2d: kaiming-uniform weight (a=sqrt(5)) and a bias
    drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    if bias is not None:
        fan_in, _ = init.fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
        init.uniform_(bias, -bound, bound, generator)


class Linear(Module):
    """y = x @ weight.T + bias with weight (out_features, in_features).

    >>> import eager
    >>> from eager import nn
    >>> nn.Linear(64, 10)
    Linear(in_features=64, out_features=10, bias=True)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None, *, generator=None) -> None:
        super().__init__()
        in_features = arguments.integer("Linear", "in_features", in_features, minimum=0)
        out_features = arguments.integer("Linear", "out_features", out_features, minimum=0)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_new((out_features, in_features), dtype, device))
        self.bias = Parameter(_new((out_features,), dtype, device)) if bias else None
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """Re-draw the weights (kaiming-uniform) and bias (U(-1/sqrt(fan_in), ...))."""
        _reset_weight_and_bias(self.weight, self.bias, generator)

    def forward(self, x: Tensor) -> Tensor:
        if isinstance(x, Tensor) and x.shape[-1:] != self.weight.shape[1:]:
            got = f"{x.shape[-1]} features" if x.ndim else "no feature dim"
            raise ShapeError(f"{self!r}: input of shape {x.shape} has {got} but the layer "
                             f"expects in_features={self.weight.shape[-1]}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Conv2d(Module):
    """2-D convolution over (N, C, H, W), or an unbatched (C, H, W) as in PyTorch, with
    an (out, in, kh, kw) kernel.

    >>> import eager
    >>> from eager import nn
    >>> nn.Conv2d(1, 8, 3, padding=1)(eager.zeros(2, 1, 8, 8)).shape
    (2, 8, 8, 8)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", *, dtype=None, device=None,
                 generator=None) -> None:
        super().__init__()
        self.padding_mode = check_padding_mode("Conv2d", padding_mode)
        in_channels = arguments.integer("Conv2d", "in_channels", in_channels, minimum=0)
        out_channels = arguments.integer("Conv2d", "out_channels", out_channels, minimum=0)
        kernel = arguments.pair("Conv2d", "kernel_size", kernel_size, minimum=1)
        groups = arguments.integer("Conv2d", "groups", groups, minimum=1)
        if in_channels % groups or out_channels % groups:
            raise ArgumentError(f"Conv2d: in_channels {in_channels} and out_channels "
                                f"{out_channels} must both be divisible by groups={groups}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = kernel
        self.stride = arguments.pair("Conv2d", "stride", stride, minimum=1)
        self.padding = check_string_padding("Conv2d", padding, self.stride) \
            if isinstance(padding, str) else arguments.pair("Conv2d", "padding", padding,
                                                            minimum=0)
        self.dilation = arguments.pair("Conv2d", "dilation", dilation, minimum=1)
        self.groups = groups
        self.weight = Parameter(_new((out_channels, in_channels // groups) + kernel, dtype,
                                     device))
        self.bias = Parameter(_new((out_channels,), dtype, device)) if bias else None
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """Re-draw weight and bias as PyTorch's Conv2d does."""
        _reset_weight_and_bias(self.weight, self.bias, generator)

    def forward(self, x: Tensor) -> Tensor:
        if isinstance(x, Tensor):
            layer = f"Conv2d({self.in_channels}, {self.out_channels}, " \
                    f"kernel_size={self.kernel_size})"
            if x.ndim not in (3, 4):
                raise ShapeError(f"{layer}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) "
                                 f"input, got shape {x.shape}{unbatched_hint(x.ndim, 2)}")
            expected = self.weight.shape[1] * self.groups
            if x.shape[-3] != expected:
                raise ShapeError(f"{layer}: input of shape {x.shape} has {x.shape[-3]} "
                                 f"channels but the layer expects in_channels={expected}")
        padding = self.padding
        if self.padding_mode != "zeros":
            x = pad_for_mode(x, padding, self.kernel_size, self.dilation, self.padding_mode)
            padding = 0
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        extra = "" if self.dilation == (1, 1) else f", dilation={self.dilation}"
        extra += "" if self.groups == 1 else f", groups={self.groups}"
        extra += "" if self.padding_mode == "zeros" else f", padding_mode={self.padding_mode}"
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}{extra}, "
                f"bias={self.bias is not None}")


class Conv1d(Module):
    """1-D convolution over (N, C, L), or an unbatched (C, L) as in PyTorch, with an
    (out, in // groups, k) kernel.

    >>> import eager
    >>> from eager import nn
    >>> nn.Conv1d(4, 8, 3, padding=1, groups=2)(eager.zeros(2, 4, 10)).shape
    (2, 8, 10)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", *, dtype=None, device=None,
                 generator=None) -> None:
        super().__init__()
        self.padding_mode = check_padding_mode("Conv1d", padding_mode)
        in_channels = arguments.integer("Conv1d", "in_channels", in_channels, minimum=0)
        out_channels = arguments.integer("Conv1d", "out_channels", out_channels, minimum=0)
        groups = arguments.integer("Conv1d", "groups", groups, minimum=1)
        if in_channels % groups or out_channels % groups:
            raise ArgumentError(f"Conv1d: in_channels {in_channels} and out_channels "
                                f"{out_channels} must both be divisible by groups={groups}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = (single("Conv1d", "kernel_size", kernel_size, 1),)
        self.stride = (single("Conv1d", "stride", stride, 1),)
        self.padding = check_string_padding("Conv1d", padding, self.stride) \
            if isinstance(padding, str) else (single("Conv1d", "padding", padding, 0),)
        self.dilation = (single("Conv1d", "dilation", dilation, 1),)
        self.weight = Parameter(_new((out_channels, in_channels // groups) + self.kernel_size,
                                     dtype, device))
        self.bias = Parameter(_new((out_channels,), dtype, device)) if bias else None
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """Re-draw weight and bias as PyTorch's Conv1d does."""
        _reset_weight_and_bias(self.weight, self.bias, generator)

    def forward(self, x: Tensor) -> Tensor:
        padding = self.padding
        if self.padding_mode != "zeros":
            x = pad_for_mode(x, padding, self.kernel_size, self.dilation, self.padding_mode)
            padding = 0
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        return _conv_repr(self)


class ConvTranspose2d(Module):
    """2-D transposed convolution over (N, C, H, W) (or an unbatched (C, H, W)) with an
    (in, out // groups, kh, kw) kernel: Conv2d's gradient with respect to its input, the
    usual learned upsampling.

    >>> import eager
    >>> from eager import nn
    >>> nn.ConvTranspose2d(3, 6, 4, stride=2, padding=1)(eager.zeros(1, 3, 8, 8)).shape
    (1, 6, 16, 16)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1, *,
                 dtype=None, device=None, generator=None) -> None:
        super().__init__()
        name = "ConvTranspose2d"
        in_channels = arguments.integer(name, "in_channels", in_channels, minimum=0)
        out_channels = arguments.integer(name, "out_channels", out_channels, minimum=0)
        groups = arguments.integer(name, "groups", groups, minimum=1)
        if in_channels % groups or out_channels % groups:
            raise ArgumentError(f"{name}: in_channels {in_channels} and out_channels "
                                f"{out_channels} must both be divisible by groups={groups}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = arguments.pair(name, "kernel_size", kernel_size, minimum=1)
        self.stride = arguments.pair(name, "stride", stride, minimum=1)
        self.padding = arguments.pair(name, "padding", padding, minimum=0)
        self.output_padding = arguments.pair(name, "output_padding", output_padding, minimum=0)
        self.dilation = arguments.pair(name, "dilation", dilation, minimum=1)
        self.weight = Parameter(_new((in_channels, out_channels // groups) + self.kernel_size,
                                     dtype, device))
        self.bias = Parameter(_new((out_channels,), dtype, device)) if bias else None
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """Re-draw weight and bias as PyTorch's ConvTranspose2d does (its fan-in is the
        weight's dim 1 times the kernel size, as for every convolution)."""
        _reset_weight_and_bias(self.weight, self.bias, generator)

    def forward(self, x: Tensor, output_size=None) -> Tensor:
        output_padding = self.output_padding if output_size is None \
            else self._output_padding(x, output_size)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)

    def _output_padding(self, x: Tensor, output_size) -> tuple[int, int]:
        """The output_padding that gives `output_size` (the last two of its sizes)."""
        wanted = tuple(output_size)[-2:]
        smallest = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in zip(
            x.shape[-2:], self.stride, self.padding, self.dilation, self.kernel_size)]
        extra = tuple(int(w) - m for w, m in zip(wanted, smallest))
        if len(wanted) != 2 or any(e < 0 or e >= max(s, d) for e, s, d in
                                   zip(extra, self.stride, self.dilation)):
            raise ArgumentError(f"ConvTranspose2d: output_size {tuple(output_size)} is not "
                                f"reachable from input {x.shape}; the smallest is "
                                f"{tuple(smallest)}, each at most stride - 1 larger")
        return extra

    def extra_repr(self) -> str:
        text = _conv_repr(self)
        if self.output_padding != (0, 0):
            text = text.replace(", bias=", f", output_padding={self.output_padding}, bias=")
        return text


def _conv_repr(conv) -> str:
    ones = (1,) * len(conv.dilation)
    extra = "" if conv.dilation == ones else f", dilation={conv.dilation}"
    extra += "" if conv.groups == 1 else f", groups={conv.groups}"
    mode = getattr(conv, "padding_mode", "zeros")
    extra += "" if mode == "zeros" else f", padding_mode={mode}"
    return (f"{conv.in_channels}, {conv.out_channels}, kernel_size={conv.kernel_size}, "
            f"stride={conv.stride}, padding={conv.padding}{extra}, "
            f"bias={conv.bias is not None}")


class Embedding(Module):
    """A lookup table: integer indices -> rows of weight (num_embeddings, embedding_dim);
    max_norm renormalises the rows looked up in place, as PyTorch's.

    >>> import eager
    >>> from eager import nn
    >>> nn.Embedding(10, 4)(eager.tensor([[1, 2, 3]])).shape
    (1, 3, 4)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None, max_norm: float | None = None,
                 norm_type: float = 2.0, *, dtype=None, device=None,
                 generator=None) -> None:
        super().__init__()
        num_embeddings = arguments.integer("Embedding", "num_embeddings", num_embeddings,
                                           minimum=0)
        embedding_dim = arguments.integer("Embedding", "embedding_dim", embedding_dim,
                                          minimum=0)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            padding_idx = arguments.integer("Embedding", "padding_idx", padding_idx)
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ArgumentError(f"Embedding: padding_idx {padding_idx} is outside the "
                                    f"table of {num_embeddings} rows")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.max_norm = None if max_norm is None else \
            arguments.real("Embedding", "max_norm", max_norm, low=0.0)
        self.norm_type = arguments.real("Embedding", "norm_type", norm_type, low=0.0,
                                        low_open=True, finite=False)
        self.weight = Parameter(_new((num_embeddings, embedding_dim), dtype, device))
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """N(0, 1) rows, and zeros in the padding_idx row (as PyTorch)."""
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, indices: Tensor) -> Tensor:
        return F.embedding(indices, self.weight, self.padding_idx, self.max_norm,
                           self.norm_type)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text if self.max_norm is None else text + f", max_norm={self.max_norm}"


class LayerNorm(Module):
    """Normalise the trailing `normalized_shape` dims, then scale and shift (learned).

    >>> import eager
    >>> from eager import nn
    >>> nn.LayerNorm(4)(eager.randn(2, 4)).shape
    (2, 4)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, *, dtype=None, device=None) -> None:
        super().__init__()
        shape = arguments.shape("LayerNorm", normalized_shape, name="normalized_shape")
        eps = arguments.real("LayerNorm", "eps", eps)
        self.normalized_shape, self.eps = shape, eps
        if elementwise_affine:
            self.weight = Parameter(ones(*shape, dtype=dtype, device=device))
            self.bias = Parameter(zeros(*shape, dtype=dtype, device=device)) if bias else None
        else:
            self.weight = self.bias = None

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.weight is not None}")
