"""What codegen compiles: a fused group of elementwise ops over broadcasting inputs.

A group is a small straight-line program over the group's inputs. Every step is one
elementwise op from `kernels.OPS`; its arguments are references: ("in", k) is the k-th
group input (broadcast to the group shape), ("step", j) an earlier step, ("lit", v) a
Python scalar. All steps produce the group's shape; the group writes the steps listed in
`outputs`.

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
    """Fused elementwise steps over broadcasting inputs; writes `outputs` at `shape`."""

    inputs: tuple[TensorSpec, ...]
    steps: tuple[Step, ...]
    outputs: tuple[int, ...]
    shape: tuple[int, ...]


def compute_dtype(step: Step, operand_dtypes: list[Any]) -> np.dtype:
    """The dtype the step's C expression computes in: its operands promoted (weak scalars).

    `where` promotes its two values, not the condition; `cast` computes in its input type.
    """
    if step.op == "where":
        operand_dtypes = operand_dtypes[1:]
    return result_dtype(*operand_dtypes)


def evaluate(group: ElementwiseGroup, arrays: list, xp) -> list:
    """Run a group with each op's array kernel (numpy or cupy); returns the output arrays."""
    values: list = []
    for step in group.steps:
        operands = [arrays[r[1]] if r[0] == "in" else values[r[1]] if r[0] == "step" else r[1]
                    for r in step.args]
        out = OPS[step.op].kernel(xp)(*operands, **dict(step.attrs))
        values.append(xp.asarray(out, dtype=step.dtype))
    return [xp.broadcast_to(values[i], group.shape) for i in group.outputs]


@dataclass(frozen=True)
class Layout:
    """The loop nest for a group: collapsed dims and, per array, element strides per dim.

    Adjacent dims merge when every array walks them contiguously, so a same-shape group
    becomes one flat loop (which gcc vectorizes) whatever its rank.
    """

    dims: tuple[int, ...]
    strides: tuple[tuple[int, ...], ...]  # inputs first, then the output


def broadcast_strides(shape: tuple[int, ...], out_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Element strides of a C-contiguous `shape` array read at `out_shape` (0 = broadcast)."""
    padded = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
    strides, step = [], 1
    for d in reversed(padded):
        strides.append(0 if d == 1 else step)
        step *= d
    return tuple(reversed(strides))


def layout(in_shapes: list[tuple[int, ...]], out_shape: tuple[int, ...]) -> Layout:
    """Collapse `out_shape` into the fewest loops that still index every input correctly."""
    arrays = [broadcast_strides(s, out_shape) for s in in_shapes]
    arrays.append(broadcast_strides(out_shape, out_shape))
    dims = list(out_shape) or [1]
    strides = [list(s) or [0] for s in arrays]
    if not out_shape:
        strides[-1] = [1]
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
