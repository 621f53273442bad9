"""PyTorch's typed constructors and tensor queries: `eager.Tensor(data)`,
`eager.FloatTensor`, `eager.LongTensor`, ..., `eager.is_tensor`, `eager.numel`.

`Tensor(...)` and each `*Tensor(...)` take data (a list, nested sequence, numpy array or
tensor) or sizes (ints, or one shape tuple); sizes give a zero-filled tensor (torch leaves
it uninitialised). `Tensor` makes float32, as `torch.Tensor` does.

>>> import eager
>>> eager.Tensor([1, 2]), eager.LongTensor([1.7, 2]), eager.FloatTensor(2, 3).shape
(tensor([1., 2.]), tensor([1, 2]), (2, 3))
>>> isinstance(eager.ones(1), eager.FloatTensor), isinstance(eager.ones(1), eager.LongTensor)
(True, False)
"""
from __future__ import annotations

import numpy as np

from kernels.dtypes import (
    bfloat16,
    bool_,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from kernels.errors import DTypeError

__all__ = ["BFloat16Tensor", "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor",
           "FloatTensor", "HalfTensor", "IntTensor", "LongTensor", "ShortTensor",
           "new_typed"]


def new_typed(dtype: np.dtype, args: tuple, kwargs: dict, name: str):
    """The tensor `name(*args, **kwargs)` makes, for a constructor of `dtype`.

    >>> new_typed(float32, ([1, 2],), {}, "Tensor").dtype
    dtype('float32')
    """
    from eager.creation import tensor, zeros
    from eager.tensor import Tensor

    device = kwargs.pop("device", None)
    if kwargs:
        raise DTypeError(f"{name}: unexpected keyword arguments {sorted(kwargs)}; use "
                         f"eager.tensor(data, dtype=..., requires_grad=...) for more options")
    if len(args) == 1 and isinstance(args[0], tuple) and all(type(n) is int for n in args[0]):
        args = args[0]   # eager.FloatTensor((2, 3)) or a tensor's .shape
    if all(type(n) is int for n in args):
        return zeros(*args, dtype=dtype, device=device) if args else \
            zeros(0, dtype=dtype, device=device)
    if len(args) != 1:
        raise DTypeError(f"{name}: expected data (a list, array or tensor) or sizes (ints), "
                         f"got {len(args)} arguments of types "
                         f"{[type(a).__name__ for a in args]}")
    (data,) = args
    if isinstance(data, Tensor):
        out = data if data.dtype == dtype else data.to(dtype)
        return out if device is None else out.to(device)
    array = np.asarray(data)
    if array.dtype.kind not in "biuf":
        raise DTypeError(f"{name}: cannot make a tensor from {type(data).__name__} data of "
                         f"numpy dtype {array.dtype}")
    return tensor(array.astype(dtype), device=device)


class _TypedMeta(type):
    """`isinstance(x, eager.FloatTensor)`: a Tensor of that dtype (there is one Tensor
    class; the typed names are constructors and dtype checks)."""

    def __instancecheck__(cls, obj) -> bool:
        from eager.tensor import Tensor

        return type(obj) is Tensor and cls.dtype is not None and obj.dtype == cls.dtype


def _constructor(dtype: np.dtype | None, name: str) -> type:
    def construct(cls, *args, **kwargs):
        if dtype is None:
            raise DTypeError(f"{name}: bfloat16 needs the ml_dtypes package "
                             "(pip install ml_dtypes)")
        return new_typed(dtype, args, dict(kwargs), name)
    doc = (f"A {getattr(dtype, 'name', 'bfloat16')} tensor from data or sizes (PyTorch's "
           f"torch.{name}); `isinstance(x, {name})` checks the dtype.")
    return _TypedMeta(name, (), {"__new__": construct, "__doc__": doc, "dtype": dtype,
                                 "__module__": __name__})


FloatTensor = _constructor(float32, "FloatTensor")
DoubleTensor = _constructor(float64, "DoubleTensor")
HalfTensor = _constructor(float16, "HalfTensor")
BFloat16Tensor = _constructor(bfloat16, "BFloat16Tensor")
LongTensor = _constructor(int64, "LongTensor")
IntTensor = _constructor(int32, "IntTensor")
ShortTensor = _constructor(int16, "ShortTensor")
CharTensor = _constructor(int8, "CharTensor")
ByteTensor = _constructor(uint8, "ByteTensor")
BoolTensor = _constructor(bool_, "BoolTensor")
