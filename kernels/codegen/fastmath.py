"""Vectorizable float32 exp and tanh for generated C, and their accuracy contract.

glibc's scalar `expf`/`tanhf` stop gcc from vectorizing a loop; these branch-free
versions vectorize under `-O3 -march=native -fno-trapping-math`. Generated code defines
`expf` and `tanhf` as macros over them, so an op's `c_expr` (`tanh{f}({0})`) is used as
written and its math is not restated.

Accuracy we accept (tested in tests/test_codegen_fastmath.py over dense sweeps against
float64 numpy): expf within 2 ulp, tanhf within 4 ulp, both exact at 0, +-inf and NaN.

- exp(x) = 2**n * exp(r) with n = round(x / ln 2) and |r| <= ln(2)/2, exp(r) by its
  Taylor series to degree 7 (truncation error < 0.1 ulp there); 2**n is built from the
  exponent bits in two halves so results that are subnormal come out right.
- tanh(x) = 1 - 2 / (exp(2|x|) + 1) with the sign of x where |x| >= 0.55 (no cancellation
  there since tanh >= 0.5; |x| is clamped to 10, where tanh rounds to 1, so the exp needs
  no range handling and 2**n goes straight into the exponent bits); below, x + x**3 * P(x**2) with P a degree-4 least-squares fit
  of (tanh(x) - x) / x**3 weighted for relative error, computed here from numpy's float64
  tanh so the coefficients are derived, not copied.

>>> "ej_tanhf" in preamble()
True
"""
from __future__ import annotations

import functools
import math

import numpy as np

TANH_SPLIT = 0.55
EXP_MAX_ULP = 2
TANH_MAX_ULP = 4


@functools.cache
def tanh_small_coefficients(degree: int = 4) -> tuple[float, ...]:
    """Coefficients of P in tanh(x) ~ x + x**3 P(x**2) on |x| < TANH_SPLIT."""
    x = np.cos(np.linspace(0.0, np.pi / 2, 4000)) * TANH_SPLIT
    x = x[x > 1e-3]
    weight = x ** 3 / np.tanh(x)
    target = (np.tanh(x) - x) / x ** 3
    vander = np.vander(x * x, degree + 1, increasing=True)
    coef, *_ = np.linalg.lstsq(vander * weight[:, None], target * weight, rcond=None)
    return tuple(float(c) for c in coef)


def _horner(var: str, coefficients: list[str]) -> str:
    expr = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        expr = f"({c} + {var} * {expr})"
    return expr


@functools.cache
def preamble() -> str:
    """C definitions included at the top of every generated CPU source file."""
    taylor = [f"{1.0 / math.factorial(k)!r}f" for k in range(8)]
    tanh_poly = _horner("a2", [f"{c!r}f" for c in tanh_small_coefficients()])
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
    float a = fabsf(x);
    float a2 = a * a;
    float small = a + a * a2 * {tanh_poly};
    /* exp(y) for y = 2|x| in [0, 20]: the scale 2**n (n <= 29) is added to p's exponent
       bits directly, with none of ej_expf's range handling. NaN takes the other branch. */
    float y = 2.0f * (a < 10.0f ? a : 10.0f);
    float n = floorf(y * 1.44269504088896341f + 0.5f);
    float r = y - n * 0.693145751953125f;
    r = r - n * 1.42860682030941723e-06f;
    float p = {_horner("r", taylor)};
    int32_t bits;
    memcpy(&bits, &p, sizeof bits);
    bits += (int32_t)n << 23;
    memcpy(&p, &bits, sizeof p);
    float big = 1.0f - 2.0f / (p + 1.0f);
    return x != x ? x : copysignf(a < {TANH_SPLIT!r}f ? small : big, x);
}}

#define expf(x) ej_expf(x)
#define tanhf(x) ej_tanhf(x)
"""
