"""Movement ops: they rearrange elements without arithmetic.

reshape, permute, expand and basic slicing return views of their input where the array
backend can (numpy and cupy both do), so eager tensors share memory as in PyTorch. flip,
pad and concat return new arrays (PyTorch's flip copies too). `OpDef.is_view` says which:
the tracer and the memory planner rely on it (a test walks OPS to check it).
"""
from __future__ import annotations

from kernels.dtypes import result_dtype
from kernels.errors import IndexOutOfRangeError, ShapeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register
from kernels.shapes import size_of


def _reshape_rule(x: TensorSpec, *, shape: tuple[int, ...]):
    if size_of(shape) != size_of(x.shape):
        raise ShapeError(f"reshape: cannot reshape tensor of shape {x.shape} "
                         f"({size_of(x.shape)} elements) into shape {shape}")
    return TensorSpec(tuple(shape), x.dtype)


def _reshape(x, *, shape):
    return x.reshape(shape)   # the method: a fraction of np.reshape's call overhead


reshape = register(OpDef("reshape", OpKind.MOVEMENT, 1, lambda xp: _reshape, _reshape_rule,
                         is_view=True, functions=("reshape",), methods=("reshape", "view")))


def _permute_rule(x: TensorSpec, *, axes: tuple[int, ...]):
    if sorted(axes) != list(range(len(x.shape))):
        raise ShapeError(f"permute: axes {axes} are not a permutation of the "
                         f"{len(x.shape)} dims of shape {x.shape}")
    return TensorSpec(tuple(x.shape[a] for a in axes), x.dtype)


def _permute(x, *, axes):
    return x.transpose(axes)


permute = register(OpDef("permute", OpKind.MOVEMENT, 1, lambda xp: _permute, _permute_rule,
                         is_view=True, functions=("permute", "permute_dims", "transpose",
                                                  "moveaxis"),
                         methods=("permute", "transpose")))


def _expand_rule(x: TensorSpec, *, shape: tuple[int, ...]):
    ok = len(shape) >= len(x.shape) and all(
        d == s or d == 1 for d, s in zip(x.shape[::-1], shape[::-1]))
    if not ok:
        raise ShapeError(f"expand: cannot expand shape {x.shape} to {tuple(shape)}")
    return TensorSpec(tuple(shape), x.dtype)


expand = register(OpDef("expand", OpKind.MOVEMENT, 1, lambda xp: xp.broadcast_to,
                        _expand_rule, is_view=True, functions=("broadcast_to",),
                        methods=("expand",)))


def slice_key(key: tuple) -> tuple:
    """Turn a normalised key (("s", start, stop, step), ("i", k), ("n",)) into a numpy key.

    >>> from kernels.movement import slice_key
    >>> slice_key((("s", 1, None, 2), ("i", 0), ("n",)))
    (slice(1, None, 2), 0, None)
    """
    out = []
    for entry in key:
        tag = entry[0]
        if tag == "s":
            out.append(slice(entry[1], entry[2], entry[3]))
        elif tag == "i":
            out.append(entry[1])
        elif tag == "n":
            out.append(None)
        else:
            raise ValueError(f"slice: bad key entry {entry!r}")
    return tuple(out)


def _slice_impl(xp):
    def basic_slice(x, *, key):
        # The trailing Ellipsis makes numpy return a 0-d view, not a scalar copy, when
        # every dimension is indexed by an integer.
        return x[slice_key(key) + (Ellipsis,)]
    return basic_slice


def _slice_rule(x: TensorSpec, *, key: tuple):
    shape, axis = [], 0
    for entry in key:
        tag = entry[0]
        if tag == "n":
            shape.append(1)
            continue
        if axis >= len(x.shape):
            raise ShapeError(f"slice: too many indices for a tensor of shape {x.shape}")
        dim = x.shape[axis]
        if tag == "i":
            if not -dim <= entry[1] < dim:
                raise IndexOutOfRangeError(f"slice: index {entry[1]} is out of bounds for axis "
                                           f"{axis} with size {dim} (shape {x.shape})")
        else:
            shape.append(len(range(*slice(entry[1], entry[2], entry[3]).indices(dim))))
        axis += 1
    shape.extend(x.shape[axis:])
    return TensorSpec(tuple(shape), x.dtype)


slice_ = register(OpDef("slice", OpKind.MOVEMENT, 1, _slice_impl, _slice_rule, is_view=True))


def _flip_rule(x: TensorSpec, *, axes: tuple[int, ...]):
    return TensorSpec(x.shape, x.dtype)


def _flip_impl(xp):
    def flip(x, *, axes):
        # A copy, as in PyTorch: numpy's flip is a view, but a view with negative strides
        # would make eager writes through it reach the base while the graph treats flip as
        # a new value (and the memory planner reuses its buffer).
        return xp.flip(x, axes).copy()
    return flip


flip = register(OpDef("flip", OpKind.MOVEMENT, 1, _flip_impl, _flip_rule,
                      functions=("flip",), methods=("flip",)))


def _pad_impl(xp):
    def pad(x, *, widths, value=0):
        if not widths:   # a 0-d tensor: numpy's pad refuses an empty width list
            return x.copy()
        return xp.pad(x, widths, mode="constant", constant_values=value)
    return pad


def _pad_rule(x: TensorSpec, *, widths, value=0):
    if len(widths) != len(x.shape):
        raise ShapeError(f"pad: {len(widths)} (before, after) pairs for a tensor of "
                         f"shape {x.shape}")
    return TensorSpec(tuple(d + lo + hi for d, (lo, hi) in zip(x.shape, widths)), x.dtype)


pad = register(OpDef("pad", OpKind.MOVEMENT, 1, _pad_impl, _pad_rule, functions=("pad",)))


def _concat_impl(xp):
    def concat(*xs, axis):
        # numpy would widen float16 with int32 to float64; the op's rule keeps float16.
        dtype = result_dtype(*(x.dtype for x in xs))
        return xp.concatenate([x.astype(dtype, copy=False) for x in xs], axis=axis)
    return concat


def _concat_rule(*xs: TensorSpec, axis: int):
    if not xs:
        raise ShapeError("concat: needs at least one tensor")
    first = xs[0].shape
    for number, x in enumerate(xs[1:], 1):
        if len(x.shape) != len(first):
            shapes = ", ".join(str(s.shape) for s in xs)
            raise ShapeError(f"concat: shapes {shapes} differ outside axis {axis}: tensor "
                             f"{number} has {len(x.shape)} dims but tensor 0 has {len(first)}")
        bad = [i for i, (a, b) in enumerate(zip(first, x.shape)) if i != axis and a != b]
        if bad:
            shapes = ", ".join(str(s.shape) for s in xs)
            raise ShapeError(f"concat: shapes {shapes} differ outside axis {axis}: tensor "
                             f"{number} has size {x.shape[bad[0]]} in dim {bad[0]} where "
                             f"tensor 0 has {first[bad[0]]}")
    shape = list(first)
    shape[axis] = sum(x.shape[axis] for x in xs)
    dtype = result_dtype(*(x.dtype for x in xs))
    return TensorSpec(tuple(shape), dtype)


concat = register(OpDef("concat", OpKind.MOVEMENT, -1, _concat_impl, _concat_rule,
                        functions=("concat", "cat")))


def _to_device_impl(xp):
    def to_device(x, *, device):
        if device == "cpu":
            return x.get() if hasattr(x, "get") else x.copy()
        from kernels.backend import array_namespace_for

        return array_namespace_for(device).asarray(x)
    return to_device


to_device = register(OpDef("to_device", OpKind.TRANSFER, 1, _to_device_impl,
                           lambda x, *, device: TensorSpec(x.shape, x.dtype),
                           methods=("to_device",)))
