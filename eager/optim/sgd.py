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
from eager.creation import zeros, zeros_like
from eager.nn.errors import ArgumentError
from eager.ops.elementwise import minimum
from eager.optim.optimizer import Optimizer
from eager.tensor import Tensor


class SGD(Optimizer):
    """p -= lr * d, where d is the gradient (plus weight_decay * p), or with momentum mu the
    buffer b = mu * b + (1 - dampening) * g (d = b, or g + mu * b with nesterov=True), as
    in PyTorch, whose first step sets b = g undampened."""

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False) -> None:
        momentum = arguments.real("SGD", "momentum", momentum)
        dampening = arguments.real("SGD", "dampening", dampening)
        weight_decay = arguments.real("SGD", "weight_decay", weight_decay)
        if momentum < 0 or weight_decay < 0:
            raise ArgumentError(f"SGD: momentum ({momentum}) and weight_decay ({weight_decay}) "
                             "must be non-negative")
        if nesterov and (momentum == 0 or dampening != 0):
            raise ArgumentError("SGD: nesterov=True needs a momentum > 0 and zero dampening")
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov})

    def init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Tensor]:
        # A zero buffer makes the first step b = g, as PyTorch's lazily created one does;
        # with dampening, a step count tells the first step (undampened) from the rest.
        if not group["momentum"]:
            return {}
        state = {"momentum_buffer": zeros_like(p)}
        if group.get("dampening"):
            state["step"] = zeros((), dtype=p.dtype, device=p.device)
        return state

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Tensor],
               group: dict[str, Any]) -> None:
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p
        momentum = group["momentum"]
        if momentum:
            buf = state["momentum_buffer"]
            dampening = group.get("dampening", 0.0)
            if dampening and "step" in state:
                scale = 1 - dampening * minimum(state["step"], 1.0)
                state["step"] += 1
                buf.mul_(momentum).add_(scale * grad)
            else:
                buf.mul_(momentum).add_(grad)
            grad = grad + momentum * buf if group["nesterov"] else buf
        p -= group["lr"] * grad
