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
    distributed,
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
from eager.nn import parallel as _parallel  # noqa: F401  (makes eager.nn.parallel an attribute)
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
from eager.ops.ordering import sort, topk
from eager.ops.public import NAMESPACE as _NAMESPACE
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
from eager.random import Generator, manual_seed, normal, rand, randint, randn, randperm, uniform
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
    ShapeError,
    ZeroDimError,
)

clamp = clip
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
    "LoadError",
    "SaveError",
    "ShapeError",
    "Tensor",
    "ZeroDimError",
    "all",
    "any",
    "arange",
    "asarray",
    "autograd",
    "bool",
    "broadcast_arrays",
    "can_cast",
    "chunk",
    "clamp",
    "clip",
    "distributed",
    "double",
    "e",
    "empty",
    "empty_like",
    "enable_grad",
    "expand_dims",
    "eye",
    "finfo",
    "flatten",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "get_default_device",
    "grad",
    "half",
    "iinfo",
    "inf",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_grad_enabled",
    "isdtype",
    "isfinite",
    "isinf",
    "isnan",
    "linspace",
    "load",
    "logsumexp",
    "long",
    "manual_seed",
    "matrix_transpose",
    "mean",
    "nan",
    "newaxis",
    "nn",
    "no_grad",
    "normal",
    "ones",
    "ones_like",
    "optim",
    "outer",
    "pi",
    "rand",
    "randint",
    "randn",
    "randperm",
    "relu",
    "result_type",
    "save",
    "set_default_device",
    "set_grad_enabled",
    "sort",
    "split",
    "square",
    "squeeze",
    "stack",
    "std",
    "take",
    "tensor",
    "tensordot",
    "topk",
    "uint8",
    "uniform",
    "unsqueeze",
    "var",
    "vecdot",
    "zeros",
    "zeros_like",
]
__all__.extend(sorted(_NAMESPACE))
