"""`eager.set_num_threads` / `get_num_threads`: one setting for BLAS and the generated
kernels, whose default honours OMP_NUM_THREADS and the process's CPU affinity."""
import os
import subprocess
import sys

import numpy as np
import pytest

import eager
from kernels import TensorSpec, float32, threads
from kernels.codegen.cpu import compile_groups
from kernels.codegen.group import ElementwiseGroup, Step
from kernels.errors import ArgumentError


@pytest.fixture(autouse=True)
def _restore_threads():
    previous = eager.get_num_threads()
    yield
    eager.set_num_threads(previous)


def test_set_then_get_round_trips_and_bad_counts_are_named_errors():
    eager.set_num_threads(1)
    assert eager.get_num_threads() == 1
    for bad in (0, -2, 1.5, "2", True, 65):
        with pytest.raises(ArgumentError, match=r"set_num_threads: n must be an int"):
            eager.set_num_threads(bad)
    assert eager.get_num_threads() == 1


def test_blas_follows_the_setting():
    pytest.importorskip("threadpoolctl")
    from eager.threads import blas_threads

    if blas_threads() is None:
        pytest.skip("threadpoolctl sees no BLAS library")
    eager.set_num_threads(1)
    assert blas_threads() == 1
    eager.set_num_threads(2)
    assert blas_threads() == 2


def test_default_honours_omp_num_threads_and_affinity(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.available_cpus() == 3 and threads.default_threads() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert threads.default_threads() == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "16")      # never more than the CPUs we may use
    assert threads.default_threads() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "junk")
    assert threads.default_threads() == 3


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_a_process_pinned_to_one_core_uses_one_thread():
    code = ("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "import eager; print(eager.get_num_threads())")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=os.path.dirname(os.path.dirname(__file__)), check=True)
    assert out.stdout.strip() == "1"


def test_generated_kernels_split_by_the_current_setting():
    n = 1 << 19
    x = np.linspace(-4, 4, n, dtype=np.float32)
    group = ElementwiseGroup((TensorSpec((n,), float32),),
                             (Step("tanh", (("in", 0),), float32),), (0,), (n,))
    (kernel,) = compile_groups([group])
    if not kernel.compiled:
        pytest.skip("no C compiler")
    for count in (1, 3, 2):
        eager.set_num_threads(count)
        out = np.empty(n, np.float32)
        kernel.run([x], [out])
        assert len(kernel.chunks) == count
        np.testing.assert_allclose(out, np.tanh(x), rtol=1e-6, atol=1e-7)
