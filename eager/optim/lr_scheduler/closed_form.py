"""Schedules with a closed form in the epoch: StepLR, MultiStepLR, ExponentialLR,
CosineAnnealingLR, CosineAnnealingWarmRestarts, LinearLR, ConstantLR, PolynomialLR and
LambdaLR.

>>> import eager
>>> from eager import optim
>>> opt = optim.SGD([eager.zeros(1, requires_grad=True)], lr=1.0)
>>> sched = optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.1)
>>> rates = []
>>> for _ in range(4):
...     rates.append(round(opt.param_groups[0]["lr"].item(), 4)); sched.step()
>>> rates
[1.0, 0.1, 0.1, 0.01]
"""
from __future__ import annotations

import math
from collections.abc import Callable

from eager import arguments
from eager.nn.errors import ArgumentError
from eager.ops.elementwise import astype
from eager.optim.lr_scheduler.base import LRScheduler
from eager.optim.optimizer import Optimizer
from eager.tensor import Tensor
from kernels.dtypes import float64


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** floor(epoch / step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        step_size = arguments.integer("StepLR", "step_size", step_size)
        gamma = arguments.real("StepLR", "gamma", gamma)
        if step_size < 1:
            raise ArgumentError(f"StepLR: step_size must be positive, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def rate(self, epoch: Tensor, base_lr: float) -> Tensor:
        return base_lr * self.gamma ** (epoch / self.step_size).floor()


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = arguments.real("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer)

    def rate(self, epoch: Tensor, base_lr: float) -> Tensor:
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * min(epoch, T_max) / T_max)) / 2."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        T_max = arguments.integer("CosineAnnealingLR", "T_max", T_max)
        eta_min = arguments.real("CosineAnnealingLR", "eta_min", eta_min)
        if T_max < 1:
            raise ArgumentError(f"CosineAnnealingLR: T_max must be positive, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def rate(self, epoch: Tensor, base_lr: float) -> Tensor:
        phase = epoch.clamp(max=self.T_max) * (math.pi / self.T_max)
        return self.eta_min + (base_lr - self.eta_min) * (1 + phase.cos()) / 2


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma ** (number of milestones <= epoch)."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1) -> None:
        self.milestones = sorted(arguments.integer("MultiStepLR", "milestones", m, minimum=0)
                                 for m in milestones)
        self.gamma = arguments.real("MultiStepLR", "gamma", gamma)
        super().__init__(optimizer)

    def rate(self, epoch: Tensor, base_lr: float) -> Tensor:
        passed = sum((astype(epoch >= m, epoch.dtype) for m in self.milestones), epoch * 0)
        return base_lr * self.gamma ** passed


class LinearLR(LRScheduler):
    """lr = base_lr * factor, factor going linearly from start_factor to end_factor over
    total_iters epochs, then staying (a warm-up)."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5) -> None:
        self.start_factor = arguments.real("LinearLR", "start_factor", start_factor,
                                           low=0.0, low_open=True, high=1.0)
        self.end_factor = arguments.real("LinearLR", "end_factor", end_factor, low=0.0,
                                         high=1.0)
        self.total_iters = arguments.integer("LinearLR", "total_iters", total_iters, minimum=1)
        super().__init__(optimizer)

    def rate(self, epoch: Tensor, base_lr: float) -> Tensor:
        progress = epoch.clamp(max=self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch). The epoch is passed as a 0-d tensor, so
    arithmetic lambdas (`lambda e: 0.95 ** e`) stay tensor expressions a jitted step
    replays; one that turns it into a Python number makes a host read (a guard)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable | list[Callable]) -> None:
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 1
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else \
            [lr_lambda] * groups
        if len(lambdas) != groups or not all(callable(f) for f in lambdas):
            raise ArgumentError(f"LambdaLR: lr_lambda must be a callable or one per parameter "
                                f"group ({groups}), got {lr_lambda!r:.80}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer)

    def group_rate(self, index: int, epoch: Tensor, base_lr: float) -> Tensor | float:
        return base_lr * self.lr_lambdas[index](epoch)

    def rate(self, epoch: Tensor, base_lr: float) -> Tensor | float:
        return base_lr * self.lr_lambdas[0](epoch)


class ConstantLR(LRScheduler):
    """lr = base_lr * factor for the first total_iters epochs, then base_lr."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3,
                 total_iters: int = 5) -> None:
        self.factor = arguments.real("ConstantLR", "factor", factor, low=0.0, high=1.0)
        self.total_iters = arguments.integer("ConstantLR", "total_iters", total_iters,
                                             minimum=0)
        super().__init__(optimizer)

    def rate(self, epoch: Tensor, base_lr: float) -> Tensor:
        below = astype(epoch < self.total_iters, epoch.dtype)
        return base_lr * (1.0 + (self.factor - 1.0) * below)


class PolynomialLR(LRScheduler):
    """lr = base_lr * (1 - min(epoch, total_iters) / total_iters) ** power."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0) -> None:
        self.total_iters = arguments.integer("PolynomialLR", "total_iters", total_iters,
                                             minimum=1)
        self.power = arguments.real("PolynomialLR", "power", power, low=0.0)
        super().__init__(optimizer)

    def rate(self, epoch: Tensor, base_lr: float) -> Tensor:
        return base_lr * (1.0 - epoch.clamp(max=self.total_iters) / self.total_iters) ** \
            self.power


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from base_lr to eta_min over T_0 epochs, restarting each time;
    with T_mult > 1 each period is T_mult times the one before (SGDR, Loshchilov &
    Hutter, 2017)."""

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1,
                 eta_min: float = 0.0) -> None:
        self.T_0 = arguments.integer("CosineAnnealingWarmRestarts", "T_0", T_0, minimum=1)
        self.T_mult = arguments.integer("CosineAnnealingWarmRestarts", "T_mult", T_mult,
                                        minimum=1)
        self.eta_min = arguments.real("CosineAnnealingWarmRestarts", "eta_min", eta_min)
        super().__init__(optimizer)

    def rate(self, epoch: Tensor, base_lr: float) -> Tensor:
        if self.T_mult == 1:
            t_cur, t_i = epoch - (epoch / self.T_0).floor() * self.T_0, self.T_0
        else:
            # Periods so far: n = floor(log_{T_mult}(epoch / T_0 * (T_mult - 1) + 1)), in
            # float64 so that a restart epoch does not round to just below an integer.
            wide = astype(epoch, float64)
            ratio = (wide / self.T_0 * (self.T_mult - 1) + 1).log() / math.log(self.T_mult)
            n = astype((ratio + 1e-9).floor(), epoch.dtype)
            start = self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
            t_cur, t_i = epoch - start, self.T_0 * self.T_mult ** n
        cos = (t_cur / t_i * math.pi).cos()
        return self.eta_min + (base_lr - self.eta_min) * (1 + cos) / 2
