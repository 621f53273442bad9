"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019).

The step count is a tensor, so the bias corrections 1 - beta ** step are computed by
tensor ops each step and a jitted update stays correct on every replay.

>>> import eager
>>> from eager import optim
>>> w = eager.tensor([1.0], requires_grad=True)
>>> opt = optim.Adam([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step()
>>> [round(v, 4) for v in w.tolist()]
[0.9]
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eager import arguments
from eager.creation import full, zeros_like
from eager.nn.errors import ArgumentError
from eager.ops.elementwise import maximum
from eager.optim import flat_adam
from eager.optim.flat import FlatState
from eager.optim.optimizer import Optimizer
from eager.tensor import Tensor
from kernels.dtypes import float64


class Adam(Optimizer):
    """m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).

    weight_decay adds weight_decay * p to the gradient (L2 regularisation), as PyTorch's
    Adam does; AdamW decays the weights directly instead. amsgrad=True divides by the
    running maximum of v instead of v (Reddi et al., 2018).

    A group whose parameters share a dtype and device keeps its state in flat buffers
    (`eager.optim.flat`) and, when every parameter has a gradient and all step counts
    agree, is updated by one pass of ops over all its parameters at once.
    """

    decoupled_weight_decay = False

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        name = type(self).__name__
        amsgrad = arguments.boolean(name, "amsgrad", amsgrad)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ArgumentError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        betas = tuple(arguments.real(name, "betas", b) for b in betas)
        eps = arguments.real(name, "eps", eps)
        weight_decay = arguments.real(name, "weight_decay", weight_decay)
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ArgumentError(f"{type(self).__name__}: betas must be in [0, 1), got {betas}")
        if eps < 0 or weight_decay < 0:
            raise ArgumentError(f"{type(self).__name__}: eps ({eps}) and weight_decay "
                                f"({weight_decay}) must be non-negative")
        self._flat: dict[int, FlatState | None] = {}
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad})

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group (see Optimizer.add_param_group), its state in flat buffers."""
        super().add_param_group(group)
        added = self.param_groups[-1]
        self._flat[id(added)] = FlatState.over(
            added["params"], [self.state[p] for p in added["params"]])

    def init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Tensor]:
        state = {"step": full((), 0.0, dtype=p.dtype, device=p.device),
                 "exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p)}
        if group.get("amsgrad"):
            state["max_exp_avg_sq"] = zeros_like(p)
        return state

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Tensor],
               group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        lr, decay = group["lr"], group["weight_decay"]
        step, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        step += 1
        if decay and self.decoupled_weight_decay:
            p.mul_(1 - lr * decay)
        elif decay:
            grad = grad + decay * p
        m.mul_(beta1).add_((1 - beta1) * grad)
        v.mul_(beta2).add_((1 - beta2) * grad * grad)
        # 1 - beta ** step cancels badly in float32 (1 - 0.999 loses 4 digits, as PyTorch,
        # which does this in Python floats, does not): compute it in float64.
        step64 = step.astype(float64)
        bias_correction1 = (1 - beta1 ** step64).astype(p.dtype)
        bias_correction2 = (1 - beta2 ** step64).sqrt().astype(p.dtype)
        if "max_exp_avg_sq" in state:
            v = state["max_exp_avg_sq"]
            v.copy_(maximum(v, state["exp_avg_sq"]))
        denom = v.sqrt() / bias_correction2 + group["eps"]
        p -= (lr / bias_correction1) * m / denom

    def update_group(self, group: dict[str, Any]) -> None:
        """All of the group's parameters in one pass over its flat state when each has a
        gradient and their step counts agree; one parameter at a time otherwise."""
        flat = self._flat.get(id(group))
        params = group["params"]
        if flat is None or len(params) != len(flat.params) or \
                any(p is not q for p, q in zip(params, flat.params)):
            super().update_group(group)  # no flat state, or the group was edited since
            return
        grads = [p.grad for p in flat.params]
        if any(g is None for g in grads) or not flat.in_lockstep():
            super().update_group(group)
            return
        self._update_flat(flat, grads, group)

    def _update_flat(self, flat: FlatState, grads: list[Tensor], group: dict[str, Any]) -> None:
        """`update` for every parameter of the group at once, op for op the same math
        (on the arrays directly when nothing records the step: eager.optim.flat_adam)."""
        if flat_adam.applies(flat):
            flat_adam.adam_step(flat, grads, group, self.decoupled_weight_decay)
            return
        beta1, beta2 = group["betas"]
        lr, decay = group["lr"], group["weight_decay"]
        buffers = flat.buffers
        steps, m, v = buffers["step"], buffers["exp_avg"], buffers["exp_avg_sq"]
        steps += 1
        grad = flat.concat(grads)
        if decay and self.decoupled_weight_decay:
            keep = 1 - lr * decay
            for p in flat.params:
                p.mul_(keep)
        elif decay:
            grad = grad + decay * flat.concat(flat.params)
        m.mul_(beta1).add_((1 - beta1) * grad)
        v.mul_(beta2).add_((1 - beta2) * grad * grad)
        step64 = steps[0].astype(float64)
        bias_correction1 = (1 - beta1 ** step64).astype(m.dtype)
        bias_correction2 = (1 - beta2 ** step64).sqrt().astype(m.dtype)
        if "max_exp_avg_sq" in buffers:
            v_max = buffers["max_exp_avg_sq"]
            v_max.copy_(maximum(v_max, v))
            v = v_max
        denom = v.sqrt() / bias_correction2 + group["eps"]
        change = (lr / bias_correction1) * m / denom
        for p, piece in zip(flat.params, flat.pieces(change)):
            p -= piece


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the Adam step.

    >>> import eager
    >>> from eager import optim
    >>> w = eager.tensor([1.0], requires_grad=True)
    >>> opt = optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * 0).sum().backward(); opt.step()
    >>> [round(v, 6) for v in w.tolist()]
    [0.95]
    """

    decoupled_weight_decay = True

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
