"""Slots of a checkpoint buffer addressed by a tensor: `read_slot(buffer, m)` is
`buffer[m]` and `write_slot(buffer, m, x)` is `buffer` with `buffer[m] = x`, where `m` is
a 0-d integer tensor computed inside a loop body (JAX's `dynamic_slice` /
`dynamic_update_slice` along axis 0).

`index_select` and `__setitem__` check the index range on the host, which a scripted
loop body refuses (a host read is a guard). These helpers clamp `m` into
`[0, len(buffer) - 1]` with tensor ops instead, so the range never leaves the device, and
then run the `index` / `index_set` primitives directly: their shape rules, kernels,
gradients and tracing are the ones every integer index already uses.

>>> import eager
>>> from jit.script.slots import read_slot, write_slot
>>> buffer = eager.zeros(3, 2)
>>> buffer = write_slot(buffer, eager.tensor(1), eager.tensor([4.0, 5.0]))
>>> buffer.tolist(), read_slot(buffer, eager.tensor(1)).tolist()
([[0.0, 0.0], [4.0, 5.0], [0.0, 0.0]], [4.0, 5.0])
>>> read_slot(buffer, eager.tensor(7)).tolist()   # clamped to the last slot
[0.0, 0.0]
"""
from __future__ import annotations

from eager.dispatch import apply
from eager.tensor import Tensor
from kernels import OPS
from kernels.errors import DTypeError, ShapeError

_FIRST_AXIS = (("t", 0),)


def _position(op: str, buffer: Tensor, m: Tensor) -> Tensor:
    """`m` clamped into the slots of `buffer`, as the 1-element index array of `index`."""
    if buffer.ndim == 0 or buffer.shape[0] == 0:
        raise ShapeError(f"{op}: buffer must have at least one slot along axis 0, got "
                         f"shape {buffer.shape}")
    if m.ndim != 0 or m.dtype.kind not in "iu":
        raise DTypeError(f"{op}: slot must be a 0-d integer tensor, got "
                         f"{m.dtype.name}{list(m.shape)}")
    return m.clip(0, buffer.shape[0] - 1).reshape((1,))


def read_slot(buffer: Tensor, m: Tensor) -> Tensor:
    """`buffer[m]` for a 0-d integer tensor `m`, clamped into range (no host read).

    >>> import eager
    >>> read_slot(eager.arange(6).reshape(3, 2), eager.tensor(-4)).tolist()
    [0, 1]
    """
    rows = apply(OPS["index"], buffer, _position("read_slot", buffer, m), key=_FIRST_AXIS)
    return rows.reshape(buffer.shape[1:])


def write_slot(buffer: Tensor, m: Tensor, x: Tensor) -> Tensor:
    """A copy of `buffer` whose slot `m` (clamped into range) holds `x`, of the shape of
    one slot; no host read.

    >>> import eager
    >>> write_slot(eager.zeros(2, dtype=eager.int64), eager.tensor(1), eager.tensor(3)).tolist()
    [0, 3]
    """
    if tuple(x.shape) != tuple(buffer.shape[1:]):
        raise ShapeError(f"write_slot: value of shape {x.shape} does not fit a slot of "
                         f"buffer shape {buffer.shape}")
    return apply(OPS["index_set"], buffer, x.reshape((1, *x.shape)),
                 _position("write_slot", buffer, m), key=_FIRST_AXIS)


__all__ = ["read_slot", "write_slot"]
