"""Named error types shared by every layer (re-exported as `eager.ShapeError`, ...).

Each subclasses the built-in exception a Python user would catch for the same mistake,
and its message ends with the user's source line (the innermost frame outside
eager-jit's own packages), so an error raised deep inside the library still says which
line of the user's program caused it.

>>> try:
...     raise ShapeError("add: shapes (3, 4) and (5,) cannot be broadcast")
... except ValueError as exc:
...     str(exc).startswith("add: shapes (3, 4) and (5,) cannot be broadcast")
True
"""
from __future__ import annotations

import linecache
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PACKAGE_DIRS = tuple(os.path.join(_ROOT, pkg) + os.sep
                      for pkg in ("eager", "kernels", "tracer", "jit"))


def user_frame():
    """The innermost stack frame outside eager-jit's own packages (the user's line)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_PACKAGE_DIRS) and "importlib" not in filename:
            return frame
        frame = frame.f_back
    return None


def user_line_suffix() -> str:
    """" (at file.py:12: source line)" for the user's line, or "" when none is found.

    >>> from kernels.errors import user_line_suffix
    >>> user_line_suffix().startswith(" (at ")
    True
    """
    frame = user_frame()
    if frame is None:
        return ""
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    where = f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
    return f" (at {where}: {line})" if line else f" (at {where})"


class EagerError(Exception):
    """Base class of every error eager-jit raises on purpose."""

    def __init__(self, *args) -> None:
        if args and isinstance(args[0], str):
            suffix = user_line_suffix()
            if suffix and suffix not in args[0]:
                args = (args[0] + suffix,) + args[1:]
        super().__init__(*args)


class ShapeError(EagerError, ValueError):
    """Shapes that do not fit the op (broadcasting, matmul, reshape, indexing)."""


class IndexOutOfRangeError(ShapeError, IndexError):
    """An index or a dim out of range: an index past the end of a dimension (`x[5]`, an
    index tensor's value), one that is negative where PyTorch refuses it (gather,
    scatter_add, index_select: it never wraps around as numpy would), or a dim outside
    [-ndim, ndim) (`x.sum(dim=2)` of a 2-D tensor). An IndexError, as PyTorch's."""


class ZeroDimError(ShapeError, TypeError):
    """A 0-d tensor where dimensions are needed (len, iteration)."""


class DTypeError(EagerError, TypeError):
    """A dtype the op does not accept."""


class DeviceError(EagerError, RuntimeError):
    """Tensors on different devices, or a device that is not available."""


class ArgumentError(EagerError, ValueError, TypeError):
    """An argument a function, layer or optimizer cannot use: the wrong kind of value
    (None or a float where an int belongs), or a value out of range (a negative size, a
    probability outside [0, 1], a NaN learning rate, an unknown reduction).

    It is both a ValueError and a TypeError, so code that catches either of the errors
    Python or NumPy would have raised for the same mistake still catches it.
    """


class AutogradError(EagerError, RuntimeError):
    """Misuse of autograd: freed graph, non-scalar backward, modified saved tensor."""
