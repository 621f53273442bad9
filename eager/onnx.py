"""`eager.onnx`: present so that `import torch.onnx` in a ported program succeeds.

The ONNX exporter lives in the jit layer (`jit.export_onnx(model, example_args, path)`,
which traces the model first; eager cannot import it without inverting the layering), so
`export` raises and names it. Programs that import `torch.onnx` but only export behind a
command-line flag therefore run unchanged.

>>> import eager
>>> eager.onnx.export(None, (), "model.onnx")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
eager.onnx.OnnxExportError: onnx.export: call jit.export_onnx(model, example_args, 'model.onnx') ...
"""
from __future__ import annotations

from typing import Any

from kernels.errors import EagerError

__all__ = ["OnnxExportError", "export", "is_in_onnx_export"]


class OnnxExportError(EagerError, RuntimeError):
    """`eager.onnx.export` was called: the exporter is `jit.export_onnx`."""


def is_in_onnx_export() -> bool:
    """False: an ONNX export is never under way here (torch's query, for models that ask).

    >>> import eager
    >>> eager.onnx.is_in_onnx_export()
    False
    """
    return False


def export(model: Any, args: Any, f: Any, *more: Any, **options: Any) -> None:
    """Raise `OnnxExportError` naming `jit.export_onnx` (see the module docstring)."""
    raise OnnxExportError(f"onnx.export: call jit.export_onnx(model, example_args, {f!r}) "
                          "instead: it traces the model and writes the ONNX file (opset 17)")
