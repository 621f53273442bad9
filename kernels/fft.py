"""The discrete Fourier transform as one primitive, `fft`, over a tuple of axes.

Its `transform` attribute picks the kind, as numpy names them: "fft" and "ifft"
(complex to complex), "rfft" (real to the half spectrum, the last axis n // 2 + 1 long)
and "irfft" (a half spectrum to real, the last axis `s[-1]` long). `s` gives the length
of each transformed axis (the input is cut or zero-padded to it first, as numpy does) and
`norm` is "backward", "ortho" or "forward". The Hermitian transforms (hfft, ihfft) are
composites of these with conj (eager/fft.py).

Results keep the input's precision: complex64 (or float32) in, complex64 (or float32)
out, even where a backend computes in double.

>>> import numpy as np
>>> from kernels import OPS
>>> x = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
>>> OPS.fft.cpu_kernel(x, transform="rfft", s=(4,), axes=(0,), norm="backward").tolist()
[(10+0j), (-2+2j), (-2+0j)]
"""
from __future__ import annotations

import numpy as np

from kernels.dtypes import complex64, complex128, float32, float64
from kernels.errors import ArgumentError, DTypeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register

TRANSFORMS = ("fft", "ifft", "rfft", "irfft")
NORMS = ("backward", "ortho", "forward")
_COMPLEX_OF = {float32: complex64, float64: complex128, complex64: complex64,
               complex128: complex128}
_REAL_OF = {complex64: float32, complex128: float64}


def _out_dtype(transform: str, dtype: np.dtype) -> np.dtype:
    if transform in ("fft", "ifft"):
        if dtype.kind != "c":
            raise DTypeError(f"{transform}: x must be complex, got {dtype.name}; cast with "
                             "x.astype(eager.complex64) first")
        return dtype
    if transform == "rfft":
        if dtype not in (float32, float64):
            raise DTypeError(f"rfft: x must be real floating (float32 or float64), got "
                             f"{dtype.name}")
        return _COMPLEX_OF[dtype]
    if dtype.kind != "c":
        raise DTypeError(f"irfft: x must be complex, got {dtype.name}")
    return _REAL_OF[dtype]


def _fft_rule(x: TensorSpec, *, transform: str, s: tuple[int, ...], axes: tuple[int, ...],
              norm: str):
    if transform not in TRANSFORMS:
        raise ArgumentError(f"fft: unknown transform {transform!r}; expected one of "
                            f"{', '.join(TRANSFORMS)}")
    if norm not in NORMS:
        raise ArgumentError(f"{transform}: norm must be one of {', '.join(NORMS)}, got {norm!r}")
    if len(s) != len(axes) or any(a < 0 or a >= len(x.shape) for a in axes):
        raise ArgumentError(f"{transform}: lengths {s} and axes {axes} do not fit a tensor of "
                            f"shape {x.shape}")
    if any(n < 1 for n in s):
        raise ArgumentError(f"{transform}: every transform length must be at least 1, got {s}")
    shape = list(x.shape)
    for n, a in zip(s, axes):
        shape[a] = n
    if transform == "rfft":
        shape[axes[-1]] = s[-1] // 2 + 1
    return TensorSpec(tuple(shape), _out_dtype(transform, x.dtype))


def _fft_impl(xp):
    functions = {"fft": xp.fft.fftn, "ifft": xp.fft.ifftn, "rfft": xp.fft.rfftn,
                 "irfft": xp.fft.irfftn}

    def fft(x, *, transform, s, axes, norm):
        dtype = _out_dtype(transform, x.dtype)
        out = functions[transform](x, s=s, axes=axes, norm=norm)
        return out.astype(dtype, copy=False)
    return fft


fft = register(OpDef("fft", OpKind.OTHER, 1, _fft_impl, _fft_rule, methods=()))
