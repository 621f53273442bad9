"""Schedules built from phases: SequentialLR (one schedule after another at milestones)
and OneCycleLR (warm up to max_lr, then anneal; Smith & Topin, 2017).

Both are `where` expressions of the epoch tensor, so a jitted step that calls
`scheduler.step()` replays every phase change.

>>> import eager
>>> from eager import optim
>>> from eager.optim import lr_scheduler as S
>>> opt = optim.SGD([eager.zeros(1, requires_grad=True)], lr=1.0)
>>> warm = S.LinearLR(opt, start_factor=0.5, total_iters=2)
>>> decay = S.ExponentialLR(opt, gamma=0.5)
>>> sched = S.SequentialLR(opt, [warm, decay], milestones=[2])
>>> rates = []
>>> for _ in range(5):
...     rates.append(round(opt.param_groups[0]["lr"].item(), 4)); sched.step()
>>> rates
[0.5, 0.75, 1.0, 0.5, 0.25]
"""
from __future__ import annotations

import math

from eager import arguments
from eager.nn.errors import ArgumentError
from eager.ops.elementwise import where
from eager.optim.lr_scheduler.base import LRScheduler
from eager.optim.optimizer import Optimizer
from eager.tensor import Tensor


class SequentialLR(LRScheduler):
    """schedulers[0] until milestones[0], then schedulers[1] counted from 0, ..."""

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler],
                 milestones: list[int]) -> None:
        schedulers = list(schedulers)
        milestones = [arguments.integer("SequentialLR", "milestones", m, minimum=1)
                      for m in milestones]
        if len(milestones) != len(schedulers) - 1 or milestones != sorted(milestones):
            raise ArgumentError(f"SequentialLR: needs len(schedulers) - 1 increasing "
                                f"milestones, got {len(schedulers)} schedulers and milestones "
                                f"{milestones}")
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ArgumentError("SequentialLR: every scheduler must drive the same optimizer")
        self._schedulers, self.milestones = schedulers, milestones
        super().__init__(optimizer)

    def group_rate(self, index: int, epoch: Tensor, base_lr: float) -> Tensor | float:
        starts = [0, *self.milestones]
        rate = None
        for start, scheduler in zip(reversed(starts), reversed(self._schedulers)):
            here = scheduler.group_rate(index, epoch - start, scheduler.base_lrs[index])
            rate = here if rate is None else where(epoch < starts[starts.index(start) + 1],
                                                   here, rate)
        return rate

    def rate(self, epoch: Tensor, base_lr: float) -> Tensor | float:
        return self.group_rate(0, epoch, base_lr)


def _anneal(strategy: str, start: float, end: float, pct):
    """From start (pct 0) to end (pct 1): cosine or linear; pct a tensor or a number."""
    if strategy == "cos":
        cos = (pct * math.pi).cos() if isinstance(pct, Tensor) else math.cos(pct * math.pi)
        return end + (start - end) / 2.0 * (cos + 1)
    return (end - start) * pct + start


class OneCycleLR(LRScheduler):
    """From max_lr / div_factor up to max_lr over the first pct_start of total_steps, then
    down to that / final_div_factor (three_phase: back to the start, then down). With
    cycle_momentum the momentum (or Adam's beta1) moves the opposite way between
    max_momentum and base_momentum, as in PyTorch."""

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: float = 0.85,
                 max_momentum: float = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False) -> None:
        name = "OneCycleLR"
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ArgumentError(f"{name}: give total_steps, or epochs and steps_per_epoch")
            total_steps = arguments.integer(name, "epochs", epochs, minimum=1) * \
                arguments.integer(name, "steps_per_epoch", steps_per_epoch, minimum=1)
        self.total_steps = arguments.integer(name, "total_steps", total_steps, minimum=2)
        pct_start = arguments.real(name, "pct_start", pct_start, low=0.0, high=1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ArgumentError(f"{name}: anneal_strategy must be 'cos' or 'linear', got "
                                f"{anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        groups = optimizer.param_groups if isinstance(optimizer, Optimizer) else []
        max_lrs = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * len(groups)
        if len(max_lrs) != len(groups):
            raise ArgumentError(f"{name}: {len(max_lrs)} max_lr values for {len(groups)} "
                                f"parameter groups")
        for group, top in zip(groups, max_lrs):
            top = arguments.real(name, "max_lr", top, low=0.0)
            group["initial_lr"] = top / div_factor
            group["max_lr"] = top
            group["min_lr"] = group["initial_lr"] / final_div_factor
        self._phases = self._phase_table(pct_start, three_phase)
        self.cycle_momentum = arguments.boolean(name, "cycle_momentum", cycle_momentum)
        if self.cycle_momentum:
            self._check_momentum(optimizer)
            self.base_momentum, self.max_momentum = base_momentum, max_momentum
        super().__init__(optimizer)

    def _phase_table(self, pct_start: float, three_phase: bool) -> list[tuple]:
        """(end step, start key, end key, start momentum key, end momentum key)."""
        total = self.total_steps
        if three_phase:
            return [(pct_start * total - 1, "initial_lr", "max_lr", "max", "base"),
                    (2 * pct_start * total - 2, "max_lr", "initial_lr", "base", "max"),
                    (total - 1, "initial_lr", "min_lr", "max", "max")]
        return [(pct_start * total - 1, "initial_lr", "max_lr", "max", "base"),
                (total - 1, "max_lr", "min_lr", "base", "max")]

    @staticmethod
    def _check_momentum(optimizer: Optimizer) -> None:
        for group in optimizer.param_groups:
            if "betas" not in group and not group.get("momentum"):
                raise ArgumentError("OneCycleLR: cycle_momentum=True needs an optimizer with "
                                    "momentum > 0 or betas (PyTorch would switch SGD's "
                                    "momentum on); pass cycle_momentum=False")

    def _phase_values(self, epoch, values: dict[str, float], anneal) -> Tensor | float:
        start_step = 0.0
        pieces = []
        for end_step, start_key, end_key, *_ in self._phases:
            pct = (epoch - start_step) / (end_step - start_step)
            pieces.append((end_step, anneal(values[start_key], values[end_key], pct)))
            start_step = end_step
        rate = pieces[-1][1]
        for end_step, value in reversed(pieces[:-1]):
            rate = where(epoch <= end_step, value, rate)
        return rate

    def group_rate(self, index: int, epoch: Tensor, base_lr: float) -> Tensor | float:
        group = self.optimizer.param_groups[index]
        values = {k: group[k] for k in ("initial_lr", "max_lr", "min_lr")}
        return self._phase_values(epoch, values,
                                  lambda a, b, pct: _anneal(self.anneal_strategy, a, b, pct))

    def rate(self, epoch: Tensor, base_lr: float) -> Tensor | float:
        return self.group_rate(0, epoch, base_lr)

    def _momentum_at(self, step: float) -> float:
        level = {"max": self.max_momentum, "base": self.base_momentum}
        start_step = 0.0
        for i, (end_step, _, _, start_key, end_key) in enumerate(self._phases):
            if step <= end_step or i == len(self._phases) - 1:
                pct = (step - start_step) / (end_step - start_step)
                return _anneal(self.anneal_strategy, level[start_key], level[end_key], pct)
            start_step = end_step
        raise AssertionError("unreachable: the last phase always matches")

    def _apply(self) -> None:
        super()._apply()
        if not self.cycle_momentum:
            return
        # A host read: momentum and betas are Python hyperparameters (see ParamGroup).
        momentum = self._momentum_at(self.last_epoch.item())
        for group in self.optimizer.param_groups:
            if "betas" in group:
                group["betas"] = (momentum, group["betas"][1])
            else:
                group["momentum"] = momentum
