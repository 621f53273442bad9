"""lgamma, digamma and erfinv as composites of eager ops, for the distributions' log
densities, entropies and quantiles: autograd, tracing and fusion see through them, and
the derivative of each is that of its formula (digamma's is the trigamma, to the series'
accuracy).

lgamma and digamma are for positive arguments, the only ones a distribution's
parameters give them: lgamma by Lanczos' series (g = 7, 9 terms, ~1e-15 relative),
digamma by its recurrence up to 10 and then its asymptotic series. erfinv starts from
Giles' single-precision approximation and takes two Newton steps on the erf primitive.

>>> import eager
>>> round(lgamma(eager.tensor(5.0, dtype=eager.float64)).exp().item(), 9)
24.0
>>> round(digamma(eager.tensor(1.0, dtype=eager.float64)).item(), 9)
-0.577215665
>>> round(erfinv(eager.tensor(0.5, dtype=eager.float64)).item(), 9)
0.476936276
"""
from __future__ import annotations

import math

from eager.dtypes import finfo
from eager.ops.elementwise import where
from eager.tensor import Tensor

_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028,
            771.32342877765313, -176.61502916214059, 12.507343278686905,
            -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
# -B_2k / (2k) for k = 1..7: digamma(y) ~ log y - 1/(2y) + sum c_k / y^(2k).
_DIGAMMA_SERIES = (-1 / 12, 1 / 120, -1 / 252, 1 / 240, -1 / 132, 691 / 32760, -1 / 12)
_DIGAMMA_SHIFT = 10


def lgamma(x: Tensor) -> Tensor:
    """log Gamma(x) for x > 0, elementwise.

    >>> import eager
    >>> [round(v, 4) for v in lgamma(eager.tensor([0.5, 1.0, 10.0])).tolist()]
    [0.5724, 0.0, 12.8018]
    """
    z = x - 1
    series = _LANCZOS[0] + sum(c / (z + i) for i, c in enumerate(_LANCZOS[1:], start=1))
    t = z + (_LANCZOS_G + 0.5)
    return _HALF_LOG_2PI + (z + 0.5) * t.log() - t + series.log()


def digamma(x: Tensor) -> Tensor:
    """d/dx log Gamma(x) for x > 0, elementwise.

    >>> import eager
    >>> round(digamma(eager.tensor(2.0)).item(), 5)
    0.42278
    """
    shift = sum(1 / (x + k) for k in range(_DIGAMMA_SHIFT))
    y = x + _DIGAMMA_SHIFT
    inv2 = 1 / (y * y)
    series, power = 0.0, inv2
    for c in _DIGAMMA_SERIES:
        series = series + c * power
        power = power * inv2
    return y.log() - 0.5 / y + series - shift


def erfinv(y: Tensor) -> Tensor:
    """The inverse of erf on (-1, 1), elementwise; +-inf at +-1.

    >>> import eager
    >>> round(erfinv(eager.tensor(0.0)).item(), 6)
    0.0
    """
    # At |y| = 1 the log would be of 0; those ends are set to +-inf below.
    w = -((1 - y) * (1 + y)).clamp(min=float(finfo(y.dtype).tiny)).log()
    central, tail = w - 2.5, w.clamp(min=5.0).sqrt() - 3
    p_central = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p_central = p_central * central + c
    p_tail = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        p_tail = p_tail * tail + c
    x = where(w < 5.0, p_central, p_tail) * y
    finite = y.abs() < 1
    safe = where(finite, x, 0.0)
    for _ in range(2):
        slope = (2 / math.sqrt(math.pi)) * (-safe * safe).exp()
        safe = safe - (safe.erf() - y) / slope
    return where(finite, safe, where(y > 0, math.inf, -math.inf))
