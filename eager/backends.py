"""`eager.backends`: the switches PyTorch programs set on `torch.backends`.

They are settable attributes with torch's defaults, so `eager.backends.cudnn.benchmark =
True` and `eager.backends.cuda.matmul.allow_tf32 = True` run as written. eager's kernels
do not read them: numpy and cupy choose their own algorithms and precision.

>>> import eager
>>> eager.backends.cudnn.benchmark = True
>>> eager.backends.cudnn.benchmark, eager.backends.mps.is_available()
(True, False)
"""
from __future__ import annotations

from kernels.backend import cupy_available

__all__ = ["cpu", "cuda", "cudnn", "mps", "opt_einsum"]


class _Flags:
    """A namespace of settable flags that also answers `is_available()`."""

    def __init__(self, available, **flags) -> None:
        self._available = available
        self.__dict__.update(flags)

    def is_available(self) -> bool:
        """Whether this backend can run here."""
        return bool(self._available())

    def is_built(self) -> bool:
        """Whether eager was built with it: the same answer as is_available()."""
        return self.is_available()

    def __repr__(self) -> str:
        flags = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        return f"<backend flags {flags}>"


def _never() -> bool:
    return False


def _always() -> bool:
    return True


cudnn = _Flags(cupy_available, enabled=True, benchmark=False, deterministic=False,
               allow_tf32=True, benchmark_limit=10)
cuda = _Flags(cupy_available, matmul=_Flags(cupy_available, allow_tf32=False,
                                            allow_fp16_reduced_precision_reduction=True,
                                            allow_bf16_reduced_precision_reduction=True))
mps = _Flags(_never)
cpu = _Flags(_always)
opt_einsum = _Flags(_never, enabled=False, strategy=None)
