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

from kernels.codegen.compiler import LoopLibrary

_TYPES = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}

# The loops as C source: model.c of `jit.export` includes them too.
LOOPS_SOURCE = r"""
#include <stdint.h>

/* Image (h, w) -> windows; (ph, pw) of padding around the image read as `fill`. */
#define WINDOW_LOOPS(T, SUFFIX)                                                        \
void ej_unfold_##SUFFIX(const T *x, T *out, int64_t lead, int64_t h, int64_t w,       \
                        int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh,    \
                        int64_t sw, int64_t dh, int64_t dw, int64_t ph, int64_t pw,    \
                        double fill, int64_t kernel_last) {                            \
    int64_t per_window = kh * kw, per_image = per_window * oh * ow;                   \
    for (int64_t l = 0; l < lead; l++) {                                               \
        const T *img = x + l * h * w;                                                  \
        T *o = out + l * per_image;                                                    \
        for (int64_t i = 0; i < kh; i++)                                               \
            for (int64_t j = 0; j < kw; j++)                                           \
                for (int64_t r = 0; r < oh; r++) {                                     \
                    int64_t row = r * sh + i * dh - ph;                                \
                    int row_in = row >= 0 && row < h;                                  \
                    const T *src = img + row * w;                                      \
                    T *dst = kernel_last ? o + r * ow * per_window + i * kw + j        \
                                         : o + ((i * kw + j) * oh + r) * ow;           \
                    int64_t step = kernel_last ? per_window : 1;                       \
                    for (int64_t c = 0; c < ow; c++) {                                 \
                        int64_t col = c * sw + j * dw - pw;                            \
                        dst[c * step] = row_in && col >= 0 && col < w ? src[col]       \
                                                                      : (T)fill;       \
                    }                                                                  \
                }                                                                      \
    }                                                                                  \
}                                                                                      \
void ej_fold_##SUFFIX(const T *g, T *out, int64_t lead, int64_t h, int64_t w,         \
                      int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh,      \
                      int64_t sw, int64_t dh, int64_t dw, int64_t ph, int64_t pw,      \
                      double fill, int64_t kernel_last) {                              \
    int64_t per_window = kh * kw, per_image = per_window * oh * ow;                   \
    (void)fill;                                                                        \
    for (int64_t l = 0; l < lead; l++) {                                               \
        T *img = out + l * h * w;                                                      \
        const T *gi = g + l * per_image;                                               \
        for (int64_t i = 0; i < kh; i++)                                               \
            for (int64_t j = 0; j < kw; j++)                                           \
                for (int64_t r = 0; r < oh; r++) {                                     \
                    int64_t row = r * sh + i * dh - ph;                                \
                    if (row < 0 || row >= h) continue;                                 \
                    T *dst = img + row * w;                                            \
                    const T *src = kernel_last ? gi + r * ow * per_window + i * kw + j \
                                               : gi + ((i * kw + j) * oh + r) * ow;    \
                    int64_t step = kernel_last ? per_window : 1;                       \
                    for (int64_t c = 0; c < ow; c++) {                                 \
                        int64_t col = c * sw + j * dw - pw;                            \
                        if (col >= 0 && col < w) dst[col] += src[c * step];            \
                    }                                                                  \
                }                                                                      \
    }                                                                                  \
}

WINDOW_LOOPS(float, f32)
WINDOW_LOOPS(double, f64)
"""

_ARGS = "(void *, void *" + ", int64_t" * 13 + ", double, int64_t);"
_DECLARATIONS = "\n".join(f"void ej_{kind}_{suffix}{_ARGS}" for kind in ("unfold", "fold")
                          for suffix in ("f32", "f64"))
_loops = LoopLibrary(LOOPS_SOURCE, _DECLARATIONS)
_library = _loops.library


def available(dtype=np.float32) -> bool:
    """Whether the C loops serve arrays of `dtype` (float32/float64, with a compiler)."""
    return np.dtype(dtype) in _TYPES and _library() is not None


def _call(kind: str, src: np.ndarray, out: np.ndarray, image: tuple[int, int],
          windows: tuple[int, int], kernel, stride, dilation, padding, fill: float,
          kernel_last: bool) -> None:
    fn = getattr(_library(), f"ej_{kind}_{_TYPES[src.dtype]}")
    ffi = _loops.ffi
    images = out if kind == "fold" else src
    lead = images.size // (image[0] * image[1])
    fn(ffi.from_buffer(src), ffi.from_buffer(out, require_writable=True), lead, *image,
       *kernel, *windows, *stride, *dilation, *padding, float(fill), int(kernel_last))


def unfold(x: np.ndarray, out: np.ndarray, kernel, stride, dilation, padding=(0, 0),
           fill: float = 0.0, *, kernel_last: bool) -> None:
    """Write the windows of C-contiguous x (..., H, W), padded by `padding` with `fill`,
    into C-contiguous `out`, shaped (..., kh, kw, oh, ow), or (..., oh, ow, kh, kw) with
    kernel_last."""
    windows = out.shape[-4:-2] if kernel_last else out.shape[-2:]
    _call("unfold", x, out, x.shape[-2:], windows, kernel, stride, dilation, padding, fill,
          kernel_last)


def fold(g: np.ndarray, out: np.ndarray, kernel, stride, dilation, padding=(0, 0), *,
         kernel_last: bool) -> None:
    """Add the windows g (layout as in `unfold`, C-contiguous) into zeroed `out`
    (..., H, W); window taps that fall in the padding are dropped."""
    windows = g.shape[-4:-2] if kernel_last else g.shape[-2:]
    _call("fold", g, out, out.shape[-2:], windows, kernel, stride, dilation, padding, 0.0,
          kernel_last)
