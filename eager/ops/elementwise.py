"""Elementwise math on Tensors: unary, binary (with broadcasting) and where/clip.

The plain function of each elementwise op (eager.multiply, eager.exp, ...) is generated
from the names the op declares (`_generate` below); functions whose meaning goes beyond
running the op (floor of an integer is itself, logical_and converts to bool) are written
out and registered under the op's names with `implements`.

>>> import eager
>>> (eager.tensor([1, 2]) / 2).tolist()
[0.5, 1.0]
"""
from __future__ import annotations

import numpy as np

from eager.dispatch import apply, get_hook, spec_of, user_line_suffix
from eager.ops.operands import as_operand, cast, promote
from eager.ops.public import METHODS, NAMESPACE, implements
from eager.tensor import Tensor
from kernels import OPS, OpDef, OpKind, bool_
from kernels.dtypes import COMPLEX, FLOATING, float64, int64, uint64
from kernels.errors import ArgumentError, DTypeError

# Read off the ops' own dtype rules: float-only math casts integer inputs to float32
# first; ops whose rule refuses bool are checked before numpy, which would accept it.
_FLOAT_ONLY = frozenset(name for name, op in OPS.items() if op.input_kinds in ("f", "fc"))
_NO_BOOL = frozenset(name for name, op in OPS.items()
                     if op.input_kinds is not None and "b" not in op.input_kinds)
# Off the fast paths: complex operands have their kinds checked (no complex ordering),
# uint64 with a signed integer has no promotion.
_CHECKED = COMPLEX | {uint64}


def _tensor_operand(x) -> Tensor:
    """x as a Tensor: numbers, lists and numpy arrays are converted (DTypeError otherwise)."""
    x = as_operand(x)
    if type(x) is not Tensor:
        from eager.creation import asarray

        x = asarray(x)
    return x


def unary(name: str, x) -> Tensor:
    """Apply a unary primitive, casting integer inputs of float-only math to float32.

    >>> import eager
    >>> from eager.ops.elementwise import unary
    >>> unary("exp", eager.tensor([0, 1])).dtype
    dtype('float32')
    """
    op = OPS[name]
    x = _tensor_operand(x)
    if name in _FLOAT_ONLY and x._data.dtype not in FLOATING:
        (x,) = promote("f", x)
    if name in _NO_BOOL or x._data.dtype in COMPLEX:
        op.infer(spec_of(x))  # numpy takes abs of a bool; the op set does not
    return apply(op, x)


def binary(name: str, a, b) -> Tensor:
    """Apply a binary primitive with broadcasting and weak-scalar promotion.

    >>> import eager
    >>> from eager.ops.elementwise import binary
    >>> binary("add", eager.tensor([1], dtype=eager.int8), 2).dtype
    dtype('int8')
    """
    op = OPS[name]
    a = as_operand(a, b if type(b) is Tensor else None, name)
    b = as_operand(b, a if type(a) is Tensor else None, name)
    if type(a) is not Tensor and type(b) is not Tensor:
        from eager.creation import asarray

        a = asarray(a)
    if name in _COMPARISONS:
        a, b = _widen_for_int_scalar(a, b), _widen_for_int_scalar(b, a)
    a, b = promote("f" if name in _FLOAT_ONLY else None, a, b)
    if name in _NO_BOOL or _is_complex(a) or _is_complex(b):
        # numpy computes bool // bool (as int8) and orders complex numbers; the op set
        # does neither, nor does a graph.
        op.infer(spec_of(a), spec_of(b))
    return apply(op, a, b)


_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


def _is_complex(x) -> bool:
    return type(x) is complex or type(x) is Tensor and x._data.dtype in COMPLEX


def _widen_for_int_scalar(x, other):
    """x, widened to int64 (or float64) when it is an integer tensor compared with a
    Python int its dtype cannot hold (int8 < 1000), so the comparison is exact here and
    in a replayed graph, which would otherwise cast the scalar to int8."""
    if type(x) is not Tensor or type(other) is not int or x._data.dtype.kind not in "iu":
        return x
    info = np.iinfo(x._data.dtype)
    if info.min <= other <= info.max:
        return x
    wide = int64 if np.iinfo(int64).min <= other <= np.iinfo(int64).max else float64
    return cast(x, wide)


def _binary_fn(op: OpDef):
    name = op.name
    float_only = name in _FLOAT_ONLY
    no_bool = name in _NO_BOOL

    def fn(x1, x2):
        # Fast paths where `binary`'s promotion would change nothing, so numpy's own rules
        # give the answer: two tensors both floating or both not (two float tensors for
        # float-only math such as div), or a float tensor with a Python number. This is
        # most of a small op's cost.
        t1, t2 = type(x1), type(x2)
        if t1 is Tensor:
            if t2 is Tensor:
                f1, f2 = x1._data.dtype in FLOATING, x2._data.dtype in FLOATING
                if float_only:
                    if f1 and f2:
                        return apply(op, x1, x2)
                elif f1 is f2 and (not no_bool or (x1._data.dtype != bool_
                                                   and x2._data.dtype != bool_)) and (
                        f1 or (x1._data.dtype not in _CHECKED and x2._data.dtype not in _CHECKED)):
                    return apply(op, x1, x2)
            elif (t2 is float or t2 is int) and x1._data.dtype in FLOATING:
                return apply(op, x1, x2)
        elif t2 is Tensor and (t1 is float or t1 is int) and x2._data.dtype in FLOATING:
            return apply(op, x1, x2)
        return binary(name, x1, x2)
    fn.__name__ = fn.__qualname__ = op.functions[0] if op.functions else op.methods[0]
    fn.__doc__ = f"Elementwise {fn.__name__} with broadcasting (the {name} op)."
    return fn


def _unary_fn(op: OpDef):
    name = op.name
    float_only = name in _FLOAT_ONLY
    no_bool = name in _NO_BOOL

    def fn(x):
        if type(x) is Tensor and (x._data.dtype in FLOATING or not float_only and not (
                no_bool and x._data.dtype == bool_) and x._data.dtype not in COMPLEX):
            return apply(op, x)
        return unary(name, x)
    fn.__name__ = fn.__qualname__ = op.functions[0] if op.functions else op.methods[0]
    fn.__doc__ = f"Elementwise {fn.__name__} (the {name} op; see the Array API standard)."
    return fn


def _logical(op: OpDef):
    def fn(x1, x2):
        x1, x2 = as_operand(x1), as_operand(x2)
        x1 = cast(x1, bool_) if type(x1) is Tensor else bool(x1)
        x2 = cast(x2, bool_) if type(x2) is Tensor else bool(x2)
        return apply(op, x1, x2)
    fn.__name__ = op.name
    fn.__doc__ = f"Elementwise {op.name} of truth values (operands are converted to bool)."
    return implements(op)(fn)


logical_and = _logical(OPS.logical_and)
logical_or = _logical(OPS.logical_or)
logical_xor = _logical(OPS.logical_xor)


@implements(OPS.logical_not)
def logical_not(x) -> Tensor:
    """Elementwise not of truth values.

    >>> import eager
    >>> eager.logical_not(eager.tensor([True, False]))
    tensor([False,  True])
    """
    return apply(OPS.logical_not, as_operand(x))


@implements(OPS.bitwise_invert)
def bitwise_invert(x) -> Tensor:
    """`~x`: bitwise not of an integer tensor, logical not of a bool one; floating tensors
    raise DTypeError.

    >>> import eager
    >>> eager.bitwise_invert(eager.tensor([0, -3])), ~eager.tensor([True, False])
    (tensor([-1,  2]), tensor([False,  True]))
    """
    x = as_operand(x)
    if type(x) is Tensor:
        if x._data.dtype == bool_:
            return apply(OPS.logical_not, x)
        if x._data.dtype in FLOATING:
            raise DTypeError(f"bitwise_invert (~): dtype {x._data.dtype.name} is not "
                             f"supported; it takes integer or bool tensors{user_line_suffix()}; "
                             "for floats write -x - 1, or compare first: ~(x > 0)")
    return unary("bitwise_invert", x)


@implements(OPS.floor)
def floor(x) -> Tensor:
    """Largest integer not greater than x (integers are returned unchanged).

    >>> import eager
    >>> eager.floor(eager.tensor([1.5, -1.5]))
    tensor([ 1., -2.])
    """
    if type(x) is not Tensor:
        x = _tensor_operand(x)
    return x if x.dtype.kind in "biu" else apply(OPS.floor, x)


@implements(OPS.ceil)
def ceil(x) -> Tensor:
    """Smallest integer not less than x (integers are returned unchanged).

    >>> import eager
    >>> eager.ceil(eager.tensor([1.5, -1.5]))
    tensor([ 2., -1.])
    """
    if type(x) is not Tensor:
        x = _tensor_operand(x)
    return x if x.dtype.kind in "biu" else apply(OPS.ceil, x)


def square(x) -> Tensor:
    """x * x.

    >>> import eager
    >>> eager.square(eager.tensor([3, -2]))
    tensor([9, 4])
    """
    return binary("mul", x, x)


def relu(x) -> Tensor:
    """max(x, 0), the one definition behind Tensor.relu, F.relu and nn.ReLU. Its gradient
    is 0 at 0 and where x < 0 it is masked, never multiplied, so sqrt(relu(x)) has
    gradient 0 there (all as in PyTorch); NaN stays NaN.

    >>> import eager
    >>> x = eager.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> relu(x).sum().backward(); x.grad
    tensor([0., 0., 1.])
    """
    if type(x) is Tensor and x._data.dtype in _RELU_DTYPES and get_hook() is None:
        return apply(OPS.relu, x)   # eager: one pass (kernels/activations.py)
    x = as_operand(x)
    return where(binary("le", x, 0), 0, x)


_RELU_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


_MISSING = object()


@implements(OPS.where)
def where(condition, x1=_MISSING, x2=_MISSING) -> Tensor:
    """Elements of x1 where condition is true, else of x2 (broadcast together). With the
    condition alone, PyTorch's `where(c)`: the indices where it is true, one tensor per
    dim (`nonzero(c, as_tuple=True)`).

    >>> import eager
    >>> eager.where(eager.tensor([True, False]), 1.0, eager.tensor([5., 6.])).tolist()
    [1.0, 6.0]
    >>> eager.where(eager.tensor([False, True, True]))
    (tensor([1, 2]),)
    """
    if x1 is _MISSING or x2 is _MISSING:
        if x1 is not x2:
            raise ArgumentError("where: give both x1 and x2, or the condition alone")
        from eager.ops.indexing import torch_nonzero

        return torch_nonzero(condition, as_tuple=True)
    like = next((t for t in (condition, x1, x2) if type(t) is Tensor), None)
    condition = as_operand(condition, like, "where")
    if type(condition) is not Tensor or condition.dtype != bool_:
        got = condition.dtype.name if type(condition) is Tensor else type(condition).__name__
        raise DTypeError(f"where: condition must be a bool tensor, got {got}; compare first, "
                         "e.g. where(x > 0, ...)")
    x1, x2 = as_operand(x1, like, "where"), as_operand(x2, like, "where")
    if type(x1) is not Tensor and type(x2) is not Tensor:
        from eager.creation import asarray

        x1 = asarray(x1, device=condition.device)
    x1, x2 = promote(None, x1, x2)
    return apply(OPS.where, condition, x1, x2)


def clip(x, min=None, max=None) -> Tensor:
    """Limit values to [min, max]; either bound may be None, a number or a Tensor.

    >>> import eager
    >>> eager.clip(eager.tensor([-2., 0.5, 3.]), 0.0, 1.0)
    tensor([0.0000, 0.5000, 1.0000])
    """
    # where, not maximum/minimum: a value on a bound keeps gradient 1, as in PyTorch
    # (maximum splits a tie 0.5 / 0.5); NaN stays NaN since both comparisons are false.
    if min is not None:
        x = where(binary("lt", x, min), min, x)
    if max is not None:
        x = where(binary("gt", x, max), max, x)
    return x


@implements(OPS.cast)
def astype(x: Tensor, dtype, /, *, copy: bool = True, device=None) -> Tensor:
    """x converted to dtype (Array API `astype`), on `device` when one is given.

    >>> import eager
    >>> eager.astype(eager.tensor([1.7, -1.7]), eager.int32, device="cpu")
    tensor([ 1, -1], dtype=eager.int32)
    """
    from kernels import to_dtype

    dtype = to_dtype(dtype)
    if device is not None and str(device) != x.device:
        x = x.to(device)
        copy = False
    if x.dtype == dtype:
        return apply(OPS["copy"], x) if copy else x
    return apply(OPS["cast"], x, dtype=dtype)


def isnan(x) -> Tensor:
    """True where x is NaN (never for integer and bool tensors).

    >>> import eager
    >>> eager.isnan(eager.tensor([1.0, float("nan")]))
    tensor([False,  True])
    """
    return binary("ne", x, x)


def isinf(x) -> Tensor:
    """True where x is +inf or -inf (never for integer and bool tensors).

    >>> import eager
    >>> eager.isinf(eager.tensor([1.0, -float("inf")]))
    tensor([False,  True])
    """
    if type(x) is not Tensor:
        x = _tensor_operand(x)
    if x.dtype not in FLOATING:
        return binary("ne", x, x)
    return binary("eq", unary("abs", x), float("inf"))


def isfinite(x) -> Tensor:
    """True where x is neither NaN nor infinite.

    >>> import eager
    >>> eager.isfinite(eager.tensor([1.0, float("nan"), float("inf")]))
    tensor([ True, False, False])
    """
    return logical_not(logical_or(isnan(x), isinf(x)))


def _with_alpha(op: OpDef):
    """add / sub with PyTorch's `alpha` (x + alpha * y); `fn.fast` is the plain two-operand
    function the Python operators use."""
    fast = _binary_fn(op)

    def fn(x1, x2, /, *, alpha=1):
        if alpha != 1:
            x2 = x2 * alpha if type(x2) in (int, float, bool) else binary("mul", x2, alpha)
        return fast(x1, x2)
    fn.__name__ = fn.__qualname__ = fast.__name__
    fn.__doc__ = (f"Elementwise {fast.__name__} with broadcasting; `alpha` scales the second "
                  f"operand first (x {op.symbol} alpha * y), as in PyTorch.")
    fn.fast = fast
    return implements(op)(fn)


add = _with_alpha(OPS.add)
subtract = sub = _with_alpha(OPS.sub)


def _generate() -> None:
    """Define the plain elementwise functions, one per op spelling that no hand-written
    function above took, from the names each op declares."""
    for op in OPS.values():
        if op.kind not in (OpKind.UNARY, OpKind.BINARY) or not (op.functions or op.methods):
            continue
        if any(n in NAMESPACE for n in op.functions) or any(n in METHODS for n in op.methods):
            continue
        fn = implements(op)((_unary_fn if op.arity == 1 else _binary_fn)(op))
        for name in op.functions:
            globals()[name] = fn


_generate()
