"""`ParamGroup`: one entry of `optimizer.param_groups`, a dict whose hyperparameters are
state that a traced or jitted step reads on every replay.

PyTorch code changes hyperparameters by assignment (`group["lr"] = 0.01`, every
iteration in nanoGPT). The learning rate lives in a 0-d tensor, so assigning a number
fills that tensor in place and a jitted step reads the new value by reference. Any other
hyperparameter (momentum, betas, weight_decay, ...) is a Python value the update reads
while tracing; assigning it advances the optimizer's version tensor, and `step()` reads
that version (a guard under the jit), so a replay never uses a stale value.

>>> import eager
>>> from eager import optim
>>> opt = optim.SGD([eager.zeros(1, requires_grad=True)], lr=0.1)
>>> lr = opt.param_groups[0]["lr"]
>>> opt.param_groups[0]["lr"] = 0.05
>>> opt.param_groups[0]["lr"] is lr, round(lr.item(), 6)
(True, 0.05)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eager import arguments
from eager.autograd import no_grad
from eager.tensor import Tensor


class ParamGroup(dict):
    """A dict of "params" and hyperparameters. Assigning to a key that holds a tensor
    (the learning rate) writes the tensor in place; assigning any other hyperparameter
    calls `on_change`, which tells jitted steps to retrace."""

    def __init__(self, values: dict[str, Any], on_change: Callable[[], None],
                 owner: str) -> None:
        super().__init__(values)
        self._on_change = on_change
        self._owner = owner

    def __setitem__(self, key: str, value: Any) -> None:
        current = self.get(key)
        if isinstance(current, Tensor):
            self._write_tensor(key, current, value)
            return
        super().__setitem__(key, value)
        if key != "params":
            self._on_change()

    def _write_tensor(self, key: str, current: Tensor, value: Any) -> None:
        name = f"{self._owner}: param_groups[...][{key!r}]"
        if isinstance(value, Tensor) and value.size == 1:
            # No host read: a tensor rate (a schedule's output) is copied as it is.
            with no_grad():
                current.copy_(value.reshape(()).astype(current.dtype))
            return
        number = arguments.real(name, key, value, low=0.0 if key == "lr" else None)
        with no_grad():
            current.fill_(number)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """dict.update through `__setitem__`, so tensors are written in place."""
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> Any:
        """dict.setdefault through `__setitem__`."""
        if key not in self:
            self[key] = default
        return self[key]

    def __reduce__(self):
        return (dict, (dict(self),))
