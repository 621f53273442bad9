"""Finding `mpiexec` and building the command that starts N ranks of a Python script.

The `mpich` wheel puts `mpiexec` beside the Python executable (in a venv's `bin/`),
which need not be on PATH; look there first. Open MPI refuses more ranks than cores
unless told to oversubscribe; MPICH's hydra needs no flag.

>>> cmd = mpiexec_command(2, ["-c", "pass"], executable="/usr/bin/mpiexec", kind="mpich")
>>> cmd[:3], cmd[-2:]
(['/usr/bin/mpiexec', '-n', '2'], ['-c', 'pass'])
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

from eager.distributed.errors import BackendUnavailableError


def find_mpiexec() -> str:
    """Path of mpiexec: beside sys.executable, else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if found is None:
        raise BackendUnavailableError("mpiexec: no MPI launcher found beside the Python "
                                      "executable or on PATH; install one with "
                                      "pip install eager-jit[mpi]")
    return found


def mpi_kind(executable: str) -> str:
    """"openmpi" or "mpich" (what `mpiexec --version` says)."""
    try:
        text = subprocess.run([executable, "--version"], capture_output=True, text=True,
                              check=False, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "mpich"
    return "openmpi" if "Open MPI" in text or "OpenRTE" in text else "mpich"


def mpiexec_command(n: int, python_args: Sequence[str], *, executable: str | None = None,
                    kind: str | None = None, keep_going: bool = False) -> list[str]:
    """argv that runs `python <python_args>` on n ranks of this machine. keep_going
    leaves the other ranks running when one dies (so they can report it themselves)."""
    executable = executable or find_mpiexec()
    kind = kind or mpi_kind(executable)
    flags = ["--oversubscribe"] if kind == "openmpi" else []
    if keep_going:
        flags += (["--mca", "orte_abort_on_non_zero_status", "0"] if kind == "openmpi"
                  else ["-disable-auto-cleanup"])
    return [executable, "-n", str(n), *flags, sys.executable, *python_args]


def clean_environment() -> dict[str, str]:
    """os.environ without the variables of this process's own MPI job, so a child
    mpiexec starts a job of its own (not a rank of ours)."""
    prefixes = ("PMI_", "PMIX_", "MPI_LOCALRANKID", "MPI_LOCALNRANKS", "HYDRA_", "OMPI_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
