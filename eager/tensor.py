"""`Tensor`: an n-dimensional array on a device, with define-by-run autograd.

The class here holds the data, metadata, host conversions and autograd entry points;
operators and math methods are attached from `eager.ops` (see `eager/tensor_methods.py`).

>>> import eager
>>> x = eager.tensor([[1., 2.], [3., 4.]], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad.tolist()
[[2.0, 4.0], [6.0, 8.0]]
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from eager.device import device, device_object
from kernels.dtypes import DIFFERENTIABLE, is_floating
from kernels.errors import ArgumentError, AutogradError, DTypeError, ShapeError, ZeroDimError
from kernels.shapes import normalize_axis

DEFAULT_REPR_DTYPES = ("float32", "int64", "bool")


class Size(int):
    """Number of elements that is also callable like PyTorch's `size(dim=None)`.

    The Array API makes `x.size` an int; PyTorch makes `x.size()` a method returning the
    shape. This int serves both: `x.size == 6` and `x.size() == (2, 3)`.
    """

    def __new__(cls, numel: int, shape: tuple[int, ...]):
        obj = super().__new__(cls, numel)
        obj._shape = shape
        return obj

    def __call__(self, dim: int | None = None):
        if dim is None:
            return self._shape
        axis = normalize_axis("size", dim, len(self._shape))
        if not self._shape:
            raise ZeroDimError(f"size: a 0-d tensor has no dimension {dim}")
        return self._shape[axis]


class Tensor:
    """An n-dimensional array on "cpu" (numpy) or "cuda" (cupy) that can record gradients.

    Create tensors with `eager.tensor`, `eager.zeros`, ...; `Tensor(data)` and
    `Tensor(*sizes)` make float32 tensors as `torch.Tensor` does (`eager.tensor_types`).
    """

    __slots__ = (
        "__weakref__",
        "_base",
        "_data",
        "_device",
        "_grad",
        "_node",
        "_requires_grad",
        "_version",
        "_written_by",  # (version, op, file, line) of the last in-place write while grad is on
    )
    __array_priority__ = 1000

    def __new__(cls, *args, **kwargs) -> Tensor:  # noqa: PYI034
        from eager.tensor_types import new_typed
        from kernels.dtypes import current_default_float

        return new_typed(current_default_float(), args, dict(kwargs), "Tensor")

    def __init__(self, *args, **kwargs) -> None:
        """Everything happens in __new__ (internals build tensors with object.__new__)."""

    # ---- metadata -------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The tensor's dimensions, a tuple of ints."""
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        """Element type, e.g. eager.float32."""
        return self._data.dtype

    @property
    def device(self) -> device:
        """An `eager.device`, a str equal to "cpu" or "cuda" with PyTorch's `.type`."""
        return device_object(self._device)

    @property
    def is_cuda(self) -> bool:
        """Whether the tensor lives on a GPU (PyTorch's `is_cuda`)."""
        return self._device.startswith("cuda")

    @property
    def is_sparse(self) -> bool:
        """False: every tensor is dense (`eager.sparse_coo_tensor` builds dense ones)."""
        return False

    def to_sparse(self, sparse_dim: int | None = None) -> Tensor:
        """This tensor itself: sparse layouts are held densely (see `eager.sparse`), so
        `sparse_dim` (torch's) changes nothing."""
        return self

    def share_memory_(self) -> Tensor:
        """Move this tensor's values into memory shared between processes and return
        it: sent to another process with `eager.multiprocessing`, it is the same memory
        there (see `eager.shared_memory`). A no-op when already shared.

        >>> import eager
        >>> eager.ones(2).share_memory_().is_shared()
        True
        """
        from eager import shared_memory

        if shared_memory.location(self._data) is not None:
            return self
        if self._device != "cpu":
            from kernels.errors import DeviceError

            raise DeviceError(f"share_memory_: only cpu tensors can be shared between "
                              f"processes, this one is on {self._device}")
        if self._base is not None:
            raise ArgumentError(f"share_memory_: this tensor of shape {self.shape} is a view; "
                                "share its base tensor (or a clone()) instead")
        self._data = shared_memory.shared_copy(self._data)
        return self

    def is_shared(self) -> bool:
        """Whether this tensor's values lie in memory shared between processes."""
        from eager import shared_memory

        return shared_memory.location(self._data) is not None

    def to_dense(self) -> Tensor:
        """This tensor itself (already dense; see `eager.sparse`)."""
        return self

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    @property
    def size(self) -> Size:
        """Number of elements (an int); `x.size()` and `x.size(dim)` give the shape."""
        return Size(self._data.size, self._data.shape)

    def numel(self) -> int:
        """Number of elements."""
        return self._data.size

    def dim(self) -> int:
        """Number of dimensions (PyTorch spelling of ndim)."""
        return self._data.ndim

    def element_size(self) -> int:
        """Bytes per element (4 for float32)."""
        return self._data.dtype.itemsize

    def stride(self, dim: int | None = None):
        """Strides in elements (PyTorch's convention, not numpy's bytes); one dim's with
        `dim`."""
        strides = tuple(s // self._data.dtype.itemsize for s in self._data.strides)
        if dim is None:
            return strides
        if not strides:
            raise ZeroDimError(f"stride: a 0-d tensor has no dimension {dim}")
        return strides[normalize_axis("stride", dim, len(strides))]

    def is_contiguous(self) -> bool:
        """Whether the elements lie in memory in row-major order without gaps."""
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating type."""
        return is_floating(self._data.dtype)

    @property
    def data(self) -> Tensor:
        """This tensor's values as a tensor outside autograd that shares its memory
        (PyTorch's `.data`): in-place changes through it reach this tensor and are not
        seen by autograd's checks. Assigning `x.data = t` replaces x's values with t's."""
        out = wrap(self._data, self._device)
        hook = _dispatch.get_hook()
        if hook is not None:
            hook.alias(out, self)
        return out

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise DTypeError(f"data: expected a Tensor, got {type(value).__name__}")
        if value._device != self._device:
            from kernels.errors import DeviceError

            raise DeviceError(f"data: cannot assign a tensor on {value._device} to the data "
                              f"of a tensor on {self._device}")
        hook = _dispatch.get_hook()
        if hook is not None:
            if value.shape != self.shape or value.dtype != self.dtype:
                raise ShapeError(f"data: assigning a {value.dtype.name}{list(value.shape)} "
                                 f"tensor to the data of a {self.dtype.name}"
                                 f"{list(self.shape)} one cannot be traced; keep the shape "
                                 "and dtype (or use copy_)")
            hook.inplace(self, value)
        self._data = value._data
        self._version += 1

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise ZeroDimError("len: a 0-d tensor has no length; use .item() for its value")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise ZeroDimError("iter: cannot iterate over a 0-d tensor; use .item() for its "
                               "value")
        for i in range(self._data.shape[0]):
            yield self[i]

    # ---- autograd state -------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor record history for backward."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place (leaf tensors only) and return self."""
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise ArgumentError(f"requires_grad_: requires_grad must be a bool, got "
                                f"{type(requires_grad).__name__}")
        if not requires_grad and self._node is not None:
            raise AutogradError("requires_grad_: cannot turn off gradients of a non-leaf "
                                "tensor; use .detach() instead")
        if requires_grad and self._data.dtype not in DIFFERENTIABLE:
            raise DTypeError(f"requires_grad_: only floating tensors can require gradients, "
                             f"got {self._data.dtype.name}")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (user-created, parameters)."""
        return self._node is None

    @property
    def grad_fn(self):
        """The autograd node that produced this tensor, or None for leaves."""
        return self._node

    @property
    def grad(self) -> Tensor | None:
        """Gradient accumulated by backward(), or None. backward() fills it only on leaf
        tensors, so reading it on a result (a non-leaf) warns, as PyTorch does.

        >>> import eager, warnings
        >>> x = eager.ones(2, requires_grad=True); y = x * 2; y.sum().backward()
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     y.grad is None, x.grad.tolist()
        (True, [2.0, 2.0])
        >>> "non-leaf" in str(caught[0].message)
        True
        """
        grad = self._grad
        if grad is None and self._node is not None:
            warnings.warn(f"grad: .grad of a non-leaf tensor of shape {self.shape} (made by "
                          f"{self._node.name}) is read; backward() fills .grad only "
                          f"of leaf tensors, so it stays None. Read the leaf's .grad, or use "
                          f"eager.grad(output, [tensor]) for this tensor's gradient",
                          UserWarning, stacklevel=2)
        hook = _dispatch.get_hook()
        if hook is not None:
            hook.grad_read(self, grad)
        return grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise DTypeError(f"grad: expected a Tensor or None, got "
                                 f"{type(value).__name__}")
            if value.shape != self.shape:
                raise AutogradError(f"grad: assigned gradient has shape {value.shape} but the "
                                    f"tensor has shape {self.shape}")
            if value._data.dtype not in DIFFERENTIABLE:
                raise DTypeError(f"grad: assigned gradient has dtype {value._data.dtype.name} "
                                 f"but a gradient must be floating like the tensor's "
                                 f"{self._data.dtype.name}; use .to({self._data.dtype.name})")
        hook = _dispatch.get_hook()
        if hook is not None:
            hook.grad_write(self, value)
        self._grad = value

    def backward(self, gradient: Tensor | None = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into `leaf.grad` for every leaf that requires grad.

        >>> import eager
        >>> w = eager.tensor(3.0, requires_grad=True)
        >>> (w * w).backward(); w.grad.item()
        6.0
        """
        from eager.autograd.engine import backward

        backward([self], None if gradient is None else [gradient], retain_graph=retain_graph,
                 create_graph=create_graph)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data, cut off from the autograd graph."""
        out = wrap(self._data, self._device)
        out._base = self if self._base is None else self._base
        hook = _dispatch.get_hook()
        if hook is not None:
            hook.alias(out, self)
        return out

    def detach_(self) -> Tensor:
        """Cut this tensor off from the autograd graph, in place."""
        self._node = None
        self._requires_grad = False
        return self

    # ---- host conversions (each is a guard under the tracer) ------------------------
    def _host_read(self, kind: str, value: Any) -> Any:
        hook = _dispatch.get_hook()
        if hook is not None:
            hook.host_read(self, kind, value)
        return value

    def numpy(self) -> np.ndarray:
        """The data as a numpy array (shares memory on cpu; copies from cuda)."""
        if self._requires_grad:
            raise AutogradError("numpy: can't call numpy() on a tensor that requires grad; "
                                "use tensor.detach().numpy()")
        data = host_array(self._data)
        return self._host_read("numpy", data)

    def __array__(self, dtype=None, copy=None):
        data = host_array(self._data)
        data = self._host_read("numpy", data)
        return data if dtype is None else data.astype(dtype)

    def tolist(self) -> Any:
        """Nested Python lists of Python numbers."""
        return self._host_read("tolist", self._data.tolist())

    def item(self) -> int | float | bool:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ShapeError(f"item: only one-element tensors can be converted to Python "
                             f"scalars, got shape {self.shape}")
        return self._host_read("item", self._data.reshape(()).item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ShapeError(f"bool: the truth value of a tensor with {self._data.size} "
                             f"elements (shape {self.shape}) is ambiguous; use .any() or .all()")
        return self._host_read("bool", bool(self._data.reshape(()).item()))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise DTypeError(f"index: only integer tensors with one element can be used as "
                             f"an index, got {self._data.dtype.name}{list(self.shape)}")
        return int(self.item())

    def __hash__(self) -> int:
        return id(self)

    def __array_namespace__(self, *, api_version: str | None = None):
        import eager

        return eager

    def __repr__(self) -> str:
        return format_tensor(self)

    def __format__(self, spec: str) -> str:
        """f"{loss:.4f}" formats a 0-d tensor's value, as in PyTorch; other tensors take
        only an empty spec (their repr)."""
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __reduce__(self):
        raise TypeError("Tensor does not pickle; use eager.save(obj, path)")


def is_tensor(obj: Any) -> bool:
    """Whether obj is an eager Tensor (PyTorch's is_tensor).

    >>> import eager
    >>> eager.is_tensor(eager.ones(1)), eager.is_tensor([1.0])
    (True, False)
    """
    return isinstance(obj, Tensor)


def clone(x: Tensor) -> Tensor:
    """`torch.clone(x)`: a copy of x that autograd sees through (x.clone()).

    >>> import eager
    >>> eager.clone(eager.ones(2)).tolist()
    [1.0, 1.0]
    """
    if not isinstance(x, Tensor):
        raise DTypeError(f"clone: expected a Tensor, got {type(x).__name__}")
    return x.clone()


def numel(x: Tensor) -> int:
    """`torch.numel(x)`: the number of elements.

    >>> import eager
    >>> eager.numel(eager.ones(2, 3))
    6
    """
    if not isinstance(x, Tensor):
        raise DTypeError(f"numel: expected a Tensor, got {type(x).__name__}")
    return x.numel()


def host_array(data) -> np.ndarray:
    """A numpy array with the data of a backend array (copied from the GPU for cupy).

    >>> import eager
    >>> import numpy as np
    >>> from eager.tensor import host_array
    >>> type(host_array(eager.ones(2)._data)).__name__
    'ndarray'
    """
    return data if isinstance(data, np.ndarray) else data.get()


def wrap(data, device: str) -> Tensor:
    """Wrap an array as a new leaf Tensor without copying (no hook, no autograd).

    >>> import eager
    >>> import numpy as np
    >>> from eager.tensor import wrap
    >>> wrap(np.arange(3), "cpu")
    tensor([0, 1, 2])
    """
    out = object.__new__(Tensor)
    out._data = data
    out._device = device
    out._requires_grad = False
    out._node = None
    out._grad = None
    out._version = 0
    out._base = None
    return out


def format_tensor(t: Tensor) -> str:
    """PyTorch-style repr: values, then dtype/device/grad info when not the default.

    >>> import eager
    >>> from eager.tensor import format_tensor
    >>> format_tensor(eager.tensor([0.5], dtype=eager.float16))
    'tensor([0.5000], dtype=eager.float16)'
    """
    data = host_array(t._data)
    floatmode = "maxprec"
    if is_floating(data.dtype):
        finite = data[np.isfinite(data)]
        # PyTorch prints "1., 2." for whole numbers and four decimals otherwise.
        floatmode = "maxprec" if np.all(finite == np.round(finite)) else "fixed"
    body = np.array2string(data, separator=", ", prefix="tensor(", threshold=1000,
                           precision=4, floatmode=floatmode)
    extras = []
    if t._device != "cpu":
        extras.append(f"device='{t._device}'")
    if data.dtype.name not in DEFAULT_REPR_DTYPES or data.size == 0:
        extras.append(f"dtype=eager.{data.dtype.name}")
    if t._node is not None:
        extras.append(f"grad_fn=<{t._node.name}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + ", ".join([body] + extras) + ")"


from eager import dispatch as _dispatch
