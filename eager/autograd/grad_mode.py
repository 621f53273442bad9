"""Whether operations record autograd history: `no_grad`, `enable_grad`, `set_grad_enabled`.

The mode is per thread (and per asyncio task): it lives in a context variable of
`eager.interpreters`, so `no_grad()` in one thread never changes what another records.
"""
from __future__ import annotations

import functools

import numpy as np

from eager.interpreters import grad_enabled, swap_grad_enabled
from kernels.errors import ArgumentError


def is_grad_enabled() -> bool:
    """True when new operations record history for backward.

    >>> import eager
    >>> with eager.no_grad():
    ...     print(is_grad_enabled())
    False
    """
    return grad_enabled()


class _GradModeType(type):
    """`with eager.no_grad:` (the class, without the call) would fail with Python's bare
    "does not support the context manager protocol"; this names the fix instead."""

    def __enter__(cls):
        raise ArgumentError(f"{cls.__name__}: `with eager.{cls.__name__}:` names the class; "
                            f"call it: `with eager.{cls.__name__}():`")

    def __exit__(cls, *exc) -> None:
        return None


class set_grad_enabled(metaclass=_GradModeType):
    """Context manager (and decorator) that sets this thread's grad mode, restoring it on
    exit. One instance serves one thread's (possibly nested) `with` blocks; the decorator
    makes a fresh one per call. The mode must be a bool (as in PyTorch).

    >>> with set_grad_enabled(False):
    ...     is_grad_enabled()
    False
    >>> try:
    ...     set_grad_enabled("no")
    ... except TypeError as exc:
    ...     print(str(exc).split(" (at")[0])
    set_grad_enabled: mode must be a bool, got str
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, (bool, int, np.bool_)):
            raise ArgumentError(f"set_grad_enabled: mode must be a bool, got "
                                f"{type(mode).__name__}")
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


class _FixedGradMode(set_grad_enabled):
    """A mode that takes no argument (`no_grad`, `enable_grad`): used as `with x():`,
    `@x()` or bare as `@x`, as PyTorch allows."""

    def __new__(cls, fn=None):
        if fn is None:
            return super().__new__(cls)
        if not callable(fn):
            raise ArgumentError(f"{cls.__name__}: takes no arguments, got {fn!r:.40}; "
                                f"write `with eager.{cls.__name__}():`, or "
                                f"set_grad_enabled(mode) to choose the mode")
        return cls()(fn)


class no_grad(_FixedGradMode):
    """Disable gradient recording inside the block (parameter updates, evaluation); also a
    decorator, with or without parentheses.

    >>> import eager
    >>> w = eager.tensor([1.0], requires_grad=True)
    >>> with eager.no_grad():
    ...     (w * 2).requires_grad
    False
    >>> @eager.no_grad
    ... def double(x):
    ...     return x * 2
    >>> double(w).requires_grad
    False
    """

    def __init__(self, fn=None) -> None:
        super().__init__(False)


class enable_grad(_FixedGradMode):
    """Re-enable gradient recording inside a `no_grad` block.

    >>> import eager
    >>> x = eager.tensor([1.0], requires_grad=True)
    >>> with eager.no_grad():
    ...     with eager.enable_grad():
    ...         y = x * 2
    >>> y.requires_grad
    True
    """

    def __init__(self, fn=None) -> None:
        super().__init__(True)
