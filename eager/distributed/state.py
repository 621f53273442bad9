"""The process group of this process: `init`, `rank`, `world_size`, `destroy`, and
PyTorch's names for them (`init_process_group`, `get_rank`, `get_world_size`,
`destroy_process_group`).

One group spans every rank `mpiexec` started. CPU tensors travel over MPI; with the
NCCL backend, GPU tensors travel over NCCL (MPI still starts the job and shares the NCCL
id). Run without `mpiexec`, `init()` gives a world of one rank, so the same script runs
alone.
"""
from __future__ import annotations

import os
import sys
import traceback
from datetime import timedelta

from eager.distributed.errors import (
    BackendUnavailableError,
    DistributedError,
    NotInitializedError,
)
from kernels.errors import ArgumentError

BACKENDS = ("mpi", "nccl", "auto")
DEFAULT_TIMEOUT_S = 300.0
_state: dict = {"host": None, "gpu": None, "backend": None, "excepthook": None}


def _import_mpi() -> None:
    try:
        from mpi4py import MPI  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailableError(
            "init: backend 'mpi' needs mpi4py and an MPI runtime; install them with "
            "pip install eager-jit[mpi] (mpi4py and the mpich wheel, which brings mpiexec)"
        ) from exc


def _nccl_usable() -> bool:
    try:
        import cupy
        from cupy.cuda import nccl
        return getattr(nccl, "available", False) and cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001  (no cupy, no NCCL or no GPU: auto picks MPI alone)
        return False


def init(backend: str = "auto", *, timeout: float | None = None,
         check: bool | None = None) -> None:
    """Join the process group. backend "mpi" exchanges CPU tensors; "nccl" adds GPU
    tensors over NCCL; "auto" is "nccl" where cupy sees a GPU, else "mpi".

    timeout (seconds; default $EAGER_DISTRIBUTED_TIMEOUT or 300, None waits forever)
    bounds every collective, so a dead peer gives CollectiveTimeoutError instead of a
    hang. check (default on; $EAGER_DISTRIBUTED_CHECK=0 turns it off) compares shapes
    and dtypes across ranks before each collective. Calling init again is a no-op.

    >>> import eager.distributed as dist
    >>> dist.init("mpi"); dist.world_size() >= 1, dist.is_initialized()
    (True, True)
    """
    if backend not in BACKENDS:
        raise ArgumentError(f"init: backend must be one of {', '.join(BACKENDS)}, "
                            f"got {backend!r}")
    if _state["host"] is not None:
        return
    _import_mpi()
    from eager.distributed.mpi_backend import world_group

    if timeout is None:
        timeout = float(os.environ.get("EAGER_DISTRIBUTED_TIMEOUT", DEFAULT_TIMEOUT_S))
    elif timeout <= 0:
        timeout = None
    if check is None:
        check = os.environ.get("EAGER_DISTRIBUTED_CHECK", "1") != "0"
    host = world_group(timeout=timeout, check=check)
    gpu = None
    if backend == "nccl" or (backend == "auto" and _nccl_usable()):
        from eager.distributed.nccl_backend import NCCLGroup

        gpu = NCCLGroup(host)
        backend = "nccl"
    _state.update(host=host, gpu=gpu, backend="mpi" if gpu is None else backend)
    if host.size > 1 and _state["excepthook"] is None:
        _state["excepthook"] = sys.excepthook
        sys.excepthook = _abort_on_uncaught


def _abort_on_uncaught(kind, value, tb) -> None:
    # A rank that stops with an error would leave its peers waiting in their next
    # collective (and MPI_Finalize); ending the whole job makes the failure show at once.
    traceback.print_exception(kind, value, tb)
    sys.stderr.flush()
    sys.stdout.flush()
    host = _state["host"]
    if host is not None:
        host.abort(1)


def is_initialized() -> bool:
    """Whether `init()` has run (and `destroy()` has not).

    >>> import eager.distributed as dist
    >>> isinstance(dist.is_initialized(), bool)
    True
    """
    return _state["host"] is not None


def _host():
    host = _state["host"]
    if host is None:
        raise NotInitializedError("eager.distributed: call eager.distributed.init() first "
                                  "(and launch with mpiexec -n N for several ranks)")
    return host


def rank() -> int:
    """This process's rank, 0 ... world_size() - 1.

    >>> import eager.distributed as dist
    >>> dist.init(); 0 <= dist.rank() < dist.world_size()
    True
    """
    return _host().rank


def world_size() -> int:
    """How many ranks the group has.

    >>> import eager.distributed as dist
    >>> dist.init(); dist.world_size() >= 1
    True
    """
    return _host().size


def get_backend() -> str:
    """"mpi" or "nccl": what `init` chose.

    >>> import eager.distributed as dist
    >>> dist.init(); dist.get_backend() in ("mpi", "nccl")
    True
    """
    _host()
    return _state["backend"]


def group_for(device: str, op: str):
    """The group that exchanges tensors on `device`."""
    host = _host()
    if device == "cpu":
        return host
    if _state["gpu"] is None:
        raise BackendUnavailableError(f"{op}: a {device} tensor needs the NCCL backend; call "
                                      "eager.distributed.init('nccl'), or move the tensor "
                                      "with .to('cpu')")
    return _state["gpu"]


def destroy() -> None:
    """Leave the group: later collectives raise NotInitializedError until `init()`.

    >>> import eager.distributed as dist
    >>> dist.init(); dist.destroy(); dist.is_initialized()
    False
    """
    if _state["gpu"] is not None:
        _state["gpu"].destroy()
    if _state["excepthook"] is not None:
        sys.excepthook = _state["excepthook"]
    _state.update(host=None, gpu=None, backend=None, excepthook=None)


# ---- PyTorch's spellings ---------------------------------------------------------------
# torch's CPU backend is gloo; here MPI carries CPU tensors, so "gloo" means "mpi".
_TORCH_BACKENDS = {None: "auto", "gloo": "mpi", "mpi": "mpi", "nccl": "nccl",
                   "cpu:gloo,cuda:nccl": "auto"}


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: timedelta | float | None = None, world_size: int = -1,
                       rank: int = -1) -> None:
    """PyTorch's `torch.distributed.init_process_group`: join the group `mpiexec` started.

    backend "gloo" (torch's CPU backend) and "mpi" carry CPU tensors over MPI, "nccl"
    GPU tensors over NCCL, None picks as `init("auto")`. The launcher does the
    rendezvous, so init_method (e.g. "env://") is not needed; world_size and rank, if
    given, must be what mpiexec assigned. timeout is a timedelta or seconds.

    >>> import eager.distributed as dist
    >>> dist.init_process_group("gloo"); dist.get_rank() < dist.get_world_size()
    True
    """
    if backend not in _TORCH_BACKENDS:
        raise ArgumentError(f"init_process_group: backend must be one of "
                            f"{', '.join(k for k in _TORCH_BACKENDS if k)} or None, got "
                            f"{backend!r}")
    if isinstance(timeout, timedelta):
        timeout = timeout.total_seconds()
    init(_TORCH_BACKENDS[backend], timeout=timeout)
    host = _host()
    for name, given, actual in (("world_size", world_size, host.size),
                                ("rank", rank, host.rank)):
        if given not in (-1, actual):
            raise DistributedError(f"init_process_group: {name}={given} but mpiexec started "
                                   f"this process as {name} {actual}; leave {name} out "
                                   "(the launcher decides it)")


def get_rank(group=None) -> int:
    """PyTorch's name for `rank()` (only the default group exists).

    >>> import eager.distributed as dist
    >>> dist.init_process_group(); dist.get_rank() == dist.rank()
    True
    """
    _default_group_only("get_rank", group)
    return rank()


def get_world_size(group=None) -> int:
    """PyTorch's name for `world_size()` (only the default group exists).

    >>> import eager.distributed as dist
    >>> dist.init_process_group(); dist.get_world_size() == dist.world_size()
    True
    """
    _default_group_only("get_world_size", group)
    return world_size()


def destroy_process_group(group=None) -> None:
    """PyTorch's name for `destroy()`.

    >>> import eager.distributed as dist
    >>> dist.init_process_group(); dist.destroy_process_group(); dist.is_initialized()
    False
    """
    _default_group_only("destroy_process_group", group)
    destroy()


def is_available() -> bool:
    """Whether collectives can run here: mpi4py and an MPI runtime import.

    >>> import eager.distributed as dist
    >>> isinstance(dist.is_available(), bool)
    True
    """
    try:
        _import_mpi()
    except BackendUnavailableError:
        return False
    return True


def _default_group_only(name: str, group) -> None:
    if group is not None:
        raise ArgumentError(f"{name}: only the default group (group=None) exists here, got "
                            f"{group!r}")
