"""C loops for the sliding-window primitives on cpu: im2col (`unfold`) and col2im (`fold`).

numpy can do both through strided views (kernels/windows.py does, as the fallback), but
its inner loop runs along the last axis, which is the few pixels of one output row:
for small images that is a loop of 4 or 8 elements per numpy iteration. These loops walk
one image at a time, so the cost is the copy itself. The library is built once (disk
cached like the fused kernels); without a compiler `available()` is False and callers
take the numpy path.

>>> import numpy as np
>>> x = np.arange(9, dtype=np.float32).reshape(1, 3, 3)
>>> if available():
...     cols = np.empty((1, 2, 2, 2, 2), np.float32)
...     unfold(x, cols, (2, 2), (1, 1), (1, 1), kernel_last=False)
...     print(cols[0, 1, 0].tolist())
... else:
...     print([[3.0, 4.0], [6.0, 7.0]])
[[3.0, 4.0], [6.0, 7.0]]
"""
from __future__ import annotations

import numpy as np

from kernels.codegen.compiler import CompileError, CompilerUnavailable, load_library

_TYPES = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}

_SOURCE = r"""
#include <stdint.h>

#define WINDOW_LOOPS(T, SUFFIX)                                                        \
void ej_unfold_##SUFFIX(const T *x, T *out, int64_t lead, int64_t h, int64_t w,       \
                        int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh,    \
                        int64_t sw, int64_t dh, int64_t dw, int64_t kernel_last) {     \
    int64_t per_window = kh * kw, per_image = per_window * oh * ow;                   \
    for (int64_t l = 0; l < lead; l++) {                                               \
        const T *img = x + l * h * w;                                                  \
        T *o = out + l * per_image;                                                    \
        for (int64_t i = 0; i < kh; i++)                                               \
            for (int64_t j = 0; j < kw; j++)                                           \
                for (int64_t r = 0; r < oh; r++) {                                     \
                    const T *src = img + (r * sh + i * dh) * w + j * dw;               \
                    if (kernel_last) {                                                 \
                        T *dst = o + r * ow * per_window + i * kw + j;                 \
                        for (int64_t c = 0; c < ow; c++)                               \
                            dst[c * per_window] = src[c * sw];                         \
                    } else {                                                           \
                        T *dst = o + ((i * kw + j) * oh + r) * ow;                     \
                        for (int64_t c = 0; c < ow; c++) dst[c] = src[c * sw];         \
                    }                                                                  \
                }                                                                      \
    }                                                                                  \
}                                                                                      \
void ej_fold_##SUFFIX(const T *g, T *out, int64_t lead, int64_t h, int64_t w,         \
                      int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh,      \
                      int64_t sw, int64_t dh, int64_t dw, int64_t kernel_last) {       \
    int64_t per_window = kh * kw, per_image = per_window * oh * ow;                   \
    for (int64_t l = 0; l < lead; l++) {                                               \
        T *img = out + l * h * w;                                                      \
        const T *gi = g + l * per_image;                                               \
        for (int64_t i = 0; i < kh; i++)                                               \
            for (int64_t j = 0; j < kw; j++)                                           \
                for (int64_t r = 0; r < oh; r++) {                                     \
                    T *dst = img + (r * sh + i * dh) * w + j * dw;                     \
                    if (kernel_last) {                                                 \
                        const T *src = gi + r * ow * per_window + i * kw + j;          \
                        for (int64_t c = 0; c < ow; c++)                               \
                            dst[c * sw] += src[c * per_window];                        \
                    } else {                                                           \
                        const T *src = gi + ((i * kw + j) * oh + r) * ow;              \
                        for (int64_t c = 0; c < ow; c++) dst[c * sw] += src[c];        \
                    }                                                                  \
                }                                                                      \
    }                                                                                  \
}

WINDOW_LOOPS(float, f32)
WINDOW_LOOPS(double, f64)
"""

_ARGS = "(void *, void *" + ", int64_t" * 12 + ");"
_DECLARATIONS = "\n".join(f"void ej_{kind}_{suffix}{_ARGS}" for kind in ("unfold", "fold")
                          for suffix in ("f32", "f64"))
_state: dict = {}


def _library():
    if "lib" not in _state:
        from cffi import FFI

        ffi = FFI()
        ffi.cdef(_DECLARATIONS)
        try:
            _state["lib"] = load_library(_SOURCE, _DECLARATIONS, ffi)
        except (CompilerUnavailable, CompileError, OSError):
            _state["lib"] = None
        _state["ffi"] = ffi
    return _state["lib"]


def available(dtype=np.float32) -> bool:
    """Whether the C loops serve arrays of `dtype` (float32/float64, with a compiler)."""
    return np.dtype(dtype) in _TYPES and _library() is not None


def _call(kind: str, src: np.ndarray, out: np.ndarray, image: tuple[int, int],
          windows: tuple[int, int], kernel, stride, dilation, kernel_last: bool) -> None:
    fn = getattr(_library(), f"ej_{kind}_{_TYPES[src.dtype]}")
    ffi = _state["ffi"]
    lead = out.size // (image[0] * image[1]) if kind == "fold" else \
        src.size // (image[0] * image[1])
    fn(ffi.from_buffer(src), ffi.from_buffer(out, require_writable=True), lead, *image,
       *kernel, *windows, *stride, *dilation, int(kernel_last))


def unfold(x: np.ndarray, out: np.ndarray, kernel, stride, dilation, *,
           kernel_last: bool) -> None:
    """Write the windows of C-contiguous x (..., H, W) into C-contiguous `out`, shaped
    (..., kh, kw, oh, ow), or (..., oh, ow, kh, kw) with kernel_last."""
    windows = out.shape[-4:-2] if kernel_last else out.shape[-2:]
    _call("unfold", x, out, x.shape[-2:], windows, kernel, stride, dilation, kernel_last)


def fold(g: np.ndarray, out: np.ndarray, kernel, stride, dilation, *,
         kernel_last: bool) -> None:
    """Add the windows g (layout as in `unfold`, C-contiguous) into zeroed `out` (..., H, W)."""
    windows = g.shape[-4:-2] if kernel_last else g.shape[-2:]
    _call("fold", g, out, out.shape[-2:], windows, kernel, stride, dilation, kernel_last)
