"""Reductions: sum, prod, max, min, mean, var, std, logsumexp, argmax, argmin, all, any.

Both spellings work: `eager.sum(x, axis=1, keepdims=True)` (Array API) and
`x.sum(dim=1, keepdim=True)` (PyTorch).

>>> import eager
>>> eager.sum(eager.tensor([[1., 2.], [3., 4.]]), axis=0).tolist()
[4.0, 6.0]
"""
from __future__ import annotations

from typing import NamedTuple

from eager import arguments
from eager.dispatch import apply
from eager.ops.operands import cast
from eager.ops.public import implements
from eager.tensor import Tensor
from kernels import OPS, bool_, to_dtype
from kernels.dtypes import DIFFERENTIABLE, current_default_float
from kernels.errors import ShapeError
from kernels.shapes import normalize_axes, normalize_axis, size_of


def _axes(op, x, axis, dim):
    return normalize_axes(op, dim if axis is None else axis, x.ndim)


def _reduce(name, x, axis, keepdims, dim, keepdim):
    axes = _axes(name, x, axis, dim)
    return apply(OPS[name], x, axis=axes, keepdims=bool(keepdims or keepdim))


@implements(OPS.sum)
def sum(x: Tensor, /, axis=None, *, keepdims=False, dtype=None, dim=None, keepdim=False):
    """Sum over axis (None: all); bool and signed int tensors sum to int64, unsigned to uint64.

    >>> import eager
    >>> x = eager.tensor([[1., 2.], [3., 4.]])
    >>> eager.sum(x, axis=0), x.sum(dim=1, keepdim=True).shape
    (tensor([4., 6.]), (2, 1))
    """
    arguments.tensor("sum", "x", x)
    out = _reduce("sum", x, axis, keepdims, dim, keepdim)
    return out if dtype is None else cast(out, to_dtype(dtype))


@implements(OPS.prod)
def prod(x: Tensor, /, axis=None, *, keepdims=False, dtype=None, dim=None, keepdim=False):
    """Product over axis (None: all).

    >>> import eager
    >>> eager.prod(eager.tensor([2, 3, 4]))
    tensor(24)
    """
    arguments.tensor("prod", "x", x)
    out = _reduce("prod", x, axis, keepdims, dim, keepdim)
    return out if dtype is None else cast(out, to_dtype(dtype))


class ValuesIndices(NamedTuple):
    """What PyTorch's `max(dim)`, `min(dim)` and `sort` return: values and their indices."""

    values: Tensor
    indices: Tensor


@implements(OPS.max)
def max(x: Tensor, /, dim=None, *, axis=None, keepdims=False, keepdim=False):
    """Largest element over `axis` (Array API: the values; NaN propagates). With `dim`
    (PyTorch: `x.max(1)`, `x.max(dim=1)`) it returns `(values, indices)`, as PyTorch does.

    >>> import eager
    >>> x = eager.tensor([[1., 5.], [3., 2.]])
    >>> eager.max(x, axis=1)
    tensor([5., 3.])
    >>> x.max(dim=1)
    ValuesIndices(values=tensor([5., 3.]), indices=tensor([1, 0]))
    >>> eager.max(x, eager.tensor([2., 2.]))    # PyTorch's elementwise form
    tensor([[2., 5.],
            [3., 2.]])
    """
    arguments.tensor("max", "x", x)
    return _extreme("max", "argmax", x, dim, axis, keepdims, keepdim)


@implements(OPS.min)
def min(x: Tensor, /, dim=None, *, axis=None, keepdims=False, keepdim=False):
    """Smallest element over `axis` (NaN propagates); with `dim`, `(values, indices)`.

    >>> import eager
    >>> eager.tensor([[1., 5.], [3., 2.]]).min()
    tensor(1.)
    >>> eager.tensor([[1., 5.], [3., 2.]]).min(0).indices
    tensor([0, 1])
    """
    arguments.tensor("min", "x", x)
    return _extreme("min", "argmin", x, dim, axis, keepdims, keepdim)


def _extreme(name, arg_name, x, dim, axis, keepdims, keepdim):
    if type(dim) is Tensor:  # PyTorch's max(a, b) / min(a, b): elementwise
        from eager.ops.public import NAMESPACE

        return NAMESPACE["maximum" if name == "max" else "minimum"](x, dim)
    if dim is None:
        return _reduce(name, x, axis, keepdims, None, keepdim)
    if isinstance(dim, (tuple, list)):
        raise ShapeError(f"{name}: dim must be one int (for several axes use axis=), got {dim!r}")
    values = _reduce(name, x, dim, keepdims, None, keepdim)
    return ValuesIndices(values, _arg(arg_name, x, dim, keepdims, None, keepdim))


def _count(x, axes):
    return size_of(tuple(x.shape[a] for a in axes))


def _as_float(x):
    return x if x.dtype in DIFFERENTIABLE else cast(x, current_default_float())


def mean(x: Tensor, /, axis=None, *, keepdims=False, dim=None, keepdim=False):
    """Arithmetic mean over axis; integer inputs give float32.

    >>> import eager
    >>> eager.mean(eager.tensor([1, 2, 3, 4]))
    tensor(2.5000)
    """
    arguments.tensor("mean", "x", x)
    x = _as_float(x)
    axes = _axes("mean", x, axis, dim)
    total = apply(OPS["sum"], x, axis=axes, keepdims=bool(keepdims or keepdim))
    return total / _count(x, axes) if _count(x, axes) else total * float("nan")


def var(x: Tensor, /, axis=None, *, correction=0.0, keepdims=False, dim=None, keepdim=False,
        unbiased=None):
    """Variance over axis with `correction` (Array API); PyTorch's unbiased=True is
    correction=1.

    >>> import eager
    >>> eager.var(eager.tensor([1., 2., 3., 4.]))
    tensor(1.2500)
    >>> eager.tensor([1., 2., 3., 4.]).var(unbiased=True)
    tensor(1.6667)
    """
    arguments.tensor("var", "x", x)
    if unbiased is not None:
        correction = 1.0 if unbiased else 0.0
    correction = arguments.real("var", "correction", correction)
    x = _as_float(x)
    axes = _axes("var", x, axis, dim)
    centered = x - mean(x, axis=axes, keepdims=True)
    total = apply(OPS["sum"], centered * centered, axis=axes, keepdims=bool(keepdims or keepdim))
    count = _count(x, axes) - correction
    return total / count if count > 0 else total * float("nan")


def std(x: Tensor, /, axis=None, *, correction=0.0, keepdims=False, dim=None, keepdim=False,
        unbiased=None):
    """Standard deviation: sqrt(var).

    >>> import eager
    >>> eager.std(eager.tensor([1., 3.]))
    tensor(1.)
    """
    arguments.tensor("std", "x", x)
    v = var(x, axis=axis, correction=correction, keepdims=keepdims, dim=dim, keepdim=keepdim,
            unbiased=unbiased)
    # sqrt'(0) is infinite, and inf * 0 would make the gradient of a constant input NaN;
    # PyTorch takes it as 0. `where` masks the gradient where v == 0 (NaN stays NaN).
    positive = apply(OPS.ne, v, 0.0)
    return apply(OPS.where, positive, apply(OPS.sqrt, apply(OPS.where, positive, v, 1.0)), 0.0)


def logsumexp(x: Tensor, /, axis=None, *, keepdims=False, dim=None, keepdim=False):
    """log(sum(exp(x))) computed without overflow (shifted by the max).

    >>> import eager
    >>> eager.logsumexp(eager.tensor([1000., 1000.])).item()
    1000.6931762695312
    """
    arguments.tensor("logsumexp", "x", x)
    x = _as_float(x)
    axes = _axes("logsumexp", x, axis, dim)
    if 0 in [x.shape[a] for a in axes]:  # nothing to sum: log(0) = -inf, as PyTorch
        shift = apply(OPS["full"], shape=tuple(1 if i in axes else d for i, d in
                                               enumerate(x.shape)),
                      value=0.0, dtype=x.dtype, device=x.device)
    else:
        shift = apply(OPS["max"], x.detach(), axis=axes, keepdims=True)
        shift = apply(OPS["where"], shift.abs() < float("inf"), shift, 0.0)
    total = apply(OPS["sum"], (x - shift).exp(), axis=axes, keepdims=True)
    out = total.log() + shift
    if not (keepdims or keepdim):
        out = out.reshape(tuple(d for i, d in enumerate(x.shape) if i not in axes))
    return out


def _arg(name, x, axis, keepdims, dim, keepdim):
    axis = dim if axis is None else axis
    if axis is not None:
        axis = normalize_axis(name, axis, x.ndim)
    return apply(OPS[name], x, axis=axis, keepdims=bool(keepdims or keepdim))


@implements(OPS.argmax)
def argmax(x: Tensor, /, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """Index of the largest element (first on ties); flat index when axis is None.

    >>> import eager
    >>> eager.argmax(eager.tensor([[1, 9], [7, 2]]), axis=1)
    tensor([1, 0])
    """
    arguments.tensor("argmax", "x", x)
    return _arg("argmax", x, axis, keepdims, dim, keepdim)


@implements(OPS.argmin)
def argmin(x: Tensor, /, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """Index of the smallest element (first on ties); flat index when axis is None.

    >>> import eager
    >>> eager.tensor([3., 1., 2.]).argmin()
    tensor(1)
    """
    arguments.tensor("argmin", "x", x)
    return _arg("argmin", x, axis, keepdims, dim, keepdim)


def all(x: Tensor, /, axis=None, *, keepdims=False, dim=None, keepdim=False):
    """True where every element over axis is true.

    >>> import eager
    >>> eager.all(eager.tensor([True, False]))
    tensor(False)
    """
    arguments.tensor("all", "x", x)
    return _reduce("min", cast(x, bool_), axis, keepdims, dim, keepdim) if x.size else \
        _empty_truth(x, True, axis, keepdims, dim, keepdim)


def any(x: Tensor, /, axis=None, *, keepdims=False, dim=None, keepdim=False):
    """True where some element over axis is true.

    >>> import eager
    >>> eager.any(eager.tensor([[True], [False]]), axis=1)
    tensor([ True, False])
    """
    arguments.tensor("any", "x", x)
    return _reduce("max", cast(x, bool_), axis, keepdims, dim, keepdim) if x.size else \
        _empty_truth(x, False, axis, keepdims, dim, keepdim)


def _empty_truth(x, value, axis, keepdims, dim, keepdim):
    axes = _axes("all" if value else "any", x, axis, dim)
    keep = keepdims or keepdim
    shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape)) if keep else tuple(
        d for i, d in enumerate(x.shape) if i not in axes)
    return apply(OPS["full"], shape=shape, value=value, dtype=bool_, device=x.device)


def var_mean(x: Tensor, dim=None, *, correction=1, keepdim: bool = False,
             unbiased=None) -> tuple[Tensor, Tensor]:
    """PyTorch's var_mean: (variance, mean) over dim; the variance is unbiased by default
    (correction=1), as in PyTorch.

    >>> import eager
    >>> [t.item() for t in eager.var_mean(eager.tensor([1., 2., 3., 4.]))]
    [1.6666666269302368, 2.5]
    """
    arguments.tensor("var_mean", "x", x)
    v = var(x, dim=dim, correction=correction, keepdim=keepdim, unbiased=unbiased)
    return v, mean(x, dim=dim, keepdim=keepdim)


def std_mean(x: Tensor, dim=None, *, correction=1, keepdim: bool = False,
             unbiased=None) -> tuple[Tensor, Tensor]:
    """PyTorch's std_mean: (standard deviation, mean) over dim, unbiased by default.

    >>> import eager
    >>> [t.item() for t in eager.std_mean(eager.tensor([1., 3.]))]
    [1.4142135381698608, 2.0]
    """
    arguments.tensor("std_mean", "x", x)
    s = std(x, dim=dim, correction=correction, keepdim=keepdim, unbiased=unbiased)
    return s, mean(x, dim=dim, keepdim=keepdim)
