"""Array API dtype functions (finfo, iinfo, result_type, can_cast, isdtype) and
PyTorch's get_default_dtype / set_default_dtype.

>>> import eager
>>> eager.result_type(eager.ones(2, dtype=eager.int8), eager.float16)
dtype('float16')
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels.dtypes import (
    DTYPES,
    FLOATING,
    bfloat16,
    current_default_float,
    result_dtype,
    swap_default_float,
    to_dtype,
)
from kernels.errors import DTypeError

_KINDS = {"bool": "b", "signed integer": "i", "unsigned integer": "u", "integral": "iu",
          "real floating": "f", "complex floating": "c", "numeric": "iufc"}


@dataclass(frozen=True)
class FInfo:
    """Limits of a floating dtype, as Python floats (the Array API's finfo object), with
    numpy's `tiny` and `resolution` as well."""

    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    tiny: float
    resolution: float
    dtype: np.dtype


def finfo(dtype) -> FInfo:
    """Limits of a floating dtype (eps, max, min, smallest_normal, ... as Python floats);
    of a complex dtype, those of its real and imaginary parts (complex64: float32's), as
    the Array API says.

    >>> import eager
    >>> eager.finfo(eager.float32).eps, eager.finfo(eager.complex128).dtype
    (1.1920928955078125e-07, dtype('float64'))
    """
    resolved = to_dtype(getattr(dtype, "dtype", dtype))
    if resolved == bfloat16:
        import ml_dtypes  # numpy's finfo does not know the dtype ml_dtypes adds

        info = ml_dtypes.finfo(resolved)
    elif resolved.kind not in "fc":
        raise DTypeError(f"finfo: {resolved.name} is not a floating dtype; use iinfo")
    else:
        info = np.finfo(resolved)
    return FInfo(int(info.bits), float(info.eps), float(info.max), float(info.min),
                 float(info.smallest_normal), float(info.tiny), float(info.resolution),
                 np.dtype(info.dtype))


def iinfo(dtype) -> np.iinfo:
    """Limits of an integer dtype (min, max, bits).

    >>> import eager
    >>> eager.iinfo(eager.int8).max
    127
    """
    resolved = to_dtype(dtype)
    if resolved.kind not in "iu":
        raise DTypeError(f"iinfo: {resolved.name} is not an integer dtype; use finfo")
    return np.iinfo(resolved)


def result_type(*arrays_and_dtypes) -> np.dtype:
    """The dtype an op on these tensors, dtypes and Python numbers gives.

    >>> import eager
    >>> eager.result_type(eager.int64, 1.5)
    dtype('float32')
    """
    operands = []
    for x in arrays_and_dtypes:
        if isinstance(x, (bool, int, float, complex)):
            operands.append(x)
        else:
            operands.append(to_dtype(getattr(x, "dtype", x)))
    return result_dtype(*operands)


def can_cast(from_, to, /) -> bool:
    """Whether values of one dtype (or tensor) convert to another without loss.

    >>> import eager
    >>> eager.can_cast(eager.int8, eager.float32), eager.can_cast(eager.float32, eager.int8)
    (True, False)
    """
    return bool(np.can_cast(to_dtype(getattr(from_, "dtype", from_)), to_dtype(to), "safe"))


def isdtype(dtype, kind) -> bool:
    """Array API `isdtype`: is dtype one of kind ("bool", "integral", "real floating",
    "numeric", ...), a dtype, or a tuple of those?

    >>> import eager
    >>> eager.isdtype(eager.float16, "real floating"), eager.isdtype(eager.int8, "bool")
    (True, False)
    """
    dtype = to_dtype(dtype)
    if isinstance(kind, tuple):
        return any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str) and kind in _KINDS:
        return dtype.kind in _KINDS[kind]
    if isinstance(kind, str) and kind not in DTYPES:
        raise DTypeError(f"isdtype: unknown kind {kind!r}; use one of {sorted(_KINDS)}")
    return dtype == to_dtype(kind)


def get_default_dtype() -> np.dtype:
    """The floating dtype new tensors get from Python floats and `zeros`, `rand`, ...

    float32 unless `set_default_dtype` changed it in this thread.

    >>> import eager
    >>> eager.get_default_dtype()
    dtype('float32')
    """
    return current_default_float()


def set_default_dtype(dtype) -> None:
    """PyTorch's `torch.set_default_dtype`: the floating dtype that creation functions
    (`tensor` of Python floats, `zeros`, `rand`, `arange(0.5)`, ...), `nn` layers'
    parameters and Python float scalars with integer tensors give.

    The setting belongs to the calling thread (as grad mode does): other threads keep
    their own default. `@jit` keys its cache on it, so a function traced under one
    default never replays under another.

    >>> import eager
    >>> eager.set_default_dtype(eager.float64)
    >>> eager.zeros(2).dtype, eager.tensor([1.5]).dtype, (eager.arange(3) * 0.5).dtype
    (dtype('float64'), dtype('float64'), dtype('float64'))
    >>> eager.set_default_dtype(eager.float32)
    >>> eager.get_default_dtype()
    dtype('float32')
    """
    resolved = to_dtype(dtype)
    if resolved not in FLOATING:
        raise DTypeError(f"set_default_dtype: only floating dtypes can be the default, got "
                         f"{resolved.name}; use float32, float64, float16 or bfloat16")
    swap_default_float(resolved)
