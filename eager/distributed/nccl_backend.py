"""Collectives on cupy arrays over NCCL (cupy.cuda.nccl), bootstrapped over MPI.

Rank 0 makes the NCCL unique id and MPI broadcasts it; each rank then uses the GPU of
its local index (NCCL refuses two ranks on one GPU). NCCL calls are queued on the
current stream, the one the tensors' own kernels ran on, so no extra synchronisation is
needed around them; a CUDA event recorded after each call is what `wait()` polls with
the group's deadline, asking NCCL for an asynchronous error (a peer that died) on each
poll and aborting the communicator on a failure or a timeout. Shape and dtype checks go
over MPI, on the host, before anything is queued.

>>> "float32" in EXCHANGED_DTYPES, "bool" in EXCHANGED_DTYPES
(True, False)
"""
from __future__ import annotations

import copy

from eager.distributed.errors import BackendUnavailableError
from eager.distributed.mpi_backend import MPIGroup, signature_of
from eager.distributed.waiting import poll_until_done
from kernels.errors import DTypeError

EXCHANGED_DTYPES = ("float16", "float32", "float64", "int8", "uint8", "int32", "uint32",
                    "int64", "uint64")
_MISSING = ("init: backend 'nccl' needs cupy with NCCL and a CUDA GPU; install them with "
            "pip install eager-jit[gpu,mpi] nvidia-nccl-cu12")


def _nccl():
    try:
        import cupy
        from cupy.cuda import nccl
    except ImportError as exc:
        raise BackendUnavailableError(_MISSING) from exc
    # cupy.cuda.nccl imports without the NCCL library and then only says available=False
    if not getattr(nccl, "available", False):
        raise BackendUnavailableError(_MISSING + " (cupy found no NCCL library)")
    return cupy, nccl


def _local_rank(host: MPIGroup) -> int:
    """This rank's index among the ranks on its machine (whatever launcher started it)."""
    from mpi4py import MPI

    node = host.comm.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        return node.Get_rank()
    finally:
        node.Free()


class _EventRequest:
    """An event after queued NCCL work, with the Test() that poll_until_done drives: done
    once the event fired; an NCCL asynchronous error (a peer lost mid-collective) raises
    NcclError instead of leaving the poll to run into the deadline."""

    def __init__(self, cupy, comm) -> None:
        self.event = cupy.cuda.Event(disable_timing=True)
        self.event.record()
        self.comm = comm

    def Test(self) -> bool:
        if self.event.done:
            return True
        self.comm.check_async_error()
        return False


class NCCLPending:
    """NCCL work in flight; `wait()` returns the result array once its event fired."""

    def __init__(self, group: NCCLGroup, result, what: str, finish=None) -> None:
        self._group, self._result, self._what, self._finish = group, result, what, finish
        self._request = _EventRequest(group.cupy, group.comm)
        self._done = False

    def is_completed(self) -> bool:
        """Whether the GPU has finished the exchange (never blocks)."""
        self._done = self._done or self._request.Test()
        return self._done

    def wait(self):
        """Block (up to the group's timeout) until done; return the result array."""
        if not self._done:
            try:
                poll_until_done(self._request, self._group.timeout,
                                lambda: f"{self._what} on rank {self._group.rank} (nccl)")
            except Exception:
                self._group.comm.abort()
                raise
            self._done = True
        # after the wait, not inside it: is_completed() may have seen the end first
        if self._finish is not None:
            self._result = self._finish(self._result)
            self._finish = None
        return self._result


class NCCLGroup:
    """The ranks of the MPI world, exchanging cupy arrays over NCCL."""

    device = "cuda"

    def __init__(self, host: MPIGroup) -> None:
        cupy, nccl = _nccl()
        self.cupy, self.nccl, self.host = cupy, nccl, host
        self.rank, self.size, self.timeout = host.rank, host.size, host.timeout
        cupy.cuda.Device(_local_rank(host) % cupy.cuda.runtime.getDeviceCount()).use()
        uid = host.broadcast_object(nccl.get_unique_id() if host.rank == 0 else None)
        self.comm = nccl.NcclCommunicator(self.size, uid, self.rank)
        self._unchecked = None
        self._ops = {"sum": nccl.NCCL_SUM, "mean": nccl.NCCL_SUM, "max": nccl.NCCL_MAX,
                     "min": nccl.NCCL_MIN}
        self._dtypes = {name: getattr(nccl, f"NCCL_{name.upper()}")
                        for name in EXCHANGED_DTYPES}

    def __repr__(self) -> str:
        return f"<nccl group of {self.size}{'' if self.host.check else ', unchecked'}>"

    def unchecked(self) -> NCCLGroup:
        """The same ranks without the per-call signature check (see MPIGroup.unchecked)."""
        if self._unchecked is None:
            self._unchecked = copy.copy(self)
            self._unchecked.host = self.host.unchecked()
        return self._unchecked

    def _dtype(self, kind: str, x) -> int:
        code = self._dtypes.get(x.dtype.name)
        if code is None:
            raise DTypeError(f"{kind}: NCCL cannot exchange {x.dtype.name} tensors; cast to "
                             f"one of {', '.join(self._dtypes)}")
        return code

    def _stream(self) -> int:
        return self.cupy.cuda.get_current_stream().ptr

    def all_reduce(self, x, reduce: str):
        """Elementwise reduction of x over all ranks, given to every rank."""
        return self.all_reduce_async(x, reduce).wait()

    def broadcast(self, x, src: int):
        """Rank src's x, on every rank."""
        return self.broadcast_async(x, src).wait()

    def all_gather(self, x):
        """Every rank's x concatenated along axis 0, in rank order."""
        return self.all_gather_async(x).wait()

    def reduce_scatter(self, x, reduce: str):
        """Reduce x over ranks and give rank r the r-th chunk along axis 0."""
        return self.reduce_scatter_async(x, reduce).wait()

    def barrier(self) -> None:
        """Return once every rank has entered (on the host, over MPI)."""
        self.cupy.cuda.get_current_stream().synchronize()
        self.host.barrier()

    def all_reduce_async(self, x, reduce: str, *, in_place: bool = False) -> NCCLPending:
        """Queue an all-reduce on the current stream (with in_place, into x itself,
        which must be C-contiguous)."""
        x = self.cupy.ascontiguousarray(x)
        dtype = self._dtype("all_reduce", x)
        self.host.verify(signature_of("all_reduce", x, reduce) + ("cuda",))
        out = x if in_place else self.cupy.empty_like(x)
        if reduce == "mean":
            # divided before the sum (as the MPI group does), so nothing is left to do
            # after the exchange and a mean costs what a sum does
            self.cupy.divide(x, self.size, out=out)
            x = out
        self.comm.allReduce(x.data.ptr, out.data.ptr, x.size, dtype, self._ops[reduce],
                            self._stream())
        return NCCLPending(self, out, f"all_reduce({reduce}) of {list(x.shape)}")

    def broadcast_async(self, x, src: int) -> NCCLPending:
        """Queue a broadcast from rank src."""
        x = self.cupy.ascontiguousarray(x)
        dtype = self._dtype("broadcast", x)
        self.host.verify(signature_of("broadcast", x, f"src={src}") + ("cuda",))
        out = self.cupy.empty_like(x)
        self.comm.broadcast(x.data.ptr, out.data.ptr, x.size, dtype, src, self._stream())
        return NCCLPending(self, out, f"broadcast(src={src}) of {list(x.shape)}")

    def all_gather_async(self, x) -> NCCLPending:
        """Queue an all-gather along axis 0."""
        x = self.cupy.ascontiguousarray(x)
        dtype = self._dtype("all_gather", x)
        self.host.verify(signature_of("all_gather", x, None) + ("cuda",))
        out = self.cupy.empty((self.size * x.shape[0], *x.shape[1:]), x.dtype)
        self.comm.allGather(x.data.ptr, out.data.ptr, x.size, dtype, self._stream())
        return NCCLPending(self, out, f"all_gather of {list(x.shape)}")

    def reduce_scatter_async(self, x, reduce: str) -> NCCLPending:
        """Queue a reduce-scatter along axis 0."""
        x = self.cupy.ascontiguousarray(x)
        dtype = self._dtype("reduce_scatter", x)
        self.host.verify(signature_of("reduce_scatter", x, reduce) + ("cuda",))
        out = self.cupy.empty((x.shape[0] // self.size, *x.shape[1:]), x.dtype)
        self.comm.reduceScatter(x.data.ptr, out.data.ptr, out.size, dtype,
                                self._ops[reduce], self._stream())
        finish = self._mean if reduce == "mean" else None
        return NCCLPending(self, out, f"reduce_scatter({reduce}) of {list(x.shape)}", finish)

    def destroy(self) -> None:
        """Free the NCCL communicator."""
        self.comm.destroy()

    def _mean(self, summed):
        summed /= self.size
        return summed
