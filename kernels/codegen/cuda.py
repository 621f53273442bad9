"""CUDA kernels for fused groups: a cupy `ElementwiseKernel` built from the same per-step
C expressions (`c_render.render_step`) the CPU path compiles.

cupy broadcasts the inputs, compiles the kernel on first launch and caches it on disk
itself (each cached binary is stored with its md5 and recompiled when the two disagree,
so a damaged entry is rebuilt rather than loaded); launches are asynchronous, so a replay
never synchronizes the device unless the caller reads a value.

Complex values arrive as cupy's `complex<T>` and are computed as the same `ej_c64` /
`ej_c128` structs and helpers as on the CPU (kernels/codegen/complex_c.py), whose
transcendental functions are cupy's own complex ones there. Rendering is tested without a
GPU (g++ against stand-ins for cupy's types); running a complex kernel on one is not (no
device in the test environment; tests/test_complex_fused.py has a GPU-marked check). At
NaN / inf parts the fused + - * / follow numpy's formulas, which cupy's eager operators
(thrust's) need not match.

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

from kernels.codegen.c_render import CUDA_TYPES, ctype, helpers, render_step
from kernels.codegen.complex_c import tag
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
    """The per-element operation: load inputs, compute the steps, store outputs.

    >>> import numpy as np
    >>> from kernels import TensorSpec
    >>> from kernels.codegen.group import Step
    >>> c64 = np.dtype("complex64")
    >>> g = ElementwiseGroup((TensorSpec((4,), c64),),
    ...                      (Step("exp", (("in", 0),), c64),), (0,), (4,))
    >>> print(kernel_body(g))
    const ej_c64 x0 = ej_mk_c64(in0.real(), in0.imag());
    ej_c64 t0 = ej_exp_c64(x0);
    out0 = complex<float>(t0.re, t0.im);
    """
    lines = [f"const {ctype(spec.dtype, CUDA_TYPES)} x{k} = {_load(k, spec.dtype)};"
             for k, spec in enumerate(group.inputs)]
    lines += [render_step(j, step, group, CUDA_TYPES) for j, step in enumerate(group.steps)]
    lines += [f"out{k} = {_store(j, group.steps[j].dtype)};" for k, j in enumerate(group.outputs)]
    return "\n".join(lines)


def _load(k: int, dtype) -> str:
    # cupy passes complex64 / complex128 as complex<float> / complex<double>
    if dtype.kind != "c":
        return f"in{k}"
    return f"ej_mk_{tag(dtype)}(in{k}.real(), in{k}.imag())"


def _store(j: int, dtype) -> str:
    if dtype.kind != "c":
        return f"t{j}"
    return f"complex<{'float' if dtype.itemsize == 8 else 'double'}>(t{j}.re, t{j}.im)"


def preamble(group: ElementwiseGroup) -> str:
    """The kernel's preamble: INFINITY / NAN, and complex_c's helpers where it needs them.

    >>> "ej_mul_c64" in preamble(ElementwiseGroup((), (), (), ()))
    False
    """
    return PREAMBLE + helpers([group], cuda=True)


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
                                             "eager_jit_fused", preamble=preamble(group))

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
