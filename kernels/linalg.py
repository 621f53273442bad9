"""Matrix multiplication with numpy's batching and broadcasting rules."""
from __future__ import annotations

from kernels.dtypes import bfloat16, result_dtype
from kernels.errors import DTypeError, ShapeError
from kernels.opdef import OpDef, OpKind, TensorSpec, register
from kernels.shapes import broadcast_shapes


def _matmul_rule(a: TensorSpec, b: TensorSpec):
    if not a.shape or not b.shape:
        raise ShapeError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} "
                         f"and {b.shape}")
    dtype = result_dtype(a.dtype, b.dtype)
    if dtype.kind == "b":
        raise DTypeError("matmul: bool tensors are not supported")
    sa = (1,) + a.shape if len(a.shape) == 1 else a.shape
    sb = b.shape + (1,) if len(b.shape) == 1 else b.shape
    if sa[-1] != sb[-2]:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                         f"({sa[-1]} != {sb[-2]})")
    batch = broadcast_shapes("matmul", sa[:-2], sb[:-2])
    shape = batch + (sa[-2], sb[-1])
    if len(a.shape) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(b.shape) == 1:
        shape = shape[:-1]
    return TensorSpec(shape, dtype)


def _matmul(xp):
    def run(a, b, out=None):
        # Only bfloat16 operands can give a bfloat16 result: test that before promoting.
        if a.dtype != bfloat16 and b.dtype != bfloat16:
            return xp.matmul(a, b, out=out)
        dtype = result_dtype(a.dtype, b.dtype)
        if dtype != bfloat16:
            return xp.matmul(a, b, out=out)
        # ml_dtypes' bfloat16 matmul accumulates in and returns float32; round as torch.
        result = xp.matmul(a, b).astype(dtype)
        if out is None:
            return result
        out[...] = result
        return out
    return run


matmul = register(OpDef("matmul", OpKind.MATMUL, 2, _matmul, _matmul_rule,
                        functions=("matmul",), methods=("matmul",), symbol="@"))
