"""Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

>>> import eager
>>> from eager import optim
>>> w = eager.tensor([1.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step()
>>> [round(v, 6) for v in w.tolist()]
[0.8]
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eager import arguments
from eager.creation import zeros_like
from eager.nn.errors import ArgumentError
from eager.optim.optimizer import Optimizer
from eager.tensor import Tensor


class SGD(Optimizer):
    """p -= lr * d, where d is the gradient (plus weight_decay * p), or with momentum mu the
    buffer b = mu * b + g (d = b, or g + mu * b with nesterov=True), as in PyTorch."""

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        momentum = arguments.real("SGD", "momentum", momentum)
        weight_decay = arguments.real("SGD", "weight_decay", weight_decay)
        if momentum < 0 or weight_decay < 0:
            raise ArgumentError(f"SGD: momentum ({momentum}) and weight_decay ({weight_decay}) "
                             "must be non-negative")
        if nesterov and momentum == 0:
            raise ArgumentError("SGD: nesterov=True needs a momentum > 0")
        super().__init__(params, {"lr": lr, "momentum": momentum,
                                  "weight_decay": weight_decay, "nesterov": nesterov})

    def init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Tensor]:
        # A zero buffer makes the first step b = g, as PyTorch's lazily created one does.
        return {"momentum_buffer": zeros_like(p)} if group["momentum"] else {}

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Tensor],
               group: dict[str, Any]) -> None:
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p
        momentum = group["momentum"]
        if momentum:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).add_(grad)
            grad = grad + momentum * buf if group["nesterov"] else buf
        p -= group["lr"] * grad
