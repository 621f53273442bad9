"""Collectives on numpy arrays over MPI (mpi4py), with buffer-protocol calls only.

Every collective is a non-blocking MPI call driven to completion with a deadline
(`waiting.poll_until_done`), so a dead peer ends in a CollectiveTimeoutError instead of
a hang. With `check` on, ranks first exchange one 64-bit hash of (collective, op,
shape, dtype); if they differ, every rank learns every signature and raises the same
CollectiveMismatchError, where a bare MPI call would hang or read garbage.

The check has to run before the data moves (a data exchange of mismatched sizes may
itself hang), so it costs one round trip of 8 bytes per collective, a few microseconds
against the hundreds a 1 MB all-reduce takes. Everything else about it is cached per
signature: the hash is computed once per (collective, op, shape, dtype) and sent from a
ready array into a preallocated receive buffer.
"""
from __future__ import annotations

import copy
import zlib

import numpy as np

from eager.distributed.buffers import BufferPool
from eager.distributed.errors import CollectiveMismatchError, DistributedError
from eager.distributed.waiting import poll_until_done

# A training loop uses a handful of layouts; the bound only matters for a program that
# reduces ever new shapes, which would otherwise grow the cache without end.
_MAX_CACHED_SIGNATURES = 4096


def signature_of(kind: str, x, detail) -> tuple:
    """What every rank must agree on before a collective: its kind, op or root, shape and
    dtype.

    >>> signature_of("all_reduce", np.zeros((2, 3), np.float32), "sum")
    ('all_reduce', 'sum', (2, 3), '<f4')
    """
    return (kind, detail, tuple(x.shape), x.dtype.str)


def _describe(signature: tuple) -> str:
    kind, detail, shape, dtype = signature[:4]
    return f"{kind}({np.dtype(dtype).name}{list(shape)}, {detail})"


class Pending:
    """An MPI request in flight; `wait()` returns the finished result array."""

    def __init__(self, group: MPIGroup, request, result: np.ndarray, what: tuple,
                 finish=None):
        self._group, self._request, self._result = group, request, result
        self._what, self._finish, self._done = what, finish, False

    def is_completed(self) -> bool:
        """Whether the exchange has finished (polls MPI once, never blocks)."""
        if not self._done:
            self._done = bool(self._request.Test())
        return self._done

    def wait(self) -> np.ndarray:
        """Block (up to the group's timeout) until done; return the result array."""
        if not self._done:
            poll_until_done(self._request, self._group.timeout, self._describe)
            self._done = True
        if self._finish is not None:
            self._result = self._finish(self._result)
            self._finish = None
        return self._result

    def _describe(self) -> str:
        kind, detail, shape = self._what[:3]
        op = kind if detail is None else f"{kind}({detail})"
        return f"{op} of {list(shape)} on rank {self._group.rank}"


class MPIGroup:
    """The ranks of an MPI communicator, exchanging numpy arrays."""

    device = "cpu"

    def __init__(self, comm, *, timeout: float | None, check: bool) -> None:
        from mpi4py import MPI

        self._MPI = MPI
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.timeout = timeout
        self.check = check
        self._ops = {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}
        self._buffers = BufferPool()
        self._unchecked = None
        self._hashes: dict[tuple, tuple[np.ndarray, bytes]] = {}
        self._gathered = np.empty(self.size, dtype=np.uint64)
        self._announced: tuple | None = None

    def __repr__(self) -> str:
        return f"<mpi group of {self.size}{'' if self.check else ', unchecked'}>"

    def unchecked(self) -> MPIGroup:
        """The same ranks without the per-call signature check, for a caller that has
        verified its layout once (DistributedDataParallel checks its buckets at start)."""
        if self._unchecked is None:
            self._unchecked = copy.copy(self)
            self._unchecked.check = False
            self._unchecked._gathered = np.empty(self.size, dtype=np.uint64)
            self._unchecked._announced = None
        return self._unchecked

    # ---- array collectives (what kernels/collectives.py calls) ----------------------
    def all_reduce(self, x: np.ndarray, reduce: str) -> np.ndarray:
        """Elementwise reduction of x over all ranks, given to every rank."""
        return self.all_reduce_async(x, reduce).wait()

    def broadcast(self, x: np.ndarray, src: int) -> np.ndarray:
        """Rank src's x, on every rank."""
        return self.broadcast_async(x, src).wait()

    def all_gather(self, x: np.ndarray) -> np.ndarray:
        """Every rank's x concatenated along axis 0, in rank order."""
        return self.all_gather_async(x).wait()

    def reduce_scatter(self, x: np.ndarray, reduce: str) -> np.ndarray:
        """Reduce x over ranks and give rank r the r-th of `size` chunks along axis 0."""
        return self.reduce_scatter_async(x, reduce).wait()

    def barrier(self) -> None:
        """Return once every rank has entered."""
        self.verify(("barrier", None, (), "|b1"))
        request = self.comm.Ibarrier()
        poll_until_done(request, self.timeout, lambda: f"barrier on rank {self.rank}")

    # ---- non-blocking forms ---------------------------------------------------------
    def all_reduce_async(self, x: np.ndarray, reduce: str, *, in_place: bool = False
                         ) -> Pending:
        """Start an all-reduce; the Pending's wait() gives the result (with in_place,
        x itself, which must be C-contiguous, holds it)."""
        x = np.ascontiguousarray(x)
        signature = signature_of("all_reduce", x, reduce)
        self.verify(signature)
        op = self._ops[reduce]
        if reduce == "mean":
            # Divided before the sum, as NCCL's average and PyTorch's DDP do: the one
            # pass over the data stands in for the copy into the output that MPI makes
            # out of place, so a mean costs what a sum does.
            out = x if in_place else self._buffers.empty(x.shape, x.dtype)
            np.divide(x, self.size, out=out)
            request = self.comm.Iallreduce(self._MPI.IN_PLACE, out, op=op)
        elif in_place:
            out = x
            request = self.comm.Iallreduce(self._MPI.IN_PLACE, x, op=op)
        else:
            out = self._buffers.empty(x.shape, x.dtype)
            request = self.comm.Iallreduce(x, out, op=op)
        return Pending(self, request, out, signature)

    def broadcast_async(self, x: np.ndarray, src: int, *, in_place: bool = False
                        ) -> Pending:
        """Start a broadcast from rank src (with in_place, into x itself, which must be
        C-contiguous)."""
        out = x if in_place else np.array(x, copy=True, order="C")
        signature = signature_of("broadcast", out, f"src={src}")
        self.verify(signature)
        request = self.comm.Ibcast(out, root=src)
        return Pending(self, request, out, signature)

    def all_gather_async(self, x: np.ndarray) -> Pending:
        """Start an all-gather along axis 0."""
        x = np.ascontiguousarray(x)
        signature = signature_of("all_gather", x, None)
        self.verify(signature)
        out = self._buffers.empty((self.size * x.shape[0], *x.shape[1:]), x.dtype)
        request = self.comm.Iallgather(x, out)
        return Pending(self, request, out, signature)

    def reduce_scatter_async(self, x: np.ndarray, reduce: str) -> Pending:
        """Start a reduce-scatter along axis 0."""
        x = np.ascontiguousarray(x)
        signature = signature_of("reduce_scatter", x, reduce)
        self.verify(signature)
        out = self._buffers.empty((x.shape[0] // self.size, *x.shape[1:]), x.dtype)
        request = self.comm.Ireduce_scatter_block(x, out, op=self._ops[reduce])
        return Pending(self, request, out, signature,
                       self._mean if reduce == "mean" else None)

    # ---- host objects and checks ----------------------------------------------------
    def broadcast_object(self, obj, src: int = 0):
        """A small picklable object from rank src (setup only, never tensor data)."""
        return self.comm.bcast(obj, root=src)

    def announce(self, kind: str, x, **attrs) -> None:
        """Start the signature check of the collective `kind` about to run on x, so its
        round trip overlaps the work before the data moves; `verify` then only waits."""
        if not self.check or self.size == 1 or self._announced is not None:
            return
        detail = attrs["reduce"] if "reduce" in attrs else (
            f"src={attrs['src']}" if "src" in attrs else None)
        signature = signature_of(kind, x, detail)
        entry = self._hashes.get(signature) or self._hash(signature)
        self._announced = (signature, entry, self.comm.Iallgather(entry[0], self._gathered))

    def verify(self, signature: tuple) -> None:
        """Raise CollectiveMismatchError on every rank unless all ranks pass the same
        signature (a no-op when checking is off or there is one rank)."""
        if not self.check or self.size == 1:
            return
        announced = self._announced
        if announced is not None:
            self._announced = None
            self._compare(*announced)
            if announced[0] == signature:
                return
        entry = self._hashes.get(signature) or self._hash(signature)
        self._compare(signature, entry, self.comm.Iallgather(entry[0], self._gathered))

    def _compare(self, signature: tuple, entry: tuple, request) -> None:
        poll_until_done(request, self.timeout,
                        lambda: f"{_describe(signature)} on rank {self.rank} (signature check)")
        if self._gathered.tobytes() == entry[1]:
            return
        signatures = self.comm.allgather(signature)
        listed = "; ".join(f"rank {r}: {_describe(s)}" for r, s in enumerate(signatures))
        raise CollectiveMismatchError(
            f"{signature[0]}: ranks called collectives that do not match ({listed}); every "
            "rank must call the same collectives in the same order with the same shapes "
            "and dtypes")

    def _hash(self, signature: tuple) -> tuple[np.ndarray, bytes]:
        if len(self._hashes) >= _MAX_CACHED_SIGNATURES:
            self._hashes.clear()
        text = repr(signature).encode()
        mine = np.array([zlib.crc32(text) << 32 | zlib.adler32(text)], dtype=np.uint64)
        # what the gathered hashes read as when every rank agrees
        entry = self._hashes[signature] = (mine, mine.tobytes() * self.size)
        return entry

    def abort(self, code: int = 1) -> None:
        """End every rank of the job (after an error that leaves peers waiting)."""
        self.comm.Abort(code)

    def _mean(self, summed: np.ndarray) -> np.ndarray:
        summed /= self.size
        return summed


def world_group(*, timeout: float | None, check: bool) -> MPIGroup:
    """The group of all ranks mpiexec started (one rank when run without mpiexec)."""
    from mpi4py import MPI

    if not MPI.Is_initialized():
        raise DistributedError("init: MPI is not initialized; mpi4py normally starts it on "
                               "import")
    return MPIGroup(MPI.COMM_WORLD, timeout=timeout, check=check)
