"""Namespace functions whose Array API signature differs from PyTorch's: roll, tril, triu,
diff, count_nonzero and meshgrid. Each takes the standard's form (`roll(x, shift,
axis=)`, `tril(x, k=)`, `diff(x, axis=, n=)`, `count_nonzero(x, axis=, keepdims=)`,
`meshgrid(*arrays, indexing="xy")`) and PyTorch's keywords as aliases (`shifts=`,
`dims=`, `diagonal=`, `dim=`), and runs the PyTorch-spelled implementation, which the
Tensor methods keep.

>>> import eager
>>> eager.roll(eager.arange(4), 1).tolist(), eager.roll(eager.arange(4), shifts=1, dims=0).tolist()
([3, 0, 1, 2], [3, 0, 1, 2])
"""
from __future__ import annotations

from eager import arguments
from eager.ops import counting, matrices, ordering, rearrange
from eager.tensor import Tensor
from kernels.errors import ArgumentError


def _alias(name: str, standard: str, value, torch_name: str, torch_value):
    if torch_value is None:
        return value
    if value is not None:
        raise ArgumentError(f"{name}: give {standard}= or {torch_name}=, not both")
    return torch_value


def roll(x: Tensor, /, shift=None, axis=None, *, shifts=None, dims=None) -> Tensor:
    """Shift elements by `shift` along axis (an int or a tuple, with as many shifts;
    None: over the flattened tensor, keeping its shape), wrapping around.

    >>> import eager
    >>> eager.roll(eager.arange(6).reshape(2, 3), 1, axis=1).tolist()
    [[2, 0, 1], [5, 3, 4]]
    """
    shift = _alias("roll", "shift", shift, "shifts", shifts)
    axis = _alias("roll", "axis", axis, "dims", dims)
    if shift is None:
        raise ArgumentError("roll: missing the shift")
    if axis is not None and not isinstance(axis, (tuple, list)) \
            and isinstance(shift, (tuple, list)):
        axis = (axis,) * len(shift)
    if isinstance(axis, (tuple, list)) and not isinstance(shift, (tuple, list)):
        shift = (shift,) * len(axis)
    return rearrange.roll(x, shift, axis)


def tril(x: Tensor, /, k: int = 0, *, diagonal: int | None = None) -> Tensor:
    """The lower triangle of the matrices in the last two dims: elements with
    column - row <= k (PyTorch's `diagonal`).

    >>> import eager
    >>> eager.tril(eager.ones(2, 2), k=-1).tolist()
    [[0.0, 0.0], [1.0, 0.0]]
    """
    return matrices.tril(x, k if diagonal is None else diagonal)


def triu(x: Tensor, /, k: int = 0, *, diagonal: int | None = None) -> Tensor:
    """The upper triangle of the matrices in the last two dims: elements with
    column - row >= k (PyTorch's `diagonal`).

    >>> import eager
    >>> eager.triu(eager.ones(2, 2), k=1).tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    return matrices.triu(x, k if diagonal is None else diagonal)


def diff(x: Tensor, /, n: int = 1, dim: int | None = None, prepend=None, append=None, *,
         axis: int | None = None) -> Tensor:
    """n-th forward difference along axis (default the last; PyTorch's `dim`, also its
    second positional place after n); prepend and append are joined to x first.

    >>> import eager
    >>> eager.diff(eager.tensor([[1, 4], [9, 16]]), axis=0).tolist()
    [[8, 12]]
    """
    axis = _alias("diff", "axis", axis, "dim", dim)
    return ordering.diff(x, n, -1 if axis is None else axis, prepend, append)


def count_nonzero(x: Tensor, /, axis=None, *, keepdims: bool = False, dim=None) -> Tensor:
    """How many elements are not zero over axis (an int, a tuple or None: all), as
    int64; keepdims keeps the counted axes with size 1.

    >>> import eager
    >>> eager.count_nonzero(eager.tensor([[0, 1], [2, 3]]), axis=1, keepdims=True).tolist()
    [[1], [2]]
    """
    from kernels.shapes import normalize_axes

    axis = _alias("count_nonzero", "axis", axis, "dim", dim)
    x = arguments.tensor("count_nonzero", "x", x)
    out = counting.count_nonzero(x, axis)
    if not keepdims:
        return out
    axes = normalize_axes("count_nonzero", axis, x.ndim)
    return out.reshape(tuple(1 if i in axes else d for i, d in enumerate(x.shape)))


def meshgrid(*arrays, indexing: str | None = None) -> list[Tensor]:
    """Coordinate grids from 1-D tensors; indexing "xy" (Cartesian, the standard's
    default) or "ij" (matrix). PyTorch's form, one list of tensors, keeps PyTorch's
    default "ij"; pass indexing= to be explicit either way.

    >>> import eager
    >>> a, b = eager.meshgrid(eager.arange(2), eager.arange(3))
    >>> a.shape, eager.meshgrid([eager.arange(2), eager.arange(3)])[0].shape
    ((3, 2), (2, 3))
    """
    if len(arrays) == 1 and isinstance(arrays[0], (list, tuple)):
        return list(rearrange.meshgrid(*arrays[0], indexing="ij" if indexing is None else indexing))
    return list(rearrange.meshgrid(*arrays, indexing="xy" if indexing is None else indexing))
