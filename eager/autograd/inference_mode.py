"""`inference_mode`: PyTorch's faster `no_grad` for evaluation; here the same as no_grad.

>>> import eager
>>> w = eager.tensor([1.0], requires_grad=True)
>>> with eager.inference_mode():
...     (w * 2).requires_grad
False
"""
from __future__ import annotations

import functools

from eager.autograd.grad_mode import set_grad_enabled


class inference_mode(set_grad_enabled):  # PyTorch's spelling
    """Context manager and decorator (with or without parentheses) that turns gradient
    recording off; `inference_mode(False)` leaves it as it is outside.

    >>> import eager
    >>> @eager.inference_mode
    ... def predict(x):
    ...     return x * 2
    >>> predict(eager.tensor([1.0], requires_grad=True)).requires_grad
    False
    """

    def __new__(cls, mode=True):
        if callable(mode):  # used bare, as `@eager.inference_mode`
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.inference = bool(mode)
        super().__init__(False)

    def __enter__(self) -> None:
        if self.inference:
            super().__enter__()

    def __exit__(self, *exc) -> None:
        if self.inference:
            super().__exit__(*exc)

    def __call__(self, fn):
        inference = self.inference

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(inference):
                return fn(*args, **kwargs)
        return wrapper
