"""PyTorch's complex-tensor attributes and methods: `Tensor.real` / `Tensor.imag` (views
that can be written to and that gradients flow through), `is_complex`, `conj_physical`,
`resolve_conj`, `is_conj` and `mH`.

Where the Array API and PyTorch disagree the namespace follows the standard and the
Tensor follows PyTorch: `eager.real(x)` / `eager.imag(x)` are new tensors (and
`eager.imag` of a real tensor is zeros), while `x.real` shares x's memory (a real x is
returned itself) and `x.imag` of a real x raises, as in torch.

>>> import eager
>>> z = eager.tensor([1 + 2j, 3 - 4j])
>>> _ = z.real.add_(1)
>>> z.tolist(), z.imag.tolist()
([(2+2j), (4-4j)], [2.0, -4.0])
"""
from __future__ import annotations

from eager.autograd import rules
from eager.dispatch import apply, user_line_suffix
from eager.tensor import Tensor
from kernels import OPS
from kernels.errors import DTypeError

rules.backward(OPS.real_view, saves=rules.NOTHING)(rules._real)
rules.backward(OPS.imag_view, saves=rules.NOTHING)(rules._imag)


class NotComplexError(DTypeError, RuntimeError):
    """A complex-only attribute (`Tensor.imag`) of a real tensor; a RuntimeError as in
    torch, and a DTypeError like eager's other dtype mistakes."""


def is_complex(x: Tensor) -> bool:
    """True for a complex64 / complex128 tensor.

    >>> import eager
    >>> eager.tensor([1j]).is_complex(), eager.tensor([1.0]).is_complex()
    (True, False)
    """
    return x.dtype.kind == "c"


def real_part(x: Tensor) -> Tensor:
    """`Tensor.real`: the real part of a complex x as a view of x's memory (writing into it
    changes x); a real x itself.

    >>> import eager
    >>> x = eager.tensor([1.0])
    >>> x.real is x, eager.tensor([1 + 2j]).real.tolist()
    (True, [1.0])
    """
    return apply(OPS.real_view, x) if is_complex(x) else x


def imag_part(x: Tensor) -> Tensor:
    """`Tensor.imag`: the imaginary part of a complex x as a view of x's memory; a real x
    raises NotComplexError, as torch does.

    >>> import eager
    >>> eager.tensor([1 + 2j]).imag.tolist()
    [2.0]
    """
    if not is_complex(x):
        raise NotComplexError(f"imag: a {x.dtype.name} tensor of shape {x.shape} has no "
                              f"imaginary part to view{user_line_suffix()}; use "
                              "eager.imag(x) for zeros, or a complex dtype")
    return apply(OPS.imag_view, x)


def set_real(x: Tensor, value) -> None:
    """`x.real = value`: write value (broadcast) into x's real part."""
    real_part(x).copy_(value)


def set_imag(x: Tensor, value) -> None:
    """`x.imag = value`: write value (broadcast) into a complex x's imaginary part."""
    imag_part(x).copy_(value)


def conj_physical(x: Tensor) -> Tensor:
    """The complex conjugate as a new tensor (a copy of a real x); eager's `conj` copies
    too, as it has no lazily conjugated views.

    >>> import eager
    >>> eager.tensor([1 + 2j]).conj_physical().tolist()
    [(1-2j)]
    """
    return apply(OPS.conj, x)


def resolve_conj(x: Tensor) -> Tensor:
    """x itself: eager never holds a lazily conjugated tensor to materialize.

    >>> import eager
    >>> z = eager.tensor([1j])
    >>> z.conj().resolve_conj().tolist(), z.is_conj()
    ([-1j], False)
    """
    return x


def is_conj(x: Tensor) -> bool:
    """False: eager's conj() makes a new tensor, never a conjugate-bit view."""
    return False


def conj_transpose(x: Tensor) -> Tensor:
    """`Tensor.mH`: the conjugate transpose of the matrices in the last two dims.

    >>> import eager
    >>> eager.tensor([[1j, 2.0]]).mH.tolist()
    [[-1j], [(2-0j)]]
    """
    t = x.mT
    return apply(OPS.conj, t) if is_complex(x) else t


METHODS = {"is_complex": is_complex, "conj_physical": conj_physical,
           "resolve_conj": resolve_conj, "is_conj": is_conj}
"""The Tensor methods of this module, by name (eager/tensor_methods.py installs them)."""
