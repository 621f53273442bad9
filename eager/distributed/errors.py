"""Named errors of `eager.distributed`.

>>> issubclass(CollectiveTimeoutError, DistributedError), issubclass(DistributedError, EagerError)
(True, True)
"""
from __future__ import annotations

from kernels.errors import EagerError


class DistributedError(EagerError, RuntimeError):
    """Base of the errors a process group raises."""


class BackendUnavailableError(DistributedError, ImportError):
    """The transport a backend needs (mpi4py and an MPI runtime, or cupy's NCCL) is missing."""


class NotInitializedError(DistributedError):
    """A collective ran before `eager.distributed.init()` (or after `destroy()`)."""


class CollectiveMismatchError(DistributedError):
    """Ranks called a collective with different ops, shapes or dtypes."""


class CollectiveTimeoutError(DistributedError, TimeoutError):
    """A collective did not complete in time: a peer died, hangs, or called another one."""


class UnusedParametersError(DistributedError):
    """A DistributedDataParallel backward left parameters without a gradient (pass
    find_unused_parameters=True where that is intended)."""
