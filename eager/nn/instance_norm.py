"""Instance normalisation (Ulyanov et al. 2016, fast_neural_style): `F.instance_norm` and
the layers `InstanceNorm1d` / `InstanceNorm2d` / `InstanceNorm3d`, with PyTorch's
arguments, defaults (affine=False, track_running_stats=False) and state_dict keys.

Each (sample, channel) is normalised over its own positions by `standardize`, the core of
layer_norm (one op each way in eager, a fusable composite under the tracer). With
running statistics, training updates them as PyTorch does: running = (1 - momentum)
running + momentum * the batch's mean of the per-instance mean (or unbiased variance).

>>> import eager
>>> from eager import nn
>>> y = nn.InstanceNorm1d(1)(eager.tensor([[[1.0, 3.0]], [[10.0, 30.0]]]))
>>> [[round(v, 3) for v in row] for row in y.reshape(2, 2).tolist()]
[[-1.0, 1.0], [-1.0, 1.0]]
"""
from __future__ import annotations

import warnings

from eager import arguments
from eager.autograd import no_grad
from eager.dispatch import user_line_suffix
from eager.nn.module import Module
from eager.nn.normalization import init_channel_norm, standardize
from eager.ops import elementwise as E
from eager.ops import reductions as R
from eager.ops.operands import promote
from eager.tensor import Tensor
from kernels.errors import ShapeError


def _check_channel_tensors(op: str, input: Tensor, named: dict) -> None:
    for name, t in named.items():
        arguments.optional_tensor(op, name, t)
        if t is not None and t.shape != (input.shape[1],):
            raise ShapeError(f"{op}: {name} of shape {t.shape} does not match the "
                             f"{input.shape[1]} channels of input {input.shape}"
                             f"{user_line_suffix()}")


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise (N, C, ...) over the positions of each sample and channel (biased
    variance), then scale and shift per channel by weight and bias. With
    use_input_stats=False the running statistics normalise instead; with it and running
    tensors given, those are updated in place.

    >>> import eager
    >>> x = eager.tensor([[[0.0, 2.0], [1.0, 5.0]]])
    >>> instance_norm(x, eps=0.0).tolist()
    [[[-1.0, 1.0], [-1.0, 1.0]]]
    """
    op = "instance_norm"
    arguments.tensor(op, "input", input)
    if input.ndim < 3:
        raise ShapeError(f"{op}: input must be (N, C, d1, ...), got {input.shape}"
                         f"{user_line_suffix()}")
    _check_channel_tensors(op, input, {"running_mean": running_mean,
                                       "running_var": running_var,
                                       "weight": weight, "bias": bias})
    eps = arguments.real(op, "eps", eps, low=0.0)
    (input,) = promote("f", input)
    axes = tuple(range(2, input.ndim))
    channel_shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    count = input.size // (input.shape[0] * input.shape[1]) if input.size else 0
    if use_input_stats:
        if count <= 1:
            raise ShapeError(f"{op}: needs more than one position per sample and channel "
                             f"to normalise by its own statistics, got input {input.shape}"
                             f"{user_line_suffix()}")
        out = standardize(input, axes, eps)
        if running_mean is not None or running_var is not None:
            _update_running(input, axes, count, running_mean, running_var,
                            arguments.real(op, "momentum", momentum, low=0.0, high=1.0))
    elif running_mean is None or running_var is None:
        raise ShapeError(f"{op}: use_input_stats=False needs running_mean and running_var"
                         f"{user_line_suffix()}")
    else:
        out = (input - running_mean.reshape(channel_shape)) / \
            E.sqrt(running_var.reshape(channel_shape) + eps)
    if weight is not None:
        out = out * weight.reshape(channel_shape)
    if bias is not None:
        out = out + bias.reshape(channel_shape)
    return out


def _update_running(x: Tensor, axes: tuple[int, ...], count: int, running_mean, running_var,
                    momentum: float) -> None:
    with no_grad():
        data = x.detach()
        mean = R.mean(data, axis=axes)
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(momentum * R.mean(mean, axis=0))
        if running_var is not None:
            var = R.var(data, axis=axes, correction=1)
            running_var.mul_(1 - momentum).add_(momentum * R.mean(var, axis=0))


class _InstanceNorm(Module):
    """Shared by InstanceNorm1d/2d/3d: `spatial` dims after (N, C), or after C alone for
    an unbatched input."""

    spatial = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        init_channel_norm(self, num_features, eps, momentum, affine, track_running_stats,
                          dtype, device)

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        ranks = (self.spatial + 1, self.spatial + 2)
        if x.ndim not in ranks:
            raise ShapeError(f"{name}: expected a {ranks[0]}-d (unbatched) or {ranks[1]}-d "
                             f"input, got {x.shape}{user_line_suffix()}")
        unbatched = x.ndim == ranks[0]
        channels = x.shape[0 if unbatched else 1]
        if channels != self.num_features:
            message = (f"{name}: input {x.shape} has {channels} channels at dim "
                       f"{0 if unbatched else 1}, but num_features is {self.num_features}")
            if self.affine or self.track_running_stats:
                raise ShapeError(message + user_line_suffix())
            warnings.warn(message + " (unused, as affine=False)", UserWarning, stacklevel=2)
        batched = x.unsqueeze(0) if unbatched else x
        out = instance_norm(batched, self.running_mean, self.running_var, self.weight,
                            self.bias, self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or unbatched (C, L) inputs."""

    spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or unbatched (C, H, W) inputs.

    >>> import eager
    >>> from eager import nn
    >>> sorted(nn.InstanceNorm2d(3, affine=True).state_dict())
    ['bias', 'weight']
    """

    spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or unbatched (C, D, H, W) inputs."""

    spatial = 3


__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "instance_norm"]
