"""Creating tensors: tensor, asarray, zeros, ones, full, empty, *_like, arange, linspace, eye.

>>> import eager
>>> eager.tensor([[1., 2.], [3., 4.]]).shape
(2, 2)
>>> eager.arange(3).tolist(), eager.zeros(2, 3).shape
([0, 1, 2], (2, 3))
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from eager import arguments
from eager.device import check_device, get_default_device
from eager.dispatch import apply, get_hook
from eager.tensor import Tensor, wrap
from kernels import OPS, array_namespace_for, default_int, to_dtype
from kernels.backend import device_of_array
from kernels.dtypes import DTYPES, current_default_complex, current_default_float
from kernels.errors import ArgumentError, DTypeError, EagerError, ShapeError


def _device(device) -> str:
    return get_default_device() if device is None else check_device(device)


def _infer_dtype(data: Any, dtype) -> np.dtype | None:
    if dtype is not None:
        return to_dtype(dtype)
    if isinstance(data, (np.ndarray, np.generic)) or hasattr(data, "__cuda_array_interface__"):
        return None
    flat = np.asarray(data)
    if flat.dtype.kind == "f":
        return current_default_float()
    if flat.dtype.kind in "iu":
        return default_int
    if flat.dtype.kind == "c":
        return current_default_complex()
    if flat.dtype.kind == "b":
        return None
    raise DTypeError(f"tensor: cannot make a tensor from data of type {flat.dtype} "
                     f"({type(data).__name__})")


def from_array(array, device: str) -> Tensor:
    """Wrap a backend array as a new constant tensor and tell the tracer about it."""
    out = wrap(array, device)
    hook = get_hook()
    if hook is not None:
        hook.constant(out)
    return out


def tensor(data: Any, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of data (nested lists, numbers, numpy arrays, Tensors).

    Floats default to float32 and integers to int64, as in PyTorch.

    >>> import eager
    >>> eager.tensor([[1, 2], [3, 4]]).dtype
    dtype('int64')
    >>> eager.tensor([1.5], dtype=eager.float64)
    tensor([1.5000], dtype=eager.float64)
    """
    if isinstance(data, Tensor):
        data = data.detach()
        out = data.to(device or data.device).astype(to_dtype(dtype) if dtype else data.dtype,
                                                    copy=True)
        return out.requires_grad_() if requires_grad else out
    on_gpu = hasattr(data, "__cuda_array_interface__")
    device = _device("cuda" if device is None and on_gpu else device)
    if on_gpu and device == "cpu":
        data = data.get()
    xp = array_namespace_for(device)
    try:
        dt = _infer_dtype(data, dtype)
        array = xp.array(data, dtype=dt)
    except EagerError:
        raise
    except ValueError as exc:  # ragged nested lists, strings that are not numbers
        raise ShapeError(f"tensor: cannot make a tensor from this {type(data).__name__} "
                         f"({exc})") from None
    except OverflowError as exc:  # tensor([300], dtype=int8)
        raise ArgumentError(f"tensor: a value does not fit the dtype ({exc})") from None
    if array.dtype.name not in DTYPES:
        raise DTypeError(f"tensor: unsupported dtype {array.dtype}")
    out = from_array(array, device)
    return out.requires_grad_() if requires_grad else out


def asarray(obj: Any, /, *, dtype=None, device=None, copy: bool | None = None) -> Tensor:
    """Array API `asarray`: Tensors pass through (converted if needed), other data is
    copied into a new tensor; numpy arrays keep their dtype.

    >>> import eager
    >>> eager.asarray([1.0, 2.0]).tolist()
    [1.0, 2.0]
    """
    if isinstance(obj, Tensor):
        out = obj if device is None else obj.to(device)
        if dtype is not None:
            out = out.astype(to_dtype(dtype), copy=bool(copy))
        elif copy:
            out = out.clone()
        return out
    if device is None and hasattr(obj, "__cuda_array_interface__"):
        device = "cuda"
    if device is None and isinstance(obj, (np.ndarray, np.generic)):
        device = get_default_device()
    return tensor(obj, dtype=dtype, device=device)


def _shape(op: str, shape) -> tuple[int, ...]:
    # Negative sizes are left to the `full` kernel's shape rule (its ShapeError).
    return arguments.shape(op, shape, minimum=-(2 ** 63))


def _or(value, default):
    # `value or default` would ask a numpy array passed by mistake for its truth value
    return default if value is None else value


def _default_fill_dtype(fill_value) -> np.dtype:
    if isinstance(fill_value, (bool, np.bool_)):
        return np.dtype(bool)
    if isinstance(fill_value, numbers.Integral):
        return default_int
    if isinstance(fill_value, numbers.Real):
        return current_default_float()
    return current_default_complex()


def full(shape, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of the given shape filled with fill_value.

    >>> import eager
    >>> eager.full((2,), 7)
    tensor([7, 7])
    """
    shape = _shape("full", shape)
    dtype = to_dtype(_default_fill_dtype(fill_value) if dtype is None else dtype)
    fill_value = arguments.fill_value("full", fill_value, dtype)
    out = apply(OPS["full"], shape=shape, value=fill_value, dtype=dtype,
                device=_device(device))
    return out.requires_grad_() if requires_grad else out


def zeros(shape=(), *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: `zeros(2, 3)`, `zeros((2, 3))` or `zeros(shape=(2, 3))`.

    >>> import eager
    >>> eager.zeros(2, 3).shape
    (2, 3)
    """
    return full(_shape("zeros", (shape, *size)), 0, dtype=_or(dtype, current_default_float()),
                device=device, requires_grad=requires_grad)


def ones(shape=(), *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones.

    >>> import eager
    >>> eager.ones(2, dtype=eager.int8)
    tensor([1, 1], dtype=eager.int8)
    """
    return full(_shape("ones", (shape, *size)), 1, dtype=_or(dtype, current_default_float()),
                device=device, requires_grad=requires_grad)


def empty(shape=(), *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor whose contents are unspecified (here: zeros).

    >>> import eager
    >>> eager.empty(2).shape
    (2,)
    """
    return zeros(_shape("empty", (shape, *size)), dtype=dtype, device=device,
                 requires_grad=requires_grad)


def full_like(x: Tensor, /, fill_value, *, dtype=None, device=None,
              requires_grad: bool = False) -> Tensor:
    """Like full, with x's shape, dtype and device by default.

    >>> import eager
    >>> eager.full_like(eager.zeros(2, dtype=eager.int32), 5)
    tensor([5, 5], dtype=eager.int32)
    """
    arguments.tensor("full_like", "x", x)
    return full(x.shape, fill_value, dtype=_or(dtype, x.dtype), device=_or(device, x.device),
                requires_grad=requires_grad)


def zeros_like(x: Tensor, /, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros with x's shape, dtype and device.

    >>> import eager
    >>> eager.zeros_like(eager.ones(2))
    tensor([0., 0.])
    """
    arguments.tensor("zeros_like", "x", x)
    return full_like(x, 0, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(x: Tensor, /, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones with x's shape, dtype and device.

    >>> import eager
    >>> eager.ones_like(eager.zeros(2))
    tensor([1., 1.])
    """
    arguments.tensor("ones_like", "x", x)
    return full_like(x, 1, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(x: Tensor, /, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor like x with unspecified contents (here: zeros).

    >>> import eager
    >>> eager.empty_like(eager.ones(1, 3)).shape
    (1, 3)
    """
    arguments.tensor("empty_like", "x", x)
    return full_like(x, 0, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(start, /, stop=None, step=1, *, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop): `arange(5)`, `arange(1, 2, 0.25)`.

    >>> import eager
    >>> eager.arange(4)
    tensor([0, 1, 2, 3])
    >>> eager.arange(0.0, 1.0, 0.5)
    tensor([0.0000, 0.5000])
    """
    if stop is None:
        start, stop = 0, start
    _check_arange(start, stop, step)
    if dtype is None:
        dtype = default_int if all(isinstance(v, int) for v in (start, stop, step)) \
            else current_default_float()
    out = apply(OPS["arange"], start=start, stop=stop, step=step, dtype=to_dtype(dtype),
                device=_device(device))
    return out.requires_grad_() if requires_grad else out


def _check_arange(start, stop, step) -> None:
    lo, hi, by = (arguments.real("arange", name, v)
                  for name, v in (("start", start), ("end", stop), ("step", step)))
    if by and (hi - lo) / by >= 2 ** 63:
        raise ArgumentError(f"arange: start {start}, end {stop} and step {step} give too "
                            "many elements")


def linspace(start, stop, /, num: int, *, dtype=None, device=None, endpoint: bool = True):
    """num evenly spaced values from start to stop (inclusive when endpoint).

    >>> import eager
    >>> eager.linspace(0, 1, 3)
    tensor([0.0000, 0.5000, 1.0000])
    """
    num = arguments.integer("linspace", "num", num, minimum=0)
    start = arguments.real("linspace", "start", start)
    stop = arguments.real("linspace", "stop", stop)
    dtype = to_dtype(dtype) if dtype else current_default_float()
    divisions = (num - 1) if endpoint else num
    step = (stop - start) / divisions if divisions > 0 else 0.0
    values = arange(num, dtype=np.float64, device=device) * step + start
    if endpoint and num > 1:
        values[num - 1] = stop
    return values.astype(dtype, copy=False)


def eye(n_rows: int, n_cols: int | None = None, /, *, k: int = 0, dtype=None,
        device=None) -> Tensor:
    """Identity-like matrix with ones on diagonal k.

    >>> import eager
    >>> eager.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    n_rows = arguments.integer("eye", "n_rows", n_rows, minimum=0)
    n_cols = n_rows if n_cols is None else arguments.integer("eye", "n_cols", n_cols, minimum=0)
    # Any int k is fine: one beyond the matrix leaves it all zeros, and clamping keeps
    # rows + k in int64.
    k = max(-n_rows, min(n_cols, arguments.integer("eye", "k", k, limit=math.inf)))
    rows = arange(n_rows, device=device).reshape(n_rows, 1)
    cols = arange(n_cols, device=device).reshape(1, n_cols)
    dtype = to_dtype(dtype) if dtype else current_default_float()
    return (rows + k == cols).astype(dtype, copy=False)


def from_numpy(array: np.ndarray) -> Tensor:
    """A cpu tensor sharing memory with a numpy array.

    >>> import eager
    >>> import numpy as np
    >>> eager.from_numpy(np.arange(3)).tolist()
    [0, 1, 2]
    """
    if not isinstance(array, np.ndarray) and not hasattr(array, "__cuda_array_interface__"):
        raise ArgumentError(f"from_numpy: expected a numpy array, got "
                            f"{type(array).__name__}; use eager.tensor() for other data")
    if array.dtype.name not in DTYPES:
        raise DTypeError(f"from_numpy: unsupported dtype {array.dtype}; supported: "
                         f"{', '.join(sorted(DTYPES))}")
    return from_array(array, device_of_array(array))


__all__ = [
    "arange",
    "asarray",
    "empty",
    "empty_like",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "tensor",
    "zeros",
    "zeros_like",
]


def new_tensor(x: Tensor, data, *, dtype=None, device=None, requires_grad: bool = False):
    """`x.new_tensor(data)`: a new tensor from data with x's dtype and device by default.

    >>> import eager
    >>> eager.zeros(1, dtype=eager.float64).new_tensor([1, 2])
    tensor([1., 2.], dtype=eager.float64)
    """
    return tensor(data, dtype=_or(dtype, x.dtype), device=_or(device, x.device),
                  requires_grad=requires_grad)


def new_full(x: Tensor, size, fill_value, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """`x.new_full(size, value)`: full with x's dtype and device by default.

    >>> import eager
    >>> eager.zeros(1, dtype=eager.int32).new_full((2,), 3)
    tensor([3, 3], dtype=eager.int32)
    """
    return full(_shape("new_full", size), fill_value, dtype=_or(dtype, x.dtype),
                device=_or(device, x.device), requires_grad=requires_grad)


def new_zeros(x: Tensor, *size, dtype=None, device=None, requires_grad: bool = False):
    """`x.new_zeros(2, 3)`: zeros with x's dtype and device by default.

    >>> import eager
    >>> eager.zeros(1, dtype=eager.float64).new_zeros(2, 3).dtype
    dtype('float64')
    """
    return new_full(x, size, 0, dtype=dtype, device=device, requires_grad=requires_grad)


def new_ones(x: Tensor, *size, dtype=None, device=None, requires_grad: bool = False):
    """`x.new_ones(2)`: ones with x's dtype and device by default.

    >>> import eager
    >>> eager.zeros(1).new_ones(2)
    tensor([1., 1.])
    """
    return new_full(x, size, 1, dtype=dtype, device=device, requires_grad=requires_grad)


def new_empty(x: Tensor, *size, dtype=None, device=None, requires_grad: bool = False):
    """`x.new_empty(2)`: a tensor with unspecified contents (here: zeros).

    >>> import eager
    >>> eager.zeros(1).new_empty(3).shape
    (3,)
    """
    return new_full(x, size, 0, dtype=dtype, device=device, requires_grad=requires_grad)
