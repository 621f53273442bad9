"""C loops for the sliding-window primitives on cpu: im2col (`unfold`), col2im (`fold`),
and max pooling over whole blocks (`block_max`, and its gradients `block_scatter` /
`block_pick`).

numpy can do all of them through strided views (kernels/windows.py and kernels/pooling.py
do, as the fallback), but its inner loop runs along the last axis, which is the few
pixels of one output row: for small images that is a loop of 4 or 8 elements per numpy
iteration. These loops walk one image at a time: short window rows through a table of
offsets computed once per call (one gather per image, into a padded copy where there is
padding), long rows as row copies whose in-image span is found once. The library is
built once (disk cached like the fused kernels); without a compiler `available()` is
False and callers take the numpy path.

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
_SUFFIXES = ("f32", "f64")

# The loops as C source: model.c of `jit.export` includes them too.
LOOPS_SOURCE = r"""
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

/* Window rows shorter than this are copied through a table of offsets (one gather */
/* per image) rather than row by row, where per-row overhead would dominate.        */
#define EJ_SHORT_ROW 16

/* The output columns c in [*lo, *hi) whose input column c * s + off lies in [0, n). */
static void ej_inside(int64_t off, int64_t s, int64_t n, int64_t count, int64_t *lo,
                      int64_t *hi) {
    int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t b = n - off <= 0 ? 0 : (n - off + s - 1) / s;
    *lo = a < count ? a : count;
    *hi = b < *lo ? *lo : (b < count ? b : count);
}

/* The windows of one image as offsets into it padded to (h + 2 ph, w + 2 pw): one     */
/* table per call, so each image's windows are one gather from its padded copy.        */
static int32_t *ej_window_table(int64_t kh, int64_t kw, int64_t oh, int64_t ow,       
        int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t wp, int64_t kernel_last) {
    int32_t *t = malloc(sizeof(int32_t) * (size_t)(kh * kw * oh * ow));               
    if (!t) return t;                                                                  
    for (int64_t i = 0; i < kh; i++)                                                   
        for (int64_t j = 0; j < kw; j++)                                               
            for (int64_t r = 0; r < oh; r++)                                           
                for (int64_t c = 0; c < ow; c++) {                                     
                    int64_t p = kernel_last ? ((r * ow + c) * kh + i) * kw + j         
                                            : ((i * kw + j) * oh + r) * ow + c;        
                    t[p] = (int32_t)((r * sh + i * dh) * wp + c * sw + j * dw);        
                }                                                                      
    return t;                                                                          
}

/* Image (h, w) -> windows; (ph, pw) of padding around the image read as `fill`. The   */
/* in-image span of each window row is found once, so the copy itself has no tests.    */
#define WINDOW_LOOPS(T, SUFFIX)                                                        \
static void ej_unfold_planes_##SUFFIX(const T *img, T *o, int64_t h, int64_t w,       \
        int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh, int64_t sw,        \
        int64_t dh, int64_t dw, int64_t ph, int64_t pw, T fill) {                      \
    for (int64_t i = 0; i < kh; i++)                                                   \
        for (int64_t j = 0; j < kw; j++) {                                             \
            int64_t off = j * dw - pw, lo, hi;                                         \
            ej_inside(off, sw, w, ow, &lo, &hi);                                       \
            T *plane = o + (i * kw + j) * oh * ow;                                     \
            for (int64_t r = 0; r < oh; r++) {                                         \
                int64_t row = r * sh + i * dh - ph;                                    \
                T *dst = plane + r * ow;                                               \
                if (row < 0 || row >= h) {                                             \
                    for (int64_t c = 0; c < ow; c++) dst[c] = fill;                    \
                    continue;                                                          \
                }                                                                      \
                const T *src = img + row * w + off;                                    \
                for (int64_t c = 0; c < lo; c++) dst[c] = fill;                        \
                if (sw == 1) memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(T));\
                else for (int64_t c = lo; c < hi; c++) dst[c] = src[c * sw];           \
                for (int64_t c = hi; c < ow; c++) dst[c] = fill;                       \
            }                                                                          \
        }                                                                              \
}                                                                                      \
static void ej_unfold_last_##SUFFIX(const T *img, T *o, int64_t h, int64_t w,         \
        int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh, int64_t sw,        \
        int64_t dh, int64_t dw, int64_t ph, int64_t pw, T fill) {                      \
    for (int64_t r = 0; r < oh; r++)                                                   \
        for (int64_t c = 0; c < ow; c++)                                               \
            for (int64_t i = 0; i < kh; i++) {                                         \
                int64_t row = r * sh + i * dh - ph;                                    \
                int row_in = row >= 0 && row < h;                                      \
                for (int64_t j = 0; j < kw; j++) {                                     \
                    int64_t col = c * sw + j * dw - pw;                                \
                    *o++ = row_in && col >= 0 && col < w ? img[row * w + col] : fill;  \
                }                                                                      \
            }                                                                          \
}                                                                                      \
static void ej_fold_rows_##SUFFIX(const T *gi, T *img, int64_t h, int64_t w,         \
        int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh, int64_t sw,        \
        int64_t dh, int64_t dw, int64_t ph, int64_t pw, int64_t kernel_last) {         \
    int64_t per_window = kh * kw;                                                      \
    for (int64_t i = 0; i < kh; i++)                                                   \
        for (int64_t j = 0; j < kw; j++) {                                             \
            int64_t off = j * dw - pw, lo, hi;                                         \
            ej_inside(off, sw, w, ow, &lo, &hi);                                       \
            for (int64_t r = 0; r < oh; r++) {                                         \
                int64_t row = r * sh + i * dh - ph;                                    \
                if (row < 0 || row >= h) continue;                                     \
                T *dst = img + row * w + off;                                          \
                if (kernel_last) {                                                     \
                    const T *src = gi + r * ow * per_window + i * kw + j;              \
                    for (int64_t c = lo; c < hi; c++) dst[c * sw] += src[c * per_window];\
                } else {                                                               \
                    const T *src = gi + ((i * kw + j) * oh + r) * ow;                  \
                    if (sw == 1) for (int64_t c = lo; c < hi; c++) dst[c] += src[c];   \
                    else for (int64_t c = lo; c < hi; c++) dst[c * sw] += src[c];      \
                }                                                                      \
            }                                                                          \
        }                                                                              \
}                                                                                      \
void ej_unfold_##SUFFIX(const T *x, T *out, int64_t lead, int64_t h, int64_t w,       \
                        int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh,    \
                        int64_t sw, int64_t dh, int64_t dw, int64_t ph, int64_t pw,    \
                        double fill, int64_t kernel_last) {                            \
    int64_t hp = h + 2 * ph, wp = w + 2 * pw, per_image = kh * kw * oh * ow;          \
    int gather = kernel_last || ow < EJ_SHORT_ROW;                                     \
    int32_t *t = gather ? ej_window_table(kh, kw, oh, ow, sh, sw, dh, dw, wp,          \
                                          kernel_last) : 0;                            \
    T *pad = t && (ph || pw) ? malloc(sizeof(T) * (size_t)(hp * wp)) : 0;              \
    if (!t || ((ph || pw) && !pad)) {                                                  \
        for (int64_t l = 0; l < lead; l++)                                             \
            (kernel_last ? ej_unfold_last_##SUFFIX : ej_unfold_planes_##SUFFIX)(       \
                x + l * h * w, out + l * per_image, h, w, kh, kw, oh, ow, sh, sw, dh,  \
                dw, ph, pw, (T)fill);                                                  \
        free(t);                                                                       \
        return;                                                                        \
    }                                                                                  \
    if (pad) for (int64_t q = 0; q < hp * wp; q++) pad[q] = (T)fill;                   \
    for (int64_t l = 0; l < lead; l++) {                                               \
        const T *img = x + l * h * w;                                                  \
        if (pad) {                                                                     \
            for (int64_t r = 0; r < h; r++)                                            \
                memcpy(pad + (r + ph) * wp + pw, img + r * w, sizeof(T) * (size_t)w);  \
            img = pad;                                                                 \
        }                                                                              \
        T *o = out + l * per_image;                                                    \
        for (int64_t p = 0; p < per_image; p++) o[p] = img[t[p]];                      \
    }                                                                                  \
    free(t);                                                                           \
    free(pad);                                                                         \
}                                                                                      \
void ej_fold_##SUFFIX(const T *g, T *out, int64_t lead, int64_t h, int64_t w,         \
                      int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh,      \
                      int64_t sw, int64_t dh, int64_t dw, int64_t ph, int64_t pw,      \
                      double fill, int64_t kernel_last) {                              \
    int64_t hp = h + 2 * ph, wp = w + 2 * pw, per_image = kh * kw * oh * ow;          \
    int scatter = kernel_last || ow < EJ_SHORT_ROW;                                    \
    int32_t *t = scatter ? ej_window_table(kh, kw, oh, ow, sh, sw, dh, dw, wp,         \
                                           kernel_last) : 0;                           \
    T *pad = t ? malloc(sizeof(T) * (size_t)(hp * wp)) : 0;                            \
    (void)fill;                                                                        \
    for (int64_t l = 0; l < lead; l++) {                                               \
        const T *gi = g + l * per_image;                                               \
        T *img = out + l * h * w;                                                      \
        if (!pad) {                                                                    \
            ej_fold_rows_##SUFFIX(gi, img, h, w, kh, kw, oh, ow, sh, sw, dh, dw, ph,   \
                                  pw, kernel_last);                                    \
            continue;                                                                  \
        }                                                                              \
        for (int64_t q = 0; q < hp * wp; q++) pad[q] = 0;                              \
        for (int64_t p = 0; p < per_image; p++) pad[t[p]] += gi[p];                    \
        for (int64_t r = 0; r < h; r++)                                                \
            for (int64_t c = 0; c < w; c++) img[r * w + c] += pad[(r + ph) * wp + pw + c];\
    }                                                                                  \
    free(t);                                                                           \
    free(pad);                                                                         \
}

/* Max pooling over whole (kh, kw) blocks of (h, w) images, the blocks' first largest   */
/* element (the first NaN, if any) as argmax: the max, the gradient written at the     */
/* argmax (`scatter`, into a zeroed image) and the values read there (`pick`). Blocks  */
/* are taken EJ_BLOCKS at a time across images, through a table of their elements'     */
/* offsets, with branch-free selects (after a ReLU, blocks tie at random).             */
#define EJ_BLOCKS 512
#define BLOCK_LOOPS(T, SUFFIX)                                                         \
/* kind 0: out = the max; 1: out[argmax] = g (out shaped as x); 2: out = g[argmax]. */ \
static int ej_blocks_##SUFFIX(int kind, const T *g, const T *x, T *out, int64_t lead, \
                              int64_t h, int64_t w, int64_t kh, int64_t kw) {          \
    int64_t oh = h / kh, ow = w / kw, cells = oh * ow, k = kh * kw;                    \
    if (cells == 0) return 0;                                                          \
    int64_t images = cells >= EJ_BLOCKS ? 1 : EJ_BLOCKS / cells, span = images * cells;\
    if (images * h * w > INT32_MAX) return -1;                                         \
    int32_t *t = malloc(sizeof(int32_t) * (size_t)(k * span));                         \
    T *best = malloc(sizeof(T) * (size_t)span);                                        \
    int32_t *at = malloc(sizeof(int32_t) * (size_t)span);                              \
    if (!t || !best || !at) {                                                          \
        free(t); free(best); free(at);                                                 \
        return -1;                                                                     \
    }                                                                                  \
    for (int64_t p = 0; p < span; p++) {                                               \
        int64_t image = p / cells, r = p % cells / ow, c = p % ow;                     \
        for (int64_t i = 0; i < kh; i++)                                               \
            for (int64_t j = 0; j < kw; j++)                                           \
                t[(i * kw + j) * span + p] =                                           \
                    (int32_t)(image * h * w + (r * kh + i) * w + c * kw + j);          \
    }                                                                                  \
    for (int64_t l = 0; l < lead; l += images) {                                       \
        int64_t n = (lead - l < images ? lead - l : images) * cells;                   \
        const T *xl = x + l * h * w;                                                   \
        for (int64_t p = 0; p < n; p++) { best[p] = xl[t[p]]; at[p] = t[p]; }          \
        for (int64_t q = 1; q < k; q++) {                                              \
            const int32_t *tq = t + q * span;                                          \
            for (int64_t p = 0; p < n; p++) {                                          \
                T v = xl[tq[p]], m = best[p];                                          \
                int take = v > m || (v != v && m == m);                                \
                best[p] = take ? v : m;                                                \
                at[p] = take ? tq[p] : at[p];                                          \
            }                                                                          \
        }                                                                              \
        int64_t cell = l * cells;                                                      \
        if (kind == 0) memcpy(out + cell, best, sizeof(T) * (size_t)n);                \
        else if (kind == 1)                                                            \
            for (int64_t p = 0; p < n; p++) out[l * h * w + at[p]] = g[cell + p];      \
        else for (int64_t p = 0; p < n; p++) out[cell + p] = g[l * h * w + at[p]];     \
    }                                                                                  \
    free(t); free(best); free(at);                                                     \
    return 0;                                                                          \
}                                                                                      \
int ej_block_max_##SUFFIX(const T *x, T *out, int64_t lead, int64_t h, int64_t w,    \
                           int64_t kh, int64_t kw) {                                   \
    return ej_blocks_##SUFFIX(0, 0, x, out, lead, h, w, kh, kw);                              \
}                                                                                      \
int ej_block_scatter_##SUFFIX(const T *g, const T *x, T *out, int64_t lead,          \
                               int64_t h, int64_t w, int64_t kh, int64_t kw) {        \
    return ej_blocks_##SUFFIX(1, g, x, out, lead, h, w, kh, kw);                              \
}                                                                                      \
int ej_block_pick_##SUFFIX(const T *v, const T *x, T *out, int64_t lead, int64_t h,  \
                            int64_t w, int64_t kh, int64_t kw) {                       \
    return ej_blocks_##SUFFIX(2, v, x, out, lead, h, w, kh, kw);                              \
}

WINDOW_LOOPS(float, f32)
WINDOW_LOOPS(double, f64)
BLOCK_LOOPS(float, f32)
BLOCK_LOOPS(double, f64)
"""

_ARGS = "(void *, void *" + ", int64_t" * 13 + ", double, int64_t);"
_BLOCK_ARGS = ", int64_t, int64_t, int64_t, int64_t, int64_t);"
_DECLARATIONS = "\n".join(
    [f"void ej_{kind}_{suffix}{_ARGS}" for kind in ("unfold", "fold") for suffix in _SUFFIXES]
    + [f"int ej_block_max_{suffix}(void *, void *{_BLOCK_ARGS}" for suffix in _SUFFIXES]
    + [f"int ej_block_{kind}_{suffix}(void *, void *, void *{_BLOCK_ARGS}"
       for kind in ("scatter", "pick") for suffix in _SUFFIXES])
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


def _block_call(kind: str, arrays: tuple[np.ndarray, ...], image: np.ndarray,
                kernel) -> bool:
    fn = getattr(_library(), f"ej_block_{kind}_{_TYPES[image.dtype]}")
    ffi = _loops.ffi
    pointers = [ffi.from_buffer(a) for a in arrays[:-1]]
    pointers.append(ffi.from_buffer(arrays[-1], require_writable=True))
    h, w = image.shape[-2:]
    return fn(*pointers, image.size // (h * w), h, w, *kernel) == 0


def block_max(x: np.ndarray, out: np.ndarray, kernel) -> bool:
    """Write the largest element of each whole `kernel` block of C-contiguous x
    (..., H, W) into C-contiguous `out` (..., H // kh, W // kw); a block with a NaN gives
    NaN. False (nothing written) where the loop could not allocate its tables."""
    return _block_call("max", (x, out), x, kernel)


def block_scatter(g: np.ndarray, x: np.ndarray, out: np.ndarray, kernel) -> bool:
    """Write g (..., H // kh, W // kw) into zeroed `out`, shaped as x (..., H, W), at the
    first largest element (the first NaN, if any) of each of x's `kernel` blocks; all
    C-contiguous. False as block_max."""
    return _block_call("scatter", (g, x, out), x, kernel)


def block_pick(v: np.ndarray, x: np.ndarray, out: np.ndarray, kernel) -> bool:
    """Read v (shaped as x) at the position `block_scatter` writes to, into `out`
    (..., H // kh, W // kw); all C-contiguous. False as block_max."""
    return _block_call("pick", (v, x, out), x, kernel)
