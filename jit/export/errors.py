"""The error every export step raises for a graph it cannot serve without Python.

>>> issubclass(ExportError, ValueError)
True
"""
from __future__ import annotations


class ExportError(ValueError):
    """A graph (or a node of it) that `jit.export` / `jit.export_onnx` cannot write: guards,
    write-backs, random or training-time ops, or an op without a C / ONNX counterpart.
    The message names the node and the user's source line."""


def node_text(node) -> str:
    """`'%3: f32[2,3] = matmul %1 %2' (at model.py:12: ...)` for error messages."""
    where = getattr(node, "where", "") or ""
    return f"node '{node}'" + (f" ({where})" if where else "")
