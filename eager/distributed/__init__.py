"""Data-parallel training across processes: collectives over MPI (CPU) and NCCL (GPU).

Launch N processes with `mpiexec -n N python script.py`; each calls `init()`, and the
collectives below exchange tensors among them. `eager.nn.parallel.DistributedDataParallel`
builds gradient averaging on top.

>>> import eager, eager.distributed as dist
>>> dist.init()
>>> dist.all_reduce(eager.ones(3), op="sum").tolist() == [float(dist.world_size())] * 3
True
"""
from eager.distributed.collectives import (
    Work,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    reduce_scatter,
)
from eager.distributed.errors import (
    BackendUnavailableError,
    CollectiveMismatchError,
    CollectiveTimeoutError,
    DistributedError,
    NotInitializedError,
)
from eager.distributed.sampler import DistributedSampler
from eager.distributed.state import (
    destroy,
    get_backend,
    init,
    is_initialized,
    rank,
    world_size,
)

__all__ = [
    "BackendUnavailableError",
    "CollectiveMismatchError",
    "CollectiveTimeoutError",
    "DistributedError",
    "DistributedSampler",
    "NotInitializedError",
    "Work",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy",
    "get_backend",
    "init",
    "is_initialized",
    "rank",
    "reduce_scatter",
    "world_size",
]
