"""Integer-array indexing and its scatter counterparts.

A key is a tuple of entries: ("s", start, stop, step), ("i", k), ("n",) as in `slice`, plus
("t", k) for the k-th index array passed as an input after the indexed tensor. Boolean
masks are turned into integer arrays by the caller (a host read: the count is data).
"""
from __future__ import annotations

import numpy as np

from kernels.errors import DTypeError, ShapeError
from kernels.movement import slice_key
from kernels.opdef import OpDef, OpKind, TensorSpec, register


def full_key(key: tuple, index_arrays) -> tuple:
    """Build the numpy/cupy key from a normalised key and the index arrays.

    >>> from kernels.indexing import full_key
    >>> full_key((("s", None, None, None), ("t", 0)), [[2, 0]])
    (slice(None, None, None), [2, 0])
    """
    out = []
    for entry in key:
        if entry[0] == "t":
            out.append(index_arrays[entry[1]])
        else:
            out.extend(slice_key((entry,)))
    return tuple(out)


def _indexed_shape(op, x: TensorSpec, key, index_specs) -> tuple[int, ...]:
    for spec in index_specs:
        if spec.dtype.kind not in "iu":
            raise DTypeError(f"{op}: index arrays must be integer, got {spec.dtype.name}")
    probe = np.broadcast_to(np.zeros((), np.int8), x.shape)
    try:
        return probe[full_key(key, [np.zeros(s.shape, np.intp) for s in index_specs])].shape
    except IndexError as exc:
        raise ShapeError(f"{op}: {exc} (tensor shape {x.shape})") from None
    except ValueError as exc:
        shapes = ", ".join(str(s.shape) for s in index_specs)
        raise ShapeError(f"{op}: index arrays of shapes {shapes} cannot be broadcast") from exc


def _index_impl(xp):
    def index(x, *index_arrays, key):
        return x[full_key(key, index_arrays)]
    return index


def _index_rule(x, *index_specs, key):
    return TensorSpec(_indexed_shape("index", x, key, index_specs), x.dtype)


index = register(OpDef("index", OpKind.INDEX, -1, _index_impl, _index_rule))


def _add_at(xp):
    """numpy's `add.at` (repeated indices add up), or cupyx.scatter_add where cupy's ufuncs
    have no `at`."""
    if hasattr(xp.add, "at"):
        return xp.add.at
    import cupyx

    return cupyx.scatter_add


def _add_rows(out, rows, src) -> None:
    """np.add.at(out, rows, src) for one index array into the first axis of a contiguous
    out, as a 1-d add.at over element positions: numpy's add.at of whole rows costs about
    1 us per index (an embedding's gradient: 0.55 ms for 512 tokens), its 1-d loop a
    sixth of that, and the C loop of `kernels.codegen.rows_c` (when a compiler is there)
    a plain pass over the rows. Each element receives the same additions in the same
    order."""
    size = out.shape[0]
    rows = np.asarray(rows, dtype=np.intp)
    if rows.size and (rows.min() < -size or rows.max() >= size):
        raise IndexError(f"index out of bounds for axis 0 with size {size}")
    from kernels.codegen import rows_c

    if rows_c.available(out.dtype):
        rows_c.add_rows(out, np.where(rows < 0, rows + size, rows), src)
        return
    row = out.size // size if size else 0
    positions = (np.where(rows < 0, rows + size, rows)[..., None] * row + np.arange(row))
    values = np.broadcast_to(src, rows.shape + out.shape[1:])
    np.add.at(out.reshape(-1), positions.reshape(-1), values.reshape(-1))


def _index_add_impl(xp):
    add_at = _add_at(xp)

    def index_add(base, src, *index_arrays, key):
        out = base.copy()
        if xp is np and len(key) == 1 and key[0][0] == "t" and len(index_arrays) == 1 and \
                out.ndim > 1 and np.result_type(src, out) == out.dtype:
            _add_rows(out, index_arrays[0], src)
        elif index_arrays:
            add_at(out, full_key(key, index_arrays), src)
        else:
            # A key of slices and ints never names an element twice, so a plain (much
            # faster) in-place add gives the same sums as add.at.
            out[full_key(key, ())] += src
        return out
    return index_add


def _index_set_impl(xp):
    def index_set(base, src, *index_arrays, key):
        out = base.copy()
        out[full_key(key, index_arrays)] = src
        return out
    return index_set


def _scatter_rule(op):
    def infer(base, src, *index_specs, key):
        target = _indexed_shape(op, base, key, index_specs)
        src_shape = src.shape if isinstance(src, TensorSpec) else ()
        if len(src_shape) > len(target) or any(
                s not in (1, t) for s, t in zip(src_shape[::-1], target[::-1])):
            raise ShapeError(f"{op}: value of shape {src_shape} cannot be broadcast to the "
                             f"indexed shape {target}")
        return TensorSpec(base.shape, base.dtype)
    return infer


index_add = register(OpDef("index_add", OpKind.INDEX, -1, _index_add_impl, _scatter_rule("index_add")))
index_set = register(OpDef("index_set", OpKind.INDEX, -1, _index_set_impl, _scatter_rule("index_set")))


def _gather_rule(x: TensorSpec, idx: TensorSpec, *, axis: int):
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"gather: index must be integer, got {idx.dtype.name}")
    if len(idx.shape) != len(x.shape):
        raise ShapeError(f"gather: index of shape {idx.shape} must have as many dims as the "
                         f"tensor of shape {x.shape}")
    return TensorSpec(idx.shape, x.dtype)


def _open_grids(xp, shape: tuple[int, ...]) -> list:
    """Open index grids over `shape` (numpy's indices(sparse=True), spelled so that cupy
    has it too), cached per shape: building them costs more than a small gather."""
    key = (xp, shape)
    grids = _GRIDS.get(key)
    if grids is None:
        ndim = len(shape)
        grids = [xp.arange(n).reshape((1,) * i + (n,) + (1,) * (ndim - i - 1))
                 for i, n in enumerate(shape)]
        for g in grids:
            if hasattr(g.flags, "writeable"):
                g.flags.writeable = False   # shared between calls: nobody may write them
        if len(_GRIDS) >= 256:
            _GRIDS.clear()
        _GRIDS[key] = grids
    return grids


_GRIDS: dict[tuple, list] = {}


def _along_axis_key(xp, idx, axis: int) -> tuple:
    """The fancy-index key picking idx[..., j, ...] along `axis` of an array whose other
    dims equal idx's (what take_along_axis builds, without its per-call checks)."""
    grids = list(_open_grids(xp, idx.shape))
    grids[axis] = idx
    return tuple(grids)


# From these many indices on, flat positions beat open-grid indexing (measured: below
# them, building the positions costs more than the grids' per-element overhead).
FLAT_GATHER_MIN = 8192
FLAT_SCATTER_MIN = 1024


def _flat_positions(xp, shape: tuple[int, ...], idx, axis: int):
    """Positions in a C-contiguous array of `shape` of the elements idx picks along
    `axis` (idx's other dims equal shape's), as one flat int array; raises IndexError for
    an index outside [-n, n) as numpy's indexing would. One 1-d take or put through these
    beats indexing with an open grid per dim, whose inner loop is a dim of a few elements.
    """
    n = shape[axis]
    low, high = (int(idx.min()), int(idx.max())) if idx.size else (0, 0)
    if low < -n or high >= n:
        raise IndexError(f"index {low if low < -n else high} is out of bounds for axis "
                         f"{axis} with size {n}")
    outer = 1
    for d in shape[:axis]:
        outer *= d
    inner = 1
    for d in shape[axis + 1:]:
        inner *= d
    picked = idx.reshape(outer, idx.shape[axis], inner)
    if low < 0:
        picked = picked + (picked < 0) * n
    starts = (xp.arange(outer) * (n * inner))[:, None, None]
    if inner == 1:   # the common case (the last axis): no grid over the inner dims
        return (starts + picked).reshape(-1)
    return (starts + xp.arange(inner)[None, None, :] + picked * inner).reshape(-1)


def _one_per_row(x, idx, axis: int) -> bool:
    """Whether idx picks one element of each row of float x along its last axis (max-pool's
    argmax, a class target), which the C loop of `kernels.codegen.rows_c` serves."""
    from kernels.codegen import rows_c

    return axis == x.ndim - 1 and idx.shape == x.shape[:-1] + (1,) and \
        x.shape[-1] > 0 and idx.dtype.kind in "iu" and rows_c.available(x.dtype)


def _gather_impl(xp):
    def gather(x, idx, *, axis):
        axis %= x.ndim
        xs, ids = x.shape, idx.shape
        if xp is np and _one_per_row(x, idx, axis):
            from kernels.codegen import rows_c

            return rows_c.pick_last(x, idx)
        if xs[:axis] == ids[:axis] and xs[axis + 1:] == ids[axis + 1:]:
            if x.flags.c_contiguous and idx.size >= FLAT_GATHER_MIN:
                return x.reshape(-1)[_flat_positions(xp, xs, idx, axis)].reshape(ids)
            return x[_along_axis_key(xp, idx, axis)]
        return xp.take_along_axis(x, idx, axis=axis)   # broadcasts the other dims
    return gather


gather = register(OpDef("gather", OpKind.INDEX, 2, _gather_impl, _gather_rule,
                        functions=("gather", "take_along_axis"), methods=("gather",)))


def _scatter_add_impl(xp):
    add_at = _add_at(xp)

    def scatter_add(base, idx, src, *, axis):
        axis %= idx.ndim
        out = base.copy()
        if xp is np and _one_per_row(base, idx, axis) and src.dtype == base.dtype:
            from kernels.codegen import rows_c

            rows_c.pick_last(out, idx, src)
            return out
        lanes_match = idx.shape[:axis] == base.shape[:axis] and \
            idx.shape[axis + 1:] == base.shape[axis + 1:]
        if lanes_match and idx.size >= FLAT_SCATTER_MIN and (idx.shape[axis] == 1 or xp is np):
            # A gather's backward (src has idx's shape, the rule checks): flat positions.
            positions = _flat_positions(xp, base.shape, idx, axis)
            if idx.shape[axis] == 1:
                # One index per lane (an argmax, a class target) never repeats, so a
                # plain put-add gives add.at's sums, much faster.
                out.reshape(-1)[positions] += src.reshape(-1)
            else:
                # numpy's 1-d add.at adds the same values in the same order as add.at
                # with one index array per dim, 3x faster.
                add_at(out.reshape(-1), positions, src.reshape(-1))
            return out
        add_at(out, _along_axis_key(xp, idx, axis), src)
        return out
    return scatter_add


def _scatter_add_rule(base: TensorSpec, idx: TensorSpec, src: TensorSpec, *, axis: int):
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"scatter_add: index must be integer, got {idx.dtype.name}")
    if idx.shape != src.shape:
        raise ShapeError(f"scatter_add: index shape {idx.shape} and source shape {src.shape} "
                         "must match")
    return TensorSpec(base.shape, base.dtype)


scatter_add = register(OpDef("scatter_add", OpKind.INDEX, 3, _scatter_add_impl,
                             _scatter_add_rule, functions=("scatter_add",),
                             methods=("scatter_add",)))


def _nonzero_impl(xp):
    def nonzero(x):
        return xp.stack(xp.nonzero(x), axis=-1).astype(xp.int64, copy=False)
    return nonzero


def _nonzero_rule(x: TensorSpec, **_):
    raise ShapeError("nonzero: the output shape depends on the values; run the op to know it")


# No method spelling: `eager.nonzero` is the Array API's (a tuple), `Tensor.nonzero`
# PyTorch's (a (count, ndim) tensor), both on this op (eager/ops/indexing.py).
nonzero = register(OpDef("nonzero", OpKind.INDEX, 1, _nonzero_impl, _nonzero_rule,
                         differentiable=False, dynamic_shape=True, functions=("nonzero",),
                         methods=()))
