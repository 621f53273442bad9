"""Deploy a traced model without Python: standalone C (`export`, `load_exported`) and
ONNX (`export_onnx`). Both serve the graph `@jit` would optimize, with weights frozen.

>>> import eager, tempfile
>>> from eager import nn
>>> layer = nn.Linear(4, 2)
>>> out = export(layer, (eager.ones(1, 4, device="cpu"),), tempfile.mkdtemp())
>>> run = load_exported(out)                     # builds libmodel.so with make
>>> bool(abs(run(eager.ones(1, 4)) - layer(eager.ones(1, 4))).max() < 1e-6)
True
"""
from jit.export.c_export import export
from jit.export.errors import ExportError
from jit.export.loader import load_exported
from jit.export.onnx_export import export_onnx

__all__ = ["ExportError", "export", "export_onnx", "load_exported"]
