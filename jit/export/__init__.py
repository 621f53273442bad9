"""Deploy a traced model without Python: standalone C (`export`, `load_exported`) and
ONNX (`export_onnx`). Both serve the graph `@jit` would optimize, with weights frozen."""
from jit.export.c_export import export
from jit.export.errors import ExportError
from jit.export.loader import load_exported
from jit.export.onnx_export import export_onnx

__all__ = ["ExportError", "export", "export_onnx", "load_exported"]
