"""PyTorch's spellings of the process-group calls (`init_process_group`, `get_rank`, ...),
so a ported training script's `from torch.distributed import ...` line works unchanged.

>>> import eager.distributed as dist
>>> dist.init_process_group(backend="gloo"); dist.get_rank() < dist.get_world_size()
True
"""
from __future__ import annotations

import datetime

from eager.distributed import state
from kernels.errors import ArgumentError

__all__ = ["destroy_process_group", "get_rank", "get_world_size", "init_process_group"]

# torch's CPU backends all map to MPI here; NCCL stays NCCL.
_BACKENDS = {None: "auto", "gloo": "mpi", "mpi": "mpi", "nccl": "nccl",
             "cpu:gloo,cuda:nccl": "auto"}


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1,
                       rank: int = -1, **options) -> None:
    """torch's `init_process_group`: join the group the MPI launcher made (see `init`).

    `init_method` and the store options are accepted and unused (MPI finds its peers);
    a `world_size` or `rank` that disagrees with MPI's raises `ArgumentError`.
    """
    if backend not in _BACKENDS:
        raise ArgumentError(f"init_process_group: backend must be one of "
                            f"{', '.join(str(b) for b in _BACKENDS)}, got {backend!r}")
    seconds = None if timeout is None else timeout.total_seconds()
    state.init(_BACKENDS[backend], timeout=seconds)
    for name, asked, actual in (("world_size", world_size, state.world_size()),
                                ("rank", rank, state.rank())):
        if asked != -1 and asked != actual:
            raise ArgumentError(f"init_process_group: {name}={asked} but the MPI launcher "
                                f"started this process with {name} {actual}")


def destroy_process_group() -> None:
    """torch's `destroy_process_group`: leave the group (`destroy`)."""
    state.destroy()


def get_rank() -> int:
    """This process's rank (`rank()`)."""
    return state.rank()


def get_world_size() -> int:
    """How many ranks the group has (`world_size()`)."""
    return state.world_size()
