"""`eager.accelerator`: PyTorch's device-agnostic accelerator queries (cuda or none).

>>> import eager
>>> acc = eager.accelerator.current_accelerator()
>>> acc is None or acc.type == "cuda"
True
"""
from __future__ import annotations

from eager import cuda
from eager.device import device

__all__ = ["current_accelerator", "current_device_index", "device_count", "is_available",
           "synchronize"]


def is_available() -> bool:
    """True when a GPU is usable.

    >>> import eager
    >>> eager.accelerator.is_available() == eager.cuda.is_available()
    True
    """
    return cuda.is_available()


def current_accelerator() -> device | None:
    """`eager.device("cuda")` when a GPU is usable, else None (as torch's answer on a
    machine without one).

    >>> import eager
    >>> eager.accelerator.current_accelerator() in (None, "cuda")
    True
    """
    return device("cuda") if cuda.is_available() else None


def device_count() -> int:
    """How many accelerators there are (GPUs cupy sees).

    >>> import eager
    >>> eager.accelerator.device_count() == eager.cuda.device_count()
    True
    """
    return cuda.device_count()


def current_device_index() -> int:
    """The index of the accelerator in use; DeviceError without one.

    >>> import eager
    >>> eager.accelerator.current_device_index() if eager.accelerator.is_available() else 0
    0
    """
    return cuda.current_device()


def synchronize(device=None) -> None:
    """Wait for the accelerator's queued work (nothing to wait for without one).

    >>> import eager
    >>> eager.accelerator.synchronize()
    """
    cuda.synchronize(device)
