"""The default device: "cuda" when cupy sees a GPU, else "cpu"; override with
`set_default_device` or the EAGER_DEVICE environment variable."""
from __future__ import annotations

from kernels import array_namespace_for
from kernels.backend import default_device as _detected_default
from kernels.errors import DeviceError

_default: str | None = None


def get_default_device() -> str:
    """The device new tensors go to when none is given.

    >>> import eager
    >>> eager.zeros(1).device == eager.get_default_device()
    True
    """
    global _default
    if _default is None:
        _default = check_device(_detected_default())
    return _default


def set_default_device(device: str) -> None:
    """Make `device` ("cpu" or "cuda") the default for new tensors.

    >>> import eager
    >>> previous = eager.get_default_device()
    >>> eager.set_default_device("cpu"); eager.zeros(1).device
    'cpu'
    >>> eager.set_default_device(previous)
    """
    global _default
    _default = check_device(device)


def check_device(device, op: str = "device") -> str:
    """Normalise a device spelling ("cpu", "cuda", "cuda:0") and check it is usable.

    >>> check_device("cpu")
    'cpu'
    """
    device = str(device)
    if device.startswith("cuda:"):
        device = "cuda"
    if device not in ("cpu", "cuda"):
        raise DeviceError(f"{op}: unknown device {device!r}; expected 'cpu' or 'cuda'")
    try:
        array_namespace_for(device)
    except DeviceError as exc:
        raise DeviceError(f"{op}: {exc}") from None
    return device
