"""Complex numbers in generated C and CUDA: a {re, im} struct per precision and one
helper per complex op, the names the ops' `complex_c_expr` templates call.

`ej_c64` and `ej_c128` have numpy's memory layout (two floats / doubles), so kernels read
complex64/complex128 buffers through plain pointers. The arithmetic is written out on the
parts, exactly as numpy's loops compute it (the product without C99's Annex G recovery,
division by Smith's method with numpy's zero-divisor case, integer powers by repeated
squaring), so special values (NaN, inf, -0 parts) come out as in eager mode. On the CPU
the transcendental functions are glibc's C99 ones (`cexpf`, `csqrt`, ...), which are what
numpy itself calls; on CUDA they are cupy's `complex<T>` functions, which cupy's own
ufuncs use. expm1, log1p, log2, log10, square and reciprocal follow numpy's own formulas,
and expm1 and tanh the Array API's special values (kernels/complex_special.py).

>>> "ej_mul_c64" in preamble() and "cexpf" in preamble()
True
>>> "__device__" in preamble(cuda=True) and "cexpf" not in preamble(cuda=True)
True
"""
from __future__ import annotations

import functools

import numpy as np

COMPLEX_CTYPES = {"complex64": "ej_c64", "complex128": "ej_c128"}
"""The C (and CUDA) type of one element of each complex dtype."""

_PARTS = {"c64": ("float", "f"), "c128": ("double", "")}

# numpy's name -> glibc's C99 function (without the float suffix) / cupy's complex<T> one.
_LIBRARY = {"exp": ("cexp", "exp"), "log": ("clog", "log"), "sqrt": ("csqrt", "sqrt"),
            "sin": ("csin", "sin"), "cos": ("ccos", "cos"), "tan": ("ctan", "tan"),
            "sinh": ("csinh", "sinh"), "cosh": ("ccosh", "cosh"),
            "glibc_tanh": ("ctanh", "tanh"), "arcsin": ("casin", "asin"),
            "arccos": ("cacos", "acos"), "arctan": ("catan", "atan"),
            "arcsinh": ("casinh", "asinh"), "arccosh": ("cacosh", "acosh"),
            "arctanh": ("catanh", "atanh"), "glibc_pow": ("cpow", "pow")}


def tag(dtype: np.dtype) -> str:
    """The helpers' name suffix for a complex dtype.

    >>> tag(np.dtype("complex64")), tag(np.dtype("complex128"))
    ('c64', 'c128')
    """
    return "c64" if np.dtype(dtype).itemsize == 8 else "c128"


def part_suffix(dtype: np.dtype) -> str:
    """The C math-function suffix of a complex dtype's parts ("f" for complex64)."""
    return _PARTS[tag(dtype)][1]


def convert(text: str, source: np.dtype, target: np.dtype) -> str:
    """C for the value `text` of dtype `source` as the complex dtype `target` (numpy's
    cast: a real value gets a +0 imaginary part).

    >>> convert("x0", np.dtype("float32"), np.dtype("complex128"))
    'ej_c128_from_real(x0)'
    """
    source, target = np.dtype(source), np.dtype(target)
    if source == target:
        return text
    if source.kind == "c":
        return f"ej_{tag(target)}_from_{tag(source)}({text})"
    return f"ej_{tag(target)}_from_real({text})"


def make(re: str, im: str, dtype: np.dtype) -> str:
    """C for the complex value with parts `re` and `im` (C expressions of the part type)."""
    return f"ej_mk_{tag(dtype)}({re}, {im})"


def nonzero(text: str, dtype: np.dtype) -> str:
    """C for bool(z): either part nonzero (NaN counts), as numpy casts complex to bool."""
    return f"ej_nonzero_{tag(dtype)}({text})"


_TYPES = """\
typedef struct {{ float re, im; }} ej_c64;
typedef struct {{ double re, im; }} ej_c128;
EJ_FN ej_c64 ej_mk_c64(float re, float im) {{ ej_c64 z; z.re = re; z.im = im; return z; }}
EJ_FN ej_c128 ej_mk_c128(double re, double im) {{ ej_c128 z; z.re = re; z.im = im; return z; }}
EJ_FN ej_c64 ej_c64_from_c128(ej_c128 z) {{ return ej_mk_c64((float)z.re, (float)z.im); }}
EJ_FN ej_c128 ej_c128_from_c64(ej_c64 z) {{ return ej_mk_c128(z.re, z.im); }}
"""

# One precision's helpers: {C} the type, {c} its tag, {T} the part type, {s} its math suffix.
_ARITHMETIC = """\
EJ_FN {C} ej_{c}_from_real({T} x) {{ return ej_mk_{c}(x, ({T})0); }}
EJ_FN {C} ej_add_{c}({C} a, {C} b) {{ return ej_mk_{c}(a.re + b.re, a.im + b.im); }}
EJ_FN {C} ej_sub_{c}({C} a, {C} b) {{ return ej_mk_{c}(a.re - b.re, a.im - b.im); }}
EJ_FN {C} ej_neg_{c}({C} a) {{ return ej_mk_{c}(-a.re, -a.im); }}
EJ_FN {C} ej_conj_{c}({C} a) {{ return ej_mk_{c}(a.re, -a.im); }}
EJ_FN {C} ej_mul_{c}({C} a, {C} b) {{
    return ej_mk_{c}(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}}
EJ_FN {C} ej_div_{c}({C} a, {C} b) {{
    const {T} br = fabs{s}(b.re), bi = fabs{s}(b.im);
    if (br >= bi) {{
        if (br == 0 && bi == 0) {{
            return ej_mk_{c}(a.re / br, a.im / br);
        }}
        const {T} rat = b.im / b.re, scl = ({T})1 / (b.re + b.im * rat);
        return ej_mk_{c}((a.re + a.im * rat) * scl, (a.im - a.re * rat) * scl);
    }}
    const {T} rat = b.re / b.im, scl = ({T})1 / (b.im + b.re * rat);
    return ej_mk_{c}((a.re * rat + a.im) * scl, (a.im * rat - a.re) * scl);
}}
EJ_FN int ej_eq_{c}({C} a, {C} b) {{ return a.re == b.re && a.im == b.im; }}
EJ_FN int ej_ne_{c}({C} a, {C} b) {{ return a.re != b.re || a.im != b.im; }}
EJ_FN int ej_nonzero_{c}({C} a) {{ return a.re != 0 || a.im != 0; }}
EJ_FN {C} ej_sign_{c}({C} a) {{
    const {T} r = hypot{s}(a.re, a.im);
    if (r != r) {{
        return ej_mk_{c}(NAN, NAN);
    }}
    if (r == INFINITY) {{
        if (isinf(a.re) && isinf(a.im)) {{
            return ej_mk_{c}(NAN, NAN);
        }}
        return isinf(a.re) ? ej_mk_{c}(a.re > 0 ? ({T})1 : ({T})-1, ({T})0)
                           : ej_mk_{c}(({T})0, a.im > 0 ? ({T})1 : ({T})-1);
    }}
    if (r == 0) {{
        return ej_mk_{c}(({T})0, ({T})0);
    }}
    return ej_mk_{c}(a.re / r, a.im / r);
}}
EJ_FN {C} ej_square_{c}({C} a) {{ return ej_mul_{c}(a, a); }}
EJ_FN {C} ej_reciprocal_{c}({C} a) {{
    if (fabs{s}(a.im) <= fabs{s}(a.re)) {{
        const {T} r = a.im / a.re, d = a.re + a.im * r;
        return ej_mk_{c}(({T})1 / d, -r / d);
    }}
    const {T} r = a.re / a.im, d = a.re * r + a.im;
    return ej_mk_{c}(r / d, ({T})-1 / d);
}}
EJ_FN {C} ej_log1p_{c}({C} a) {{
    const {T} l = hypot{s}(a.re + 1, a.im);
    return ej_mk_{c}(log{s}(l), atan2{s}(a.im, a.re + 1));
}}
EJ_FN {C} ej_log2_{c}({C} a) {{
    {C} l = ej_log_{c}(a);
    return ej_mk_{c}(l.re * ({T})1.442695040888963407359924681001892137,
                     l.im * ({T})1.442695040888963407359924681001892137);
}}
EJ_FN {C} ej_log10_{c}({C} a) {{
    {C} l = ej_log_{c}(a);
    return ej_mk_{c}(l.re * ({T})0.434294481903251827651128918916605082,
                     l.im * ({T})0.434294481903251827651128918916605082);
}}
EJ_FN {C} ej_expm1_{c}({C} a) {{
    if (a.im == 0) {{
        return ej_mk_{c}(expm1{s}(a.re) + ({T})0, a.im);
    }}
    if (a.re == -INFINITY) {{
        return ej_mk_{c}(({T})-1, isfinite(a.im) ? ({T})0 * sin{s}(a.im) : ({T})0);
    }}
    if (a.re == INFINITY && !isfinite(a.im)) {{
        return ej_mk_{c}(INFINITY, NAN);
    }}
    const {T} h = sin{s}(a.im / 2);
    return ej_mk_{c}(expm1{s}(a.re) * cos{s}(a.im) - 2 * h * h, (exp{s})(a.re) * sin{s}(a.im));
}}
EJ_FN {C} ej_tanh_{c}({C} a) {{
    if (isinf(a.re) && isfinite(a.im)) {{
        return ej_mk_{c}(copysign{s}(({T})1, a.re), copysign{s}(({T})0, a.im));
    }}
    return ej_glibc_tanh_{c}(a);
}}
EJ_FN {C} ej_pow_{c}({C} a, {C} b) {{
    if (b.re == 0 && b.im == 0) {{
        return ej_mk_{c}(({T})1, ({T})0);
    }}
    if (a.re == 0 && a.im == 0) {{
        return b.re > 0 ? ej_mk_{c}(({T})0, ({T})0) : ej_mk_{c}(NAN, NAN);
    }}
    if (b.im == 0 && b.re > -100 && b.re < 100 && b.re == (int)b.re) {{
        int n = (int)b.re;
        if (n == 1) {{
            return a;
        }}
        if (n == 2) {{
            return ej_mul_{c}(a, a);
        }}
        if (n == 3) {{
            return ej_mul_{c}(a, ej_mul_{c}(a, a));
        }}
        {C} acc = ej_mk_{c}(({T})1, ({T})0), p = a;
        int m = n < 0 ? -n : n;
        for (int mask = 1;; mask <<= 1) {{
            if (m & mask) {{
                acc = ej_mul_{c}(acc, p);
            }}
            if (m < (mask << 1)) {{
                break;
            }}
            p = ej_mul_{c}(p, p);
        }}
        return n < 0 ? ej_div_{c}(ej_mk_{c}(({T})1, ({T})0), acc) : acc;
    }}
    return ej_glibc_pow_{c}(a, b);
}}
"""

_C_LIBRARY_FN = """\
{T} _Complex {lib}{s}({T} _Complex{second});
EJ_FN {C} ej_{name}_{c}({C} a{second_param}) {{
    {T} _Complex w, r;
    memcpy(&w, &a, sizeof w);
{second_copy}    r = {lib}{s}(w{second_arg});
    memcpy(&a, &r, sizeof a);
    return a;
}}
"""

_CUDA_LIBRARY_FN = """\
EJ_FN {C} ej_{name}_{c}({C} a{second_param}) {{
    complex<{T}> r = thrust::{lib}(complex<{T}>(a.re, a.im){second_arg});
    return ej_mk_{c}(r.real(), r.imag());
}}
"""


def _library(cuda: bool, c: str) -> str:
    t, s = _PARTS[c]
    out = []
    for name, (c_name, cuda_name) in _LIBRARY.items():
        binary = name == "glibc_pow"
        fields = {"C": f"ej_{c}", "c": c, "T": t, "s": s, "name": name,
                  "second_param": f", ej_{c} b" if binary else ""}
        if cuda:
            arg = f", complex<{t}>(b.re, b.im)" if binary else ""
            out.append(_CUDA_LIBRARY_FN.format(lib=cuda_name, second_arg=arg, **fields))
        else:
            copy = f"    {t} _Complex v;\n    memcpy(&v, &b, sizeof v);\n" if binary else ""
            out.append(_C_LIBRARY_FN.format(lib=c_name, second=f", {t} _Complex" if binary
                                            else "", second_copy=copy,
                                            second_arg=", v" if binary else "", **fields))
    return "".join(out)


def _arithmetic(c: str) -> str:
    t, s = _PARTS[c]
    return _ARITHMETIC.format(C=f"ej_{c}", c=c, T=t, s=s)


@functools.cache
def preamble(cuda: bool = False) -> str:
    """The types and helpers, for the top of a generated C file (or a CUDA kernel's
    preamble with `cuda=True`)."""
    head = ("#define EJ_FN static __device__ __forceinline__\n" if cuda
            else "#define EJ_FN static inline\n")
    parts = [head, _TYPES.format()]
    for c in ("c64", "c128"):
        parts.append(_library(cuda, c))
        parts.append(_arithmetic(c))
    return "".join(parts)
