"""eager: tensors that compute immediately on numpy (cpu) or cupy (cuda), with
define-by-run autograd.

>>> import eager
>>> x = eager.tensor([[1., 2.], [3., 4.]], requires_grad=True)
>>> y = (x * x + 1).tanh().sum()
>>> y.backward()
>>> x.grad.shape
(2, 2)
"""
from eager import (
    autograd,
    linalg,
    nn,
    optim,
)
from eager import tensor_methods as _tensor_methods  # noqa: F401  (attaches operators)
from eager.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from eager.autograd.engine import grad
from eager.creation import (
    arange,
    asarray,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from eager.device import get_default_device, set_default_device
from eager.dtypes import can_cast, finfo, iinfo, isdtype, result_type
from eager.ops.counting import bincount, bucketize, histc, searchsorted, unique
from eager.ops.einsum import einsum
from eager.ops.elementwise import (
    clip,
    isfinite,
    isinf,
    isnan,
    relu,
    square,
)
from eager.ops.indexing import take
from eager.ops.linalg import (
    matrix_transpose,
    outer,
    tensordot,
    vecdot,
)
from eager.ops.matrices import (
    addmm,
    baddbmm,
    bmm,
    cdist,
    diag,
    diagonal,
    dot,
    mm,
    trace,
    tril,
    triu,
)
from eager.ops.ordering import sort, topk
from eager.ops.public import NAMESPACE as _NAMESPACE
from eager.ops.rearrange import (
    index_select,
    masked_fill,
    masked_select,
    meshgrid,
    movedim,
    narrow,
    repeat_interleave,
    roll,
    rot90,
    swapaxes,
    swapdims,
    tile,
    unbind,
    unflatten,
)
from eager.ops.reductions import (
    all,
    any,
    logsumexp,
    mean,
    std,
    var,
)
from eager.ops.shape import (
    broadcast_arrays,
    chunk,
    expand_dims,
    flatten,
    split,
    squeeze,
    stack,
    unsqueeze,
)
from eager.ops.special import (
    acosh,
    addcdiv,
    addcmul,
    allclose,
    asinh,
    atanh,
    cosh,
    erfc,
    exp2,
    expm1,
    frac,
    isclose,
    lerp,
    log1p,
    log2,
    log10,
    nan_to_num,
    reciprocal,
    round,
    rsqrt,
    sinh,
    tan,
    trunc,
)
from eager.random import (
    Generator,
    bernoulli,
    manual_seed,
    multinomial,
    normal,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    uniform,
)
from eager.serialization import LoadError, SaveError, load, save
from eager.tensor import Tensor
from kernels import (
    bool_ as bool,
)
from kernels import (
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from kernels.errors import (
    ArgumentError,
    AutogradError,
    DeviceError,
    DTypeError,
    EagerError,
    IndexOutOfRangeError,
    ShapeError,
    ZeroDimError,
)

clamp = clip
norm = linalg.norm
long = int64
double = float64
half = float16
e = 2.718281828459045
pi = 3.141592653589793
inf = float("inf")
nan = float("nan")
newaxis = None

__version__ = "0.1.0"

# The spellings of primitive ops (eager.multiply, eager.sum, eager.concat, ...) are read
# off the ops' declarations; the rest are composites and helpers.
globals().update(_NAMESPACE)

__all__ = [
    "ArgumentError",
    "AutogradError",
    "DTypeError",
    "DeviceError",
    "EagerError",
    "Generator",
    "IndexOutOfRangeError",
    "LoadError",
    "SaveError",
    "ShapeError",
    "Tensor",
    "ZeroDimError",
    "acosh",
    "addcdiv",
    "addcmul",
    "addmm",
    "all",
    "allclose",
    "any",
    "arange",
    "asarray",
    "asinh",
    "atanh",
    "autograd",
    "baddbmm",
    "bernoulli",
    "bincount",
    "bmm",
    "bool",
    "broadcast_arrays",
    "bucketize",
    "can_cast",
    "cdist",
    "chunk",
    "clamp",
    "clip",
    "cosh",
    "diag",
    "diagonal",
    "dot",
    "double",
    "e",
    "einsum",
    "empty",
    "empty_like",
    "enable_grad",
    "erfc",
    "exp2",
    "expand_dims",
    "expm1",
    "eye",
    "finfo",
    "flatten",
    "float16",
    "float32",
    "float64",
    "frac",
    "from_numpy",
    "full",
    "full_like",
    "get_default_device",
    "grad",
    "half",
    "histc",
    "iinfo",
    "index_select",
    "inf",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_grad_enabled",
    "isclose",
    "isdtype",
    "isfinite",
    "isinf",
    "isnan",
    "lerp",
    "linalg",
    "linspace",
    "load",
    "log1p",
    "log2",
    "log10",
    "logsumexp",
    "long",
    "manual_seed",
    "masked_fill",
    "masked_select",
    "matrix_transpose",
    "mean",
    "meshgrid",
    "mm",
    "movedim",
    "multinomial",
    "nan",
    "nan_to_num",
    "narrow",
    "newaxis",
    "nn",
    "no_grad",
    "norm",
    "normal",
    "ones",
    "ones_like",
    "optim",
    "outer",
    "pi",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "randperm",
    "reciprocal",
    "relu",
    "repeat_interleave",
    "result_type",
    "roll",
    "rot90",
    "round",
    "rsqrt",
    "save",
    "searchsorted",
    "set_default_device",
    "set_grad_enabled",
    "sinh",
    "sort",
    "split",
    "square",
    "squeeze",
    "stack",
    "std",
    "swapaxes",
    "swapdims",
    "take",
    "tan",
    "tensor",
    "tensordot",
    "tile",
    "topk",
    "trace",
    "tril",
    "triu",
    "trunc",
    "uint8",
    "unbind",
    "unflatten",
    "uniform",
    "unique",
    "unsqueeze",
    "var",
    "vecdot",
    "zeros",
    "zeros_like",
]
__all__.extend(sorted(_NAMESPACE))
