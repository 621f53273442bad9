"""The softmax family (`softmax`, `log_softmax`, `softmin`), re-exported by
`eager.nn.functional`. Called without dim, each picks PyTorch's deprecated implicit dim
and warns as PyTorch does, so a ported model computes the same numbers.

>>> import eager
>>> softmax(eager.tensor([[0.0, 0.0]]), dim=1).tolist()
[[0.5, 0.5]]
"""
from __future__ import annotations

import warnings

from eager import arguments
from eager.dispatch import apply, get_hook, user_line_suffix
from eager.ops import elementwise as E
from eager.ops import reductions as R
from eager.ops.operands import promote
from eager.tensor import Tensor
from kernels import OPS
from kernels.dtypes import float32, float64, to_dtype
from kernels.shapes import normalize_axis


def implicit_dim(op: str, ndim: int, stacklevel: int = 3) -> int:
    """PyTorch's deprecated choice of dim when a softmax-family call gives none: 0 for
    0-, 1- and 3-d inputs, else 1. Warns (UserWarning) as PyTorch does.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     [implicit_dim("softmax", n) for n in range(5)]
    [0, 0, 1, 0, 1]
    """
    dim = 0 if ndim in (0, 1, 3) else 1
    warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call "
                  f"to include dim={dim} as an argument (picked dim={dim} for a {ndim}-d "
                  f"input, as PyTorch does){user_line_suffix()}", UserWarning, stacklevel=stacklevel)
    return dim


def softmax(x: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along dim, shifted by the max so large inputs do not overflow.
    dim=None is PyTorch's deprecated implicit choice (see `implicit_dim`, it warns, at
    _stacklevel as in PyTorch); dtype casts x first.

    >>> import eager
    >>> softmax(eager.tensor([1000.0, 1000.0]), dim=0).tolist()
    [0.5, 0.5]
    """
    x = _cast_input("softmax", x, dtype)
    dim = implicit_dim("softmax", x.ndim, _stacklevel) if dim is None else dim
    dim = normalize_axis("softmax", dim, x.ndim)
    if x.ndim and x.shape[dim] == 0:  # an empty axis has no max to shift by
        return x.exp()
    if x.ndim and x.dtype in (float32, float64) and get_hook() is None:
        return apply(OPS.softmax, x, axis=dim)
    shifted = x - R.max(x.detach(), axis=dim, keepdims=True)
    e = shifted.exp()
    return e / R.sum(e, axis=dim, keepdims=True)


def softmin(x: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along dim; dim=None warns and picks as `softmax` does.

    >>> import eager
    >>> softmin(eager.tensor([0.0, 0.0]), dim=0).tolist()
    [0.5, 0.5]
    """
    x = _cast_input("softmin", x, dtype)
    dim = implicit_dim("softmin", x.ndim, _stacklevel) if dim is None else dim
    return softmax(-x, dim)


def log_softmax(x: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """log(softmax(x)) computed as x - logsumexp(x): stable for large and small inputs.
    dim=None warns and picks as `softmax` does.

    >>> import eager
    >>> [round(v, 4) for v in log_softmax(eager.tensor([0.0, 1000.0]), dim=0).tolist()]
    [-1000.0, 0.0]
    """
    x = _cast_input("log_softmax", x, dtype)
    dim = implicit_dim("log_softmax", x.ndim, _stacklevel) if dim is None else dim
    dim = normalize_axis("log_softmax", dim, x.ndim)
    (x,) = promote("f", x)  # an int64 x minus a float32 logsumexp would be float64
    # narrower floats keep the composite: eager then rounds as the jit's kernels do
    if x.ndim and x.shape[dim] and x.dtype in (float32, float64) and get_hook() is None:
        return apply(OPS.log_softmax, x, axis=dim)
    return x - R.logsumexp(x, axis=dim, keepdims=True)


def _cast_input(op: str, x: Tensor, dtype) -> Tensor:
    arguments.tensor(op, "input", x)
    return x if dtype is None else E.astype(x, to_dtype(dtype), copy=False)
