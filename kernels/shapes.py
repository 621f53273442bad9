"""Shape helpers shared by the ops' shape rules."""
from __future__ import annotations

import operator

from kernels.errors import ArgumentError, IndexOutOfRangeError, ShapeError


def broadcast_shapes(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """numpy broadcasting of shapes; ShapeError names the op and every shape.

    >>> from kernels.shapes import broadcast_shapes
    >>> broadcast_shapes("add", (3, 1), (4,))
    (3, 4)
    """
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(-ndim, 0):
        size = 1
        for s in shapes:
            if len(s) >= -axis:
                d = s[axis]
                if d != 1:
                    if size not in (1, d):
                        listed = " and ".join(str(tuple(x)) for x in shapes)
                        raise ShapeError(f"{op}: shapes {listed} cannot be broadcast")
                    size = d
        out.append(size)
    return tuple(out)


def normalize_axis(op: str, axis: int, ndim: int) -> int:
    """Turn a possibly negative axis into 0..ndim-1, or raise IndexOutOfRangeError (a
    ShapeError and an IndexError, as PyTorch's "Dimension out of range").

    >>> from kernels.shapes import normalize_axis
    >>> normalize_axis("sum", -1, 3)
    2
    """
    if type(axis) is not int:
        try:
            axis = operator.index(axis)
        except TypeError:
            raise ArgumentError(f"{op}: axis must be an int, got {axis!r} "
                                f"({type(axis).__name__})") from None
    bound = max(ndim, 1)  # a 0-d tensor takes axis 0 or -1
    if not -bound <= axis < bound:
        raise IndexOutOfRangeError(f"{op}: axis {axis} is out of range for a tensor with "
                                   f"{ndim} dims (expected in [{-bound}, {bound - 1}])")
    return axis % ndim if ndim else 0


def normalize_axes(op: str, axis, ndim: int) -> tuple[int, ...]:
    """None -> all axes; int or sequence -> sorted tuple of non-negative axes.

    >>> from kernels.shapes import normalize_axes
    >>> normalize_axes("sum", None, 2), normalize_axes("sum", (-1, 0), 3)
    ((0, 1), (0, 2))
    """
    if axis is None:
        return tuple(range(ndim))
    if not isinstance(axis, (tuple, list)):
        try:
            axis = (operator.index(axis),)
        except TypeError:  # a range or a 1-d array of axes; anything else is refused below
            axis = tuple(axis) if hasattr(axis, "__iter__") and not isinstance(axis, str) \
                else (axis,)
    axes = tuple(sorted(normalize_axis(op, a, ndim) for a in axis))
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{op}: repeated axis in {tuple(axis)}")
    return axes if ndim else ()  # a 0-d tensor's axis 0 / -1 names no actual dim


def size_of(shape: tuple[int, ...]) -> int:
    """Number of elements of a shape.

    >>> from kernels.shapes import size_of
    >>> size_of((2, 3, 4)), size_of(())
    (24, 1)
    """
    n = 1
    for d in shape:
        n *= d
    return n


def reshape_is_view(shape: tuple[int, ...], strides: tuple[int, ...],
                    new_shape: tuple[int, ...]) -> bool:
    """Whether an array of `shape` and `strides` can take `new_shape` (same size) in C
    order without copying, i.e. as a view sharing its memory.

    Each run of old dims merged or split into new dims must be contiguous within
    itself; size-1 dims never matter. This is the rule numpy and cupy apply. Shapes of
    different sizes give False (the reshape itself then reports the mismatch).

    >>> from kernels.shapes import reshape_is_view
    >>> reshape_is_view((2, 3), (12, 4), (6,)), reshape_is_view((2, 3), (4, 8), (6,))
    (True, False)
    """
    if size_of(shape) != size_of(new_shape):
        return False
    if 0 in shape:
        return True
    old = [(d, s) for d, s in zip(shape, strides) if d != 1]
    new = [d for d in new_shape if d != 1]
    i = j = 0
    while i < len(old) and j < len(new):
        first = i
        old_size, new_size = old[i][0], new[j]
        while old_size != new_size:
            if old_size < new_size:
                i += 1
                old_size *= old[i][0]
            else:
                j += 1
                new_size *= new[j]
        if any(old[k][1] != old[k + 1][0] * old[k + 1][1] for k in range(first, i)):
            return False
        i += 1
        j += 1
    return True
