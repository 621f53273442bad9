"""Deploy a traced model without Python: standalone C (`export`, `load_exported`) and
ONNX (`export_onnx`). Both serve the graph `@jit` would optimize, with weights frozen."""
from jit.export.c_export import export
from jit.export.errors import ExportError

__all__ = ["ExportError", "export"]
