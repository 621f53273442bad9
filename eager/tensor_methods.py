"""Operators and methods of `Tensor`, each delegating to the one function in `eager.ops`."""
from __future__ import annotations

import numpy as np

from eager import arguments
from eager.dispatch import apply, user_line_suffix
from eager.ops import elementwise as E
from eager.ops import indexing, linalg, ordering, reductions, shape
from eager.ops.inplace import inplace_update
from eager.ops.operands import as_operand
from eager.tensor import Tensor
from kernels import OPS, bool_, float16, float32, float64, int32, int64, to_dtype
from kernels.errors import DTypeError

_OPERANDS = (Tensor, bool, int, float, np.generic, np.ndarray, list, tuple)


def _swap(fn):
    return lambda self, other: fn(other, self)


def _inplace(fn, name):
    def method(self, other):
        return inplace_update(self, fn(self, other), name)
    method.__name__ = name
    return method


def _equality(fn):
    # `x == None`, `x != "auto"`, `x in (None, "a")`: not an array operand, so Python
    # falls back to identity (False for ==), as PyTorch and numpy do; never an error.
    def method(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return fn(self, other)
    return method


def _logical_operator(fn, symbol):
    # `&`, `|`, `^` are logical on bool tensors; there are no bitwise integer ops.
    def method(self, other):
        for x in (self, other):
            if type(x) is Tensor and x.dtype != bool_:
                raise DTypeError(f"{symbol}: only bool tensors are supported, got "
                                 f"{x.dtype.name}{user_line_suffix()}; compare first, "
                                 f"e.g. (x > 0) {symbol} mask")
        return fn(self, other)
    return method


def _clip_(self, min=None, max=None):
    return inplace_update(self, E.clip(self, min, max), "clip_")


def _to(self, *args, dtype=None, device=None, copy: bool = False):
    """Move to a device and/or convert dtype: `x.to("cpu")`, `x.to(eager.float64)`."""
    for a in args:
        if isinstance(a, str):
            device = a
        elif isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        else:
            dtype = a
    out = self
    if device is not None:
        from eager.device import check_device

        device = check_device(device, "to")
    if device is not None and device != self.device:
        out = apply(OPS["to_device"], out, device=device)
    if dtype is not None:
        out = E.astype(out, to_dtype(dtype), copy=False)
    if copy and out is self:
        out = self.clone()
    return out


def _fill_(self, value):
    from eager.creation import full_like

    with_grad = full_like(self, value)
    return inplace_update(self, with_grad, "fill_")


def _copy_(self, src):
    src = as_operand(src, self)
    if type(src) is not Tensor:
        from eager.creation import full_like

        src = full_like(self, src)
    # copy=True: the value written must be a fresh result (its autograd node then
    # describes `self` alone), never the caller's own tensor.
    src = E.astype(src.to(self.device), self.dtype, copy=True).expand(self.shape)
    return inplace_update(self, src, "copy_")


_METHODS = {
    # arithmetic operators
    "__add__": E.add, "__radd__": _swap(E.add),
    "__sub__": E.subtract, "__rsub__": _swap(E.subtract),
    "__mul__": E.multiply, "__rmul__": _swap(E.multiply),
    "__truediv__": E.divide, "__rtruediv__": _swap(E.divide),
    "__floordiv__": E.floor_divide, "__rfloordiv__": _swap(E.floor_divide),
    "__mod__": E.remainder, "__rmod__": _swap(E.remainder),
    "__pow__": E.pow, "__rpow__": _swap(E.pow),
    "__matmul__": linalg.matmul, "__rmatmul__": _swap(linalg.matmul),
    "__neg__": E.negative, "__pos__": lambda self: self, "__abs__": E.abs,
    "__invert__": lambda self: E.logical_not(self) if self.dtype == bool_ else -self - 1,
    "__and__": _logical_operator(E.logical_and, "&"),
    "__rand__": _swap(_logical_operator(E.logical_and, "&")),
    "__or__": _logical_operator(E.logical_or, "|"),
    "__ror__": _swap(_logical_operator(E.logical_or, "|")),
    "__xor__": _logical_operator(E.logical_xor, "^"),
    "__rxor__": _swap(_logical_operator(E.logical_xor, "^")),
    "__eq__": _equality(E.equal), "__ne__": _equality(E.not_equal), "__lt__": E.less, "__le__": E.less_equal,
    "__gt__": E.greater, "__ge__": E.greater_equal,
    "__iadd__": _inplace(E.add, "add_"), "__isub__": _inplace(E.subtract, "sub_"),
    "__imul__": _inplace(E.multiply, "mul_"), "__itruediv__": _inplace(E.divide, "div_"),
    "__ifloordiv__": _inplace(E.floor_divide, "floor_divide_"),
    "__imod__": _inplace(E.remainder, "remainder_"), "__ipow__": _inplace(E.pow, "pow_"),
    "__imatmul__": _inplace(linalg.matmul, "matmul_"),
    "__iand__": _inplace(_logical_operator(E.logical_and, "&"), "logical_and_"),
    "__ior__": _inplace(_logical_operator(E.logical_or, "|"), "logical_or_"),
    "__ixor__": _inplace(_logical_operator(E.logical_xor, "^"), "logical_xor_"),
    "add_": _inplace(E.add, "add_"), "sub_": _inplace(E.subtract, "sub_"),
    "mul_": _inplace(E.multiply, "mul_"), "div_": _inplace(E.divide, "div_"),
    "pow_": _inplace(E.pow, "pow_"), "clip_": _clip_, "clamp_": _clip_,
    "__getitem__": indexing.getitem, "__setitem__": indexing.setitem,
    # math
    "add": E.add, "sub": E.subtract, "mul": E.multiply, "div": E.divide, "pow": E.pow,
    "exp": E.exp, "log": E.log, "sin": E.sin, "cos": E.cos, "tanh": E.tanh,
    "sigmoid": E.sigmoid, "sqrt": E.sqrt, "abs": E.abs, "sign": E.sign, "neg": E.negative,
    "floor": E.floor, "ceil": E.ceil, "square": E.square,
    "relu": lambda self: E.maximum(self, 0), "clip": E.clip, "clamp": E.clip,
    "maximum": E.maximum, "minimum": E.minimum, "where": lambda self, c, y: E.where(c, self, y),
    "logical_not": E.logical_not, "astype": E.astype,
    # reductions
    "sum": reductions.sum, "mean": reductions.mean, "prod": reductions.prod,
    "max": reductions.max, "min": reductions.min, "var": reductions.var, "std": reductions.std,
    "logsumexp": reductions.logsumexp, "argmax": reductions.argmax, "argmin": reductions.argmin,
    "all": reductions.all, "any": reductions.any,
    # shape
    "reshape": shape.reshape, "view": shape.view, "permute": shape.permute,
    "transpose": shape.transpose, "expand": shape.expand, "squeeze": shape.squeeze,
    "unsqueeze": shape.unsqueeze, "flatten": shape.flatten, "flip": shape.flip,
    "split": shape.split, "chunk": shape.chunk,
    "expand_as": lambda self, other: shape.expand(
        self, arguments.tensor("expand_as", "other", other).shape),
    "view_as": lambda self, other: shape.view(
        self, arguments.tensor("view_as", "other", other).shape),
    # indexing, ordering, linalg
    "gather": indexing.gather, "scatter_add": indexing.scatter_add, "nonzero": indexing.nonzero,
    "sort": ordering.sort_with_indices, "argsort": ordering.argsort, "topk": ordering.topk,
    "cumsum": ordering.cumsum, "matmul": linalg.matmul,
    # conversions and copies
    "to": _to, "cpu": lambda self: _to(self, "cpu"), "cuda": lambda self: _to(self, "cuda"),
    "clone": lambda self: apply(OPS["copy"], self),
    "contiguous": lambda self: self if self._data.flags.c_contiguous else apply(OPS["copy"], self),
    "float": lambda self: E.astype(self, float32, copy=False),
    "double": lambda self: E.astype(self, float64, copy=False),
    "half": lambda self: E.astype(self, float16, copy=False),
    "long": lambda self: E.astype(self, int64, copy=False),
    "int": lambda self: E.astype(self, int32, copy=False),
    "bool": lambda self: E.astype(self, bool_, copy=False),
    "type": lambda self, dtype: E.astype(self, to_dtype(dtype), copy=False),
    "fill_": _fill_, "zero_": lambda self: _fill_(self, 0), "copy_": _copy_,
    "to_device": lambda self, device, /, *, stream=None: _to(self, device=device),
}


def _properties():
    Tensor.T = property(lambda self: shape.permute(self, tuple(range(self.ndim))[::-1]),
                        doc="Tensor with all dimensions reversed (a transpose for 2-D).")
    Tensor.mT = property(linalg.matrix_transpose, doc="Transpose of the last two dimensions.")


def install() -> None:
    """Attach operators and methods to Tensor (idempotent)."""
    for name, fn in _METHODS.items():
        setattr(Tensor, name, fn)
    _properties()


install()
