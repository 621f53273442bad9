"""eager keeps freed host memory for reuse (eager/host_memory.py): temporaries of the
sizes a training step makes do not fault their pages in again on every step."""
import os
import subprocess
import sys

import pytest

from eager.host_memory import _is_glibc, keep_freed_memory

CHURN = """
import resource, numpy as np
import eager
def churn():
    for _ in range(20):
        arrays = [np.ones(150_000, np.float32) for _ in range(12)]
        del arrays
churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
churn()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(keep: str) -> int:
    env = {**os.environ, "EAGER_KEEP_HOST_MEMORY": keep}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", CHURN], env=env, capture_output=True,
                          text=True, check=True, timeout=300)
    return int(done.stdout.split()[-1])


@pytest.mark.skipif(not _is_glibc(), reason="the setting is glibc's malloc's")
def test_freed_arrays_are_reused_without_page_faults():
    kept, system = page_faults("1"), page_faults("0")
    assert kept < 200 < system


def test_opting_out_leaves_malloc_alone(monkeypatch):
    monkeypatch.setenv("EAGER_KEEP_HOST_MEMORY", "0")
    assert keep_freed_memory() is False
    monkeypatch.setenv("EAGER_KEEP_HOST_MEMORY", "1")
    assert keep_freed_memory() is _is_glibc()
