"""What codegen compiles: a fused group of elementwise ops over broadcasting inputs,
optionally ending in a reduction, or a `RowGroup` mixing elementwise ops with reductions
over the last axis (softmax, LayerNorm, their backward: one kernel per row).

A group is a small straight-line program over the group's inputs. Every step is one
elementwise op from `kernels.OPS`; its arguments are references: ("in", k) is the k-th
group input (broadcast to the group shape), ("step", j) an earlier step, ("lit", v) a
Python scalar. All steps produce the group's shape; the group writes the steps listed in
`outputs`. A `ReduceGroup` reduces its prologue's single output instead of writing it.

`evaluate` runs a group with the ops' own array kernels: the reference the compiled code
is tested against, and the fallback when no C compiler is present.

>>> import numpy as np
>>> from kernels import TensorSpec, float32
>>> g = ElementwiseGroup(
...     inputs=(TensorSpec((3,), float32),),
...     steps=(Step("mul", (("in", 0), ("in", 0)), float32),
...            Step("add", (("step", 0), ("lit", 1.0)), float32)),
...     outputs=(1,), shape=(3,))
>>> evaluate(g, [np.array([1, 2, 3], np.float32)], np)[0].tolist()
[2.0, 5.0, 10.0]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kernels.dtypes import result_dtype
from kernels.opdef import OPS, TensorSpec

Ref = tuple  # ("in", k) | ("step", j) | ("lit", value)


@dataclass(frozen=True)
class Step:
    """`op(*args, **dict(attrs))`, producing dtype `dtype` at the group's shape."""

    op: str
    args: tuple[Ref, ...]
    dtype: np.dtype
    attrs: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ElementwiseGroup:
    """Fused elementwise steps over broadcasting inputs; writes `outputs` at `shape`.

    `input_axes[k]`, when given and not None, says input k is the transpose (numpy
    `transpose(a, axes)`) of the C-contiguous array actually passed; the kernel reads it
    with permuted strides instead of needing a copy. `inputs[k]` has the transposed shape.
    """

    inputs: tuple[TensorSpec, ...]
    steps: tuple[Step, ...]
    outputs: tuple[int, ...]
    shape: tuple[int, ...]
    input_axes: tuple[tuple[int, ...] | None, ...] = ()

    def axes_of(self, k: int) -> tuple[int, ...] | None:
        """The transpose applied to input k, or None."""
        return self.input_axes[k] if k < len(self.input_axes) else None


@dataclass(frozen=True)
class ReduceGroup:
    """`op` (sum, prod, max, min) over `axis` of the value `prologue` computes."""

    prologue: ElementwiseGroup
    op: str
    axis: tuple[int, ...]
    keepdims: bool
    dtype: np.dtype

    @property
    def inputs(self) -> tuple[TensorSpec, ...]:
        """The prologue's inputs."""
        return self.prologue.inputs

    def axes_of(self, k: int) -> tuple[int, ...] | None:
        """The transpose the prologue applies to input k, or None."""
        return self.prologue.axes_of(k)

    @property
    def shape(self) -> tuple[int, ...]:
        """The reduced shape."""
        p = self.prologue.shape
        if self.keepdims:
            return tuple(1 if i in self.axis else d for i, d in enumerate(p))
        return tuple(d for i, d in enumerate(p) if i not in self.axis)


@dataclass(frozen=True)
class RowGroup:
    """Steps over the rows of `shape` (all its axes but the last), in program order.

    `step_shapes[j]` is `shape` (a full step: one value per element), `shape[:-1] + (1,)`
    (a row step: one value per row, a reduction with keepdims or an op over row values)
    or `shape[:-1]` (a reduction without keepdims, which later steps do not read). A
    reduction step (sum, prod, max, min) reduces its operand over the last axis; an
    `expand` step broadcasts a row value over the row. A row is small, so each reduction
    is one pass over it that recomputes the full steps it needs from the inputs, and the
    outputs are written by one last pass: a full step is never stored unless written.

    >>> import numpy as np
    >>> from kernels import TensorSpec, float32
    >>> softmax = RowGroup(
    ...     inputs=(TensorSpec((1, 2), float32),),
    ...     steps=(Step("max", (("in", 0),), float32, (("axis", (1,)), ("keepdims", True))),
    ...            Step("sub", (("in", 0), ("step", 0)), float32),
    ...            Step("exp", (("step", 1),), float32),
    ...            Step("sum", (("step", 2),), float32, (("axis", (1,)), ("keepdims", True))),
    ...            Step("div", (("step", 2), ("step", 3)), float32)),
    ...     step_shapes=((1, 1), (1, 2), (1, 2), (1, 1), (1, 2)),
    ...     outputs=(4,), shape=(1, 2))
    >>> evaluate(softmax, [np.array([[0.0, 0.0]], np.float32)], np)[0].tolist()
    [[0.5, 0.5]]
    """

    inputs: tuple[TensorSpec, ...]
    steps: tuple[Step, ...]
    step_shapes: tuple[tuple[int, ...], ...]
    outputs: tuple[int, ...]
    shape: tuple[int, ...]
    input_axes: tuple[tuple[int, ...] | None, ...] = ()

    def axes_of(self, k: int) -> tuple[int, ...] | None:
        """The transpose applied to input k, or None."""
        return self.input_axes[k] if k < len(self.input_axes) else None

    def is_full(self, j: int) -> bool:
        """Whether step j has one value per element (else one per row)."""
        return self.step_shapes[j] == self.shape


def compute_dtype(step: Step, operand_dtypes: list[Any]) -> np.dtype:
    """The dtype the step's C expression computes in: its operands promoted (weak scalars).

    `where` promotes its two values, not the condition; `cast` computes in its input type.
    """
    if step.op == "where":
        operand_dtypes = operand_dtypes[1:]
    return result_dtype(*operand_dtypes)


def evaluate(group: ElementwiseGroup | ReduceGroup | RowGroup, arrays: list, xp) -> list:
    """Run a group with each op's array kernel (numpy or cupy); returns the output arrays."""
    if isinstance(group, ReduceGroup):
        (value,) = evaluate(group.prologue, arrays, xp)
        out = OPS[group.op].kernel(xp)(value, axis=group.axis, keepdims=group.keepdims)
        return [xp.asarray(out, dtype=group.dtype)]
    arrays = [a if group.axes_of(k) is None else xp.transpose(a, group.axes_of(k))
              for k, a in enumerate(arrays)]
    values: list = []
    for step in group.steps:
        operands = [arrays[r[1]] if r[0] == "in" else values[r[1]] if r[0] == "step" else r[1]
                    for r in step.args]
        out = OPS[step.op].kernel(xp)(*operands, **dict(step.attrs))
        values.append(xp.asarray(out, dtype=step.dtype))
    if isinstance(group, RowGroup):
        return [values[i] for i in group.outputs]
    return [xp.broadcast_to(values[i], group.shape) for i in group.outputs]


@dataclass(frozen=True)
class Layout:
    """The loop nest for a group: collapsed dims and, per array, element strides per dim.

    Adjacent dims merge when every array walks them contiguously, so a same-shape group
    becomes one flat loop (which gcc vectorizes) whatever its rank.
    """

    dims: tuple[int, ...]
    strides: tuple[tuple[int, ...], ...]  # inputs first, then the output


def contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Element strides of a C-contiguous array of `shape`."""
    strides, step = [], 1
    for d in reversed(shape):
        strides.append(step)
        step *= d
    return tuple(reversed(strides))


def broadcast_strides(shape: tuple[int, ...], out_shape: tuple[int, ...],
                      axes: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """Element strides of a `shape` array read at `out_shape` (0 = broadcast): C-contiguous,
    or, with `axes`, the transpose by `axes` of a C-contiguous array."""
    if axes is None:
        strides = contiguous_strides(shape)
    else:
        source = [0] * len(shape)
        for i, a in enumerate(axes):
            source[a] = shape[i]
        base = contiguous_strides(tuple(source))
        strides = tuple(base[a] for a in axes)
    pad = len(out_shape) - len(shape)
    return (0,) * pad + tuple(0 if d == 1 else st for d, st in zip(shape, strides))


def row_layout(in_shapes: list[tuple[int, ...]], shape: tuple[int, ...],
               in_axes: list | tuple = ()) -> tuple[Layout, tuple[int, ...]]:
    """Loops over the rows of `shape` and each array's stride along a row.

    Arrays are the inputs, then the full outputs (C-contiguous at `shape`), then the row
    outputs (C-contiguous over the rows, zero stride along one). Returns the collapsed
    layout of the row dims and, per array, its element stride along the last axis.
    """
    arrays = [broadcast_strides(s, shape, in_axes[k] if k < len(in_axes) else None)
              for k, s in enumerate(in_shapes)]
    arrays.append(contiguous_strides(shape))
    arrays.append(contiguous_strides(shape[:-1]) + (0,))
    outer = _collapse(list(shape[:-1]), [list(s[:-1]) for s in arrays])
    return outer, tuple(s[-1] for s in arrays)


def layout(in_shapes: list[tuple[int, ...]], out_shape: tuple[int, ...],
           in_axes: list | tuple = ()) -> Layout:
    """Collapse `out_shape` into the fewest loops that still index every input correctly."""
    arrays = [broadcast_strides(s, out_shape, in_axes[k] if k < len(in_axes) else None)
              for k, s in enumerate(in_shapes)]
    arrays.append(broadcast_strides(out_shape, out_shape))
    return _collapse(list(out_shape), [list(s) for s in arrays])


def reduce_layout(in_shapes: list[tuple[int, ...]], shape: tuple[int, ...],
                  axis: tuple[int, ...], in_axes: list | tuple = ()) -> tuple[Layout, Layout]:
    """Loops for reducing `shape` over `axis`: (kept dims, reduced dims).

    Strides are per input and, last, for the output (contiguous over the kept dims; zero
    over the reduced ones).
    """
    kept = [d for d in range(len(shape)) if d not in axis]
    out_shape = tuple(shape[d] for d in kept)
    arrays = [broadcast_strides(s, shape, in_axes[k] if k < len(in_axes) else None)
              for k, s in enumerate(in_shapes)]
    out_strides = dict(zip(kept, broadcast_strides(out_shape, out_shape)))
    arrays.append(tuple(out_strides.get(d, 0) for d in range(len(shape))))
    outer = _collapse([shape[d] for d in kept], [[s[d] for d in kept] for s in arrays])
    inner = _collapse([shape[d] for d in axis], [[s[d] for d in axis] for s in arrays])
    return outer, inner


def _collapse(dims: list[int], strides: list[list[int]]) -> Layout:
    """Merge adjacent dims that every array walks contiguously; at least one dim remains."""
    if not dims:
        dims, strides = [1], [[0] for _ in strides]
    i = len(dims) - 1
    while i > 0:
        if all(s[i - 1] == s[i] * dims[i] for s in strides):
            dims[i - 1] *= dims[i]
            del dims[i]
            for s in strides:
                del s[i - 1]
        i -= 1
        i = min(i, len(dims) - 1)
    return Layout(tuple(dims), tuple(tuple(s) for s in strides))
