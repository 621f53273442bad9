"""`eager.cuda`: PyTorch's `torch.cuda` queries, answered from cupy (no GPU: none).

Programs written for torch ask these before choosing a device; on a machine without a
GPU the answers send them down their cpu path, as torch's do.

>>> import eager
>>> eager.cuda.is_available() == (eager.cuda.device_count() > 0)
True
"""
from __future__ import annotations

from eager import amp
from kernels.backend import cupy_available
from kernels.errors import DeviceError

__all__ = ["amp", "current_device", "device_count", "empty_cache", "get_device_name",
           "is_available", "is_bf16_supported", "manual_seed", "manual_seed_all",
           "memory_allocated", "synchronize"]


def is_available() -> bool:
    """True when cupy imports and sees a GPU, so device="cuda" works.

    >>> import eager
    >>> eager.cuda.is_available() == (eager.get_default_device() == "cuda") or True
    True
    """
    return cupy_available()


def device_count() -> int:
    """How many GPUs cupy sees (0 without cupy or a GPU).

    >>> import eager
    >>> eager.cuda.device_count() >= 0
    True
    """
    if not cupy_available():
        return 0
    import cupy

    return int(cupy.cuda.runtime.getDeviceCount())


def current_device() -> int:
    """The index of the GPU in use; DeviceError without one.

    >>> import eager
    >>> eager.cuda.current_device() if eager.cuda.is_available() else 0
    0
    """
    _require("current_device")
    import cupy

    return int(cupy.cuda.Device().id)


def get_device_name(device: int | str | None = None) -> str:
    """The GPU's name as the driver reports it; DeviceError without one.

    >>> import eager
    >>> isinstance(eager.cuda.get_device_name(), str) if eager.cuda.is_available() else True
    True
    """
    _require("get_device_name")
    import cupy

    index = 0 if device is None or isinstance(device, str) else int(device)
    name = cupy.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def is_bf16_supported() -> bool:
    """Whether bfloat16 math runs on the GPU: False, since eager's cuda kernels do not
    take bfloat16 (programs then pick float16 or float32, as on older GPUs).

    >>> import eager
    >>> eager.cuda.is_bf16_supported()
    False
    """
    return False


def manual_seed(seed: int) -> None:
    """Seed the cuda default generator (a no-op without a GPU, as in torch).

    >>> import eager
    >>> eager.cuda.manual_seed(0)
    """
    if cupy_available():
        from eager.random import default_generator

        default_generator("cuda").manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator; eager has one per device kind, so as `manual_seed`.

    >>> import eager
    >>> eager.cuda.manual_seed_all(0)
    """
    manual_seed(seed)


def synchronize(device=None) -> None:
    """Wait for queued GPU work to finish (what a timing loop needs); nothing to wait for
    without a GPU.

    >>> import eager
    >>> eager.cuda.synchronize()
    """
    if cupy_available():
        import cupy

        cupy.cuda.Device().synchronize()


def empty_cache() -> None:
    """Give cupy's cached, unused GPU memory back to the driver (nothing without a GPU).

    >>> import eager
    >>> eager.cuda.empty_cache()
    """
    if cupy_available():
        import cupy

        cupy.get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    """Bytes of GPU memory held by live cuda tensors (0 without a GPU).

    >>> import eager
    >>> eager.cuda.memory_allocated() >= 0
    True
    """
    if not cupy_available():
        return 0
    import cupy

    return int(cupy.get_default_memory_pool().used_bytes())


def _require(name: str) -> None:
    if not cupy_available():
        raise DeviceError(f"cuda.{name}: no CUDA GPU is visible (cupy is missing or sees no "
                          "device); check eager.cuda.is_available() first")
