"""Operators and methods of `Tensor`, each delegating to the one function in `eager.ops`.

The spellings of primitive ops (`x.mul`, `x * y`, `x += y`, `~x`) are read off the ops'
declarations (`functions`, `methods`, `symbol` on each OpDef); the rest are composites.
"""
from __future__ import annotations

import numpy as np

from eager import arguments, creation, dlpack
from eager import linalg as linalg_norms
from eager import random as R
from eager.dispatch import apply, user_line_suffix
from eager.ops import (
    complex_views,
    counting,
    indexing,
    linalg,
    matrices,
    ordering,
    rearrange,
    reductions,
    scatter,
    shape,
)
from eager.ops import elementwise as E
from eager.ops import special as S
from eager.ops.inplace import inplace_update
from eager.ops.operands import as_operand
from eager.ops.public import METHODS, NAMESPACE, implements
from eager.tensor import Tensor
from kernels import OPS, bool_, float16, float32, float64, int32, int64, to_dtype
from kernels.errors import DTypeError
from kernels.shapes import normalize_axes

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


_BITWISE = {"&": "bitwise_and", "|": "bitwise_or", "^": "bitwise_xor"}


def _logical_operator(fn, symbol):
    # `&`, `|`, `^` are logical on bool tensors and bitwise on integer ones.
    def method(self, other):
        if any(type(x) is Tensor and x.dtype.kind in "iu" for x in (self, other)):
            return NAMESPACE[_BITWISE[symbol]](self, other)
        for x in (self, other):
            if type(x) is Tensor and x.dtype != bool_:
                raise DTypeError(f"{symbol}: only bool or integer tensors are supported, got "
                                 f"{x.dtype.name}{user_line_suffix()}; compare first, "
                                 f"e.g. (x > 0) {symbol} mask")
        return fn(self, other)
    return method


def _clip_(self, min=None, max=None):
    return inplace_update(self, E.clip(self, min, max), "clip_")


def _to(self, *args, dtype=None, device=None, copy: bool = False, non_blocking: bool = False,
        memory_format=None):
    """Move to a device and/or convert dtype: `x.to("cpu")`, `x.to(eager.float64)`.
    non_blocking and memory_format are accepted for PyTorch code and change nothing:
    copies here complete before `to` returns, and every tensor is row-major."""
    for a in args:
        if isinstance(a, str):
            device = _device_string(a)
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


def _device_string(text: str) -> str:
    """A positional string of `to`, checked as a device; one that names no device gets
    an error saying whether it is a dtype name (which `to` does not take as a string,
    as in PyTorch) or neither."""
    from eager.device import check_device
    from kernels.errors import DeviceError

    try:
        return check_device(text, "to")
    except DeviceError:
        if str.__str__(text).split(":")[0] in ("cpu", "cuda"):
            raise  # a device, but not a usable one here
        try:
            dtype = to_dtype(text)
        except DTypeError:
            raise DeviceError(f"to: {text!r} is neither a device ('cpu', 'cuda', 'cuda:0') "
                              f"nor a dtype name (such as 'float32'){user_line_suffix()}"
                              ) from None
        raise DeviceError(f"to: {text!r} names a dtype, not a device; a string given to "
                          f"to() is a device, as in PyTorch: pass the dtype itself, "
                          f"x.to(eager.{dtype.name}){user_line_suffix()}") from None


@implements(OPS.to_device)
def _to_device(self, device, /, *, stream=None):
    """Array API spelling of `to(device)`."""
    return _to(self, device=device)


def _torch_spread(fn):
    """x.var()/x.std() as in PyTorch: unbiased (correction=1) unless told otherwise; the
    namespace functions keep the Array API's correction=0."""
    def method(self, axis=None, *args, correction=None, unbiased=None, **kwargs):
        if args and isinstance(args[0], bool):      # torch's x.var(dim, unbiased, keepdim)
            unbiased, args = args[0], args[1:]
        if args:
            kwargs["keepdim"] = args[0]
        if correction is None:
            correction = 1.0 if unbiased is None else 0.0   # unbiased decides in fn
        return fn(self, axis, correction=correction, unbiased=unbiased, **kwargs)
    method.__doc__ = fn.__doc__
    return method


def _torch_squeeze(self, dim=None, *, axis=None):
    """x.squeeze(d) as in PyTorch: a listed dim that is not of size 1 is left as it is
    (`eager.squeeze`, the Array API function, raises)."""
    dims = dim if axis is None else axis
    if dims is None or self.ndim == 0:
        return shape.squeeze(self, dims)
    wanted = normalize_axes("squeeze", dims, self.ndim)
    return shape.squeeze(self, tuple(a for a in wanted if self.shape[a] == 1))


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
            fn = NAMESPACE[op.functions[0]]
            methods[dunder] = _operator(op, getattr(fn, "fast", fn), role,
                                        (op.methods or op.functions)[0] + "_")
    return methods


def _inplace_of(fn, name):
    """The in-place method of a composite: compute `fn(self, ...)`, write it into self."""
    def method(self, *args, **kwargs):
        return inplace_update(self, fn(self, *args, **kwargs), name)
    method.__name__ = name
    method.__doc__ = f"In-place {name[:-1]}: computes it and writes the result into self."
    return method


def _type(self, dtype=None, non_blocking: bool = False):
    """`x.type(eager.float64)` converts; `x.type()` names the type as PyTorch does
    ("torch.FloatTensor")."""
    if dtype is None:
        return _TYPE_NAMES.get(self.dtype.name, f"eager.{self.dtype.name}")
    if isinstance(dtype, str) and dtype in _TYPE_DTYPES:
        dtype = _TYPE_DTYPES[dtype]
    return E.astype(self, to_dtype(dtype), copy=False)


_TYPE_NAMES = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor",
               "float16": "torch.HalfTensor", "int64": "torch.LongTensor",
               "int32": "torch.IntTensor", "int16": "torch.ShortTensor",
               "int8": "torch.CharTensor", "uint8": "torch.ByteTensor",
               "bool": "torch.BoolTensor"}
_TYPE_DTYPES = {name: dtype for dtype, name in _TYPE_NAMES.items()}


def _softmax(self, dim, dtype=None):
    """softmax along dim (as F.softmax)."""
    from eager.nn import functional as F

    x = self if dtype is None else E.astype(self, to_dtype(dtype), copy=False)
    return F.softmax(x, dim)


def _log_softmax(self, dim, dtype=None):
    """log_softmax along dim (as F.log_softmax)."""
    from eager.nn import functional as F

    x = self if dtype is None else E.astype(self, to_dtype(dtype), copy=False)
    return F.log_softmax(x, dim)


def _clamp_min(self, min):
    return E.clip(self, min, None)


def _clamp_max(self, max):
    return E.clip(self, None, max)


def _type_as(self, other):
    return E.astype(self, arguments.tensor("type_as", "other", other).dtype, copy=False)


# PyTorch's in-place spellings of unary math: x.exp_(), x.sqrt_(), ...
_UNARY_INPLACE = ("exp", "log", "sin", "cos", "tanh", "sqrt", "abs", "neg", "sigmoid",
                  "floor", "ceil", "sign")


_METHODS = {
    **_op_methods(),
    **{f"{name}_": _inplace_of(METHODS[name], f"{name}_") for name in _UNARY_INPLACE},
    "__pos__": lambda self: self,
    "clip_": _clip_, "clamp_": _clip_,
    "__getitem__": indexing.getitem, "__setitem__": indexing.setitem,
    # composites
    "square": E.square, "relu": E.relu, "clip": E.clip, "clamp": E.clip,
    "where": lambda self, c, y: E.where(c, self, y),
    "mean": reductions.mean, "var": _torch_spread(reductions.var),
    "std": _torch_spread(reductions.std),
    "logsumexp": reductions.logsumexp, "all": reductions.all, "any": reductions.any,
    "squeeze": _torch_squeeze, "unsqueeze": shape.unsqueeze, "flatten": shape.flatten,
    "split": shape.split, "chunk": shape.chunk,
    "expand_as": lambda self, other: shape.expand(
        self, arguments.tensor("expand_as", "other", other).shape),
    "view_as": lambda self, other: shape.view(
        self, arguments.tensor("view_as", "other", other).shape),
    "sort": ordering.sort_with_indices, "topk": ordering.topk,
    "nonzero": indexing.torch_nonzero,
    "__dlpack__": dlpack.tensor_dlpack, "__dlpack_device__": dlpack.tensor_dlpack_device,
    # conversions and copies
    "to": _to, "cpu": lambda self: _to(self, "cpu"),
    "cuda": lambda self, device=None, non_blocking=False: _to(self, "cuda"),
    "pin_memory": lambda self: self, "is_pinned": lambda self: False,
    "nelement": Tensor.numel,
    "contiguous": lambda self: self if self._data.flags.c_contiguous else apply(OPS.copy, self),
    "float": lambda self: E.astype(self, float32, copy=False),
    "double": lambda self: E.astype(self, float64, copy=False),
    "half": lambda self: E.astype(self, float16, copy=False),
    "long": lambda self: E.astype(self, int64, copy=False),
    "int": lambda self: E.astype(self, int32, copy=False),
    "bool": lambda self: E.astype(self, bool_, copy=False),
    "type": _type, "type_as": _type_as,
    "fill_": _fill_, "zero_": lambda self: _fill_(self, 0), "copy_": _copy_,
    # PyTorch spellings: arithmetic with alpha/value, comparisons, matrices
    "add_": _inplace_of(METHODS["add"], "add_"), "sub_": _inplace_of(METHODS["sub"], "sub_"),
    "lerp": S.lerp, "lerp_": _inplace_of(S.lerp, "lerp_"),
    "addcmul": S.addcmul, "addcmul_": _inplace_of(S.addcmul, "addcmul_"),
    "addcdiv": S.addcdiv, "addcdiv_": _inplace_of(S.addcdiv, "addcdiv_"),
    "true_divide": METHODS["div"], "floor_divide": NAMESPACE["floor_divide"],
    "remainder": NAMESPACE["remainder"],
    "logical_and": NAMESPACE["logical_and"], "logical_or": NAMESPACE["logical_or"],
    "logical_xor": NAMESPACE["logical_xor"],
    "t": matrices.t, "mm": matrices.mm, "bmm": matrices.bmm, "dot": matrices.dot,
    "addmm": matrices.addmm, "baddbmm": matrices.baddbmm, "outer": linalg.outer,
    "diag": matrices.diag, "diagonal": matrices.diagonal, "trace": matrices.trace,
    "tril": matrices.tril, "triu": matrices.triu,
    "tril_": _inplace_of(matrices.tril, "tril_"), "triu_": _inplace_of(matrices.triu, "triu_"),
    "norm": linalg_norms.tensor_norm,
    # elementwise composites
    "atan": S.atan, "asin": S.asin, "acos": S.acos, "arctan": S.atan, "arcsin": S.asin,
    "arccos": S.acos, "sinh": S.sinh, "cosh": S.cosh, "tan": S.tan, "asinh": S.asinh,
    "acosh": S.acosh, "atanh": S.atanh, "log1p": S.log1p, "expm1": S.expm1, "log2": S.log2,
    "log10": S.log10,
    "exp2": S.exp2, "rsqrt": S.rsqrt, "reciprocal": S.reciprocal, "erfc": S.erfc,
    "trunc": S.trunc, "round": S.round, "frac": S.frac, "nan_to_num": S.nan_to_num,
    "isnan": E.isnan, "isinf": E.isinf, "isfinite": E.isfinite, "isclose": S.isclose,
    "allclose": S.allclose, "relu_": _inplace_of(E.relu, "relu_"),
    "clamp_min": _clamp_min, "clamp_max": _clamp_max,
    "clamp_min_": _inplace_of(_clamp_min, "clamp_min_"),
    "clamp_max_": _inplace_of(_clamp_max, "clamp_max_"),
    "nan_to_num_": _inplace_of(S.nan_to_num, "nan_to_num_"),
    "softmax": _softmax, "log_softmax": _log_softmax,
    "amax": lambda self, dim=None, keepdim=False: reductions.max(self, axis=dim,
                                                                 keepdims=keepdim),
    "amin": lambda self, dim=None, keepdim=False: reductions.min(self, axis=dim,
                                                                 keepdims=keepdim),
    # rearranging and selecting
    "narrow": rearrange.narrow, "unbind": rearrange.unbind, "unflatten": rearrange.unflatten,
    "repeat": rearrange.repeat, "tile": rearrange.tile,
    "repeat_interleave": rearrange.repeat_interleave, "roll": rearrange.roll,
    "rot90": rearrange.rot90, "movedim": rearrange.movedim, "moveaxis": rearrange.movedim,
    "swapaxes": rearrange.swapaxes, "swapdims": rearrange.swapdims,
    "index_select": rearrange.index_select, "masked_fill": rearrange.masked_fill,
    "masked_fill_": rearrange.masked_fill_, "masked_select": rearrange.masked_select,
    "reshape_as": lambda self, other: shape.reshape(
        self, arguments.tensor("reshape_as", "other", other).shape),
    "unique": counting.unique, "bincount": counting.bincount, "histc": counting.histc,
    "count_nonzero": counting.count_nonzero,
    "scatter": scatter.scatter, "scatter_": scatter.scatter_,
    "scatter_add_": _inplace_of(METHODS["scatter_add"], "scatter_add_"),
    "index_add": scatter.index_add, "index_add_": scatter.index_add_,
    "index_fill": scatter.index_fill, "index_fill_": scatter.index_fill_,
    "index_copy": scatter.index_copy, "index_copy_": scatter.index_copy_,
    "cumprod": ordering.cumprod, "diff": ordering.diff, "median": ordering.median,
    "quantile": ordering.quantile, "cross": matrices.cross, "kron": matrices.kron,
    "logaddexp": S.logaddexp,
    # creation and random fills
    "new_tensor": creation.new_tensor, "new_full": creation.new_full,
    "new_zeros": creation.new_zeros, "new_ones": creation.new_ones,
    "new_empty": creation.new_empty,
    "normal_": R.normal_, "uniform_": R.uniform_,
}


def _properties():
    Tensor.T = property(lambda self: shape.permute(self, tuple(range(self.ndim))[::-1]),
                        doc="Tensor with all dimensions reversed (a transpose for 2-D).")
    Tensor.mT = property(linalg.matrix_transpose, doc="Transpose of the last two dimensions.")
    Tensor.mH = property(complex_views.conj_transpose,
                         doc="Conjugate transpose of the last two dimensions.")
    Tensor.real = property(complex_views.real_part, complex_views.set_real,
                           doc="The real part, a view (torch's Tensor.real).")
    Tensor.imag = property(complex_views.imag_part, complex_views.set_imag,
                           doc="The imaginary part of a complex tensor, a view.")


def install() -> None:
    """Attach operators and methods to Tensor (idempotent)."""
    for name, fn in {**_METHODS, **complex_views.METHODS}.items():
        setattr(Tensor, name, fn)
    _properties()


install()
