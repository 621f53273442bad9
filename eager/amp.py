"""`eager.amp` (also `eager.cuda.amp`): PyTorch's mixed-precision helpers, as no-ops.

eager computes in the dtypes the tensors have; `autocast` does not lower precision, so
there are no float16 gradients to protect and `GradScaler` passes everything through
unchanged. The training loop torch documents runs as written:

>>> import eager
>>> w = eager.tensor([1.0], requires_grad=True)
>>> opt = eager.optim.SGD([w], lr=0.5)
>>> scaler = eager.amp.GradScaler(enabled=False)
>>> with eager.amp.autocast(device_type="cpu", dtype=eager.bfloat16):
...     loss = (w * 2).sum()
>>> scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
>>> w.tolist()
[0.0]
"""
from __future__ import annotations

import functools
import warnings
from typing import Any

__all__ = ["GradScaler", "autocast"]


class autocast:  # PyTorch's spelling
    """Context manager and decorator that leaves every op in its tensors' dtypes.

    >>> import eager
    >>> with eager.amp.autocast("cpu"):
    ...     (eager.ones(2) @ eager.ones(2)).dtype
    dtype('float32')
    """

    def __init__(self, device_type: str = "cuda", dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        self.device_type, self.dtype, self.enabled = str(device_type), dtype, enabled

    def __enter__(self) -> autocast:  # noqa: PYI034
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper


class GradScaler:
    """PyTorch's loss scaler, always in its disabled state: `scale` returns the loss,
    `step` calls `optimizer.step()`, and the scale stays 1.0.

    Asking for `enabled=True` warns once, as torch does on a machine without CUDA: with
    no float16 autocast there is nothing to scale.

    >>> import eager
    >>> scaler = eager.amp.GradScaler(enabled=False)
    >>> scaler.is_enabled(), scaler.get_scale()
    (False, 1.0)
    """

    _warned = False

    def __init__(self, device: str = "cuda", init_scale: float = 65536.0,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        if enabled and not GradScaler._warned:
            GradScaler._warned = True
            warnings.warn("GradScaler: loss scaling is disabled in eager, whose autocast "
                          "keeps float32; the scaler passes losses and steps through",
                          UserWarning, stacklevel=2)

    def scale(self, outputs):
        """The loss (or losses) unchanged."""
        return outputs

    def unscale_(self, optimizer) -> None:
        """Nothing to undo: gradients were never scaled."""

    def step(self, optimizer, *args, **kwargs):
        """`optimizer.step(*args, **kwargs)`; its return value."""
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale: float | None = None) -> None:
        """Nothing to adjust."""

    def get_scale(self) -> float:
        """Always 1.0."""
        return 1.0

    def is_enabled(self) -> bool:
        """Always False."""
        return False

    def state_dict(self) -> dict:
        """Empty, as a disabled torch scaler's is."""
        return {}

    def load_state_dict(self, state_dict: dict) -> None:
        """Accept a saved scaler state (there is nothing to restore)."""
