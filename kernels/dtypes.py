"""Dtypes are numpy dtype objects; promotion is PyTorch's.

Tensors of one category (bool < integer < floating) promote as numpy and the Array API
do (int8 with int16 gives int16, float16 with float32 gives float32). Across categories
the higher category wins and keeps its own dtype: float32 with int64 gives float32, not
numpy's float64; int8 with bool gives int8. Python scalars are weak: a float scalar with
integer or bool tensors gives the default float dtype, an int scalar with bool tensors
the default int dtype, and otherwise they never change a tensor's dtype.

>>> result_dtype(int64, 2.5)
dtype('float32')
>>> result_dtype(float32, int64), result_dtype(float16, int32), result_dtype(int8, uint8)
(dtype('float32'), dtype('float16'), dtype('int16'))
"""
from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import numpy as np

from kernels.errors import DTypeError

bool_ = np.dtype("bool")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
uint16 = np.dtype("uint16")
uint32 = np.dtype("uint32")
uint64 = np.dtype("uint64")
float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")

try:
    import ml_dtypes
except ImportError:  # a dependency; should it be missing, bfloat16 is refused by name
    bfloat16 = None
else:
    bfloat16 = np.dtype(ml_dtypes.bfloat16)
"""bfloat16 from `ml_dtypes` (None when it is not installed): a floating dtype that numpy
computes with elementwise; fused C code does not take it, so jit runs those ops as arrays."""

complex64 = np.dtype("complex64")
complex128 = np.dtype("complex128")

_ALL = (bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, float32,
        float64, complex64, complex128)
DTYPES = {d.name: d for d in _ALL + (() if bfloat16 is None else (bfloat16,))}
DTYPES["bool"] = bool_

FLOATING = frozenset({float16, float32, float64} | ({bfloat16} - {None}))
"""The floating dtypes; `dtype in FLOATING` is the cheapest test on the dispatch path."""

COMPLEX = frozenset({complex64, complex128})
DIFFERENTIABLE = FLOATING | COMPLEX
"""The dtypes autograd follows (complex ones with PyTorch's conjugate-Wirtinger rule)."""

default_float = float32
default_int = int64
default_uint = uint64
default_complex = complex64

# `set_default_dtype` changes this context's floating default (float32 unless set), as
# grad mode is per context: a thread that sets float64 never changes another's results.
_default_float: ContextVar[np.dtype] = ContextVar("eager_default_float", default=float32)
current_default_float = _default_float.get
"""The floating dtype Python floats and float creation functions give in this context."""


def swap_default_float(dtype: np.dtype) -> np.dtype:
    """Make `dtype` this context's default floating dtype; return the previous one.

    >>> from kernels.dtypes import swap_default_float, current_default_float, float64
    >>> previous = swap_default_float(float64)
    >>> current_default_float(), swap_default_float(previous)
    (dtype('float64'), dtype('float64'))
    """
    previous = _default_float.get()
    _default_float.set(dtype)
    return previous


def is_floating(dtype: np.dtype) -> bool:
    """True for float16/32/64 and bfloat16.

    >>> from kernels.dtypes import is_floating, float16, int8
    >>> is_floating(float16), is_floating(int8)
    (True, False)
    """
    return dtype.kind == "f" or dtype in FLOATING


def is_complex(dtype: np.dtype) -> bool:
    """True for complex64 and complex128.

    >>> from kernels.dtypes import is_complex, complex64, float64
    >>> is_complex(complex64), is_complex(float64)
    (True, False)
    """
    return dtype.kind == "c"


def is_integer(dtype: np.dtype) -> bool:
    """True for signed and unsigned integer dtypes (not bool).

    >>> from kernels.dtypes import is_integer, uint8, bool_
    >>> is_integer(uint8), is_integer(bool_)
    (True, False)
    """
    return dtype.kind in "iu"


def sum_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype sums and products (also cumulative ones) of `dtype` accumulate in, as the
    Array API says: the default integer for bool and signed integers, uint64 for unsigned
    ones (PyTorch gives int64 there), else the dtype itself.

    >>> from kernels.dtypes import sum_dtype, uint8, int8, float16
    >>> sum_dtype(uint8), sum_dtype(int8), sum_dtype(float16)
    (dtype('uint64'), dtype('int64'), dtype('float16'))
    """
    if dtype.kind == "u":
        return default_uint
    return default_int if dtype.kind in "bi" else dtype


def to_dtype(dtype: Any) -> np.dtype:
    """Normalise a user's dtype spelling ("float32", np.float32, eager.float32, float).

    >>> from kernels.dtypes import to_dtype
    >>> to_dtype(float), to_dtype("int8")
    (dtype('float32'), dtype('int8'))
    """
    if dtype is float:
        return _default_float.get()
    if dtype is int:
        return default_int
    if dtype is bool:
        return bool_
    if dtype is complex:
        return default_complex
    if isinstance(dtype, str) and dtype == "bfloat16" and bfloat16 is None:
        raise DTypeError("dtype: bfloat16 needs the ml_dtypes package (pip install ml_dtypes)")
    try:
        if isinstance(dtype, np.ndarray):   # np.dtype would take the array's own dtype
            raise TypeError(dtype)
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise DTypeError(f"dtype: unknown dtype {dtype!r}; use one of {sorted(DTYPES)}") from exc
    if resolved.name not in DTYPES:
        raise DTypeError(f"dtype: unsupported dtype {resolved.name}; use one of "
                         f"{sorted(DTYPES)}")
    return resolved


def scalar_kind(value: Any) -> str:
    """'b', 'i', 'f', 'c' for Python bool/int/float/complex (the weak scalar kinds).

    >>> from kernels.dtypes import scalar_kind
    >>> scalar_kind(True), scalar_kind(3), scalar_kind(0.5), scalar_kind(1j)
    ('b', 'i', 'f', 'c')
    """
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int):
        return "i"
    if isinstance(value, complex):
        return "c"
    return "f"


# Complex shares the floating category: float64 with complex64 meets at complex128, as
# the Array API says; "V" is bfloat16, the only void dtype.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 2}
_COMPLEX_OF = {float16: complex64, float32: complex64, float64: complex128}


def _promote_integers(dtypes: list[np.dtype]) -> None:
    """Refuse uint64 with a signed integer: the Array API leaves the pair without a
    result (no integer dtype holds both ranges), where numpy would answer float64."""
    if uint64 in dtypes and any(d.kind == "i" for d in dtypes):
        signed = next(d for d in dtypes if d.kind == "i")
        raise DTypeError(f"result_type: uint64 and {signed.name} have no common dtype in the "
                         "Array API (numpy's float64 would lose integers above 2**53); cast "
                         "one operand first")


def _complex_for(dtype: np.dtype) -> np.dtype:
    return _COMPLEX_OF.get(dtype, complex64) if dtype.kind != "c" else dtype


def current_default_complex() -> np.dtype:
    """The complex dtype that goes with this thread's default float (complex128 with
    float64, else complex64), as PyTorch pairs them."""
    return _complex_for(_default_float.get())


def result_dtype(*operands: Any) -> np.dtype:
    """Promote tensor dtypes and weak Python scalars with PyTorch's category rule.

    Only the tensors of the highest category take part in numpy's promotion, so a float
    tensor with an integer tensor keeps the float dtype (and a complex one its complex
    dtype; floating and complex promote together, float64 with complex64 giving
    complex128). A float scalar with integer/bool tensors gives the default float dtype,
    an int scalar with bool tensors the default int, a complex scalar the complex dtype
    of the tensor's precision (complex64 for integer tensors). uint64 with a signed
    integer dtype raises DTypeError.

    >>> from kernels.dtypes import result_dtype, float32, float64, int64, bool_, complex64
    >>> result_dtype(float32, int64), result_dtype(bool_, 1), result_dtype(int64, float32, 0.5)
    (dtype('float32'), dtype('int64'), dtype('float32'))
    >>> result_dtype(float64, complex64), result_dtype(float64, 1j), result_dtype(int64, 1j)
    (dtype('complex128'), dtype('complex128'), dtype('complex64'))
    """
    dtypes = [o for o in operands if isinstance(o, np.dtype)]
    scalars = [o for o in operands if not isinstance(o, np.dtype)]
    if dtypes:
        top = max(_CATEGORY[d.kind] for d in dtypes)
        dtypes = [d for d in dtypes if _CATEGORY[d.kind] == top]
        if top == 1:
            _promote_integers(dtypes)
        if bfloat16 in dtypes and (float16 in dtypes or complex64 in dtypes
                                   or complex128 in dtypes):
            # Neither holds the other: PyTorch meets them at float32.
            dtypes = [float32 if d in (bfloat16, float16) else d for d in dtypes]
    result = np.result_type(*dtypes) if dtypes else None
    for s in scalars:
        kind = scalar_kind(s)
        if result is None:
            result = {"b": bool_, "i": default_int, "f": _default_float.get(),
                      "c": current_default_complex()}[kind]
        elif kind == "c" and result.kind != "c":
            result = _complex_for(result if result.kind == "f" else _default_float.get())
        elif kind == "f" and result.kind in "biu":
            result = _default_float.get()
        elif kind == "i" and result.kind == "b":
            result = default_int
    return result
