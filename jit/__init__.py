"""jit: record one eager run of a function, optimize the graph, compile fused kernels,
cache by input signature and replay.

`jit` is both this package and its decorator, and the decorator carries the package's
names as attributes, so `import jit; @jit.jit` and `from jit import jit; jit.disabled()`
both work.

>>> import eager
>>> from jit import jit
>>> step = jit(lambda x: (x * x).sum())
>>> step(eager.tensor([1., 2.])).item(), step(eager.tensor([3., 4.])).item()
(5.0, 25.0)
"""
from jit.api import CacheInfo, JitCheckError, JitFunction, disabled, jit, jit_enabled
from jit.export import ExportError, export, export_onnx, load_exported
from jit.script import ScriptError, script
from jit.signature_key import UnhashableArgument

for _name in ("jit", "disabled", "script", "ScriptError", "export", "load_exported",
              "export_onnx", "ExportError"):
    setattr(jit, _name, globals()[_name])
del _name

__all__ = ["CacheInfo", "ExportError", "JitCheckError", "JitFunction", "ScriptError",
           "UnhashableArgument", "disabled", "export", "export_onnx", "jit", "jit_enabled",
           "load_exported", "script"]
