"""Operators and methods of `Tensor`, each delegating to the one function in `eager.ops`.

The spellings of primitive ops (`x.mul`, `x * y`, `x += y`, `~x`) are read off the ops'
declarations (`functions`, `methods`, `symbol` on each OpDef); the rest are composites.
"""
from __future__ import annotations

import numpy as np

from eager import arguments
from eager.dispatch import apply, user_line_suffix
from eager.ops import elementwise as E
from eager.ops import indexing, linalg, ordering, reductions, shape
from eager.ops.inplace import inplace_update
from eager.ops.operands import as_operand
from eager.ops.public import METHODS, NAMESPACE, implements
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
    # `&`, `|`, `^` are logical on bool tensors; there is no bitwise and/or/xor on integers.
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


@implements(OPS.to_device)
def _to_device(self, device, /, *, stream=None):
    """Array API spelling of `to(device)`."""
    return _to(self, device=device)


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


def _operator(op, fn, role, inplace_name):
    """The dunder method of `op` for one role of its Python operator."""
    if op.input_kinds == "b":
        fn = _logical_operator(fn, op.symbol)
    elif op.symbol in ("==", "!="):
        fn = _equality(fn)
    if role == "reflected":
        return _swap(fn)
    if role == "inplace":
        return _inplace(fn, inplace_name)
    return fn


def _op_methods() -> dict:
    """Every method and operator the ops declare, read off the OpDefs: plain methods from
    `methods` (a trailing "_" is the in-place form of the plain one), dunders from
    `symbol`."""
    methods = {}
    for op in OPS.values():
        for name in op.methods:
            if name.endswith("_"):
                methods[name] = _inplace(METHODS[name[:-1]], name)
            else:
                methods[name] = METHODS[name]
        for dunder, role in op.operators().items():
            methods[dunder] = _operator(op, NAMESPACE[op.functions[0]], role,
                                        (op.methods or op.functions)[0] + "_")
    return methods


_METHODS = {
    **_op_methods(),
    "__pos__": lambda self: self,
    "clip_": _clip_, "clamp_": _clip_,
    "__getitem__": indexing.getitem, "__setitem__": indexing.setitem,
    # composites
    "square": E.square, "relu": E.relu, "clip": E.clip, "clamp": E.clip,
    "where": lambda self, c, y: E.where(c, self, y),
    "mean": reductions.mean, "var": reductions.var, "std": reductions.std,
    "logsumexp": reductions.logsumexp, "all": reductions.all, "any": reductions.any,
    "squeeze": shape.squeeze, "unsqueeze": shape.unsqueeze, "flatten": shape.flatten,
    "split": shape.split, "chunk": shape.chunk,
    "expand_as": lambda self, other: shape.expand(
        self, arguments.tensor("expand_as", "other", other).shape),
    "view_as": lambda self, other: shape.view(
        self, arguments.tensor("view_as", "other", other).shape),
    "sort": ordering.sort_with_indices, "topk": ordering.topk,
    # conversions and copies
    "to": _to, "cpu": lambda self: _to(self, "cpu"), "cuda": lambda self: _to(self, "cuda"),
    "contiguous": lambda self: self if self._data.flags.c_contiguous else apply(OPS.copy, self),
    "float": lambda self: E.astype(self, float32, copy=False),
    "double": lambda self: E.astype(self, float64, copy=False),
    "half": lambda self: E.astype(self, float16, copy=False),
    "long": lambda self: E.astype(self, int64, copy=False),
    "int": lambda self: E.astype(self, int32, copy=False),
    "bool": lambda self: E.astype(self, bool_, copy=False),
    "type": lambda self, dtype: E.astype(self, to_dtype(dtype), copy=False),
    "fill_": _fill_, "zero_": lambda self: _fill_(self, 0), "copy_": _copy_,
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
