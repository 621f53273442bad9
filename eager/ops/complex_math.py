"""Complex numbers on Tensors. The parts (eager.real, imag, conj, angle) are generated
from their ops (kernels/complex_ops.py); here are `is_complex` and `complex_unary`, which
the real-valued composites (acos, expm1, log1p, ...) hand a complex tensor to, so they
give numpy's complex values.

On real tensors the Array API meaning holds: real and conj are copies, imag is zeros.

>>> import eager
>>> z = eager.tensor([3 + 4j, 2 - 1j])
>>> eager.real(z).tolist(), eager.imag(z).tolist(), eager.conj(z).tolist()
([3.0, 2.0], [4.0, -1.0], [(3-4j), (2+1j)])
"""
from __future__ import annotations

from eager.dispatch import apply
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


def complex_unary(fn: str, x: Tensor) -> Tensor:
    """numpy's complex function `fn` (numpy's name: "arccos", "expm1", ...) of a complex
    tensor, one graph op (kernels.complex_ops.COMPLEX_MATH lists the names).

    >>> import eager
    >>> complex_unary("log1p", eager.tensor([0j])).tolist()
    [0j]
    """
    return apply(OPS.complex_math, x, fn=fn)
