"""Named errors of the tracer, each subclassing the builtin it refines.

>>> issubclass(GuardFailure, RuntimeError), issubclass(SignatureError, TypeError)
(True, True)
"""
from __future__ import annotations

from eager.autograd.picture import GraphvizNotFound

__all__ = ["GraphError", "GraphvizNotFound", "GuardFailure", "SignatureError", "TraceError"]


class GraphError(ValueError):
    """A Graph is malformed (raised by `Graph.verify`)."""


class TraceError(RuntimeError):
    """The traced function did something the tracer cannot record faithfully."""


class GuardFailure(RuntimeError):
    """A replay's data differs from a host read made while tracing (`if t > 0:`, `t.item()`,
    a data-dependent shape, a `.grad` that was None): the Python code might take another
    path, so the graph must not be used for these inputs (the jit falls back and retraces).
    """


class SignatureError(TypeError):
    """A replay got arguments that do not match the traced signature (count, nesting,
    shape, dtype, device, requires_grad or a static value)."""
