"""Compare autograd gradients with central finite differences (use float64 inputs)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from kernels.errors import ArgumentError, AutogradError


def _flat_outputs(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


_PRECISE = (np.float64, np.complex128)


def _weights(outputs, rng) -> list[np.ndarray]:
    """Fixed random weights per output; complex outputs get complex ones."""
    weights = []
    for o in outputs:
        w = rng.standard_normal(o.shape)
        if o.dtype.kind == "c":
            w = w + 1j * rng.standard_normal(o.shape)
        weights.append(w)
    return weights


def gradcheck(fn: Callable, inputs: Sequence, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Check d fn / d inputs from backward against finite differences.

    Every output is reduced with fixed random weights to a real loss L (a complex output o
    with complex weights w contributes Re(sum(o * conj(w)))), so the whole Jacobian is
    exercised. A complex input z = x + iy is perturbed in its real and its imaginary part,
    and its gradient is compared with dL/dx + i dL/dy, PyTorch's convention.

    >>> import eager
    >>> x = eager.tensor([0.5, -1.0], dtype=eager.float64, requires_grad=True)
    >>> eager.autograd.gradcheck(lambda t: (t * t).tanh(), [x])
    True
    >>> z = eager.tensor([0.5 + 1j, -1j], dtype=eager.complex128, requires_grad=True)
    >>> eager.autograd.gradcheck(lambda t: eager.exp(t) * t, [z])
    True
    """
    from eager import tensor
    from eager.autograd.engine import grad
    from eager.ops.elementwise import unary
    from eager.tensor import host_array

    if not callable(fn) or not isinstance(inputs, (list, tuple)):
        raise ArgumentError(f"gradcheck: expected a function and a list of inputs, got "
                            f"{type(fn).__name__} and {type(inputs).__name__}")
    inputs = list(inputs)
    diff_inputs = [x for x in inputs if getattr(x, "requires_grad", False)]
    for x in diff_inputs:
        if x.dtype not in _PRECISE:
            raise AutogradError(f"gradcheck: inputs should be float64 or complex128 for "
                                f"accurate finite differences, got {x.dtype.name}")
    outputs = _flat_outputs(fn(*inputs))
    weights = _weights(outputs, np.random.default_rng(1234))

    def scalar(outs):
        total = 0.0
        for o, w in zip(outs, weights):
            term = (o * tensor(np.conj(w), dtype=o.dtype, device=o.device)).sum()
            total = total + (unary("real", term) if o.dtype.kind == "c" else term)
        return total

    def derivative(flat, j, step):
        original = flat[j].item()
        flat[j] = original + step
        plus = scalar(_flat_outputs(fn(*inputs))).item()
        flat[j] = original - step
        minus = scalar(_flat_outputs(fn(*inputs))).item()
        flat[j] = original
        return (plus - minus) / (2 * eps)

    analytic = grad(scalar(outputs), diff_inputs, allow_unused=True)
    for i, (x, g) in enumerate(zip(diff_inputs, analytic)):
        is_complex = x.dtype.kind == "c"
        numeric = np.zeros(x.shape, dtype=np.complex128 if is_complex else np.float64)
        flat = x._data.reshape(-1)
        # Grad mode stays on: fn may itself differentiate (eager.grad inside fn).
        for j in range(flat.size):
            value = derivative(flat, j, eps)
            if is_complex:
                value = value + 1j * derivative(flat, j, eps * 1j)
            numeric.reshape(-1)[j] = value
        got = np.zeros(x.shape) if g is None else host_array(g._data)
        if not np.allclose(got, numeric, atol=atol, rtol=rtol):
            if raise_exception:
                worst = np.abs(got - numeric).max()
                raise AutogradError(f"gradcheck: gradient of input {i} (shape {x.shape}) differs "
                                    f"from finite differences by up to {worst:.3g}\n"
                                    f"analytic:\n{got}\nnumeric:\n{numeric}")
            return False
    return True
