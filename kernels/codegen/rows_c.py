"""C loops over the rows of an array on cpu: the argmax along the last axis, and adding
rows into a table at row indices (an embedding's gradient).

numpy runs both with per-element overhead: `argmax` along a short last axis (max-pool's
windows of 4) costs about 25 ns per row, `np.add.at` about 0.1 us per element. These
loops are a plain pass over the data. The library is built once (disk cached like the
fused kernels); without a compiler `available()` is False and callers keep numpy.

>>> import numpy as np
>>> x = np.array([[1.0, 3.0, 3.0], [np.nan, 0.0, 5.0]], np.float32)
>>> argmax_last(x).tolist() if available() else [1, 0]
[1, 0]
"""
from __future__ import annotations

import numpy as np

from kernels.codegen.compiler import LoopLibrary

_TYPES = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}

LOOPS_SOURCE = r"""
#include <stdint.h>

/* numpy's argmax: the first largest element of each row; a NaN wins (the first one). */ \
/* Branch-free selects: max-pool rows after a ReLU tie at random, so branches miss.  */ \
#define ROW_LOOPS(T, SUFFIX)                                                           \
void ej_argmax_##SUFFIX(const T *x, int64_t *out, int64_t rows, int64_t width) {     \
    for (int64_t r = 0; r < rows; r++) {                                               \
        const T *row = x + r * width;                                                  \
        T best = row[0];                                                               \
        int64_t at = 0;                                                                \
        int nan = best != best;                                                        \
        for (int64_t j = 1; j < width; j++) {                                          \
            T v = row[j];                                                              \
            int gt = v > best;                                                         \
            best = gt ? v : best;                                                      \
            at = gt ? j : at;                                                          \
            nan |= v != v;                                                             \
        }                                                                              \
        if (nan)                                                                       \
            for (at = 0; row[at] == row[at]; at++) {}                                  \
        out[r] = at;                                                                   \
    }                                                                                  \
}                                                                                      \
void ej_add_rows_##SUFFIX(T *table, const int64_t *index, const T *src, int64_t count, \
                          int64_t width, int64_t src_step) {                           \
    for (int64_t i = 0; i < count; i++) {                                              \
        T *dst = table + index[i] * width;                                             \
        const T *s = src + i * src_step;                                               \
        for (int64_t j = 0; j < width; j++) dst[j] += s[j];                            \
    }                                                                                  \
}                                                                                      \
/* One element per row at index[r] (negative: from the end): out[r] = x[r, index[r]] */ \
/* (put = 0), or x[r, index[r]] += out[r] (put = 1). Returns the first row whose     */ \
/* index is out of range (nothing after it is done), else -1.                        */ \
int64_t ej_pick_##SUFFIX(T *x, const int64_t *index, T *out, int64_t rows,           \
                         int64_t width, int64_t put) {                                 \
    for (int64_t r = 0; r < rows; r++) {                                               \
        int64_t j = index[r] < 0 ? index[r] + width : index[r];                        \
        if (j < 0 || j >= width) return r;                                             \
        if (put) x[r * width + j] += out[r];                                           \
        else out[r] = x[r * width + j];                                                \
    }                                                                                  \
    return -1;                                                                         \
}

ROW_LOOPS(float, f32)
ROW_LOOPS(double, f64)
"""

_DECLARATIONS = "\n".join(
    f"void ej_argmax_{s}(void *, int64_t *, int64_t, int64_t);\n"
    f"void ej_add_rows_{s}(void *, int64_t *, void *, int64_t, int64_t, int64_t);\n"
    f"int64_t ej_pick_{s}(void *, int64_t *, void *, int64_t, int64_t, int64_t);"
    for s in ("f32", "f64"))
_loops = LoopLibrary(LOOPS_SOURCE, _DECLARATIONS)
_library = _loops.library


def available(dtype=np.float32) -> bool:
    """Whether the C loops serve arrays of `dtype` (float32/float64, with a compiler)."""
    return np.dtype(dtype) in _TYPES and _library() is not None


def argmax_last(x: np.ndarray, keepdims: bool = False) -> np.ndarray:
    """numpy's `x.argmax(axis=-1, keepdims=keepdims)` as int64, for a float32/float64 x
    with a non-empty last axis (callers check `available(x.dtype)`)."""
    x = np.ascontiguousarray(x)
    width = x.shape[-1]
    out = np.empty(x.shape[:-1] + ((1,) if keepdims else ()), np.int64)
    fn = getattr(_library(), f"ej_argmax_{_TYPES[x.dtype]}")
    ffi = _loops.ffi
    fn(
        ffi.from_buffer(x), ffi.cast("int64_t *", ffi.from_buffer(out)), x.size // width, width)
    return out


def add_rows(table: np.ndarray, index: np.ndarray, src: np.ndarray) -> None:
    """`np.add.at(table, index, src)` for a C-contiguous table (n, ...) and int64 indices
    already in range [0, n), src broadcastable to index.shape + table.shape[1:]: each row
    receives its additions in index order, as with add.at."""
    width = table.size // table.shape[0]
    values = np.broadcast_to(src, index.shape + table.shape[1:])
    values = np.ascontiguousarray(values, dtype=table.dtype)
    index = np.ascontiguousarray(index, dtype=np.int64).reshape(-1)
    fn = getattr(_library(), f"ej_add_rows_{_TYPES[table.dtype]}")
    ffi = _loops.ffi
    fn(
        ffi.from_buffer(table, require_writable=True),
        ffi.cast("int64_t *", ffi.from_buffer(index)), ffi.from_buffer(values), index.size,
        width, width)


def pick_last(x: np.ndarray, index: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """`take_along_axis(x, index, -1)` for index of shape x.shape[:-1] + (1,) (one
    element per row); with `out` (index's shape, x's dtype) the reverse: adds out's
    values into C-contiguous x at those places. Raises IndexError naming the index and
    the size for an index outside [-n, n)."""
    put = out is not None
    if not put:
        x = np.ascontiguousarray(x)
        out = np.empty(index.shape, x.dtype)
    else:
        out = np.ascontiguousarray(out, dtype=x.dtype)
    index = np.ascontiguousarray(index, dtype=np.int64)
    width = x.shape[-1]
    fn = getattr(_library(), f"ej_pick_{_TYPES[x.dtype]}")
    ffi = _loops.ffi
    bad = fn(ffi.from_buffer(x, require_writable=put),
             ffi.cast("int64_t *", ffi.from_buffer(index)), ffi.from_buffer(out),
             index.size, width, int(put))
    if bad >= 0:
        raise IndexError(f"index {int(index.reshape(-1)[bad])} is out of bounds for axis "
                         f"{x.ndim - 1} with size {width}")
    return out
