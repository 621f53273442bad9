"""Complex numbers on Tensors: the parts (real, imag, conj, angle) and `complex_unary`, which the real-valued
composites (acos, expm1, log1p, ...) hand a complex tensor to, so they give numpy's
complex values.

On real tensors the Array API meaning holds: real and conj are copies, imag is zeros.

>>> import eager
>>> z = eager.tensor([3 + 4j, -1j])
>>> eager.real(z).tolist(), eager.imag(z).tolist(), eager.conj(z).tolist()
([3.0, 0.0], [4.0, -1.0], [(3-4j), 1j])
"""
from __future__ import annotations

from eager.dispatch import apply
from eager.ops.elementwise import _tensor_operand
from eager.ops.operands import promote
from eager.tensor import Tensor
from kernels import OPS
from kernels.dtypes import COMPLEX


def is_complex(x) -> bool:
    """True for a complex tensor (or Python complex number).

    >>> import eager
    >>> is_complex(eager.tensor([1j])), is_complex(eager.tensor([1.0]))
    (True, False)
    """
    return type(x) is complex or isinstance(x, Tensor) and x._data.dtype in COMPLEX


def real(x: Tensor, /) -> Tensor:
    """Real part (a float tensor of the same precision); of a real tensor, a copy.

    >>> import eager
    >>> eager.real(eager.tensor([1.5 - 2j], dtype=eager.complex128)).dtype
    dtype('float64')
    """
    return apply(OPS.real, _tensor_operand(x))


def imag(x: Tensor, /) -> Tensor:
    """Imaginary part; of a real tensor, zeros of its dtype.

    >>> import eager
    >>> eager.imag(eager.tensor([1.5])).tolist()
    [0.0]
    """
    return apply(OPS.imag, _tensor_operand(x))


def conj(x: Tensor, /) -> Tensor:
    """Complex conjugate; a real tensor is its own conjugate (a copy).

    >>> import eager
    >>> eager.conj(eager.tensor([1.5])).tolist(), eager.conj(eager.tensor([1 + 1j])).tolist()
    ([1.5], [(1-1j)])
    """
    return apply(OPS.conj, _tensor_operand(x))


def angle(x: Tensor, /) -> Tensor:
    """The argument of each complex number, in (-pi, pi] (PyTorch's `angle`); of a real
    tensor, 0 or pi.

    >>> import eager
    >>> round(eager.angle(eager.tensor([1j])).item(), 4)
    1.5708
    """
    x = _tensor_operand(x)
    if not is_complex(x):
        (x,) = promote("f", x)
    return apply(OPS.angle, x)


def complex_unary(fn: str, x: Tensor) -> Tensor:
    """numpy's complex function `fn` (numpy's name: "arccos", "expm1", ...) of a complex
    tensor, one graph op (kernels.complex_ops.COMPLEX_MATH lists the names).

    >>> import eager
    >>> complex_unary("log1p", eager.tensor([0j])).tolist()
    [0j]
    """
    return apply(OPS.complex_math, x, fn=fn)
