"""`eager.fft`: the Array API's fft extension (all 14 functions), with its signatures
(`n`, `axis`, `norm` for the 1-D transforms, `s`, `axes`, `norm` for the n-D ones).

Every transform is one graph op (`kernels/fft.py`), so it traces, replays under `@jit`
and differentiates as in PyTorch; hfft and ihfft are irfft and rfft of the conjugate.
As in PyTorch, real or integer input to the complex transforms is converted to complex
(complex64 from float32 and integers) and integer input to rfft to float32; the results
keep the input's precision.

>>> import eager
>>> eager.fft.fftfreq(4).tolist()
[0.0, 0.25, -0.5, -0.25]
>>> eager.fft.rfft(eager.tensor([1.0, 2.0, 3.0, 4.0])).tolist()
[(10+0j), (-2+2j), (-2+0j)]
"""
from __future__ import annotations

from collections.abc import Sequence

from eager import arguments
from eager.dispatch import apply
from eager.ops.operands import cast
from eager.tensor import Tensor
from kernels import OPS
from kernels.dtypes import complex64, complex128, float32, float64
from kernels.errors import ArgumentError
from kernels.fft import NORMS
from kernels.shapes import normalize_axis

_DUAL_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _as_kind(x: Tensor, want_complex: bool) -> Tensor:
    """x as complex (complex64 unless it is float64) or as real floating (float32 unless
    float64); a complex x asked to be real stays complex (the op then says so)."""
    dtype = x._data.dtype
    if want_complex:
        if dtype.kind == "c":
            return x
        return cast(x, complex128 if dtype == float64 else complex64)
    return x if dtype.kind in "fc" and dtype in (float32, float64) or dtype.kind == "c" \
        else cast(x, float32)


def _norm(name: str, norm) -> str:
    norm = "backward" if norm is None else norm
    if norm not in NORMS:
        raise ArgumentError(f"{name}: norm must be one of {', '.join(NORMS)}, got {norm!r}")
    return norm


def _plan(name: str, x: Tensor, s, axes, default_last=None,
          length_name: str = "s") -> tuple[tuple, tuple]:
    """(lengths, axes) of an n-D transform: axes default to the last len(s) dims (all
    dims without s), a length of -1 or None keeps the axis' size, and `default_last`,
    when given, is the default length of the last axis (irfft's 2 * (m - 1))."""
    if axes is None:
        axes = tuple(range(x.ndim - (x.ndim if s is None else len(s)), x.ndim))
    else:
        axes = tuple(normalize_axis(name, a, x.ndim) for a in arguments.varargs(axes))
    if len(set(axes)) != len(axes):
        raise ArgumentError(f"{name}: axes {axes} repeat an axis")
    if s is None:
        lengths = [x.shape[a] for a in axes]
        if default_last is not None and axes:
            lengths[-1] = default_last(x.shape[axes[-1]])
    else:
        s = tuple(arguments.varargs(s))
        if len(s) != len(axes):
            raise ArgumentError(f"{name}: s {s} and axes {axes} must have the same length")
        lengths = [x.shape[a] if n in (None, -1) else
                   arguments.integer(name, length_name, n, minimum=1) for n, a in zip(s, axes)]
    if not axes:
        raise ArgumentError(f"{name}: there is no axis to transform (x of shape {x.shape})")
    return tuple(lengths), axes


def _transform(name: str, transform: str, x, s, axes, norm, default_last=None) -> Tensor:
    x = arguments.tensor(name, "x", x)
    x = _as_kind(x, transform != "rfft")
    one_d = not name.endswith("n")
    lengths, axes = _plan(name, x, s, axes, default_last, "n" if one_d else "s")
    return apply(OPS.fft, x, transform=transform, s=lengths, axes=axes, norm=_norm(name, norm))


def _one_axis(n, axis: int) -> tuple:
    return (None if n is None else (n,)), (axis,)


def _half_to_full(m: int) -> int:
    return 2 * (m - 1)


def fft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The 1-D discrete Fourier transform along axis (x cut or zero-padded to n first).

    >>> import eager
    >>> eager.fft.fft(eager.tensor([1 + 0j, 1j])).tolist()
    [(1+1j), (1-1j)]
    """
    return _transform("fft", "fft", x, *_one_axis(n, axis), norm)


def ifft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The inverse of `fft` (scaled by 1/n with norm="backward").

    >>> import eager
    >>> eager.fft.ifft(eager.tensor([1 + 1j, 1 - 1j])).tolist()
    [(1+0j), 1j]
    """
    return _transform("ifft", "ifft", x, *_one_axis(n, axis), norm)


def fftn(x: Tensor, /, *, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
         norm: str = "backward") -> Tensor:
    """The n-D discrete Fourier transform over axes (None: all, or the last len(s)).

    >>> import eager
    >>> eager.fft.fftn(eager.ones(2, 2, dtype=eager.complex64)).tolist()
    [[(4+0j), 0j], [0j, 0j]]
    """
    return _transform("fftn", "fft", x, s, axes, norm)


def ifftn(x: Tensor, /, *, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
          norm: str = "backward") -> Tensor:
    """The inverse of `fftn`.

    >>> import eager
    >>> eager.fft.ifftn(eager.tensor([[4 + 0j, 0], [0, 0]])).tolist()
    [[(1+0j), (1+0j)], [(1+0j), (1+0j)]]
    """
    return _transform("ifftn", "ifft", x, s, axes, norm)


def rfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The 1-D transform of a real x: the n // 2 + 1 non-negative frequencies.

    >>> import eager
    >>> eager.fft.rfft(eager.tensor([1.0, 0.0, 0.0])).tolist()
    [(1+0j), (1+0j)]
    """
    return _transform("rfft", "rfft", x, *_one_axis(n, axis), norm)


def irfft(x: Tensor, /, *, n: int | None = None, axis: int = -1,
          norm: str = "backward") -> Tensor:
    """The inverse of `rfft`: a real signal of length n (default 2 * (m - 1) for m bins).

    >>> import eager
    >>> eager.fft.irfft(eager.tensor([1 + 0j, 1 + 0j]), n=3).tolist()
    [1.0, 0.0, 0.0]
    """
    return _transform("irfft", "irfft", x, *_one_axis(n, axis), norm, _half_to_full)


def rfftn(x: Tensor, /, *, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
          norm: str = "backward") -> Tensor:
    """The n-D transform of a real x; the last axis keeps its non-negative frequencies.

    >>> import eager
    >>> eager.fft.rfftn(eager.ones(2, 2)).tolist()
    [[(4+0j), 0j], [0j, 0j]]
    """
    return _transform("rfftn", "rfft", x, s, axes, norm)


def irfftn(x: Tensor, /, *, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
           norm: str = "backward") -> Tensor:
    """The inverse of `rfftn` (the last axis 2 * (m - 1) long unless s says otherwise).

    >>> import eager
    >>> eager.fft.irfftn(eager.tensor([[4 + 0j, 0], [0, 0]])).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    return _transform("irfftn", "irfft", x, s, axes, norm, _half_to_full)


def hfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The transform of a signal with Hermitian symmetry, given by its first half: a
    real spectrum of length n (default 2 * (m - 1)).

    >>> import eager
    >>> eager.fft.hfft(eager.tensor([1 + 0j, 2j]), n=3).tolist()
    [1.0, 4.464101791381836, -2.464101552963257]
    """
    x = _as_kind(arguments.tensor("hfft", "x", x), True)
    return irfft(x.conj(), n=n, axis=axis, norm=_DUAL_NORM[_norm("hfft", norm)])


def ihfft(x: Tensor, /, *, n: int | None = None, axis: int = -1,
          norm: str = "backward") -> Tensor:
    """The inverse of `hfft`: the first n // 2 + 1 bins of a real signal's Hermitian
    spectrum.

    >>> import eager
    >>> [round(abs(v), 4) for v in eager.fft.ihfft(eager.tensor([1.0, 0.0, 0.0])).tolist()]
    [0.3333, 0.3333]
    """
    out = rfft(x, n=n, axis=axis, norm=_DUAL_NORM[_norm("ihfft", norm)])
    return out.conj()


def _frequencies(name: str, n: int, d: float, dtype, device, count: int, wrap: bool) -> Tensor:
    from eager.creation import arange

    n = arguments.integer(name, "n", n)
    if n <= 0:
        raise ValueError(f"{name}: n must be positive, got {n}")
    k = arange(count, dtype=dtype, device=device)
    if wrap:
        k = k - n * (k >= (n + 1) // 2).astype(k.dtype)
    return k / (n * d)


def fftfreq(n: int, /, *, d: float = 1.0, dtype=None, device=None) -> Tensor:
    """The sample frequencies of an n-point FFT with sample spacing d:
    [0, 1, ..., -(n // 2), ..., -1] / (d * n).

    >>> import eager
    >>> eager.fft.fftfreq(5, d=0.5).tolist()
    [0.0, 0.4000000059604645, 0.800000011920929, -0.800000011920929, -0.4000000059604645]
    """
    from eager.dtypes import get_default_dtype

    dtype = get_default_dtype() if dtype is None else dtype
    return _frequencies("fftfreq", n, d, dtype, device, n, wrap=True)


def rfftfreq(n: int, /, *, d: float = 1.0, dtype=None, device=None) -> Tensor:
    """The sample frequencies of an n-point real FFT: [0, 1, ..., n // 2] / (d * n).

    >>> import eager
    >>> eager.fft.rfftfreq(4).tolist()
    [0.0, 0.25, 0.5]
    """
    from eager.dtypes import get_default_dtype

    dtype = get_default_dtype() if dtype is None else dtype
    return _frequencies("rfftfreq", n, d, dtype, device, n // 2 + 1, wrap=False)


def _shift(name: str, x: Tensor, axes, sign: int) -> Tensor:
    from eager.ops.rearrange import roll

    x = arguments.tensor(name, "x", x)
    if axes is None:
        axes = tuple(range(x.ndim))
    elif isinstance(axes, int):
        axes = (axes,)
    if not axes:
        return x * 1
    shifts = tuple(sign * (x.shape[a] // 2) for a in axes)
    return roll(x, shifts, tuple(axes))


def fftshift(x: Tensor, /, *, axes: int | Sequence[int] | None = None) -> Tensor:
    """Move the zero-frequency term to the centre of axes (None: all).

    >>> import eager
    >>> eager.fft.fftshift(eager.arange(5)).tolist()
    [3, 4, 0, 1, 2]
    """
    return _shift("fftshift", x, axes, 1)


def ifftshift(x: Tensor, /, *, axes: int | Sequence[int] | None = None) -> Tensor:
    """The inverse of fftshift.

    >>> import eager
    >>> eager.fft.ifftshift(eager.tensor([3, 4, 0, 1, 2])).tolist()
    [0, 1, 2, 3, 4]
    """
    x = arguments.tensor("ifftshift", "x", x)
    return _shift("ifftshift", x, axes, -1)
