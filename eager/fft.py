"""`eager.fft`: the real-valued helpers of the Array API's fft extension (fftfreq,
rfftfreq, fftshift, ifftshift). The transforms themselves return complex arrays, which
wait for complex dtypes.

>>> import eager
>>> eager.fft.fftfreq(4).tolist()
[0.0, 0.25, -0.5, -0.25]
"""
from __future__ import annotations

from collections.abc import Sequence

from eager import arguments
from eager.tensor import Tensor


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
