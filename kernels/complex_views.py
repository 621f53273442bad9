"""Views of the parts of a complex array, PyTorch's `Tensor.real` / `Tensor.imag`:
`real_view` and `imag_view` share the complex array's memory (numpy's `z.real` and
`z.imag` are strided views of it), so a write into one changes the complex array, and
`set_part`, the complex array with one part replaced: how the tracer records such a
write functionally.

The Array API functions `real` / `imag` (kernels/complex_ops.py) return new arrays; these
views take complex arrays only.

>>> import numpy as np
>>> from kernels import OPS
>>> z = np.array([1 + 2j, 3 - 4j])
>>> OPS.imag_view.cpu_kernel(z)[0] = 5.0
>>> z.tolist(), OPS.set_part.cpu_kernel(z, np.array([0.0, 0.0]), part="real").tolist()
([(1+5j), (3-4j)], [5j, -4j])
"""
from __future__ import annotations

from kernels.complex_ops import real_dtype
from kernels.elementwise import check_kind
from kernels.errors import ArgumentError, ShapeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register

PARTS = ("real", "imag")
"""The `part` attribute of set_part."""


def _view_rule(name: str):
    def infer(x: TensorSpec):
        check_kind(name, x.dtype, "c")
        return TensorSpec(x.shape, real_dtype(x.dtype))
    return infer


real_view = register(OpDef("real_view", OpKind.OTHER, 1, lambda xp: lambda z: z.real,
                           _view_rule("real_view"), fusable=False, is_view=True))
imag_view = register(OpDef("imag_view", OpKind.OTHER, 1, lambda xp: lambda z: z.imag,
                           _view_rule("imag_view"), fusable=False, is_view=True))


def _set_part_rule(z: TensorSpec, value: TensorSpec, *, part: str):
    if part not in PARTS:
        raise ArgumentError(f"set_part: part must be 'real' or 'imag', got {part!r}")
    check_kind("set_part", z.dtype, "c")
    if value.shape != z.shape or value.dtype != real_dtype(z.dtype):
        raise ShapeError(f"set_part: the {part} part of a {z.dtype.name} tensor of shape "
                         f"{z.shape} must be {real_dtype(z.dtype).name} of that shape, got "
                         f"{value.dtype.name} {value.shape}")
    return TensorSpec(z.shape, z.dtype)


def _set_part_impl(xp):
    def set_part(z, value, *, part):
        out = z.copy()
        if part == "real":
            out.real = value
        else:
            out.imag = value
        return out
    return set_part


set_part = register(OpDef("set_part", OpKind.OTHER, 2, _set_part_impl, _set_part_rule,
                          fusable=False, differentiable=False))
