"""`jit.script`: compile Python source, data-dependent control flow included, to one Graph
with `If`/`While` nodes that runs as one C call when every op has a C kernel.
`read_slot` / `write_slot` address a buffer's first axis by a tensor, inside loops too.

>>> import eager
>>> @script
... def newton_sqrt(x):
...     y = x
...     while ((y * y - x).abs() > 1e-5 * x).any():
...         y = 0.5 * (y + x / y)
...     return y
>>> [round(v, 4) for v in newton_sqrt(eager.tensor([4., 2.])).tolist()]
[2.0, 1.4142]
"""
from jit.script.errors import ScriptError
from jit.script.function import ScriptFunction, ScriptModule, script
from jit.script.slots import read_slot, write_slot

__all__ = ["ScriptError", "ScriptFunction", "ScriptModule", "read_slot", "script",
           "write_slot"]
