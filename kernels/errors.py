"""Named error types shared by every layer (re-exported as `eager.ShapeError`, ...).

Each subclasses the built-in exception a Python user would catch for the same mistake.
"""


class EagerError(Exception):
    """Base class of every error eager-jit raises on purpose."""


class ShapeError(EagerError, ValueError):
    """Shapes that do not fit the op (broadcasting, matmul, reshape, indexing)."""


class DTypeError(EagerError, TypeError):
    """A dtype the op does not accept."""


class DeviceError(EagerError, RuntimeError):
    """Tensors on different devices, or a device that is not available."""


class AutogradError(EagerError, RuntimeError):
    """Misuse of autograd: freed graph, non-scalar backward, modified saved tensor."""
