"""DLPack in and out: `Tensor.__dlpack__` / `__dlpack_device__` export a tensor's memory
(numpy's on the cpu, cupy's on cuda) and `eager.from_dlpack` imports any producer
(numpy, cupy, torch, another eager tensor) without a copy where the devices allow it.

>>> import eager
>>> import numpy as np
>>> t = eager.tensor([1.0, 2.0])
>>> a = np.from_dlpack(t)
>>> a[0] = 5.0
>>> t.tolist(), t.__dlpack_device__()
([5.0, 2.0], (1, 0))
"""
from __future__ import annotations

import numpy as np

from eager.tensor import Tensor
from kernels.errors import ArgumentError, DeviceError

CPU, CUDA = 1, 2  # DLPack's kDLCPU and kDLCUDA


class DLPackError(DeviceError, BufferError):
    """A DLPack exchange that cannot happen as asked (a copy refused with copy=False, a
    stream on the cpu, a dtype DLPack cannot carry)."""


def _device_pair(device: str) -> tuple[int, int]:
    kind, _, index = str(device).partition(":")
    return (CUDA, int(index or 0)) if kind == "cuda" else (CPU, 0)


def tensor_dlpack_device(x: Tensor, /) -> tuple[int, int]:
    """`Tensor.__dlpack_device__()`: (device type, device id), (1, 0) for the cpu and
    (2, id) for a cuda device.

    >>> import eager
    >>> eager.zeros(2).__dlpack_device__()
    (1, 0)
    """
    return _device_pair(x.device)


def tensor_dlpack(x: Tensor, /, *, stream=None, max_version: tuple[int, int] | None = None,
                  dl_device: tuple[int, int] | None = None, copy: bool | None = None):
    """`Tensor.__dlpack__`: a DLPack capsule of x's memory (x's data as it is: autograd
    does not see what a consumer writes). dl_device=(1, 0) asks for a cpu capsule (a copy
    from cuda); copy=True always copies, copy=False refuses to (DLPackError); stream is
    for cuda producers and must be None on the cpu.

    >>> import eager
    >>> import numpy as np
    >>> np.from_dlpack(eager.arange(3)).tolist()
    [0, 1, 2]
    """
    data = x._data
    here = _device_pair(x.device)
    if dl_device is not None and tuple(dl_device) != here:
        if tuple(dl_device) != (CPU, 0):
            raise DLPackError(f"__dlpack__: cannot export a {x.device} tensor to DLPack "
                              f"device {tuple(dl_device)}; only (1, 0), the cpu, is offered")
        if copy is False:
            raise DLPackError(f"__dlpack__: dl_device=(1, 0) needs a copy of the {x.device} "
                              "tensor, but copy=False")
        data, copy, stream, here = x.to("cpu")._data, None, None, (CPU, 0)
    if here[0] == CPU and stream is not None:
        raise DLPackError(f"__dlpack__: stream={stream!r} is for cuda tensors; pass None "
                          "for a cpu tensor")
    if data.dtype.name == "bfloat16":
        raise DLPackError("__dlpack__: bfloat16 tensors cannot be exported through numpy's "
                          "DLPack; cast to float32 first")
    kwargs = {"max_version": max_version, "copy": copy}
    if here[0] == CUDA:
        kwargs["stream"] = stream
    try:
        return data.__dlpack__(**kwargs)
    except BufferError:
        # Read-only memory (an expanded view) has no legacy capsule; a copy has one.
        if copy is False or getattr(data.flags, "writeable", True):
            raise
        kwargs["copy"] = True
        return data.__dlpack__(**kwargs)


def from_dlpack(x, /, *, device=None, copy: bool | None = None) -> Tensor:
    """A tensor sharing memory with any DLPack producer (a numpy array, a cupy or torch
    tensor, an eager tensor): cpu producers through numpy, cuda ones through cupy.
    copy=True copies, copy=False refuses to (DLPackError where a copy is needed, as for
    another device); device moves the result.

    >>> import eager
    >>> import numpy as np
    >>> a = np.arange(3.0)
    >>> t = eager.from_dlpack(a)
    >>> a[0] = 7.0
    >>> t.tolist()
    [7.0, 1.0, 2.0]
    """
    from eager.creation import from_numpy

    if not hasattr(x, "__dlpack__"):
        raise ArgumentError(f"from_dlpack: {type(x).__name__} is not a DLPack producer (it "
                            "has no __dlpack__ method)")
    source = x.__dlpack_device__()[0] if hasattr(x, "__dlpack_device__") else CPU
    wanted = None if device is None else str(device).partition(":")[0]
    moves = wanted is not None and wanted != ("cuda" if source == CUDA else "cpu")
    if moves and copy is False:
        raise DLPackError(f"from_dlpack: moving a {'cuda' if source == CUDA else 'cpu'} "
                          f"producer to {device!r} needs a copy, but copy=False")
    if source == CPU:
        array = np.from_dlpack(x, copy=copy)
    else:
        import cupy

        array = cupy.from_dlpack(x)
        if copy:
            array = array.copy()
    out = from_numpy(array)
    return out.to(device) if moves else out
