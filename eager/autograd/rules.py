"""Backward rules, one per differentiable primitive, written with eager ops.

Each rule takes the node (inputs, attrs, out) and the gradient of its output and returns
one gradient (or None) per input. Because the rules are ordinary eager code, a backward
pass under the tracer is recorded like any forward code, and create_graph=True gives
differentiable gradients (higher-order derivatives) for free.
"""
from __future__ import annotations

import math

from eager.autograd.node import OUT
from eager.dispatch import apply
from eager.ops import elementwise as E
from eager.ops.shape import reshape
from eager.tensor import Tensor
from kernels import OPS


def _is_tensor(x) -> bool:
    return type(x) is Tensor


def unbroadcast(g: Tensor, x) -> Tensor | None:
    """Sum g over the dims that broadcasting added or stretched, giving x's shape.

    >>> import eager
    >>> unbroadcast(eager.ones(2, 3), eager.zeros(3)).tolist()
    [2.0, 2.0, 2.0]
    """
    if not _is_tensor(x):
        return None
    shape = x.shape
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1)
    if axes:
        g = apply(OPS["sum"], g, axis=axes, keepdims=True)
    return reshape(g, shape)


def _zeros_like(x: Tensor) -> Tensor:
    return apply(OPS["full"], shape=x.shape, value=0, dtype=x.dtype, device=x.device)


def _keepdims_shape(shape, axes):
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def _expand_reduced(g, node):
    x = node.inputs[0]
    axes = node.attrs["axis"]
    if not node.attrs.get("keepdims", False):
        g = reshape(g, _keepdims_shape(x.shape, axes))
    return apply(OPS["expand"], g, shape=x.shape) if g.shape != x.shape else g


def _max_min(node, g):
    x = node.inputs[0]
    out = _expand_reduced(node.out, node)
    mask = E.astype(x == out, x.dtype, copy=False)
    count = apply(OPS["sum"], mask, axis=node.attrs["axis"], keepdims=True)
    return (_expand_reduced(g, node) * mask / count,)


def _prod(node, g):
    x = node.inputs[0]
    axes = node.attrs["axis"]
    keep = [a for a in range(x.ndim) if a not in axes]
    moved = x.permute(tuple(keep) + axes)
    n = 1
    for a in axes:
        n *= x.shape[a]
    flat = reshape(moved, moved.shape[:len(keep)] + (n,))
    # d prod / d x_i = product of the others: replace x_i by 1 on a (n, n) grid and multiply.
    from eager.creation import eye

    grid = E.where(eye(n, dtype="bool", device=x.device),
                   1.0, reshape(flat, flat.shape[:-1] + (1, n)))
    others = apply(OPS["prod"], grid, axis=(grid.ndim - 1,), keepdims=False)
    inverse = [0] * x.ndim
    for i, a in enumerate(tuple(keep) + axes):
        inverse[a] = i
    others = reshape(others, moved.shape).permute(tuple(inverse))
    return (_expand_reduced(g, node) * others,)


def _matmul(node, g):
    a, b = node.inputs
    a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
    b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
    g2 = g
    if b.ndim == 1:
        g2 = g2.unsqueeze(-1)
    if a.ndim == 1:
        g2 = g2.unsqueeze(-2)
    ga = unbroadcast(g2 @ b2.mT, a2) if node.edges[0] is not None else None
    gb = unbroadcast(a2.mT @ g2, b2) if node.edges[1] is not None else None
    return (None if ga is None else reshape(ga, a.shape),
            None if gb is None else reshape(gb, b.shape))


def _slice(node, g):
    x = node.inputs[0]
    return (apply(OPS["index_add"], _zeros_like(x), g, key=node.attrs["key"]),)


def _index(node, g):
    x, *index_arrays = node.inputs
    grad = apply(OPS["index_add"], _zeros_like(x), g, *index_arrays, key=node.attrs["key"])
    return (grad,) + (None,) * len(index_arrays)


def _index_add(node, g):
    _base, src, *index_arrays = node.inputs
    g_src = apply(OPS["index"], g, *index_arrays, key=node.attrs["key"])
    return (g, unbroadcast(g_src, src)) + (None,) * len(index_arrays)


def _index_set(node, g):
    _base, src, *index_arrays = node.inputs
    key = node.attrs["key"]
    g_base = apply(OPS["index_set"], g, 0, *index_arrays, key=key)
    g_src = apply(OPS["index"], g, *index_arrays, key=key) if index_arrays else \
        apply(OPS["slice"], g, key=key)
    return (g_base, unbroadcast(g_src, src)) + (None,) * len(index_arrays)


def _pad(node, g):
    key = tuple(("s", lo, d + lo, None)
                for (lo, _), d in zip(node.attrs["widths"], node.inputs[0].shape))
    return (apply(OPS["slice"], g, key=key),)


def _concat(node, g):
    axis = node.attrs["axis"]
    grads, start = [], 0
    for x in node.inputs:
        key = (("s", None, None, None),) * axis + (("s", start, start + x.shape[axis], None),)
        grads.append(apply(OPS["slice"], g, key=key))
        start += x.shape[axis]
    return tuple(grads)


def _permute(node, g):
    axes = node.attrs["axes"]
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return (apply(OPS["permute"], g, axes=tuple(inverse)),)


def _mul(node, g):
    a, b = node.inputs
    return (unbroadcast(g * b, a) if node.edges[0] is not None else None,
            unbroadcast(g * a, b) if node.edges[1] is not None else None)


def _div(node, g):
    a, b = node.inputs
    return (unbroadcast(g / b, a) if node.edges[0] is not None else None,
            unbroadcast(-g * node.out / b, b) if node.edges[1] is not None else None)


def _pow(node, g):
    a, b = node.inputs
    ga = None
    if node.edges[0] is not None:
        # d(a**b)/da is 0 where b == 0 (a**0 is constant), not 0 * 0**-1 = nan at a == 0.
        if type(b) is Tensor:
            ga = unbroadcast(g * E.where(b == 0, 0.0, b * a ** (b - 1)), a)
        else:
            ga = _zeros_like(a) if b == 0 else unbroadcast(g * b * a ** (b - 1), a)
    gb = None
    if node.edges[1] is not None:
        # d(a**b)/db = a**b * log(a); where a <= 0 the derivative is taken as 0, as PyTorch does.
        if type(a) is Tensor:
            log_a = E.log(E.where(a > 0, a, 1.0))
        else:
            log_a = math.log(a) if a > 0 else 0.0
        gb = unbroadcast(g * node.out * log_a, b)
    return ga, gb


def _minmax_binary(first_wins):
    def rule(node, g):
        a, b = node.inputs
        # Ties split the gradient evenly, as PyTorch does.
        wa = (E.astype(first_wins(a, b), g.dtype, copy=False)
              + E.astype(a == b, g.dtype, copy=False) * 0.5)
        return unbroadcast(g * wa, a), unbroadcast(g * (1 - wa), b)
    return rule


def _where(node, g):
    cond, a, b = node.inputs
    zero = 0.0
    return (None, unbroadcast(E.where(cond, g, zero), a), unbroadcast(E.where(cond, zero, g), b))


def _cumsum(node, g):
    axis = node.attrs["axis"]
    flipped = apply(OPS["flip"], g, axes=(axis,))
    return (apply(OPS["flip"], apply(OPS["cumsum"], flipped, axis=axis), axes=(axis,)),)


def _cast(node, g):
    x = node.inputs[0]
    return (E.astype(g, x.dtype, copy=False) if x.dtype.kind == "f" else None,)


def _to_device(node, g):
    return (apply(OPS["to_device"], g, device=node.inputs[0].device),)


RULES = {
    "neg": lambda n, g: (-g,),
    "exp": lambda n, g: (g * n.out,),
    "log": lambda n, g: (g / n.inputs[0],),
    "sin": lambda n, g: (g * E.cos(n.inputs[0]),),
    "cos": lambda n, g: (-g * E.sin(n.inputs[0]),),
    "tanh": lambda n, g: (g * (1 - n.out * n.out),),
    "sigmoid": lambda n, g: (g * n.out * (1 - n.out),),
    "sqrt": lambda n, g: (g / (2 * n.out),),
    "abs": lambda n, g: (g * E.sign(n.inputs[0]),),
    "copy": lambda n, g: (g,),
    "cast": _cast,
    "to_device": _to_device,
    "add": lambda n, g: (unbroadcast(g, n.inputs[0]), unbroadcast(g, n.inputs[1])),
    "sub": lambda n, g: (unbroadcast(g, n.inputs[0]), unbroadcast(-g, n.inputs[1])),
    "mul": _mul,
    "div": _div,
    "pow": _pow,
    # x % y == x - floor(x / y) * y, and floor is flat almost everywhere.
    "remainder": lambda n, g: (unbroadcast(g, n.inputs[0]), unbroadcast(
        -g * E.floor_divide(n.inputs[0], n.inputs[1]), n.inputs[1])),
    "maximum": _minmax_binary(lambda a, b: a > b),
    "minimum": _minmax_binary(lambda a, b: a < b),
    "where": _where,
    "sum": lambda n, g: (_expand_reduced(g, n),),
    "prod": _prod,
    "max": _max_min,
    "min": _max_min,
    "reshape": lambda n, g: (reshape(g, n.inputs[0].shape),),
    "permute": _permute,
    "expand": lambda n, g: (unbroadcast(g, n.inputs[0]),),
    "slice": _slice,
    "flip": lambda n, g: (apply(OPS["flip"], g, axes=n.attrs["axes"]),),
    "pad": _pad,
    "concat": _concat,
    "index": _index,
    "index_add": _index_add,
    "index_set": _index_set,
    "gather": lambda n, g: (apply(OPS["scatter_add"], _zeros_like(n.inputs[0]), n.inputs[1], g,
                                  axis=n.attrs["axis"]), None),
    "scatter_add": lambda n, g: (g, None, apply(OPS["gather"], g, n.inputs[1],
                                                axis=n.attrs["axis"])),
    "matmul": _matmul,
    "cumsum": _cumsum,
}

_ARRAYS_FROM_1 = tuple(range(1, 65))
_ARRAYS_FROM_2 = _ARRAYS_FROM_1[1:]
_NOTHING = ((),)
# What each rule reads besides shapes: entry i lists the values (input positions, OUT for
# the output) that the gradient of input i needs. Backward checks that none of the values
# it is about to read was changed in place since the op ran. Ops missing here are checked
# on everything.
SAVED = {
    "neg": _NOTHING, "exp": ((OUT,),), "log": ((0,),), "sin": ((0,),), "cos": ((0,),),
    "tanh": ((OUT,),), "sigmoid": ((OUT,),), "sqrt": ((OUT,),), "abs": ((0,),),
    "copy": _NOTHING, "cast": _NOTHING, "to_device": _NOTHING,
    "add": _NOTHING, "sub": _NOTHING, "mul": ((1,), (0,)), "div": ((1,), (1, OUT)),
    "pow": ((0, 1), (0, OUT)), "remainder": ((), (0, 1)), "maximum": ((0, 1), (0, 1)), "minimum": ((0, 1), (0, 1)),
    "where": ((), (0,), (0,)), "sum": _NOTHING, "prod": ((0,),), "max": ((0, OUT),),
    "min": ((0, OUT),), "reshape": _NOTHING, "permute": _NOTHING, "expand": _NOTHING,
    "slice": _NOTHING, "flip": _NOTHING, "pad": _NOTHING, "concat": _NOTHING,
    "index": (_ARRAYS_FROM_1,), "index_add": ((), _ARRAYS_FROM_2),
    "index_set": (_ARRAYS_FROM_2, _ARRAYS_FROM_2), "gather": ((1,),),
    "scatter_add": ((), (), (1,)), "matmul": ((1,), (0,)), "cumsum": _NOTHING,
}
