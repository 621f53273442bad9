"""Fused-kernel code generation over the ops' own scalar expressions (C via cffi, CUDA).

>>> from kernels.codegen import ElementwiseGroup, Step, compile_groups  # noqa: F401
"""
from kernels.codegen.compiler import CompileError, CompilerUnavailable, cache_dir
from kernels.codegen.cpu import CpuKernel, NumpyKernel, compile_groups
from kernels.codegen.group import (
    ElementwiseGroup,
    ReduceGroup,
    RowGroup,
    Step,
    evaluate,
    layout,
)

__all__ = [
           "CompileError",
           "CompilerUnavailable",
           "CpuKernel",
           "ElementwiseGroup",
           "NumpyKernel",
           "ReduceGroup",
           "RowGroup",
           "Step",
           "cache_dir",
           "compile_groups",
           "evaluate",
           "layout",
]
