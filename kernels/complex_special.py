"""Complex expm1 and tanh with the Array API's special values, over any array namespace.

numpy's complex tanh is glibc's `ctanh`, whose imaginary zero at an infinite real part
takes the sign of sin(2 Im z); the standard asks for the sign of Im z itself. numpy's
complex expm1 is `expm1(a) cos(b) - 2 sin(b/2)**2 + i exp(a) sin(b)`, which gives NaN
where the standard names a value (expm1(+inf + i0) = +inf + i0, expm1(-inf + i inf) =
-1 + i0, ...). Elsewhere both are numpy's own results. The C helpers of fused kernels
(kernels/codegen/complex_c.py) compute the same values.

>>> import numpy as np
>>> z = np.array([complex(np.inf, 2.0), complex(-np.inf, np.nan)])
>>> tanh(np, z).tolist(), expm1(np, z).tolist()
([(1+0j), (-1+0j)], [(-inf+infj), (-1+0j)])
"""
from __future__ import annotations


def tanh(xp, z):
    """numpy's complex tanh, except tanh(+-inf + ib) = +-1 + copysign(0, b) j for finite b.

    >>> import numpy as np
    >>> tanh(np, np.array([complex(-np.inf, -3.0)])).tolist()
    [(-1-0j)]
    """
    out = xp.tanh(z)
    a, b = z.real, z.imag
    at_infinity = xp.isinf(a) & xp.isfinite(b)
    part = out.real.dtype.type
    re = xp.where(at_infinity, xp.copysign(part(1), a), out.real)
    im = xp.where(at_infinity, xp.copysign(part(0), b), out.imag)
    return _complex(xp, re, im, z.dtype)


def expm1(xp, z):
    """exp(z) - 1 by numpy's formula, with the standard's values at zero and infinite parts.

    With b = 0 the result is expm1(a) + 0 (a real +0 at a = -0) with b as imaginary
    part; at a = -inf it is -1 + exp(a) sin(b) j, an imaginary zero (+0 where b is not
    finite); at a = +inf and a non-finite b, inf + NaN j.

    >>> import numpy as np
    >>> expm1(np, np.array([complex(np.inf, 0.0), complex(-0.0, 0.0)])).tolist()
    [(inf+0j), 0j]
    """
    a, b = z.real, z.imag
    part = a.dtype.type
    half_sin = xp.sin(b / part(2))
    re = xp.expm1(a) * xp.cos(b) - part(2) * half_sin * half_sin
    im = xp.exp(a) * xp.sin(b)
    zero_b = b == 0
    re = xp.where(zero_b, xp.expm1(a) + part(0), re)
    im = xp.where(zero_b, b, im)
    minus_inf = a == -xp.inf
    re = xp.where(minus_inf, part(-1), re)
    im = xp.where(minus_inf & ~xp.isfinite(b), part(0), im)
    plus_inf = (a == xp.inf) & ~xp.isfinite(b)
    re = xp.where(plus_inf, part(xp.inf), re)
    im = xp.where(plus_inf, part(xp.nan), im)
    return _complex(xp, re, im, z.dtype)


def _complex(xp, re, im, dtype):
    out = xp.empty(re.shape, dtype=dtype)
    out.real = re
    out.imag = im
    return out
