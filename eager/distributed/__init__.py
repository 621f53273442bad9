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
from eager.distributed.torch_names import (
    destroy_process_group,
    get_rank,
    get_world_size,
    init_process_group,
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
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init",
    "init_process_group",
    "is_initialized",
    "rank",
    "reduce_scatter",
    "world_size",
]
