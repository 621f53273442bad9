"""Named errors of eager.nn and eager.optim (each subclasses the matching builtin).

>>> import eager
>>> from eager import nn
>>> try:
...     nn.Dropout(1.5)
... except ValueError as exc:
...     type(exc).__name__
'ArgumentError'
"""
from kernels.errors import ArgumentError, EagerError

__all__ = ["ArgumentError", "MissingForwardError", "ModuleError", "StateDictError",
           "TargetError"]


class ModuleError(EagerError, TypeError):
    """A Module was given the wrong kind of object (a Tensor where a Parameter belongs,
    an attribute before `super().__init__()`, ...)."""


class MissingForwardError(EagerError, NotImplementedError):
    """A Module was called but its class defines no `forward` (often a misspelling)."""


class StateDictError(EagerError, KeyError):
    """`load_state_dict` got missing or unexpected keys."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class TargetError(EagerError, IndexError):
    """A class index in a loss target (or an embedding index) is out of range."""
