"""Adam's flat update (`Adam._update_flat`) on the buffers' arrays, for eager mode.

With nothing listening (no tracer, no jit recorder) the update need not be ops: the same
numpy passes, op for op, run straight on the arrays, in place where the ops write back.
That skips about five dispatches per parameter (a GPT's 30 parameters: 150 ops, most of
an optimizer step's time) and the copy every in-place op makes of its result. Version
counters move as the ops would move them, so autograd still sees each parameter and
state buffer change.

>>> import eager
>>> from eager import optim
>>> w = eager.tensor([1.0, 2.0], requires_grad=True)
>>> opt = optim.Adam([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step()
>>> [round(v, 4) for v in w.tolist()], w._version
([0.9, 1.9], 1)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from eager.interpreters import listener
from eager.optim.flat import FlatState
from eager.tensor import Tensor

_ARRAY_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def applies(flat: FlatState) -> bool:
    """Whether this step may run on the arrays: nothing records it, and the parameters
    are cpu float32/float64 (bfloat16 and float16 follow the ops' rounding rules).

    >>> import eager
    >>> flat = FlatState.over([eager.zeros(2, requires_grad=True)], [{"m": eager.zeros(2)}])
    >>> applies(flat)
    True
    """
    first = flat.params[0]
    return listener() is None and first._device == "cpu" and \
        first._data.dtype in _ARRAY_DTYPES


def _array(value):
    """A hyperparameter as the update reads it: the learning rate lives in a 0-d tensor."""
    return value._data if isinstance(value, Tensor) else value


def _bump(t: Tensor, times: int = 1) -> None:
    root = t if t._base is None else t._base
    root._version += times


def adam_step(flat: FlatState, grads: list[Tensor], group: dict[str, Any],
              decoupled: bool) -> None:
    """One Adam (AdamW with `decoupled`) step of every parameter of `flat`, in place.

    >>> import eager
    >>> p = eager.tensor([1.0], requires_grad=True)
    >>> state = [{"step": eager.zeros(()), "exp_avg": eager.zeros(1),
    ...           "exp_avg_sq": eager.zeros(1)}]
    >>> flat = FlatState.over([p], state)
    >>> adam_step(flat, [eager.ones(1)], {"betas": (0.9, 0.999), "lr": 0.5, "eps": 1e-8,
    ...                                   "weight_decay": 0.0}, decoupled=False)
    >>> [round(v, 4) for v in p.tolist()], state[0]["step"].item()
    ([0.5], 1.0)
    """
    beta1, beta2 = group["betas"]
    lr, decay = _array(group["lr"]), _array(group["weight_decay"])
    buffers = flat.buffers
    params = flat.params
    steps, m, v = buffers["step"]._data, buffers["exp_avg"]._data, buffers["exp_avg_sq"]._data
    steps += 1
    grad = np.concatenate([g._data.reshape(-1) for g in grads])
    if decay and decoupled:
        keep = 1 - lr * decay
        for p in params:
            np.multiply(p._data, keep, out=p._data)
            _bump(p)
    elif decay:
        grad = grad + decay * np.concatenate([p._data.reshape(-1) for p in params])
    m *= beta1
    m += (1 - beta1) * grad
    square = (1 - beta2) * grad
    square *= grad
    v *= beta2
    v += square
    step64 = steps[0].astype(np.float64)
    bias_correction1 = (1 - beta1 ** step64).astype(m.dtype)
    bias_correction2 = np.sqrt(1 - beta2 ** step64).astype(m.dtype)
    if "max_exp_avg_sq" in buffers:
        v_max = buffers["max_exp_avg_sq"]
        np.maximum(v_max._data, v, out=v_max._data)
        _bump(v_max)
        v = v_max._data
    denom = np.sqrt(v)
    denom /= bias_correction2
    denom += _array(group["eps"])
    change = (lr / bias_correction1) * m
    change /= denom
    for p, (start, stop) in zip(params, flat.bounds):
        p._data -= change[start:stop].reshape(p._data.shape)
        _bump(p)
    _bump(buffers["step"])
    _bump(buffers["exp_avg"], 2)
    _bump(buffers["exp_avg_sq"], 2)


__all__ = ["adam_step", "applies"]
