"""Named errors of the tracer, each subclassing the builtin it refines.

>>> issubclass(GuardFailure, RuntimeError), issubclass(SignatureError, TypeError)
(True, True)
"""
from __future__ import annotations

from typing import Any

from eager.autograd.picture import GraphvizNotFound

__all__ = ["GraphError", "GraphvizNotFound", "GuardFailure", "SignatureError", "TraceError"]


class GraphError(ValueError):
    """A Graph is malformed (raised by `Graph.verify`)."""


class TraceError(RuntimeError):
    """The traced function did something the tracer cannot record faithfully."""


class GuardFailure(RuntimeError):
    """A replay's data differs from a host read made while tracing (`if t > 0:`, `t.item()`,
    a data-dependent shape, a `.grad` that was None, a bound tensor whose type changed): the
    Python code might take another path, so the graph must not be used for these inputs (the
    jit falls back and retraces).

    Structured: `guard` is the `tracer.Guard` that failed (its `value`, `kind`, `expected`
    and `where`, the user's source line) and `actual` what the replay found instead. The
    message is formatted from those fields; `reason` is the same without the actual value,
    one line for `cache_info().reasons`.

    >>> from types import SimpleNamespace as G
    >>> guard = G(value="%3", kind="bool", expected=True, where="f.py:2  if x > 0:")
    >>> failure = GuardFailure(guard, False)
    >>> failure.kind, failure.expected, failure.actual, failure.where
    ('bool', True, False, 'f.py:2  if x > 0:')
    >>> failure.reason
    'guard failed: bool(%3) == True while tracing (f.py:2  if x > 0:)'
    """

    def __init__(self, guard: Any, actual: Any) -> None:
        self.guard = guard
        self.actual = actual
        super().__init__(guard, actual)

    @property
    def kind(self) -> str:
        """The guard's kind: "bool", "item", "tolist", "numpy", "shape", "grad_defined",
        "type" (a bound tensor's type) or "grad_type" (a `.grad` slot's type)."""
        return self.guard.kind

    @property
    def expected(self) -> Any:
        """What the trace saw."""
        return self.guard.expected

    @property
    def where(self) -> str:
        """The user's source line of the host read (or the bound tensor's label)."""
        return self.guard.where

    @property
    def reason(self) -> str:
        """Why a retrace happens, without the replay's value."""
        return f"guard failed: {_read(self.guard)} while tracing ({self.where or 'unknown line'})"

    def __str__(self) -> str:
        guard, kind = self.guard, self.guard.kind
        if kind == "grad_defined":
            was = "held a tensor" if guard.expected else "was None"
            now = "holds a tensor" if self.actual else "is None"
            return (f"guard failed: {guard.value.label or repr(guard.value)}.grad {was} while "
                    f"tracing but {now} now ({guard.where}); run eagerly or retrace")
        if kind == "type":
            site = f" ({guard.where})" if guard.where else ""
            return (f"guard failed: a bound tensor was {guard.expected} while tracing but is "
                    f"{self.actual} now{site}; retrace the function")
        if kind == "grad_type":
            return (f"guard failed: {guard.where} was {guard.expected} while tracing but is "
                    f"{self.actual} now; retrace the function")
        return (f"guard failed: {_read(guard)} while tracing, but it is {_clip(self.actual, 60)}"
                f" now; the Python code read this value ({guard.where or 'unknown line'}) and "
                "may take another path: run eagerly or retrace")


def _clip(x: Any, width: int) -> str:
    text = repr(x.tolist() if hasattr(x, "tolist") else x)
    return text if len(text) < width else text[:width - 3] + "..."


def _read(guard: Any) -> str:
    """`bool(%3) == True`: the host read and what it gave while tracing."""
    return f"{guard.kind}({guard.value}) == {_clip(guard.expected, 40)}"


class SignatureError(TypeError):
    """A replay got arguments that do not match the traced signature (count, nesting,
    shape, dtype, device, requires_grad or a static value)."""
