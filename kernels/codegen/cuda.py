"""CUDA kernels for fused groups: a cupy `ElementwiseKernel` built from the same per-step
C expressions (`c_render.render_step`) the CPU path compiles.

cupy broadcasts the inputs, compiles the kernel on first launch and caches it on disk
itself (each cached binary is stored with its md5 and recompiled when the two disagree,
so a damaged entry is rebuilt rather than loaded); launches are asynchronous, so a replay
never synchronizes the device unless the caller reads a value.

>>> from kernels import TensorSpec, float32
>>> from kernels.codegen.group import ElementwiseGroup, Step
>>> g = ElementwiseGroup((TensorSpec((4,), float32),),
...                      (Step("tanh", (("in", 0),), float32),), (0,), (4,))
>>> print(kernel_body(g))
const float x0 = in0;
float t0 = tanhf(x0);
out0 = t0;
"""
from __future__ import annotations

import functools

from kernels.codegen.c_render import CUDA_TYPES, ctype, render_step
from kernels.codegen.group import ElementwiseGroup

PREAMBLE = """
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
#ifndef NAN
#define NAN __int_as_float(0x7fffffff)
#endif
"""


def kernel_body(group: ElementwiseGroup) -> str:
    """The per-element operation: load inputs, compute the steps, store outputs."""
    lines = [f"const {ctype(spec.dtype, CUDA_TYPES)} x{k} = in{k};"
             for k, spec in enumerate(group.inputs)]
    lines += [render_step(j, step, group, CUDA_TYPES) for j, step in enumerate(group.steps)]
    lines += [f"out{k} = t{j};" for k, j in enumerate(group.outputs)]
    return "\n".join(lines)


class CudaKernel:
    """A fused group on the GPU: `run(inputs, outputs)` launches one kernel (no sync)."""

    compiled = True
    chunks = None

    def __init__(self, group: ElementwiseGroup) -> None:
        import cupy

        self.group = group
        in_params = ", ".join(f"{spec.dtype.name} in{k}" for k, spec in enumerate(group.inputs))
        out_params = ", ".join(f"{group.steps[j].dtype.name} out{k}"
                               for k, j in enumerate(group.outputs))
        self.kernel = cupy.ElementwiseKernel(in_params, out_params, kernel_body(group),
                                             "eager_jit_fused", preamble=PREAMBLE)

    def run(self, inputs: list, outputs: list) -> None:
        """Launch the kernel writing into `outputs` (cupy arrays of the group's shape)."""
        group = self.group
        views = [a if group.axes_of(k) is None else a.transpose(group.axes_of(k))
                 for k, a in enumerate(inputs)]
        self.kernel(*views, *outputs)


@functools.lru_cache(maxsize=1024)
def compile_group(group: ElementwiseGroup) -> CudaKernel:
    """The CudaKernel for a group (one per distinct group per process)."""
    return CudaKernel(group)
