"""Whether operations record autograd history: `no_grad`, `enable_grad`, `set_grad_enabled`.

The mode is per thread (and per asyncio task): it lives in a context variable of
`eager.interpreters`, so `no_grad()` in one thread never changes what another records.
"""
from __future__ import annotations

import functools

from eager.interpreters import grad_enabled, swap_grad_enabled


def is_grad_enabled() -> bool:
    """True when new operations record history for backward.

    >>> import eager
    >>> with eager.no_grad():
    ...     print(is_grad_enabled())
    False
    """
    return grad_enabled()


class set_grad_enabled:
    """Context manager (and decorator) that sets this thread's grad mode, restoring it on
    exit. One instance serves one thread's (possibly nested) `with` blocks; the decorator
    makes a fresh one per call.

    >>> with set_grad_enabled(False):
    ...     is_grad_enabled()
    False
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.previous: list[bool] = []

    def __enter__(self) -> None:
        self.previous.append(swap_grad_enabled(self.mode))

    def __exit__(self, *exc) -> None:
        swap_grad_enabled(self.previous.pop())

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)(self.mode) if type(self) is set_grad_enabled else type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(set_grad_enabled):
    """Disable gradient recording inside the block (parameter updates, evaluation).

    >>> import eager
    >>> w = eager.tensor([1.0], requires_grad=True)
    >>> with eager.no_grad():
    ...     (w * 2).requires_grad
    False
    """

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Re-enable gradient recording inside a `no_grad` block.

    >>> import eager
    >>> x = eager.tensor([1.0], requires_grad=True)
    >>> with eager.no_grad():
    ...     with eager.enable_grad():
    ...         y = x * 2
    >>> y.requires_grad
    True
    """

    def __init__(self) -> None:
        super().__init__(True)
