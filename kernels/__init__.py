"""The primitive op set: each op defined once, run by eager, graph replay and codegen.

>>> from kernels import OPS
>>> OPS["add"].kind
'binary'
"""
from kernels.backend import array_namespace_for, cupy_available, default_device
from kernels.dtypes import (
    DTYPES,
    bool_,
    default_float,
    default_int,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    is_floating,
    is_integer,
    result_dtype,
    to_dtype,
    uint8,
)
from kernels.errors import AutogradError, DeviceError, DTypeError, EagerError, ShapeError
from kernels.opdef import OPS, KernelError, OpDef, TensorSpec

from kernels import (  # noqa: F401,E402  (importing registers the ops)
    elementwise, indexing, linalg, movement, ordering, random, reductions, sources,
)

__all__ = [
    "OPS", "OpDef", "EagerError", "ShapeError", "DTypeError", "DeviceError",
    "AutogradError", "TensorSpec", "KernelError", "DTYPES", "array_namespace_for",
    "cupy_available", "default_device", "bool_", "int8", "int16", "int32", "int64",
    "uint8", "float16", "float32", "float64", "default_float", "default_int",
    "is_floating", "is_integer", "result_dtype", "to_dtype",
]
