"""The single dispatch point: every Tensor op goes through `apply`.

`apply` checks devices, runs the op's kernel, wraps the result, records the autograd node
when a gradient is needed, and tells the active hook (the tracer) what happened. Eager
execution, tracing and jit recording are interpreters of this one op stream; user code,
`nn` and autograd never know which one is listening. Which one is, and the grad mode, are
this thread's own (`eager.interpreters`).

>>> import eager
>>> from kernels import OPS
>>> apply(OPS["add"], eager.tensor([1., 2.]), 1.0).tolist()
[2.0, 3.0]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from eager.autograd.node import record as record_node
from eager.host_memory import keep_freed_memory
from eager.interpreters import DispatchHook, replace_stack
from eager.interpreters import grad_enabled as _grad_enabled
from eager.interpreters import listener as _listener
from kernels import OPS, OpDef, TensorSpec, array_namespace_for
from kernels.dtypes import DIFFERENTIABLE, bfloat16
from kernels.errors import (
    DeviceError,
    DTypeError,
    EagerError,
    IndexOutOfRangeError,
    ShapeError,
    user_frame,
    user_line_suffix,
)

_ndarray = np.ndarray
_bfloat16 = bfloat16 if bfloat16 is not None else object()
_new_tensor = object.__new__

# Every op allocates its result and drops temporaries; without this, glibc hands freed
# pages back to the system and faults them in again on the next step (host_memory.py).
keep_freed_memory()


def set_hook(hook: DispatchHook | None) -> DispatchHook | None:
    """Make `hook` (or None) this thread's only listener; return the one it replaces.
    `eager.interpreters.interpreting(hook)` pushes one for a block instead.

    >>> import eager
    >>> class Counter(DispatchHook):
    ...     def __init__(self): self.ops = []
    ...     def record(self, op, inputs, attrs, out): self.ops.append(op.name)
    >>> counter = Counter(); previous = set_hook(counter)
    >>> _ = (eager.ones(2) * 2).sum(); _ = set_hook(previous)
    >>> counter.ops
    ['full', 'mul', 'sum']
    """
    return replace_stack(hook)


def get_hook() -> DispatchHook | None:
    """What this thread's ops are told about (the tracer on top of the stack), or None.

    >>> import eager
    >>> get_hook() is None
    True
    """
    return _listener()


def apply(op: OpDef, *inputs: Any, **attrs: Any):
    """Run `op` on `inputs` (Tensors, Python scalars, generators) and return a Tensor."""
    count = len(inputs)
    first = inputs[0] if count else None
    if count == 2 and type(first) is Tensor:
        # The most common calls, unrolled: this is most of the cost of a small op.
        b = inputs[1]
        device = first._device
        if type(b) is Tensor:
            if b._device != device:
                _raise_device_mismatch(op, inputs)
            arrays = (first._data, b._data)
            needs_grad = first._requires_grad or b._requires_grad
            narrow = False  # two tensors: numpy keeps bfloat16 (matmul rounds in its kernel)
        else:
            arrays = (first._data, b)
            needs_grad = first._requires_grad
            narrow = first._data.dtype is _bfloat16
    elif count == 1 and type(first) is Tensor:
        device = first._device
        arrays = (first._data,)
        needs_grad = first._requires_grad
        narrow = first._data.dtype is _bfloat16
    else:
        device = None
        needs_grad = False
        narrow = False
        arrays = []
        for x in inputs:
            if type(x) is Tensor:
                arrays.append(x._data)
                if x._data.dtype is _bfloat16:
                    narrow = True
                if device is None:
                    device = x._device
                elif x._device != device:
                    _raise_device_mismatch(op, inputs)
                if x._requires_grad:
                    needs_grad = True
            else:
                arrays.append(x)
        if device is None:
            device = attrs.pop("device", None) or _default_device()
    fn = op.cpu_kernel if device == "cpu" else op.kernel(array_namespace_for(device))
    try:
        result = fn(*arrays, **attrs) if attrs else fn(*arrays)
    except EagerError:
        raise
    except Exception as exc:  # noqa: BLE001  (any backend failure becomes a named error)
        raise explain_failure(op, inputs, attrs, exc) from None
    if type(result) is not _ndarray or device != "cpu":
        result, device = _fix_up(op, result, device, attrs)
    if narrow and result.dtype is not _bfloat16:
        result = _round_to_rule(op, inputs, attrs, result)
    out = _new_tensor(Tensor)
    out._data = result
    out._device = device
    out._grad = None
    out._version = 0
    if op.is_view:
        base = inputs[0]
        out._base = base if base._base is None else base._base
    else:
        out._base = None
    if needs_grad and _grad_enabled() and op.differentiable and result.dtype in DIFFERENTIABLE:
        out._requires_grad = True
        out._node = record_node(op, inputs, attrs, out)
    else:
        out._requires_grad = False
        out._node = None
    hook = _listener()
    if hook is not None:
        hook.record(op, inputs, attrs, out)
    return out


def _round_to_rule(op: OpDef, inputs: tuple, attrs: dict, result):
    """numpy computes bfloat16 with a Python float (or in sigmoid's formula) in float32
    or float64; round to the dtype the op's rule gives, as torch's cpu kernels do."""
    spec = op.infer(*(spec_of(x) for x in inputs), **attrs)
    if isinstance(spec, TensorSpec) and spec.dtype != result.dtype:
        return result.astype(spec.dtype)
    return result


def _fix_up(op: OpDef, result, device: str, attrs: dict):
    """Off the cpu fast path: numpy scalars become 0-d arrays; transfers change device."""
    if op.kind == "transfer":
        device = attrs["device"]
    if device == "cpu" and type(result) is not _ndarray:
        result = np.asarray(result)
    return result, device


def _default_device() -> str:
    from eager.device import get_default_device

    return get_default_device()


def _raise_device_mismatch(op: OpDef, inputs: tuple) -> None:
    devices = ", ".join(x._device for x in inputs if isinstance(x, Tensor))
    raise DeviceError(f"{op.name}: expected all tensors on one device, got {devices}"
                      f"{user_line_suffix()}; move them with .to(device)")


def spec_of(x: Any):
    """TensorSpec of a Tensor; other inputs (scalars, generators) pass through.

    >>> import eager
    >>> spec_of(eager.zeros(2, 3)), spec_of(1.5)
    (TensorSpec(shape=(2, 3), dtype=dtype('float32')), 1.5)
    """
    if isinstance(x, Tensor):
        return TensorSpec(tuple(x._data.shape), x._data.dtype)
    return x


def explain_failure(op: OpDef, inputs: tuple, attrs: dict, exc: Exception) -> Exception:
    """Turn a backend exception into a named error naming the op, shapes and dtypes."""
    try:
        op.infer(*(spec_of(x) for x in inputs), **attrs)
    except EagerError as named:
        return named
    described = ", ".join(
        f"{x._data.dtype.name}{list(x._data.shape)}" if isinstance(x, Tensor) else repr(x)
        for x in inputs)
    kind = _NAMED_FOR.get(type(exc), EagerError)
    return kind(f"{op.name}({described}) failed: {type(exc).__name__}: {exc}")


# The rules cannot see values (an index past the end, say); the backend's complaint is then
# reported under the named type that matches it (an IndexError stays one, as in PyTorch).
_NAMED_FOR = {IndexError: IndexOutOfRangeError, ValueError: ShapeError, TypeError: DTypeError,
              OverflowError: DTypeError}


from eager.tensor import Tensor

__all__ = [
    "OPS",
    "DispatchHook",
    "apply",
    "explain_failure",
    "get_hook",
    "set_hook",
    "spec_of",
    "user_frame",
    "user_line_suffix",
]
