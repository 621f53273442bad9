"""ReduceLROnPlateau: divide the rate by 1 / factor when a metric stops improving.

It decides on the metric's value in Python (a host read), so call its `step(metric)`
outside a jitted step, once per evaluation, as PyTorch code does.

>>> import eager
>>> from eager import optim
>>> opt = optim.SGD([eager.zeros(1, requires_grad=True)], lr=1.0)
>>> sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
>>> for loss in [1.0, 0.9, 0.9, 0.9, 0.9]:
...     sched.step(loss)
>>> round(opt.param_groups[0]["lr"].item(), 4)
0.5
"""
from __future__ import annotations

import math

from eager import arguments
from eager.nn.errors import ArgumentError
from eager.optim.optimizer import Optimizer


class ReduceLROnPlateau:
    """After more than `patience` epochs without improvement (by threshold, relative or
    absolute), lr = max(lr * factor, min_lr), then wait `cooldown` epochs."""

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | list[float] = 0.0,
                 eps: float = 1e-8) -> None:
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise ArgumentError(f"{name}: optimizer must be an eager.optim.Optimizer, got "
                                f"{type(optimizer).__name__}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ArgumentError(f"{name}: mode must be 'min' or 'max' and threshold_mode 'rel' "
                                f"or 'abs', got {mode!r} and {threshold_mode!r}")
        self.factor = arguments.real(name, "factor", factor, low=0.0, high=1.0, high_open=True)
        self.optimizer, self.mode, self.threshold_mode = optimizer, mode, threshold_mode
        self.patience = arguments.integer(name, "patience", patience, minimum=0)
        self.cooldown = arguments.integer(name, "cooldown", cooldown, minimum=0)
        self.threshold = arguments.real(name, "threshold", threshold, low=0.0)
        self.eps = arguments.real(name, "eps", eps, low=0.0)
        groups = len(optimizer.param_groups)
        lows = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
        if len(lows) != groups:
            raise ArgumentError(f"{name}: {len(lows)} min_lr values for {groups} groups")
        self.min_lrs = [arguments.real(name, "min_lr", v, low=0.0) for v in lows]
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0

    def _better(self, value: float) -> bool:
        if self.threshold_mode == "rel":
            scale = 1.0 - self.threshold if self.mode == "min" else 1.0 + self.threshold
            bound = self.best * scale
        else:
            bound = self.best - self.threshold if self.mode == "min" else \
                self.best + self.threshold
        return value < bound if self.mode == "min" else value > bound

    def step(self, metrics) -> None:
        """Record this epoch's metric (a number or one-element tensor) and reduce the
        rate when it has not improved for more than `patience` epochs."""
        value = arguments.real("ReduceLROnPlateau.step", "metrics", metrics, finite=False)
        self.last_epoch += 1
        if self._better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, low in zip(self.optimizer.param_groups, self.min_lrs):
                old = group["lr"].item()
                new = max(old * self.factor, low)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def get_last_lr(self) -> list[float]:
        """The rates now in the optimizer's groups, as Python floats."""
        return [group["lr"].item() for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """The counters and the best value so far."""
        return {k: getattr(self, k) for k in ("best", "num_bad_epochs", "cooldown_counter",
                                              "last_epoch")}

    def load_state_dict(self, state: dict) -> None:
        """Restore `state_dict()` output."""
        keys = ("best", "num_bad_epochs", "cooldown_counter", "last_epoch")
        if not isinstance(state, dict) or not set(keys) <= set(state):
            raise ArgumentError(f"ReduceLROnPlateau.load_state_dict: expected a dict with "
                                f"{keys}, got {state!r:.80}")
        for key in keys:
            setattr(self, key, state[key])
