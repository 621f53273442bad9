"""Devices: the `eager.device` object (PyTorch's `torch.device`) and the default device,
"cuda" when cupy sees a GPU, else "cpu"; override with `set_default_device` or the
EAGER_DEVICE environment variable.

A `device` is a `str` ("cpu", "cuda", "cuda:0"), so it is accepted wherever a device
string is, compares equal to one and prints as one (generated replay code and graph text
embed devices by their repr); it adds PyTorch's `.type` and `.index`.

>>> import eager
>>> d = eager.device("cpu")
>>> d, d.type, d == "cpu", eager.zeros(1, device=d).device.type
('cpu', 'cpu', True, 'cpu')
"""
from __future__ import annotations

from kernels import array_namespace_for
from kernels.backend import default_device as _detected_default
from kernels.errors import DeviceError

_default: str | None = None


class device(str):  # PyTorch's spelling
    """A device: `device("cpu")`, `device("cuda:0")`, `device("cuda", 0)`, `device(type="cuda")`.

    >>> from eager.device import device
    >>> device("cuda", 0), device("cuda:1").index, device("cuda").index
    ('cuda:0', 1, None)
    """

    type: str
    index: int | None

    def __new__(cls, type: str | device, index: int | None = None) -> device:  # noqa: PYI034
        text = str(type)
        kind, _, number = text.partition(":")
        if number and index is not None:
            raise DeviceError(f"device: {text!r} already names index {number}; pass "
                              f"device({kind!r}, {index}) or device({text!r}), not both")
        if kind not in ("cpu", "cuda"):
            raise DeviceError(f"device: unknown device type {kind!r} in {text!r}; expected "
                              "'cpu' or 'cuda'")
        try:
            index = int(number) if number else index
        except ValueError:
            raise DeviceError(f"device: {text!r} has a device index that is not an "
                              "integer") from None
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)
                                  or index < 0):
            raise DeviceError(f"device: index must be a non-negative int, got {index!r}")
        obj = super().__new__(cls, kind if index is None else f"{kind}:{index}")
        obj.type, obj.index = kind, index
        return obj

    def __reduce__(self):
        return (device, (str(self),))


_INTERNED: dict[str, device] = {}


def device_object(name: str) -> device:
    """The shared `device` for a tensor's device string (what `Tensor.device` returns).

    >>> device_object("cpu") is device_object("cpu")
    True
    """
    obj = _INTERNED.get(name)
    if obj is None:
        obj = _INTERNED[name] = device(name)
    return obj


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
    device = str.__str__(device) if isinstance(device, str) else str(device)
    if device.startswith("cuda:"):
        device = "cuda"
    if device not in ("cpu", "cuda"):
        raise DeviceError(f"{op}: unknown device {device!r}; expected 'cpu' or 'cuda'")
    try:
        array_namespace_for(device)
    except DeviceError as exc:
        raise DeviceError(f"{op}: {exc}") from None
    return device
