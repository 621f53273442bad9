"""Data-parallel training across processes: collectives over MPI (CPU) and NCCL (GPU).

Launch N processes with `mpiexec -n N python script.py`; each joins the group
(`init_process_group()`, or `init()`), and the collectives below exchange tensors among
them. The names and calling conventions are PyTorch's `torch.distributed`: collectives
work in place (`all_reduce(t)` leaves the sum in `t`) and return None, or a work handle
with `async_op=True`. `eager.distributed.functional` has the same collectives returning
new tensors, differentiable. `eager.nn.parallel.DistributedDataParallel` builds gradient
averaging on top.

>>> import eager, eager.distributed as dist
>>> dist.init_process_group()
>>> t = eager.ones(3)
>>> dist.all_reduce(t, op=dist.ReduceOp.SUM)
>>> t.tolist() == [float(dist.get_world_size())] * 3
True
"""
from eager.distributed import functional
from eager.distributed.errors import (
    BackendUnavailableError,
    CollectiveMismatchError,
    CollectiveTimeoutError,
    DistributedError,
    NotInitializedError,
    UnusedParametersError,
)
from eager.distributed.functional import ReduceOp, Work, barrier
from eager.distributed.inplace import (
    InPlaceWork,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    broadcast,
    reduce_scatter_tensor,
)
from eager.distributed.sampler import DistributedSampler
from eager.distributed.state import (
    destroy,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init,
    init_process_group,
    is_available,
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
    "InPlaceWork",
    "NotInitializedError",
    "ReduceOp",
    "UnusedParametersError",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy",
    "destroy_process_group",
    "functional",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init",
    "init_process_group",
    "is_available",
    "is_initialized",
    "rank",
    "reduce_scatter_tensor",
    "world_size",
]
