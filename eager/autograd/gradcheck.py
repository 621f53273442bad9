"""Compare autograd gradients with central finite differences (use float64 inputs)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from kernels.errors import ArgumentError, AutogradError


def _flat_outputs(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def gradcheck(fn: Callable, inputs: Sequence, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Check d fn / d inputs from backward against finite differences.

    Every output is reduced with fixed random weights, so the whole Jacobian is exercised.

    >>> import eager
    >>> x = eager.tensor([0.5, -1.0], dtype=eager.float64, requires_grad=True)
    >>> eager.autograd.gradcheck(lambda t: (t * t).tanh(), [x])
    True
    """
    from eager import tensor
    from eager.autograd.engine import grad
    from eager.tensor import host_array

    if not callable(fn) or not isinstance(inputs, (list, tuple)):
        raise ArgumentError(f"gradcheck: expected a function and a list of inputs, got "
                            f"{type(fn).__name__} and {type(inputs).__name__}")
    inputs = list(inputs)
    diff_inputs = [x for x in inputs if getattr(x, "requires_grad", False)]
    for x in diff_inputs:
        if x.dtype != np.float64:
            raise AutogradError(f"gradcheck: inputs should be float64 for accurate finite "
                                f"differences, got {x.dtype.name}")
    outputs = _flat_outputs(fn(*inputs))
    rng = np.random.default_rng(1234)
    weights = [rng.standard_normal(o.shape) for o in outputs]

    def scalar(outs):
        total = 0.0
        for o, w in zip(outs, weights):
            total = total + (o * tensor(w, dtype=o.dtype, device=o.device)).sum()
        return total

    analytic = grad(scalar(outputs), diff_inputs, allow_unused=True)
    for i, (x, g) in enumerate(zip(diff_inputs, analytic)):
        numeric = np.zeros(x.shape)
        data = x._data
        flat = data.reshape(-1)
        # Grad mode stays on: fn may itself differentiate (eager.grad inside fn).
        for j in range(flat.size):
            original = flat[j].item()
            flat[j] = original + eps
            plus = scalar(_flat_outputs(fn(*inputs))).item()
            flat[j] = original - eps
            minus = scalar(_flat_outputs(fn(*inputs))).item()
            flat[j] = original
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        got = np.zeros(x.shape) if g is None else host_array(g._data)
        if not np.allclose(got, numeric, atol=atol, rtol=rtol):
            if raise_exception:
                worst = np.abs(got - numeric).max()
                raise AutogradError(f"gradcheck: gradient of input {i} (shape {x.shape}) differs "
                                    f"from finite differences by up to {worst:.3g}\n"
                                    f"analytic:\n{got}\nnumeric:\n{numeric}")
            return False
    return True
