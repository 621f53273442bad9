"""Per-coordinate adaptive rates: RMSprop (Hinton, 2012), Adagrad (Duchi et al., 2011) and
Adadelta (Zeiler, 2012), with PyTorch's defaults and update rules.

All step-to-step state (running averages, sums, step counts) lives in tensors updated in
place, so a traced or jitted `step()` replays correctly.

>>> import eager
>>> from eager import optim
>>> w = eager.tensor([1.0], requires_grad=True)
>>> opt = optim.RMSprop([w], lr=0.01)
>>> (w * w).sum().backward(); opt.step()
>>> round(w.item(), 4)
0.9
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eager import arguments
from eager.creation import full, full_like, zeros_like
from eager.optim.optimizer import Optimizer
from eager.tensor import Tensor


def _non_negative(op: str, **values: float) -> dict[str, float]:
    return {k: arguments.real(op, k, v, low=0.0) for k, v in values.items()}


class RMSprop(Optimizer):
    """v = alpha v + (1 - alpha) g^2;  p -= lr * g / (sqrt(v) + eps).

    centered=True subtracts the squared running mean of g from v; momentum > 0 keeps a
    buffer b = momentum * b + g / (sqrt(v) + eps) and steps by lr * b.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False) -> None:
        values = _non_negative("RMSprop", alpha=alpha, eps=eps, weight_decay=weight_decay,
                               momentum=momentum)
        values["centered"] = arguments.boolean("RMSprop", "centered", centered)
        super().__init__(params, {"lr": lr, **values})

    def init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Tensor]:
        state = {"square_avg": zeros_like(p)}
        if group["momentum"]:
            state["momentum_buffer"] = zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = zeros_like(p)
        return state

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Tensor],
               group: dict[str, Any]) -> None:
        alpha = group["alpha"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).add_((1 - alpha) * grad * grad)
        if "grad_avg" in state:
            grad_avg = state["grad_avg"]
            grad_avg.mul_(alpha).add_((1 - alpha) * grad)
            avg = (square_avg - grad_avg * grad_avg).sqrt() + group["eps"]
        else:
            avg = square_avg.sqrt() + group["eps"]
        if "momentum_buffer" in state:
            buf = state["momentum_buffer"]
            buf.mul_(group["momentum"]).add_(grad / avg)
            p -= group["lr"] * buf
        else:
            p -= group["lr"] * grad / avg


class Adagrad(Optimizer):
    """s += g^2;  p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps).

    >>> import eager
    >>> from eager import optim
    >>> w = eager.tensor([1.0], requires_grad=True)
    >>> opt = optim.Adagrad([w], lr=0.5)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 4)
    0.5
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10) -> None:
        values = _non_negative("Adagrad", lr_decay=lr_decay, weight_decay=weight_decay,
                               initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, {"lr": lr, **values})

    def init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Tensor]:
        return {"step": full((), 0.0, dtype=p.dtype, device=p.device),
                "sum": full_like(p, group["initial_accumulator_value"])}

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Tensor],
               group: dict[str, Any]) -> None:
        step, total = state["step"], state["sum"]
        step += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p
        rate = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        total.add_(grad * grad)
        p -= rate * grad / (total.sqrt() + group["eps"])


class Adadelta(Optimizer):
    """v = rho v + (1 - rho) g^2;  d = sqrt(u + eps) / sqrt(v + eps) * g;
    u = rho u + (1 - rho) d^2;  p -= lr * d.

    >>> import eager
    >>> from eager import optim
    >>> w = eager.tensor([1.0], requires_grad=True)
    >>> opt = optim.Adadelta([w])
    >>> (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 5)
    0.99684
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0.0) -> None:
        values = _non_negative("Adadelta", rho=rho, eps=eps, weight_decay=weight_decay)
        super().__init__(params, {"lr": lr, **values})

    def init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Tensor]:
        return {"square_avg": zeros_like(p), "acc_delta": zeros_like(p)}

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Tensor],
               group: dict[str, Any]) -> None:
        rho, eps = group["rho"], group["eps"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg.mul_(rho).add_((1 - rho) * grad * grad)
        delta = (acc_delta + eps).sqrt() / (square_avg + eps).sqrt() * grad
        acc_delta.mul_(rho).add_((1 - rho) * delta * delta)
        p -= group["lr"] * delta
