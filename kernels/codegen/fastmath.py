"""Vectorizable float32 exp and tanh for generated C, and their accuracy contract.

glibc's scalar `expf`/`tanhf` stop gcc from vectorizing a loop; these branch-free
versions vectorize under `-O3 -march=native -fno-trapping-math`. Generated code defines
`expf` and `tanhf` as macros over them, so an op's `c_expr` (`tanh{f}({0})`) is used as
written and its math is not restated.

Accuracy we accept (tested in tests/test_codegen_fastmath.py over dense sweeps against
float64 numpy): expf within 2 ulp, tanhf within 6 ulp (|tanhf| never above 1), both exact
at 0, +-inf and NaN.

- exp(x) = 2**n * exp(r) with n = round(x / ln 2) and |r| <= ln(2)/2, exp(r) by its
  Taylor series to degree 7 (truncation error < 0.1 ulp there); 2**n is built from the
  exponent bits in two halves so results that are subnormal come out right.
- tanh(x) = x P(x**2) / Q(x**2), P and Q of degree 4 (the fit itself is within 0.4 ulp;
  float32 evaluation brings it to ~5), and +-1 from |x| >= 9.02 where tanh rounds to 1.
  About twice as fast as the exp-based form 1 - 2 / (exp(2x) + 1), which W2 showed to be
  compute bound. The coefficients are fitted here from numpy's float64 tanh, not copied.

>>> "ej_tanhf" in preamble()
True
"""
from __future__ import annotations

import functools
import math

import numpy as np

TANH_ONE = 9.02   # from here on tanh(x) rounds to 1 in float32 (1 - tanh < 2**-25)
EXP_MAX_ULP = 2
TANH_MAX_ULP = 6


@functools.cache
def tanh_rational_coefficients(degree: int = 4) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """P, Q (lowest power first, Q[0] = 1) with tanh(x) ~ x P(x**2) / Q(x**2) on
    |x| <= TANH_ONE, fitted for relative error by reweighted linear least squares
    (Sanathanan-Koerner iteration) against numpy's float64 tanh."""
    t = np.cos(np.linspace(0.0, np.pi / 2, 2000)) * TANH_ONE
    x = t[t > 1e-4]
    y = np.tanh(x)
    u = x * x
    q_prev = np.ones_like(x)
    powers = np.arange(degree + 1)
    for _ in range(12):
        # P[0] = 1 is fixed (tanh(x) / x -> 1 at 0), so tiny arguments come back exactly.
        a = np.hstack([x[:, None] * u[:, None] ** powers[1:],
                       -y[:, None] * u[:, None] ** powers[1:]])
        w = 1.0 / (y * q_prev)
        sol, *_ = np.linalg.lstsq(a * w[:, None], (y - x) * w, rcond=None)
        p = np.concatenate([[1.0], sol[:degree]])
        q = np.concatenate([[1.0], sol[degree:]])
        q_prev = np.polyval(q[::-1], u)
    return tuple(float(c) for c in p), tuple(float(c) for c in q)


def _horner(var: str, coefficients: list[str]) -> str:
    expr = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        expr = f"({c} + {var} * {expr})"
    return expr


@functools.cache
def preamble() -> str:
    """C definitions included at the top of every generated CPU source file."""
    taylor = [f"{1.0 / math.factorial(k)!r}f" for k in range(8)]
    p, q = tanh_rational_coefficients()
    tanh_p = _horner("u", [f"{c!r}f" for c in p])
    tanh_q = _horner("u", [f"{c!r}f" for c in q])
    return f"""\
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float ej_pow2i(int32_t k) {{
    int32_t bits = (k + 127) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}}

static inline float ej_expf(float x) {{
    float xc = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : x);
    float n = floorf(xc * 1.44269504088896341f + 0.5f);
    float r = xc - n * 0.693145751953125f;
    r = r - n * 1.42860682030941723e-06f;
    float p = {_horner("r", taylor)};
    int32_t k = (int32_t)n;
    int32_t half = k / 2;
    float y = p * ej_pow2i(half) * ej_pow2i(k - half);
    return x != x ? x : y;
}}

static inline float ej_tanhf(float x) {{
    float u = x * x;
    float r = x * {tanh_p} / {tanh_q};
    /* Rounding can carry r just past +-1 close to TANH_ONE; tanh never leaves [-1, 1]. */
    return fabsf(x) >= {TANH_ONE!r}f || fabsf(r) > 1.0f ? copysignf(1.0f, x) : r;
}}

#define expf(x) ej_expf(x)
#define tanhf(x) ej_tanhf(x)
"""
