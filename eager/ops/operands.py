"""Turning user operands into Tensors/scalars and applying the weak-scalar promotion rules."""
from __future__ import annotations

from typing import Any

import numpy as np

from eager.dispatch import apply
from eager.tensor import Tensor
from kernels import OPS, default_int, result_dtype
from kernels.dtypes import FLOATING, bfloat16, current_default_float, float16, float32
from kernels.errors import DTypeError

_cast = OPS["cast"]
_SCALARS = (bool, int, float, complex)


def as_operand(x: Any, like: Tensor | None = None, op: str = "operand"):
    """A Tensor or a Python scalar; lists and numpy arrays become constant Tensors on the
    device of `like`. `op` names the operation in the error for anything else."""
    if type(x) is Tensor or type(x) in _SCALARS:
        return x
    if isinstance(x, (Tensor, _SCALARS)):
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (list, tuple, np.ndarray)):
        from eager.creation import asarray

        return asarray(x, device=None if like is None else like._device)
    raise DTypeError(f"{op}: unsupported operand of type {type(x).__name__}; expected a "
                     "Tensor, a Python number, a list or a numpy array")


def cast(x: Tensor, dtype: np.dtype) -> Tensor:
    """x converted to dtype (a new tensor; the same tensor when the dtype already matches)."""
    if x._data.dtype == dtype:
        return x
    return apply(_cast, x, dtype=dtype)


def _kind(x) -> str:
    if type(x) is Tensor:
        dtype = x._data.dtype
        return "f" if dtype in FLOATING else dtype.kind  # bfloat16's numpy kind is "V"
    if type(x) is bool:
        return "B"
    return "I" if type(x) is int else "F"


def _mixes_bfloat16(operands) -> bool:
    """bfloat16 with float16: numpy's where has no common type (PyTorch meets at float32)."""
    dtypes = {x._data.dtype for x in operands if type(x) is Tensor}
    return bfloat16 in dtypes and float16 in dtypes


def promote(op_kinds: str | None, *operands):
    """Apply PyTorch-style promotion that numpy does not: a float tensor with integer or
    bool tensors keeps the float dtype (the category rule of `kernels.dtypes`), and a
    Python float with integer tensors, or integer inputs to float-only ops (div, exp, ...),
    use the default float dtype. Returns the operands, cast where needed.

    >>> import eager
    >>> [x.dtype.name for x in promote(None, eager.ones(2), eager.ones(2, dtype=eager.int64))]
    ['float32', 'float32']
    """
    kinds = [_kind(x) for x in operands]
    tensor_kinds = [k for k in kinds if k in "biufc"]
    # Complex shares the floating category (kernels.dtypes.result_dtype).
    has_float_tensor = "f" in tensor_kinds or "c" in tensor_kinds
    wants_float = ("F" in kinds or op_kinds == "f") and not has_float_tensor
    if has_float_tensor and (any(k in "biu" for k in tensor_kinds) or _mixes_bfloat16(operands)):
        # numpy would widen float32 with int64 to float64; the float operand's dtype wins.
        target = result_dtype(*(x._data.dtype for x in operands if type(x) is Tensor))
        return tuple(cast(x, target) if type(x) is Tensor and (
            _kind(x) in "biu" or target == float32) else x for x in operands)
    if "u" in tensor_kinds and "i" in tensor_kinds:
        result_dtype(*(x._data.dtype for x in operands if type(x) is Tensor))  # uint64 raises
    if not wants_float:
        if "I" in kinds and tensor_kinds and all(k == "b" for k in tensor_kinds):
            return tuple(cast(x, default_int) if type(x) is Tensor else x for x in operands)
        return operands
    return tuple(cast(x, current_default_float()) if type(x) is Tensor else x for x in operands)
