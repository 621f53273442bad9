"""Deploy a traced model without Python: standalone C (`export`, `load_exported`) and
ONNX (`export_onnx`). Both serve the graph `@jit` would optimize, with weights frozen.

>>> import eager, os, tempfile
>>> from eager import nn
>>> out = export(nn.Linear(4, 2), (eager.ones(1, 4, device="cpu"),), tempfile.mkdtemp())
>>> "#define MODEL_INPUT0_SHAPE {1, 4}" in open(os.path.join(out, "model.h")).read()
True
"""
from jit.export.c_export import export
from jit.export.errors import ExportError
from jit.export.loader import load_exported
from jit.export.onnx_export import export_onnx

__all__ = ["ExportError", "export", "export_onnx", "load_exported"]
