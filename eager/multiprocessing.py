"""`torch.multiprocessing` after `import eager as torch`: Python's `multiprocessing`
(`Process`, `Queue`, `set_start_method`, `get_context`, ...) with tensors that can be sent
to other processes. A tensor in shared memory (`Tensor.share_memory_()`,
`Module.share_memory()`; see `eager.shared_memory`) arrives as the same memory, so
updates made by the receiver are seen by the sender, as in pytorch/examples
`mnist_hogwild`; any other tensor arrives as a copy. Parameters arrive as parameters,
with their `requires_grad`; gradients and autograd history are not sent.

>>> import eager, eager.multiprocessing as mp
>>> ctx = mp.get_context("spawn")
>>> ctx.Process is not None and mp.cpu_count() >= 1
True
"""
from __future__ import annotations

import multiprocessing as _multiprocessing
from multiprocessing.reduction import ForkingPickler

from eager import shared_memory
from eager.nn.parameter import Parameter
from eager.tensor import Tensor, host_array, wrap


def _rebuild_shared(path: str, offset: int, shape: tuple, dtype: str, strides: tuple,
                    requires_grad: bool, parameter: bool) -> Tensor:
    data = shared_memory.attach(path, offset, shape, dtype, strides)
    return _rebuild(data, "cpu", requires_grad, parameter)


def _rebuild(data, device: str, requires_grad: bool, parameter: bool) -> Tensor:
    if device != "cpu":
        from eager.creation import asarray

        t = asarray(data, device=device)
    else:
        t = wrap(data, "cpu")
    if parameter:
        return Parameter(t, requires_grad)
    return t.requires_grad_(requires_grad) if requires_grad else t


def _reduce_tensor(t: Tensor):
    parameter = isinstance(t, Parameter)
    where = shared_memory.location(t._data) if t._device == "cpu" else None
    if where is not None:
        data = t._data
        return _rebuild_shared, (*where, data.shape, data.dtype.str, data.strides,
                                 t._requires_grad, parameter)
    return _rebuild, (host_array(t._data).copy(), t._device, t._requires_grad, parameter)


ForkingPickler.register(Tensor, _reduce_tensor)


def __getattr__(name: str):
    return getattr(_multiprocessing, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(dir(_multiprocessing)))
