"""Array backends: numpy for "cpu", cupy for "cuda" when it imports and sees a GPU."""
from __future__ import annotations

import functools
import os
from types import ModuleType

import numpy as np

from kernels.errors import DeviceError


@functools.cache
def cupy_available() -> bool:
    """True when cupy imports and at least one CUDA device is visible.

    It agrees with whether cupy can really put an array on a GPU and bring it back:

    >>> from kernels.backend import cupy_available
    >>> def gpu_round_trip():
    ...     try:
    ...         import cupy
    ...         return cupy.asnumpy(cupy.arange(3) * 2).tolist() == [0, 2, 4]
    ...     except Exception:
    ...         return False
    >>> cupy_available() == gpu_round_trip()
    True
    """
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001  (a missing driver or runtime raises many types)
        return False


def default_device() -> str:
    """`EAGER_DEVICE` if set, else "cuda" when a GPU is usable, else "cpu".

    >>> import os
    >>> from kernels.backend import default_device
    >>> saved = os.environ.pop("EAGER_DEVICE", None)
    >>> default_device() == ("cuda" if cupy_available() else "cpu")
    True
    >>> os.environ["EAGER_DEVICE"] = "cpu"; default_device()
    'cpu'
    >>> _ = os.environ.pop("EAGER_DEVICE") if saved is None else os.environ.update(EAGER_DEVICE=saved)
    """
    env = os.environ.get("EAGER_DEVICE")
    if env:
        return env
    return "cuda" if cupy_available() else "cpu"


def array_namespace_for(device: str) -> ModuleType:
    """The array module (numpy or cupy) that holds a device's buffers.

    >>> from kernels.backend import array_namespace_for
    >>> array_namespace_for("cpu").__name__
    'numpy'
    """
    if device == "cpu":
        return np
    if device == "cuda":
        if not cupy_available():
            raise DeviceError("device 'cuda' requested but cupy is not installed or sees no GPU")
        import cupy

        return cupy
    raise DeviceError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")


def device_of_array(array) -> str:
    """"cpu" for numpy arrays and scalars, "cuda" for cupy arrays.

    >>> import numpy as np

from kernels.errors import DeviceError
    >>> from kernels.backend import device_of_array
    >>> device_of_array(np.zeros(2))
    'cpu'
    """
    return "cpu" if isinstance(array, (np.ndarray, np.generic)) else "cuda"
