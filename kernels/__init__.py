"""The primitive op set: each op defined once, run by eager, graph replay and codegen.

>>> from kernels import OPS
>>> OPS.add.kind
<OpKind.BINARY: 'binary'>
"""
from kernels import (  # noqa: F401  (importing registers the ops)
    activations,
    bitwise,
    collectives,
    decompositions,
    elementwise,
    indexing,
    linalg,
    movement,
    normalization,
    ordering,
    pooling,
    random,
    reductions,
    softmax,
    sources,
    special,
    windows,
)
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
from kernels.opdef import OPS, GroupOp, KernelError, OpDef, OpKind, Rest, TensorSpec

__all__ = [
    "DTYPES",
    "OPS",
    "AutogradError",
    "DTypeError",
    "DeviceError",
    "EagerError",
    "GroupOp",
    "KernelError",
    "OpDef",
    "OpKind",
    "Rest",
    "ShapeError",
    "TensorSpec",
    "array_namespace_for",
    "bool_",
    "cupy_available",
    "default_device",
    "default_float",
    "default_int",
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_floating",
    "is_integer",
    "result_dtype",
    "to_dtype",
    "uint8",
]
