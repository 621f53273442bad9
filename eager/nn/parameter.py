"""`Parameter`: a tensor that a Module registers as one of its trainable weights.

`Tensor` is a final class to the dispatcher (it checks `type(x) is Tensor` on the hot path),
so a Parameter is not a subclass: `Parameter(data)` returns a plain leaf Tensor that
requires grad and is remembered as a parameter, and `isinstance(t, Parameter)` is true
for exactly those tensors. Every op, the tracer and the jit see an ordinary Tensor.

>>> import eager
>>> from eager.nn import Parameter
>>> w = Parameter(eager.zeros(2, 3))
>>> w.requires_grad, isinstance(w, Parameter), isinstance(eager.zeros(2), Parameter)
(True, True, False)
"""
from __future__ import annotations

import weakref

from eager.autograd import no_grad
from eager.tensor import Tensor
from kernels.dtypes import is_floating
from kernels.errors import DTypeError

# id -> tensor, held weakly; the identity check in __instancecheck__ guards against a
# recycled id of a dead tensor.
_registry: weakref.WeakValueDictionary[int, Tensor] = weakref.WeakValueDictionary()


class _ParameterMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return type(obj) is Tensor and _registry.get(id(obj)) is obj


class Parameter(metaclass=_ParameterMeta):
    """Mark `data` as a trainable parameter: a detached leaf Tensor with requires_grad.

    The tensor shares memory with `data` (like PyTorch's `nn.Parameter(t)`).
    """

    def __new__(cls, data: Tensor, requires_grad: bool = True) -> Tensor:  # type: ignore[misc]
        if type(data) is not Tensor:
            raise DTypeError(f"Parameter: expected a Tensor, got {type(data).__name__}")
        if not is_floating(data.dtype) and requires_grad:
            raise DTypeError(f"Parameter: only floating tensors can be trained, got "
                             f"{data.dtype.name}; pass requires_grad=False")
        param = data.detach()
        param._base = None
        param.requires_grad_(requires_grad)
        _registry[id(param)] = param
        return param


def clear_grad(p: Tensor, set_to_none: bool = True) -> None:
    """Set p.grad to None, or fill it with zeros in place (what zero_grad does per tensor).

    .grad is read and written through the property, so a tracer sees (and guards on) it.

    >>> import eager
    >>> w = eager.ones(2, requires_grad=True)
    >>> (w * 3).sum().backward(); clear_grad(w, set_to_none=False); w.grad.tolist()
    [0.0, 0.0]
    """
    if set_to_none:
        p.grad = None
        return
    grad = p.grad
    if grad is not None:
        with no_grad():
            grad.zero_()
