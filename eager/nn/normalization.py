"""Batch and group normalisation: `F.batch_norm`, `F.group_norm` and the `BatchNorm1d` /
`BatchNorm2d` / `GroupNorm` layers; `standardize`, the core of `F.layer_norm`.

In training mode the batch statistics normalise the input and the running estimates are
updated in place (running = (1 - momentum) running + momentum batch, with the unbiased
batch variance, as PyTorch). The running tensors are buffers, so a jitted training step
reads and writes them by reference and its replays update them as eager calls do.

>>> import eager
>>> from eager import nn
>>> bn = nn.BatchNorm1d(2)
>>> y = bn(eager.tensor([[1.0, 10.0], [3.0, 30.0]]))
>>> [round(v, 3) for v in y[:, 0].tolist()], [round(v, 3) for v in bn.running_mean.tolist()]
([-1.0, 1.0], [0.2, 2.0])
"""
from __future__ import annotations

from eager import arguments
from eager.autograd import no_grad
from eager.creation import ones, zeros
from eager.dispatch import apply, get_hook, user_line_suffix
from eager.nn.errors import ArgumentError
from eager.nn.module import Module
from eager.nn.parameter import Parameter
from eager.ops import elementwise as E
from eager.ops import reductions as R
from eager.ops.operands import promote
from eager.tensor import Tensor
from kernels import OPS
from kernels.dtypes import float32, float64, int64
from kernels.errors import ShapeError


def standardize(x: Tensor, axes: tuple[int, ...], eps: float) -> Tensor:
    """(x - mean) / sqrt(biased var + eps) over `axes` of the floating tensor x.

    Eager runs it as one primitive (kernels/normalization.py) with a one-op backward;
    under a tracer it is the composite, which the jit fuses into its row kernels.

    >>> import eager
    >>> standardize(eager.tensor([[1.0, 3.0]]), (1,), 0.0).tolist()
    [[-1.0, 1.0]]
    """
    # float16 and bfloat16 keep the composite: eager then rounds as the jit's kernels do
    if x.dtype in (float32, float64) and get_hook() is None:
        return apply(OPS.normalize_rows, x, axes=axes, eps=eps)
    centered = x - R.mean(x, axis=axes, keepdims=True)
    var = R.mean(centered * centered, axis=axes, keepdims=True)
    return centered / E.sqrt(var + eps)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise (N, C, ...) per channel C: by the batch statistics when training (and
    then update running_mean / running_var in place, if given), else by the running ones.

    >>> import eager
    >>> x = eager.tensor([[0.0], [2.0]])
    >>> batch_norm(x, eager.ones(1), eager.full((1,), 4.0), training=False, eps=0.0).tolist()
    [[-0.5], [0.5]]
    """
    op = "batch_norm"
    arguments.tensor(op, "input", input)
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        arguments.optional_tensor(op, name, t)
        if t is not None and (input.ndim < 2 or t.shape != (input.shape[1],)):
            raise ShapeError(f"{op}: {name} of shape {t.shape} does not match the channels "
                             f"of input {input.shape}{user_line_suffix()}")
    if input.ndim < 2:
        raise ShapeError(f"{op}: input must be (N, C, ...), got {input.shape}"
                         f"{user_line_suffix()}")
    eps = arguments.real(op, "eps", eps, low=0.0)
    (input,) = promote("f", input)
    axes = (0,) + tuple(range(2, input.ndim))
    channel_shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    if training or running_mean is None or running_var is None:
        count = input.size // input.shape[1]
        if training and count <= 1:
            raise ShapeError(f"{op}: training needs more than one value per channel, got input "
                             f"{input.shape}{user_line_suffix()}")
        mean = R.mean(input, axis=axes, keepdims=True)
        centered = input - mean
        var = R.mean(centered * centered, axis=axes, keepdims=True)
        if training and running_mean is not None and running_var is not None:
            m = arguments.real(op, "momentum", momentum, low=0.0, high=1.0)
            unbiased = var.reshape(-1) * (count / max(count - 1, 1))
            with no_grad():
                running_mean.mul_(1 - m).add_(m * mean.detach().reshape(-1))
                running_var.mul_(1 - m).add_(m * unbiased.detach())
    else:
        mean = running_mean.reshape(channel_shape)
        var = running_var.reshape(channel_shape)
        centered = input - mean
    return _per_channel_affine(centered / E.sqrt(var + eps), weight, bias, channel_shape)


def _per_channel_affine(out: Tensor, weight, bias, channel_shape: tuple) -> Tensor:
    """out * weight + bias, each (when given) one value per channel (dim 1)."""
    if weight is not None:
        out = out * weight.reshape(channel_shape)
    if bias is not None:
        out = out + bias.reshape(channel_shape)
    return out


def init_channel_norm(module: Module, num_features: int, eps: float,
                      momentum: float | None, affine: bool, track_running_stats: bool,
                      dtype, device) -> None:
    """The arguments, parameters and buffers that BatchNorm and InstanceNorm share, with
    PyTorch's names (`num_batches_tracked` too: InstanceNorm keeps it for the state_dict
    keys, though it never counts)."""
    name = type(module).__name__
    module.num_features = arguments.integer(name, "num_features", num_features, minimum=1)
    module.eps = arguments.real(name, "eps", eps, low=0.0)
    module.momentum = None if momentum is None else arguments.real(
        name, "momentum", momentum, low=0.0, high=1.0)
    module.affine = arguments.boolean(name, "affine", affine)
    module.track_running_stats = arguments.boolean(name, "track_running_stats",
                                                   track_running_stats)
    shape = (module.num_features,)
    if module.affine:
        module.weight = Parameter(ones(*shape, dtype=dtype, device=device))
        module.bias = Parameter(zeros(*shape, dtype=dtype, device=device))
    else:
        module.weight = module.bias = None
    if module.track_running_stats:
        module.register_buffer("running_mean", zeros(*shape, dtype=dtype, device=device))
        module.register_buffer("running_var", ones(*shape, dtype=dtype, device=device))
        module.register_buffer("num_batches_tracked", zeros((), dtype=int64, device=device))
    else:
        module.running_mean = module.running_var = module.num_batches_tracked = None


class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d: parameters, buffers and forward; subclasses fix the
    accepted input ranks."""

    ranks: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *, dtype=None,
                 device=None) -> None:
        super().__init__()
        init_channel_norm(self, num_features, eps, momentum, affine, track_running_stats,
                          dtype, device)

    def reset_running_stats(self) -> None:
        """Running mean 0, variance 1, and no batches seen."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.fill_(0.0)
                self.running_var.fill_(1.0)
                self.num_batches_tracked.fill_(0)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self.ranks:
            raise ShapeError(f"{type(self).__name__}: expected a {' or '.join(map(str, self.ranks))}"
                             f"-d input, got {x.shape}{user_line_suffix()}")
        if x.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}({self.num_features}): input of shape "
                             f"{x.shape} has {x.shape[1]} channels (dim 1) but the layer "
                             f"expects num_features={self.num_features}{user_line_suffix()}")
        momentum = self.momentum
        use_batch = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked += 1
            if momentum is None:  # a cumulative average: momentum 1 / batches seen
                momentum = 1.0 / E.astype(self.num_batches_tracked, x.dtype)
        if isinstance(momentum, Tensor):
            return _batch_norm_tensor_momentum(self, x, momentum)
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          use_batch, momentum or 0.0, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


def _batch_norm_tensor_momentum(bn: _BatchNorm, x: Tensor, momentum: Tensor) -> Tensor:
    """Training with momentum=None: the running averages weigh every batch equally."""
    out = batch_norm(x, None, None, bn.weight, bn.bias, True, 0.0, bn.eps)
    axes = (0,) + tuple(range(2, x.ndim))
    count = x.size // x.shape[1]
    with no_grad():
        data = x.detach()
        mean = R.mean(data, axis=axes)
        var = R.var(data, axis=axes, correction=1) if count > 1 else R.var(data, axis=axes)
        bn.running_mean.add_(momentum * (mean - bn.running_mean))
        bn.running_var.add_(momentum * (var - bn.running_var))
    return out


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) inputs.

    >>> import eager
    >>> from eager import nn
    >>> nn.BatchNorm1d(3)(eager.randn(4, 3)).shape
    (4, 3)
    """

    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) inputs, per channel.

    >>> import eager
    >>> from eager import nn
    >>> sorted(nn.BatchNorm2d(8).state_dict())
    ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']
    """

    ranks = (4,)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise (N, C, ...) over each group of C // num_groups channels and all the
    positions, per sample (the biased variance, as PyTorch), then scale and shift per
    channel by weight and bias.

    >>> import eager
    >>> x = eager.tensor([[[1.0], [3.0], [10.0], [30.0]]])
    >>> [round(v, 3) for v in group_norm(x, 2, eps=0.0).reshape(-1).tolist()]
    [-1.0, 1.0, -1.0, 1.0]
    """
    op = "group_norm"
    arguments.tensor(op, "input", input)
    num_groups = arguments.integer(op, "num_groups", num_groups, minimum=1)
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ShapeError(f"{op}: input must be (N, C, ...) with C divisible by num_groups="
                         f"{num_groups}, got {input.shape}{user_line_suffix()}")
    for name, t in (("weight", weight), ("bias", bias)):
        arguments.optional_tensor(op, name, t)
        if t is not None and t.shape != (input.shape[1],):
            raise ShapeError(f"{op}: {name} of shape {t.shape} does not match the channels "
                             f"of input {input.shape}{user_line_suffix()}")
    eps = arguments.real(op, "eps", eps, low=0.0)
    (input,) = promote("f", input)
    grouped = input.reshape(input.shape[0], num_groups, -1)
    mean = R.mean(grouped, axis=-1, keepdims=True)
    centered = grouped - mean
    var = R.mean(centered * centered, axis=-1, keepdims=True)
    out = (centered / E.sqrt(var + eps)).reshape(input.shape)
    channel_shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    return _per_channel_affine(out, weight, bias, channel_shape)


class GroupNorm(Module):
    """Group normalisation (PyTorch's `nn.GroupNorm`): `num_channels` split into
    `num_groups` groups, each normalised per sample; with `affine`, a learned scale
    (ones) and shift (zeros) per channel.

    >>> import eager
    >>> from eager import nn
    >>> gn = nn.GroupNorm(2, 4)
    >>> gn(eager.randn(3, 4, 5)).shape, sorted(gn.state_dict())
    ((3, 4, 5), ['bias', 'weight'])
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.num_groups = arguments.integer("GroupNorm", "num_groups", num_groups, minimum=1)
        self.num_channels = arguments.integer("GroupNorm", "num_channels", num_channels,
                                              minimum=1)
        if self.num_channels % self.num_groups:
            raise ArgumentError(f"GroupNorm: num_channels={num_channels} must be divisible "
                                f"by num_groups={num_groups}")
        self.eps = arguments.real("GroupNorm", "eps", eps, low=0.0)
        self.affine = arguments.boolean("GroupNorm", "affine", affine)
        if self.affine:
            self.weight = Parameter(ones(num_channels, dtype=dtype, device=device))
            self.bias = Parameter(zeros(num_channels, dtype=dtype, device=device))
        else:
            self.weight = self.bias = None

    def forward(self, x: Tensor) -> Tensor:
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "batch_norm", "group_norm"]
