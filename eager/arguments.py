"""Argument checks shared by the public functions (creation, random, nn, optim, autograd).

Each helper takes the public function's name (`op`) and the argument's name, returns the
value normalised (an int, a float, a shape tuple) and raises `ArgumentError` (or
`ShapeError` for a negative dimension) whose message names both and what was expected.
The accepted spellings follow PyTorch and NumPy: numpy integer scalars and one-element
integer tensors count as ints, `zeros(2, 3)` and `zeros((2, 3))` are the same shape.

These run at function entry (creation, constructors, functional wrappers), never on the
elementwise dispatch path.

>>> from eager import arguments
>>> arguments.shape("zeros", (2, 3)), arguments.shape("zeros", ((2, 3),))
((2, 3), (2, 3))
>>> arguments.shape("zeros", (2.5,))
Traceback (most recent call last):
    ...
kernels.errors.ArgumentError: zeros: shape must hold ints, got 2.5 (float) at position 0 ...
"""
from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import numpy as np

from eager.tensor import Tensor
from kernels.errors import ArgumentError, ShapeError

_INT64_LIMIT = 2 ** 63


def _described(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def integer(op: str, name: str, value: Any, *, minimum: int | None = None,
            limit: int = _INT64_LIMIT) -> int:
    """value as a Python int (ints, numpy integers, one-element integer tensors), at
    least `minimum` when given, and within [-limit, limit) (by default: fits in int64).

    >>> integer("eye", "n_rows", 3), integer("eye", "n_rows", np.int32(2))
    (3, 2)
    >>> integer("eye", "n_rows", -1, minimum=0)
    Traceback (most recent call last):
        ...
    kernels.errors.ArgumentError: eye: n_rows must be an int >= 0, got -1 (int) ...
    """
    if type(value) is not int:
        try:
            value = operator.index(value)
        except TypeError:
            wanted = "an int" if minimum is None else f"an int >= {minimum}"
            raise ArgumentError(f"{op}: {name} must be {wanted}, got {_described(value)}") \
                from None
    if minimum is not None and value < minimum:
        raise ArgumentError(f"{op}: {name} must be an int >= {minimum}, got {_described(value)}")
    if not -limit <= value < limit:
        raise ArgumentError(f"{op}: {name} {value} is too large (limit {limit})")
    return value


def varargs(dims: Any) -> tuple:
    """`f(2, 3)` and `f((2, 3))` alike: the items of a lone tuple/list argument, else the
    arguments themselves (PyTorch's size and dims varargs).

    >>> varargs((2, 3)), varargs(([2, 3],)), varargs(5)
    ((2, 3), (2, 3), (5,))
    """
    if isinstance(dims, (tuple, list)):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)) or \
                len(dims) == 1 and isinstance(dims[0], np.ndarray) and dims[0].ndim:
            return tuple(dims[0])
        return tuple(dims)
    if isinstance(dims, np.ndarray) and dims.ndim:
        return tuple(dims)
    return (dims,)


def shape(op: str, dims: Any, *, minimum: int = 0, name: str = "shape") -> tuple[int, ...]:
    """A shape from `zeros(2, 3)`-style varargs or one sequence (`zeros((2, 3))`).

    Dimensions below `minimum` raise ShapeError (reshape and expand pass -1, which they
    read as "infer" / "keep").

    >>> shape("rand", (4,)), shape("rand", ([2, 3],)), shape("rand", ())
    ((4,), (2, 3), ())
    >>> shape("rand", (2, -1))
    Traceback (most recent call last):
        ...
    kernels.errors.ShapeError: rand: negative dimension in shape (2, -1) ...
    """
    result = varargs(dims)
    if not all(type(d) is int for d in result):
        result = tuple(_dimension(op, name, i, d) for i, d in enumerate(result))
    if result and max(result) >= _INT64_LIMIT:
        raise ShapeError(f"{op}: a dimension of {name} {result} is too large")
    if result and min(result) < minimum:
        if minimum == 0:
            raise ShapeError(f"{op}: negative dimension in {name} {result}")
        raise ShapeError(f"{op}: invalid dimension in {name} {result}; only {minimum} may be "
                         f"negative")
    return result


def _dimension(op: str, name: str, position: int, d: Any) -> int:
    try:
        return operator.index(d)
    except TypeError:
        raise ArgumentError(f"{op}: {name} must hold ints, got {_described(d)} at "
                            f"position {position}") from None


def real(op: str, name: str, value: Any, *, low: float | None = None,
         high: float | None = None, low_open: bool = False, high_open: bool = False,
         finite: bool = True) -> float:
    """value as a Python float: a real number (or one-element tensor), finite unless
    `finite=False`, within [low, high] (open ends with `low_open` / `high_open`).

    >>> real("SGD", "lr", 0.1, low=0.0)
    0.1
    >>> real("SGD", "lr", float("nan"), low=0.0)
    Traceback (most recent call last):
        ...
    kernels.errors.ArgumentError: SGD: lr must be a finite number >= 0.0, got nan (float) ...
    """
    number = value
    if isinstance(value, Tensor) and value.size == 1 and value.dtype.kind in "biuf":
        number = value.item()
    ok = isinstance(number, numbers.Real)
    if ok:
        try:
            number = float(number)
        except OverflowError:  # an int beyond float range
            number = math.inf if number > 0 else -math.inf
        ok = not (math.isnan(number) or (finite and math.isinf(number)))
        ok = ok and (low is None or (number > low if low_open else number >= low))
        ok = ok and (high is None or (number < high if high_open else number <= high))
    if not ok:
        wanted = _wanted_real(low, high, low_open, high_open, finite)
        raise ArgumentError(f"{op}: {name} must be {wanted}, got {_described(value)}")
    return number


def _wanted_real(low, high, low_open, high_open, finite) -> str:
    kind = "a finite number" if finite else "a number"
    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{kind} {'<' if high_open else '<='} {high}"
    return kind


def probability(op: str, name: str, value: Any) -> float:
    """A probability in [0, 1].

    >>> probability("dropout", "p", 0.5)
    0.5
    """
    if not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ArgumentError(f"{op}: probability must be in [0, 1], got {_described(value)} "
                            f"for {name}")
    return float(value)


def boolean(op: str, name: str, value: Any) -> bool:
    """A Python or numpy bool.

    >>> boolean("train", "mode", True)
    True
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{op}: {name} must be a bool, got {_described(value)}")
    return bool(value)


def tensor(op: str, name: str, value: Any) -> Tensor:
    """value itself when it is a Tensor.

    >>> tensor("relu", "input", 5)
    Traceback (most recent call last):
        ...
    kernels.errors.ArgumentError: relu: input must be a Tensor, got 5 (int) ...
    """
    if not isinstance(value, Tensor):
        raise ArgumentError(f"{op}: {name} must be a Tensor, got {_described(value)}")
    return value


def optional_tensor(op: str, name: str, value: Any) -> Tensor | None:
    """None, or a Tensor (see `tensor`).

    >>> optional_tensor("linear", "bias", None) is None
    True
    """
    return None if value is None else tensor(op, name, value)


def tensors(op: str, name: str, values: Any) -> list[Tensor]:
    """A list from a tuple or list of Tensors.

    >>> import eager
    >>> len(tensors("concat", "arrays", [eager.ones(1), eager.ones(2)]))
    2
    """
    if not isinstance(values, (tuple, list)):
        raise ArgumentError(f"{op}: {name} must be a list or tuple of Tensors, got "
                            f"{_described(values)}")
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            raise ArgumentError(f"{op}: {name}[{i}] must be a Tensor, got {_described(v)}")
    return list(values)


def pair(op: str, name: str, value: Any, *, minimum: int | None) -> tuple[int, int]:
    """An int or a pair of ints (conv / pool sizes), each at least `minimum`.

    >>> pair("Conv2d", "kernel_size", 3, minimum=1), pair("Conv2d", "stride", (1, 2), minimum=1)
    ((3, 3), (1, 2))
    """
    items = value if isinstance(value, (tuple, list)) else (value, value)
    if minimum is None:
        minimum = -_INT64_LIMIT
    if len(items) != 2:
        raise ArgumentError(f"{op}: {name} must be an int or a pair of ints, got "
                            f"{_described(value)}")
    return tuple(integer(op, name, v, minimum=minimum) for v in items)


def names(op: str, name: str, value: Any) -> tuple[str, ...]:
    """One string or an iterable of strings, as a tuple.

    >>> names("jit", "static_argnames", "n"), names("jit", "static_argnames", ["a", "b"])
    (('n',), ('a', 'b'))
    """
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list, set, frozenset)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ArgumentError(f"{op}: {name} must be a string or a sequence of strings, got "
                        f"{_described(value)}")


def pad_widths(op: str, widths: Any) -> tuple[tuple[int, int], ...]:
    """((before, after), ...) pairs of ints, one per dimension (numpy's pad widths).

    >>> pad_widths("pad", [(1, 2), (0, 0)])
    ((1, 2), (0, 0))
    """
    if isinstance(widths, np.ndarray):
        widths = widths.tolist()
    if not isinstance(widths, (tuple, list)) or not all(
            isinstance(w, (tuple, list, np.ndarray)) and len(w) == 2 for w in widths):
        raise ArgumentError(f"{op}: widths must be a sequence of (before, after) pairs, got "
                            f"{_described(widths)}")
    return tuple((integer(op, "widths", lo), integer(op, "widths", hi)) for lo, hi in widths)


def fill_value(op: str, value: Any, dtype: np.dtype) -> Any:
    """A number that `dtype` can hold (PyTorch's "cannot be converted without overflow"):
    NaN, infinity and out-of-range values are refused for integer dtypes, finite values
    beyond the largest float for floating dtypes.

    >>> fill_value("full", 7, np.dtype("int8"))
    7
    >>> fill_value("full", 300, np.dtype("uint8"))
    Traceback (most recent call last):
        ...
    kernels.errors.ArgumentError: full: fill_value 300 (int) cannot be converted to uint8 ...
    """
    if isinstance(value, Tensor):
        return value
    if dtype.kind == "c" and isinstance(value, numbers.Complex):
        return value
    if not isinstance(value, (numbers.Real, np.bool_)):
        raise ArgumentError(f"{op}: fill_value must be a real number, got {_described(value)}")
    finite = not isinstance(value, (float, np.floating)) or math.isfinite(value)
    if dtype.kind == "f":
        too_big = finite and abs(value) > float(np.finfo(dtype).max)
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        too_big = not (finite and info.min <= value <= info.max)
    else:
        too_big = False
    if too_big:
        raise ArgumentError(f"{op}: fill_value {_described(value)} cannot be converted to "
                            f"{dtype.name} without overflow")
    return value
