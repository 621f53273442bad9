"""Backward rules, one per differentiable primitive, written with eager ops.

Each rule is registered on its op with `@backward(OPS.x, saves=...)`, which sets the
op's `backward` and `saves` fields, so adding a differentiable op is one entry here.

A rule takes the node (inputs, attrs, out), the gradient of its output and `needs`, one
bool per input saying whether that input wants a gradient, and returns one gradient (or
None) per input. It may return a gradient in the broadcast shape of the output: the
engine sums it to the input's shape. `saves[i]` lists the values the gradient of input i
reads besides shapes (input positions, OUT for the output, Rest(k) for every input from
k on); backward checks that none of them was changed in place since the op ran.

Because the rules are ordinary eager code, a backward pass under the tracer is recorded
like any forward code, and create_graph=True gives differentiable gradients
(higher-order derivatives) for free.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from eager.autograd.grad_mode import is_grad_enabled
from eager.autograd.node import OUT
from eager.autograd.sum_to import sum_to
from eager.dispatch import apply, get_hook
from eager.ops import elementwise as E
from eager.ops import reductions as R
from eager.ops.shape import reshape
from eager.tensor import Tensor, wrap
from kernels import OPS, OpDef, Rest
from kernels.activations import GELU_A, GELU_C
from kernels.dtypes import DIFFERENTIABLE
from kernels.errors import AutogradError
from kernels.indexing import full_key

NOTHING: tuple = ()
"""`saves` of a rule that reads no values, only shapes."""
INDEX_ARRAYS_FROM_1 = Rest(1)
INDEX_ARRAYS_FROM_2 = Rest(2)


def backward(op: OpDef, saves: tuple) -> Callable[[Callable], Callable]:
    """Register `rule` as the backward of `op`, reading the values listed in `saves`.

    >>> from kernels import OPS
    >>> OPS.mul.backward.__name__, OPS.mul.saves
    ('_mul', ((1,), (0,)))
    """
    def register(rule: Callable) -> Callable:
        if op.backward is not None:
            raise KeyError(f"backward: op {op.name!r} has a rule already")
        op.backward, op.saves = rule, saves
        return rule
    return register


def _c(x):
    """conj(x) for a complex tensor, x itself otherwise: with PyTorch's convention the
    gradient of a holomorphic f is g * conj(f'(z)), which on real tensors is g * f'(x)."""
    if type(x) is Tensor and x._data.dtype.kind == "c":
        return apply(OPS.conj, x)
    return x.conjugate() if type(x) is complex else x


def _zeros_like(x: Tensor) -> Tensor:
    return apply(OPS.full, shape=x.shape, value=0, dtype=x.dtype, device=x.device)


def _keepdims_shape(shape, axes):
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def _expand_reduced(g, node):
    x = node.inputs[0]
    axes = node.attrs["axis"]
    if not node.attrs.get("keepdims", False):
        g = reshape(g, _keepdims_shape(x.shape, axes))
    return apply(OPS.expand, g, shape=x.shape) if g.shape != x.shape else g


# ---- elementwise ------------------------------------------------------------------------
@backward(OPS.neg, saves=NOTHING)
def _neg(n, g, needs):
    return (-g,)


@backward(OPS.exp, saves=((OUT,),))
def _exp(n, g, needs):
    return (g * _c(n.out),)


@backward(OPS.log, saves=((0,),))
def _log(n, g, needs):
    return (g / _c(n.inputs[0]),)


@backward(OPS.sin, saves=((0,),))
def _sin(n, g, needs):
    return (g * _c(E.cos(n.inputs[0])),)


@backward(OPS.cos, saves=((0,),))
def _cos(n, g, needs):
    return (-g * _c(E.sin(n.inputs[0])),)


@backward(OPS.tanh, saves=((OUT,),))
def _tanh(n, g, needs):
    return (g * _c(1 - n.out * n.out),)


@backward(OPS.sigmoid, saves=((OUT,),))
def _sigmoid(n, g, needs):
    return (g * n.out * (1 - n.out),)


@backward(OPS.sqrt, saves=((OUT,),))
def _sqrt(n, g, needs):
    return (g / (2 * _c(n.out)),)


@backward(OPS.abs, saves=((0,),))
def _abs(n, g, needs):
    return (g * E.sign(n.inputs[0]),)


def _flat(n, g, needs):
    # Piecewise constant: zero almost everywhere, as torch says (not g * 0, which turns
    # an infinite upstream gradient into NaN).
    if n.out.dtype.kind == "c":  # z / |z| is not piecewise constant
        raise AutogradError(f"{n.op.name}: no gradient for complex inputs (of dtype "
                            f"{n.out.dtype}); write z / z.abs() to differentiate it")
    return (_zeros_like(g),)


for _op in (OPS.floor, OPS.ceil, OPS.sign):
    backward(_op, saves=NOTHING)(_flat)


@backward(OPS.copy, saves=NOTHING)
def _copy(n, g, needs):
    return (g,)


@backward(OPS.cast, saves=NOTHING)
def _cast(node, g, needs):
    x = node.inputs[0]
    if x.dtype not in DIFFERENTIABLE:
        return (None,)
    if g.dtype.kind == "c" and x.dtype.kind != "c":
        g = apply(OPS.real, g)  # a real input gets the real part, as in PyTorch
    return (E.astype(g, x.dtype, copy=False),)


@backward(OPS.to_device, saves=NOTHING)
def _to_device(node, g, needs):
    return (apply(OPS.to_device, g, device=node.inputs[0].device),)


@backward(OPS.add, saves=NOTHING)
def _add(n, g, needs):
    return g, g


@backward(OPS.sub, saves=NOTHING)
def _sub(n, g, needs):
    return g, (-g if needs[1] else None)


@backward(OPS.mul, saves=((1,), (0,)))
def _mul(node, g, needs):
    a, b = node.inputs
    return (g * _c(b) if needs[0] else None), (g * _c(a) if needs[1] else None)


@backward(OPS.div, saves=((1,), (1, OUT)))
def _div(node, g, needs):
    _a, b = node.inputs
    return (g / _c(b) if needs[0] else None), (-g * _c(node.out / b) if needs[1] else None)


@backward(OPS.pow, saves=((0, 1), (0, OUT)))
def _pow(node, g, needs):
    a, b = node.inputs
    ga = gb = None
    if needs[0]:
        # d(a**b)/da is 0 where b == 0 (a**0 is constant), not 0 * 0**-1 = nan at a == 0.
        if type(b) is Tensor:
            ga = g * _c(E.where(b == 0, 0.0, b * a ** (b - 1)))
        else:
            ga = _zeros_like(a) if b == 0 else g * _c(b * a ** (b - 1))
    if needs[1]:
        # d(a**b)/db = a**b * log(a); where a <= 0 the derivative is taken as 0, as PyTorch does.
        if type(a) is Tensor and a.dtype.kind == "c":
            log_a = E.log(E.where(a == 0, 1.0, a))
        elif type(a) is Tensor:
            log_a = E.log(E.where(a > 0, a, 1.0))
        else:
            log_a = math.log(a) if a > 0 else 0.0
        gb = g * _c(node.out * log_a)
    return ga, gb


@backward(OPS.remainder, saves=((), (0, 1)))
def _remainder(n, g, needs):
    # x % y == x - floor(x / y) * y, and floor is flat almost everywhere.
    return g, (-g * E.floor_divide(n.inputs[0], n.inputs[1]) if needs[1] else None)


def _minmax_binary(first_wins):
    def rule(node, g, needs):
        a, b = node.inputs
        # Ties split the gradient evenly, as PyTorch does.
        wa = (E.astype(first_wins(a, b), g.dtype, copy=False)
              + E.astype(a == b, g.dtype, copy=False) * 0.5)
        return (g * wa if needs[0] else None), (g * (1 - wa) if needs[1] else None)
    return rule


backward(OPS.maximum, saves=((0, 1), (0, 1)))(_minmax_binary(lambda a, b: a > b))
backward(OPS.minimum, saves=((0, 1), (0, 1)))(_minmax_binary(lambda a, b: a < b))


@backward(OPS.where, saves=((), (0,), (0,)))
def _where(node, g, needs):
    cond = node.inputs[0]
    return (None, E.where(cond, g, 0.0) if needs[1] else None,
            E.where(cond, 0.0, g) if needs[2] else None)


# ---- reductions -------------------------------------------------------------------------
@backward(OPS.sum, saves=NOTHING)
def _sum(n, g, needs):
    return (_expand_reduced(g, n),)


@backward(OPS.prod, saves=((0,),))
def _prod(node, g, needs):
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
    others = apply(OPS.prod, grid, axis=(grid.ndim - 1,), keepdims=False)
    inverse = [0] * x.ndim
    for i, a in enumerate(tuple(keep) + axes):
        inverse[a] = i
    others = reshape(others, moved.shape).permute(tuple(inverse))
    return (_expand_reduced(g, node) * _c(others),)


def _max_min(node, g, needs):
    x = node.inputs[0]
    out = _expand_reduced(node.out, node)
    mask = E.astype(x == out, x.dtype, copy=False)
    count = apply(OPS.sum, mask, axis=node.attrs["axis"], keepdims=True)
    return (_expand_reduced(g, node) * mask / count,)


backward(OPS.max, saves=((0, OUT),))(_max_min)
backward(OPS.min, saves=((0, OUT),))(_max_min)


@backward(OPS.cumsum, saves=NOTHING)
def _cumsum(node, g, needs):
    axis = node.attrs["axis"]
    flipped = apply(OPS.flip, g, axes=(axis,))
    return (apply(OPS.flip, apply(OPS.cumsum, flipped, axis=axis), axes=(axis,)),)


@backward(OPS.matmul, saves=((1,), (0,)))
def _matmul(node, g, needs):
    a, b = node.inputs
    a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
    b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
    g2 = g
    if b.ndim == 1:
        g2 = g2.unsqueeze(-1)
    if a.ndim == 1:
        g2 = g2.unsqueeze(-2)
    # Batch dims are summed against the 2-d operand first: a 1-d operand's shape says
    # nothing about which of the gradient's dims it came from.
    ga = reshape(sum_to(g2 @ _c(b2.mT), a2.shape), a.shape) if needs[0] else None
    if not needs[1]:
        return ga, None
    if b.ndim == 2 and a.ndim == 2 and not b._data.flags.c_contiguous and \
            b._data.flags.f_contiguous:
        # b is a transposed view (Linear's weight.T): its gradient in the same layout
        # makes the transpose's gradient contiguous, where a copy of it would cost more
        # than the GEMM (BLAS reads the transposed operands in place).
        return ga, (g2.mT @ _c(a2)).mT
    return ga, reshape(sum_to(_c(a2.mT) @ g2, b2.shape), b.shape)


@backward(OPS.linear, saves=((1,), (0,), ()))
def _linear(node, g, needs):
    # The composite's products and sums: the same gradients, bit for bit (BLAS gives
    # g.T @ x and (x.T @ g).T the same bits), the weight's in its own layout, so that
    # accumulating it into .grad copies nothing. Dispatched directly: the public
    # spellings' argument checks cost more than the ops on a small layer.
    x, weight, _bias = node.inputs
    rows = _as_rows(g)
    gx = gw = gb = None
    if needs[0]:
        gx = _product(rows, weight)
        if gx.shape != x.shape:
            gx = apply(OPS.reshape, gx, shape=x.shape)
    if needs[1]:
        gw = _product(apply(OPS.permute, rows, axes=(1, 0)), _as_rows(x))
    if needs[2]:
        gb = apply(OPS.sum, rows, axis=(0,), keepdims=False)
    return gx, gw, gb


def _as_rows(t: Tensor) -> Tensor:
    """t as a 2-d (rows, last dim) tensor, as reshape(t, (rows, t.shape[-1])) gives it."""
    if t.ndim == 2:
        return t
    shape = (math.prod(t.shape[:-1]), t.shape[-1])
    if not t._data.flags.c_contiguous:
        return reshape(t, shape)   # copies first
    return apply(OPS.reshape, t, shape=shape)


def _product(a: Tensor, b: Tensor) -> Tensor:
    return apply(OPS.matmul, a, b) if a._data.dtype == b._data.dtype else a @ b


# ---- movement ---------------------------------------------------------------------------
@backward(OPS.reshape, saves=NOTHING)
def _reshape(n, g, needs):
    return (reshape(g, n.inputs[0].shape),)


@backward(OPS.permute, saves=NOTHING)
def _permute(node, g, needs):
    axes = node.attrs["axes"]
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return (apply(OPS.permute, g, axes=tuple(inverse)),)


@backward(OPS.expand, saves=NOTHING)
def _expand(n, g, needs):
    return (g,)


@backward(OPS.slice, saves=NOTHING)
def _slice(node, g, needs):
    x, key = node.inputs[0], node.attrs["key"]
    if not is_grad_enabled() and get_hook() is None and x._device == "cpu":
        # eager: the same sum, into zeros laid out as x is. The gradient of q, k, v
        # sliced off a permuted view then un-permutes to a contiguous array, which the
        # reshape before it takes as it is instead of copying it into C order.
        out = np.zeros_like(x._data)
        out[full_key(key, ())] += g._data
        return (wrap(out, x._device),)
    return (apply(OPS.index_add, _zeros_like(x), g, key=key),)


@backward(OPS.flip, saves=NOTHING)
def _flip(n, g, needs):
    return (apply(OPS.flip, g, axes=n.attrs["axes"]),)


@backward(OPS.pad, saves=NOTHING)
def _pad(node, g, needs):
    key = tuple(("s", lo, d + lo, None)
                for (lo, _), d in zip(node.attrs["widths"], node.inputs[0].shape))
    return (apply(OPS.slice, g, key=key),)


@backward(OPS.concat, saves=NOTHING)
def _concat(node, g, needs):
    axis = node.attrs["axis"]
    grads, start = [], 0
    for x, wanted in zip(node.inputs, needs):
        if wanted:
            key = (("s", None, None, None),) * axis + (
                ("s", start, start + x.shape[axis], None),)
            grads.append(apply(OPS.slice, g, key=key))
        else:
            grads.append(None)
        start += x.shape[axis]
    return tuple(grads)


# ---- indexing ---------------------------------------------------------------------------
@backward(OPS.index, saves=(INDEX_ARRAYS_FROM_1,))
def _index(node, g, needs):
    x, *index_arrays = node.inputs
    grad = apply(OPS.index_add, _zeros_like(x), g, *index_arrays, key=node.attrs["key"])
    return (grad,) + (None,) * len(index_arrays)


@backward(OPS.index_add, saves=((), INDEX_ARRAYS_FROM_2))
def _index_add(node, g, needs):
    _base, _src, *index_arrays = node.inputs
    g_src = apply(OPS.index, g, *index_arrays, key=node.attrs["key"]) if needs[1] else None
    return (g, g_src) + (None,) * len(index_arrays)


@backward(OPS.index_set, saves=(INDEX_ARRAYS_FROM_2, INDEX_ARRAYS_FROM_2))
def _index_set(node, g, needs):
    _base, _src, *index_arrays = node.inputs
    key = node.attrs["key"]
    g_base = apply(OPS.index_set, g, 0, *index_arrays, key=key) if needs[0] else None
    g_src = None
    if needs[1]:
        g_src = apply(OPS.index, g, *index_arrays, key=key) if index_arrays else \
            apply(OPS.slice, g, key=key)
    return (g_base, g_src) + (None,) * len(index_arrays)


@backward(OPS.gather, saves=((1,),))
def _gather(n, g, needs):
    return (apply(OPS.scatter_add, _zeros_like(n.inputs[0]), n.inputs[1], g,
                  axis=n.attrs["axis"]), None)


@backward(OPS.scatter_add, saves=((), (), (1,)))
def _scatter_add(n, g, needs):
    g_src = apply(OPS.gather, g, n.inputs[1], axis=n.attrs["axis"]) if needs[2] else None
    return g, None, g_src


@backward(OPS.erf, saves=((0,),))
def _erf(n, g, needs):
    x = n.inputs[0]
    return (g * (2.0 / math.sqrt(math.pi)) * E.exp(-(x * x)),)


@backward(OPS.atan2, saves=((0, 1), (0, 1)))
def _atan2(node, g, needs):
    a, b = node.inputs
    scale = g / (a * a + b * b)
    return (scale * b if needs[0] else None), (-scale * a if needs[1] else None)


@backward(OPS.gelu_tanh, saves=((0,),))
def _gelu_tanh(n, g, needs):
    return (apply(OPS.gelu_tanh_grad, g, n.inputs[0]),)


@backward(OPS.gelu_tanh_grad, saves=((1,), (0, 1)))
def _gelu_tanh_grad(n, gg, needs):
    # The second derivative, for create_graph=True: with u = c (x + a x^3), t = tanh(u),
    # gelu'' = (1 - t^2) (u' - x t u'^2 + 3 a c x^2).
    g, x = n.inputs
    g_g = apply(OPS.gelu_tanh_grad, gg, x) if needs[0] else None
    if not needs[1]:
        return g_g, None
    c, a = GELU_C, GELU_A
    x2 = x * x
    t = E.tanh(c * x * (1.0 + a * x2))
    du = c + (3.0 * a * c) * x2
    second = (1.0 - t * t) * (du - x * t * du * du + (3.0 * a * c) * x2)
    return g_g, gg * g * second


@backward(OPS.relu, saves=((0,),))
def _relu(n, g, needs):
    x = n.inputs[0]
    if not is_grad_enabled() and get_hook() is None and g.dtype == x.dtype:
        return (apply(OPS.relu_grad, g, x),)
    # create_graph=True or a tracer: the masked gradient relu's where gives
    return (E.where(x <= 0, 0.0, g),)


@backward(OPS.normalize_rows, saves=((0,),))
def _normalize_rows(n, g, needs):
    x = n.inputs[0]
    axes, eps = n.attrs["axes"], n.attrs["eps"]
    if not is_grad_enabled() and get_hook() is None:
        return (apply(OPS.normalize_rows_grad, g, x, axes=axes, eps=eps),)
    # create_graph=True or a tracer: the same product in differentiable, fusable ops
    centered = x - R.mean(x, axis=axes, keepdims=True)
    inv_std = 1.0 / E.sqrt(R.mean(centered * centered, axis=axes, keepdims=True) + eps)
    xhat = centered * inv_std
    projection = R.mean(g * xhat, axis=axes, keepdims=True)
    return ((g - R.mean(g, axis=axes, keepdims=True) - xhat * projection) * inv_std,)


@backward(OPS.scale_shift, saves=((1,), (0,), ()))
def _scale_shift(n, g, needs):
    # mul's and add's rules: the engine sums the weight's and bias's to their shapes
    x, weight, _bias = n.inputs
    return ((g * weight if needs[0] else None), (g * x if needs[1] else None),
            (g if needs[2] else None))


@backward(OPS.softmax, saves=((OUT,),))
def _softmax(n, g, needs):
    y = n.out
    if not is_grad_enabled() and get_hook() is None and g.dtype == y.dtype:
        return (apply(OPS.softmax_grad, g, y, axis=n.attrs["axis"]),)
    # create_graph=True or a tracer: the same product in differentiable, fusable ops
    return (y * (g - R.sum(g * y, axis=n.attrs["axis"], keepdims=True)),)


@backward(OPS.log_softmax, saves=((OUT,),))
def _log_softmax(n, g, needs):
    return (g - E.exp(n.out) * R.sum(g, axis=n.attrs["axis"], keepdims=True),)


@backward(OPS.cross_entropy_rows, saves=((0, 1), ()))
def _cross_entropy_rows(n, g, needs):
    x, target = n.inputs
    attrs = n.attrs
    if not is_grad_enabled() and get_hook() is None and g.dtype == x.dtype:
        return apply(OPS.cross_entropy_rows_grad, g, x, target, **attrs), None
    # create_graph=True or a tracer: softmax minus one-hot in differentiable ops
    valid = target != attrs["ignore_index"]
    safe = E.where(valid, target, 0)
    classes = apply(OPS.arange, start=0, stop=x.shape[1], step=1, dtype=target.dtype,
                    device=x.device)
    one_hot = E.astype(reshape(safe, (x.shape[0], 1)) == classes, x.dtype)
    coef = E.astype(valid, x.dtype)
    if attrs["mean"]:
        coef = coef / R.sum(coef)
    shifted = x - R.max(x.detach(), axis=1, keepdims=True)
    e = E.exp(shifted)
    p = e / R.sum(e, axis=1, keepdims=True)
    return (p - one_hot) * reshape(coef * g, (x.shape[0], 1)), None


@backward(OPS.masked_scale, saves=((1,), ()))
def _masked_scale(n, g, needs):
    keep, scale = n.inputs[1], n.attrs["scale"]
    if get_hook() is None and g.dtype == n.inputs[0].dtype:
        return apply(OPS.masked_scale, g, keep, scale=scale), None
    # a tracer: where's and mul's rules, as the composite's
    return E.where(keep, g, 0.0) * scale, None


@backward(OPS.max_pool_blocks, saves=((0,),))
def _max_pool_blocks(n, g, needs):
    return (apply(OPS.block_argmax_scatter, g, n.inputs[0], kernel=n.attrs["kernel"]),)


@backward(OPS.block_argmax_scatter, saves=((1,), ()))
def _block_argmax_scatter(n, g, needs):
    # the positions are piecewise constant in x: no gradient flows to it
    return apply(OPS.block_argmax_pick, g, n.inputs[1], kernel=n.attrs["kernel"]), None


@backward(OPS.block_argmax_pick, saves=((1,), ()))
def _block_argmax_pick(n, g, needs):
    return apply(OPS.block_argmax_scatter, g, n.inputs[1], kernel=n.attrs["kernel"]), None


# ---- sliding windows --------------------------------------------------------------------
def _window_attrs(attrs: dict) -> dict:
    return {k: attrs[k] for k in ("kernel", "stride", "dilation", "padding", "kernel_last")
            if k in attrs}


@backward(OPS.windows, saves=NOTHING)
def _windows(node, g, needs):
    size = node.inputs[0].shape[-2:]
    return (apply(OPS.fold, g, size=size, **_window_attrs(node.attrs)),)


@backward(OPS.fold, saves=NOTHING)
def _fold(node, g, needs):
    return (apply(OPS.windows, g, **_window_attrs(node.attrs)),)


# ---- complex ----------------------------------------------------------------------------
# PyTorch's convention: a tensor's gradient is dL/d(conj z) = dL/dx + i dL/dy for a real
# loss L of z = x + iy.
@backward(OPS.real, saves=NOTHING)
def _real(node, g, needs):
    x = node.inputs[0]
    return (E.astype(g, x.dtype, copy=False) if x.dtype.kind == "c" else g,)


@backward(OPS.imag, saves=NOTHING)
def _imag(node, g, needs):
    x = node.inputs[0]
    return (g * 1j if x.dtype.kind == "c" else g * 0,)


@backward(OPS.conj, saves=NOTHING)
def _conj(node, g, needs):
    return (_c(g),)


@backward(OPS.angle, saves=((0,),))
def _angle(node, g, needs):
    z = node.inputs[0]
    if z.dtype.kind != "c":
        return (g * 0,)
    # angle = atan2(y, x): d/dx = -y / |z|^2, d/dy = x / |z|^2, so dL/dx + i dL/dy = i z / |z|^2.
    norm2 = E.where(z == 0, 1.0, apply(OPS.real, z * _c(z)))
    return (g * 1j * z / norm2,)


def _d_complex_math(fn: str, z: Tensor, out: Tensor) -> Tensor:
    """The complex derivative f'(z) of numpy's function `fn`."""
    sqrt, log_2, log_10 = E.sqrt, math.log(2.0), math.log(10.0)
    derivatives = {
        "arccos": lambda: -1 / sqrt(1 - z * z), "arcsin": lambda: 1 / sqrt(1 - z * z),
        "arccosh": lambda: 1 / (sqrt(z - 1) * sqrt(z + 1)),
        "arcsinh": lambda: 1 / sqrt(1 + z * z), "arctan": lambda: 1 / (1 + z * z),
        "arctanh": lambda: 1 / (1 - z * z), "cosh": lambda: apply(OPS.complex_math, z, fn="sinh"),
        "sinh": lambda: apply(OPS.complex_math, z, fn="cosh"), "tan": lambda: 1 + out * out,
        "expm1": lambda: out + 1, "log1p": lambda: 1 / (1 + z), "log2": lambda: 1 / (z * log_2),
        "log10": lambda: 1 / (z * log_10), "exp": lambda: out, "log": lambda: 1 / z,
        "sqrt": lambda: 0.5 / out, "sin": lambda: E.cos(z), "cos": lambda: -E.sin(z),
        "tanh": lambda: 1 - out * out, "square": lambda: 2 * z, "reciprocal": lambda: -out * out,
    }
    return derivatives[fn]()


@backward(OPS.complex_math, saves=((0, OUT),))
def _complex_math(node, g, needs):
    return (g * _c(_d_complex_math(node.attrs["fn"], node.inputs[0], node.out)),)


# ---- fft --------------------------------------------------------------------------------
_DUAL_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _resize(t: Tensor, shape: tuple[int, ...], axes: tuple[int, ...]) -> Tensor:
    """t cut or zero-padded along `axes` to `shape`: the adjoint of the transform's own
    cutting or padding of its input."""
    key, widths = [], []
    for a, (have, want) in enumerate(zip(t.shape, shape)):
        key.append(("s", 0, min(have, want) if a in axes else have, None))
        widths.append((0, max(want - have, 0) if a in axes else 0))
    if any(have > want for have, want in zip(t.shape, shape)):
        t = apply(OPS.slice, t, key=tuple(key))
    if any(hi for _, hi in widths):
        t = apply(OPS.pad, t, widths=tuple(widths))
    return t


@backward(OPS.fft, saves=NOTHING)
def _fft(node, g, needs):
    # The adjoint of a DFT is the inverse DFT with the dual normalisation.
    x = node.inputs[0]
    transform, s, axes = node.attrs["transform"], node.attrs["s"], node.attrs["axes"]
    dual = _DUAL_NORM[node.attrs["norm"]]
    if transform in ("fft", "ifft"):
        gx = apply(OPS.fft, g, transform="ifft" if transform == "fft" else "fft", s=s,
                   axes=axes, norm=dual)
    elif transform == "rfft":
        # The half spectrum's missing bins contribute nothing: pad them with zeros.
        gx = apply(OPS.real, apply(OPS.fft, g, transform="ifft", s=s, axes=axes, norm=dual))
    else:
        # irfft reads each inner bin twice (as itself and as its conjugate mirror), the
        # zero-frequency bin (and for even lengths the Nyquist bin) once.
        half = apply(OPS.fft, g, transform="rfft", s=s, axes=axes, norm=dual)
        from eager.creation import tensor

        weight = np.full(half.shape[axes[-1]], 2.0)
        weight[0] = 1.0
        if s[-1] % 2 == 0:
            weight[-1] = 1.0
        shape = [1] * half.ndim
        shape[axes[-1]] = weight.size
        gx = half * tensor(weight.reshape(shape), dtype=g.dtype, device=g.device)
    return (_resize(gx, x.shape, axes),)
