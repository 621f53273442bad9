"""`eager.onnx`: present so that `import torch.onnx` in a ported program succeeds.

This library has no ONNX exporter; `export` says so and names the exporter it does have
(`jit.export`, a standalone C runtime). Programs that import `torch.onnx` but only export
behind a command-line flag therefore run unchanged.

>>> import eager
>>> eager.onnx.export(None, (), "model.onnx")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
eager.onnx.OnnxExportError: onnx.export: eager has no ONNX exporter (asked to write 'model.onnx'); ...
"""
from __future__ import annotations

from typing import Any

from kernels.errors import EagerError

__all__ = ["OnnxExportError", "export", "is_in_onnx_export"]


class OnnxExportError(EagerError, RuntimeError):
    """`eager.onnx.export` was called: there is no ONNX exporter."""


def is_in_onnx_export() -> bool:
    """False: an ONNX export is never under way here (torch's query, for models that ask).

    >>> import eager
    >>> eager.onnx.is_in_onnx_export()
    False
    """
    return False


def export(model: Any, args: Any, f: Any, *more: Any, **options: Any) -> None:
    """Raise `OnnxExportError`: eager cannot write ONNX files (see the module docstring)."""
    raise OnnxExportError(f"onnx.export: eager has no ONNX exporter (asked to write {f!r}); "
                          "export a jitted function for the C runtime with jit.export instead")
