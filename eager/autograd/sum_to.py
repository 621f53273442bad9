"""Summing a gradient back to the shape of the input it belongs to."""
from __future__ import annotations

from eager.dispatch import apply
from kernels import OPS


def sum_to(g, shape: tuple[int, ...]):
    """Sum g over the dims that broadcasting added or stretched, giving `shape`.

    The engine applies it to every gradient a rule returns, so rules may return the
    gradient in the broadcast shape of their output.

    >>> import eager
    >>> sum_to(eager.ones(2, 3), (3,)).tolist()
    [2.0, 2.0, 2.0]
    >>> sum_to(eager.ones(2, 3), (2, 1)).tolist()
    [[3.0], [3.0]]
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1)
    if axes:
        g = apply(OPS.sum, g, axis=axes, keepdims=True)
    return apply(OPS.reshape, g, shape=shape) if g.shape != shape else g
