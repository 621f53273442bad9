"""eager: tensors that compute immediately on numpy (cpu) or cupy (cuda), with
define-by-run autograd.

>>> import eager
>>> x = eager.tensor([[1., 2.], [3., 4.]], requires_grad=True)
>>> y = (x * x + 1).tanh().sum()
>>> y.backward()
>>> x.grad.shape
(2, 2)
"""
from eager import tensor_methods as _tensor_methods  # noqa: F401  (attaches operators)
from eager.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from eager.autograd.engine import grad
from eager.creation import (
    arange, asarray, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones,
    ones_like, tensor, zeros, zeros_like,
)
from eager.device import get_default_device, set_default_device
from eager.dtypes import can_cast, finfo, iinfo, isdtype, result_type
from eager.ops.elementwise import (
    abs, add, astype, ceil, clip, cos, divide, equal, exp, floor, floor_divide, greater,
    greater_equal, isfinite, isinf, isnan, less, less_equal, log, logical_and, logical_not,
    logical_or, logical_xor,
    maximum, minimum, multiply, negative, not_equal, pow, remainder, sigmoid, sign, sin, sqrt,
    square, subtract, tanh, where,
)
from eager.ops.indexing import gather, nonzero, scatter_add, take, take_along_axis
from eager.ops.linalg import matmul, matrix_transpose, outer, tensordot, vecdot
from eager.ops.ordering import argsort, cumsum, sort, topk
from eager.ops.reductions import (
    all, any, argmax, argmin, logsumexp, max, mean, min, prod, std, sum, var,
)
from eager.ops.shape import (
    broadcast_arrays, broadcast_to, chunk, concat, expand_dims, flatten, flip, moveaxis, pad,
    permute, permute_dims, reshape, split, squeeze, stack, transpose, unsqueeze,
)
from eager.random import Generator, manual_seed, normal, rand, randint, randn, randperm, uniform
from eager.tensor import Tensor
from kernels import (
    bool_ as bool, float16, float32, float64, int8, int16, int32, int64, uint8,
)
from kernels.errors import (
    AutogradError, DeviceError, DTypeError, EagerError, ShapeError, ZeroDimError,
)
from eager import autograd  # noqa: E402
from eager import nn, optim  # noqa: E402
from eager.serialization import LoadError, SaveError, load, save  # noqa: E402

cat = concat
clamp = clip
mul = multiply
sub = subtract
div = divide
neg = negative
long = int64
double = float64
half = float16
e = 2.718281828459045
pi = 3.141592653589793
inf = float("inf")
nan = float("nan")
newaxis = None

__version__ = "0.1.0"
