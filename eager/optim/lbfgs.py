"""L-BFGS (limited-memory BFGS) as PyTorch's `optim.LBFGS` runs it without a line
search: each `step(closure)` takes up to `max_iter` quasi-Newton steps of size `lr` along
the direction the two-loop recursion makes from the last `history_size` curvature pairs,
stopping early on the same tolerances, so a ported program follows torch's losses.

The stopping tests read values on the host, so an LBFGS step runs eagerly (under `@jit`
these reads become guards). Only `line_search_fn=None` is available.

>>> import eager
>>> from eager import optim
>>> w = eager.tensor([3.0, -2.0], requires_grad=True)
>>> opt = optim.LBFGS([w], lr=1.0)
>>> def closure():
...     opt.zero_grad()
...     loss = ((w - 1.0) ** 2).sum()
...     loss.backward()
...     return loss
>>> _ = opt.step(closure)
>>> [round(v, 4) for v in w.tolist()]
[1.0, 1.0]
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from eager import arguments
from eager.autograd import enable_grad, no_grad
from eager.nn.errors import ArgumentError
from eager.ops.shape import concat
from eager.optim.optimizer import Optimizer
from eager.tensor import Tensor

__all__ = ["LBFGS"]


class LBFGS(Optimizer):
    """L-BFGS over one parameter group; `step` needs a closure that clears the
    gradients, computes the loss, calls `backward()` and returns the loss."""

    def __init__(self, params: Iterable, lr: float = 1.0, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        max_iter = arguments.integer("LBFGS", "max_iter", max_iter, minimum=1)
        max_eval = max_iter * 5 // 4 if max_eval is None else \
            arguments.integer("LBFGS", "max_eval", max_eval, minimum=1)
        history_size = arguments.integer("LBFGS", "history_size", history_size, minimum=1)
        if line_search_fn is not None:
            raise ArgumentError(f"LBFGS: line_search_fn={line_search_fn!r} is not available; "
                                "only line_search_fn=None (fixed steps of size lr)")
        super().__init__(params, {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                                  "tolerance_grad": float(tolerance_grad),
                                  "tolerance_change": float(tolerance_change),
                                  "history_size": history_size, "line_search_fn": None})
        if len(self.param_groups) != 1:
            raise ArgumentError("LBFGS: takes one parameter group only, as in PyTorch")
        self._params = self.param_groups[0]["params"]
        # What carries over from one step() to the next, as torch keeps it: the last
        # direction and step size, the curvature pairs, and the call counters.
        self._memory: dict[str, Any] = {"n_iter": 0, "func_evals": 0, "dirs": [], "steps": [],
                                        "rho": [], "direction": None, "t": None,
                                        "h_diag": 1.0, "prev_grad": None}

    def _flat_grad(self) -> Tensor:
        parts = [p.grad.reshape(-1) if p.grad is not None else p.detach().reshape(-1) * 0.0
                 for p in self._params]
        return concat(parts)

    def _move(self, t: float, direction: Tensor) -> None:
        offset = 0
        for p in self._params:
            n = p.numel()
            p += t * direction[offset:offset + n].reshape(p.shape)
            offset += n

    def _direction(self, grad: Tensor, mem: dict[str, Any], history: int) -> Tensor:
        """The two-loop recursion: minus the inverse-Hessian estimate times grad, after
        adding the newest curvature pair (y, s) when it is positive enough."""
        y = grad - mem["prev_grad"]
        s = mem["direction"] * mem["t"]
        ys = float((y * s).sum())
        if ys > 1e-10:
            if len(mem["dirs"]) == history:
                for key in ("dirs", "steps", "rho"):
                    mem[key].pop(0)
            mem["dirs"].append(y)
            mem["steps"].append(s)
            mem["rho"].append(1.0 / ys)
            mem["h_diag"] = ys / float((y * y).sum())
        q = -grad
        alphas = []
        for y_i, s_i, rho_i in reversed(list(zip(mem["dirs"], mem["steps"], mem["rho"]))):
            alpha = float((s_i * q).sum()) * rho_i
            alphas.append(alpha)
            q = q - alpha * y_i
        r = q * mem["h_diag"]
        for (y_i, s_i, rho_i), alpha in zip(zip(mem["dirs"], mem["steps"], mem["rho"]),
                                            reversed(alphas)):
            beta = float((y_i * r).sum()) * rho_i
            r = r + (alpha - beta) * s_i
        return r

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to `max_iter` iterations; returns the loss of the closure's first call."""
        if closure is None:
            raise ArgumentError("LBFGS.step: needs a closure that recomputes the loss "
                                "(opt.step(closure)); it evaluates the loss several times")
        group, mem = self.param_groups[0], self._memory
        lr, tol_change = float(group["lr"]), group["tolerance_change"]
        with enable_grad():
            first_loss = closure()
        loss, evals = float(first_loss), 1
        mem["func_evals"] += 1
        with no_grad():
            grad = self._flat_grad()
            if float(grad.abs().max()) <= group["tolerance_grad"]:
                return first_loss
            for n_iter in range(1, group["max_iter"] + 1):
                mem["n_iter"] += 1
                if mem["n_iter"] == 1:
                    direction = -grad
                    mem.update(dirs=[], steps=[], rho=[], h_diag=1.0)
                else:
                    direction = self._direction(grad, mem, group["history_size"])
                mem["prev_grad"], prev_loss = grad, loss
                t = min(1.0, 1.0 / float(grad.abs().sum())) * lr if mem["n_iter"] == 1 else lr
                mem["direction"], mem["t"] = direction, t
                if float((grad * direction).sum()) > -tol_change:
                    break
                self._move(t, direction)
                converged = False
                if n_iter != group["max_iter"]:
                    with enable_grad():
                        loss = float(closure())
                    grad = self._flat_grad()
                    converged = float(grad.abs().max()) <= group["tolerance_grad"]
                    evals += 1
                    mem["func_evals"] += 1
                if n_iter == group["max_iter"] or evals >= group["max_eval"] or converged:
                    break
                if float((direction * t).abs().max()) <= tol_change or \
                        abs(loss - prev_loss) < tol_change:
                    break
        return first_loss
