"""L-BFGS (limited-memory BFGS) as PyTorch's `optim.LBFGS` runs it: each `step(closure)`
takes up to `max_iter` quasi-Newton steps along the direction the two-loop recursion
makes from the last `history_size` curvature pairs, of size `lr` or, with
`line_search_fn="strong_wolfe"`, of the size a strong-Wolfe line search finds
(`eager/optim/lbfgs_line_search.py`), stopping early on the same tolerances, so a ported
program follows torch's losses. The history (curvature pairs, last direction and step,
counters) is part of `state_dict()`, under torch's names, so a run continues identically
after a checkpoint.

The stopping tests read values on the host, so an LBFGS step runs eagerly (under `@jit`
these reads become guards).

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
from functools import partial
from typing import Any

from eager import arguments
from eager.autograd import enable_grad, no_grad
from eager.dispatch import user_line_suffix
from eager.nn.errors import ArgumentError
from eager.ops.shape import concat
from eager.optim.lbfgs_line_search import strong_wolfe
from eager.optim.optimizer import Optimizer, OptimizerStateError
from eager.tensor import Tensor
from kernels.errors import ShapeError

__all__ = ["LBFGS"]

_VECTORS = ("d", "prev_flat_grad")
_VECTOR_LISTS = ("old_dirs", "old_stps")
_NUMBERS = ("t", "H_diag", "prev_loss")
_COUNTS = ("func_evals", "n_iter")


class LBFGS(Optimizer):
    """L-BFGS over one parameter group; `step` needs a closure that clears the
    gradients, computes the loss, calls `backward()` and returns the loss.

    >>> import eager
    >>> from eager import optim
    >>> w = eager.tensor([-1.2, 1.0], dtype=eager.float64, requires_grad=True)
    >>> opt = optim.LBFGS([w], max_iter=100, line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2   # Rosenbrock
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> [round(v, 3) for v in w.tolist()]
    [1.0, 1.0]
    """

    def __init__(self, params: Iterable, lr: float = 1.0, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        max_iter = arguments.integer("LBFGS", "max_iter", max_iter, minimum=1)
        max_eval = max_iter * 5 // 4 if max_eval is None else \
            arguments.integer("LBFGS", "max_eval", max_eval, minimum=1)
        history_size = arguments.integer("LBFGS", "history_size", history_size, minimum=1)
        if line_search_fn not in (None, "strong_wolfe"):
            raise ArgumentError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                                f"{line_search_fn!r}")
        super().__init__(params, {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                                  "tolerance_grad": float(tolerance_grad),
                                  "tolerance_change": float(tolerance_change),
                                  "history_size": history_size,
                                  "line_search_fn": line_search_fn})
        if len(self.param_groups) != 1:
            raise ArgumentError("LBFGS: takes one parameter group only, as in PyTorch")
        self._params = self.param_groups[0]["params"]
        self._numel = sum(p.numel() for p in self._params)
        # What carries over from one step() to the next, under torch's names: the last
        # direction d and step t, the curvature pairs (old_dirs = y, old_stps = s, ro =
        # 1 / y.s), the Hessian scale H_diag and the call counters.
        self._memory: dict[str, Any] = self._fresh_memory()

    @staticmethod
    def _fresh_memory() -> dict[str, Any]:
        return {"func_evals": 0, "n_iter": 0, "d": None, "t": None, "old_dirs": [],
                "old_stps": [], "ro": [], "H_diag": 1.0, "prev_flat_grad": None,
                "prev_loss": None}

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

    def _evaluate(self, closure: Callable[[], Any], t: float,
                  direction: Tensor) -> tuple[float, Tensor, float]:
        """Loss, flat gradient and slope at params + t * direction; the params are put
        back afterwards."""
        saved = [p.clone() for p in self._params]
        self._move(t, direction)
        with enable_grad():
            loss = float(closure())
        grad = self._flat_grad()
        for p, value in zip(self._params, saved):
            p.copy_(value)
        return loss, grad, float((grad * direction).sum())

    def _direction(self, grad: Tensor, mem: dict[str, Any], history: int) -> Tensor:
        """The two-loop recursion: minus the inverse-Hessian estimate times grad, after
        adding the newest curvature pair (y, s) when it is positive enough."""
        y = grad - mem["prev_flat_grad"]
        s = mem["d"] * mem["t"]
        ys = float((y * s).sum())
        if ys > 1e-10:
            if len(mem["old_dirs"]) == history:
                for key in ("old_dirs", "old_stps", "ro"):
                    mem[key].pop(0)
            mem["old_dirs"].append(y)
            mem["old_stps"].append(s)
            mem["ro"].append(1.0 / ys)
            mem["H_diag"] = ys / float((y * y).sum())
        pairs = list(zip(mem["old_dirs"], mem["old_stps"], mem["ro"]))
        q = -grad
        alphas = []
        for y_i, s_i, rho_i in reversed(pairs):
            alpha = float((s_i * q).sum()) * rho_i
            alphas.append(alpha)
            q = q - alpha * y_i
        r = q * mem["H_diag"]
        for (y_i, s_i, rho_i), alpha in zip(pairs, reversed(alphas)):
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
                    mem.update(old_dirs=[], old_stps=[], ro=[], H_diag=1.0)
                else:
                    direction = self._direction(grad, mem, group["history_size"])
                mem["prev_flat_grad"], mem["prev_loss"] = grad, loss
                prev_loss = loss
                t = min(1.0, 1.0 / float(grad.abs().sum())) * lr if mem["n_iter"] == 1 else lr
                mem["d"], mem["t"] = direction, t
                gtd = float((grad * direction).sum())
                if gtd > -tol_change:
                    break
                converged, used = False, 0
                if group["line_search_fn"] == "strong_wolfe":
                    loss, grad, t, used = strong_wolfe(
                        partial(self._evaluate, closure, direction=direction), t, loss,
                        grad, gtd, float(direction.abs().max()), tolerance_change=tol_change)
                    mem["t"] = t
                    self._move(t, direction)
                    converged = float(grad.abs().max()) <= group["tolerance_grad"]
                else:
                    self._move(t, direction)
                    if n_iter != group["max_iter"]:
                        with enable_grad():
                            loss = float(closure())
                        grad = self._flat_grad()
                        converged = float(grad.abs().max()) <= group["tolerance_grad"]
                        used = 1
                evals += used
                mem["func_evals"] += used
                if n_iter == group["max_iter"] or evals >= group["max_eval"] or converged:
                    break
                if float((direction * t).abs().max()) <= tol_change or \
                        abs(loss - prev_loss) < tol_change:
                    break
        return first_loss

    # ---- checkpoints ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """As torch's: the group's hyperparameters, and under `state[0]` (once a step has
        run) the history: func_evals, n_iter, d, t, old_dirs, old_stps, ro, H_diag,
        prev_flat_grad and prev_loss.

        >>> import eager
        >>> from eager import optim
        >>> opt = optim.LBFGS([eager.zeros(2, requires_grad=True)])
        >>> opt.state_dict()["state"]
        {}
        """
        saved = super().state_dict()
        mem = self._memory
        if mem["func_evals"] == 0:
            return {**saved, "state": {}}
        history: dict[str, Any] = {k: mem[k] for k in _COUNTS + _NUMBERS if mem[k] is not None}
        history.update({k: mem[k].clone() for k in _VECTORS if mem[k] is not None})
        history.update({k: [v.clone() for v in mem[k]] for k in _VECTOR_LISTS})
        history["ro"] = list(mem["ro"])
        return {**saved, "state": {0: history}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()` (ours, or torch's with its tensors made eager
        tensors); checked before anything is written."""
        name = "LBFGS.load_state_dict"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise OptimizerStateError(f"{name}: expected a dict with 'state' and "
                                      f"'param_groups'{user_line_suffix()}")
        groups, state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, (list, tuple)) or len(groups) != 1 or \
                not isinstance(groups[0], dict) or \
                len(groups[0].get("params", ())) != len(self._params):
            raise OptimizerStateError(f"{name}: expected one parameter group of "
                                      f"{len(self._params)} parameters{user_line_suffix()}")
        if groups[0].get("line_search_fn") not in (None, "strong_wolfe"):
            raise OptimizerStateError(f"{name}: line_search_fn must be None or 'strong_wolfe', "
                                      f"got {groups[0]['line_search_fn']!r}{user_line_suffix()}")
        if not isinstance(state, dict) or len(state) > 1:
            raise OptimizerStateError(f"{name}: 'state' must be {{}} or {{0: history}}, got "
                                      f"keys {sorted(map(str, state))}{user_line_suffix()}")
        memory = self._fresh_memory()
        if state:
            memory.update(self._checked_history(name, next(iter(state.values()))))
        with no_grad():
            for key, value in groups[0].items():
                if key != "params":
                    self.param_groups[0][key] = value
        self._memory = memory

    def _checked_history(self, name: str, history: Any) -> dict[str, Any]:
        known = set(_VECTORS + _VECTOR_LISTS + _NUMBERS + _COUNTS + ("ro", "al"))
        if not isinstance(history, dict) or not set(history) <= known or \
                not set(_COUNTS) <= set(history):
            found = sorted(history) if isinstance(history, dict) else type(history).__name__
            raise OptimizerStateError(
                f"{name}: the history must be a dict with func_evals and n_iter among "
                f"{sorted(known)}, got {found}{user_line_suffix()}")
        like = self._params[0]

        def vector(key: str, value: Any) -> Tensor:
            if not isinstance(value, Tensor) or value.shape != (self._numel,):
                shown = value.shape if isinstance(value, Tensor) else type(value).__name__
                raise ShapeError(f"{name}: {key} must be a tensor of shape ({self._numel},) "
                                 f"(all parameters flattened), got {shown}{user_line_suffix()}")
            return value.to(like.device).astype(like.dtype).clone()

        out: dict[str, Any] = {k: int(history[k]) for k in _COUNTS}
        out.update({k: float(history[k]) for k in _NUMBERS if history.get(k) is not None})
        out.update({k: vector(k, history[k]) for k in _VECTORS if history.get(k) is not None})
        for key in _VECTOR_LISTS:
            out[key] = [vector(key, v) for v in history.get(key, [])]
        out["ro"] = [float(v) for v in history.get("ro", [])]
        if not len(out["ro"]) == len(out["old_dirs"]) == len(out["old_stps"]):
            raise OptimizerStateError(f"{name}: old_dirs, old_stps and ro must be as long as "
                                      f"each other, got {len(out['old_dirs'])}, "
                                      f"{len(out['old_stps'])}, {len(out['ro'])}"
                                      f"{user_line_suffix()}")
        return out
