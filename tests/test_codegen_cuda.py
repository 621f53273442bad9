"""CUDA codegen and jit on the GPU (skipped without cupy and a visible GPU)."""
import numpy as np
import pytest

import eager
from jit import jit
from kernels import TensorSpec, bool_, float32
from kernels.codegen import ElementwiseGroup, Step, evaluate

pytestmark = pytest.mark.gpu


def test_fused_cuda_kernel_matches_numpy_with_broadcasting():
    import cupy

    from kernels.codegen.cuda import compile_group

    g = ElementwiseGroup(
        (TensorSpec((4, 3), float32), TensorSpec((3,), float32)),
        (Step("mul", (("in", 0), ("in", 1)), float32),
         Step("tanh", (("step", 0),), float32),
         Step("gt", (("step", 1), ("lit", 0.0)), bool_),
         Step("where", (("step", 2), ("step", 1), ("lit", -1.0)), float32)),
        (3,), (4, 3))
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(4, 3)
    y = np.array([1.0, -0.5, 2.0], np.float32)
    out = cupy.empty((4, 3), cupy.float32)
    compile_group(g).run([cupy.asarray(x), cupy.asarray(y)], [out])
    np.testing.assert_allclose(out.get(), evaluate(g, [x, y], np)[0], rtol=1e-6, atol=1e-7)


def test_jit_on_cuda_tensors_equals_eager_and_fuses():
    def f(w, x, b):
        return ((w * x + b).tanh() * 0.5).sum()

    args = [eager.tensor(np.linspace(-1, 1, 1000, dtype=np.float32) * k, device="cuda")
            for k in (1.0, 2.0, 0.5)]
    jitted = jit(f)
    jitted(*args)
    got = jitted(*args)
    assert got.device == "cuda"
    np.testing.assert_allclose(got.item(), f(*args).item(), rtol=1e-5)
    exe = jitted._variant_for(tuple(args), {}).executable
    assert exe.fused_kernels == 1
