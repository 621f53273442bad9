"""`LRScheduler`: the base of the schedules, computed by tensor ops from a tensor epoch
counter.

`scheduler.step()` advances the counter and writes the new rate into each group's lr
tensor in place, so it works the same called eagerly, traced, or inside a jitted step:
no Python number that changes over time is baked into a graph.

>>> import eager
>>> from eager import optim
>>> opt = optim.SGD([eager.zeros(1, requires_grad=True)], lr=1.0)
>>> sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> rates = []
>>> for _ in range(5):
...     rates.append(round(opt.param_groups[0]["lr"].item(), 4)); sched.step()
>>> rates
[1.0, 1.0, 0.5, 0.5, 0.25]
"""
from __future__ import annotations

from eager import arguments
from eager.autograd import no_grad
from eager.creation import full
from eager.nn.errors import ArgumentError
from eager.optim.optimizer import Optimizer
from eager.tensor import Tensor


class LRScheduler:
    """Base class: `rate(epoch, base_lr)` gives the learning rate as a tensor expression
    of the epoch counter (a 0-d tensor); `step()` advances it and applies the rate."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise ArgumentError(f"{type(self).__name__}: optimizer must be an "
                                f"eager.optim.Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            # As PyTorch: the first scheduler records the rate it started from, so a
            # second one (SequentialLR, or a restart) schedules from the same base.
            if "initial_lr" not in group:
                group["initial_lr"] = group["lr"].item()
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        first = optimizer.param_groups[0]["lr"]
        self.last_epoch = full((), 0.0, dtype=first.dtype, device=first.device)
        self._apply()

    def rate(self, epoch: Tensor, base_lr: float) -> Tensor:
        """The learning rate at `epoch`; subclasses define it."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch (or step) and write the new rates into the optimizer."""
        with no_grad():
            self.last_epoch += 1
        self._apply()

    def group_rate(self, index: int, epoch: Tensor, base_lr: float) -> Tensor | float:
        """The rate of parameter group `index`; `rate(epoch, base_lr)` unless a schedule
        differs per group."""
        return self.rate(epoch, base_lr)

    def _apply(self) -> None:
        with no_grad():
            for index, (group, base) in enumerate(zip(self.optimizer.param_groups,
                                                      self.base_lrs)):
                rate = self.group_rate(index, self.last_epoch, base)
                if isinstance(rate, Tensor):
                    group["lr"].copy_(rate.astype(group["lr"].dtype))
                else:
                    group["lr"].fill_(rate)

    def get_last_lr(self) -> list[float]:
        """The rates now in the optimizer's groups, as Python floats (a host read).

        >>> import eager
        >>> from eager import optim
        >>> opt = optim.SGD([eager.zeros(1, requires_grad=True)], lr=0.1)
        >>> [round(v, 4) for v in optim.lr_scheduler.ExponentialLR(opt, 0.5).get_last_lr()]
        [0.1]
        """
        return [group["lr"].item() for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """The counter and base rates (save with `eager.save`)."""
        return {"last_epoch": self.last_epoch.clone(), "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict) -> None:
        """Restore `state_dict()` output; the counter is copied in place."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict) or not {"last_epoch", "base_lrs"} <= set(state):
            raise ArgumentError(f"{name}: expected a dict with 'last_epoch' and 'base_lrs' "
                                f"(from state_dict()), got {state!r:.80}")
        arguments.tensor(name, "last_epoch", state["last_epoch"])
        if len(state["base_lrs"]) != len(self.base_lrs):
            raise ArgumentError(f"{name}: {len(state['base_lrs'])} base rates for "
                                f"{len(self.base_lrs)} parameter groups")
        base_lrs = [arguments.real(name, "base_lrs", lr) for lr in state["base_lrs"]]
        with no_grad():
            self.last_epoch.copy_(state["last_epoch"])
        self.base_lrs = base_lrs
