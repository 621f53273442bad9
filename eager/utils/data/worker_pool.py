"""The main-process side of `DataLoader(num_workers > 0)`: worker processes, the tasks
sent to them, and the batches they return, delivered in the sampler's order.

Task k of an epoch goes to worker k mod num_workers (skipping workers whose
IterableDataset copy ran out), at most `prefetch_factor` tasks per worker are in flight,
and results that arrive early wait in a buffer until their turn, as in torch.

>>> import eager
>>> from eager.utils.data import DataLoader, TensorDataset
>>> loader = DataLoader(TensorDataset(eager.arange(6)), batch_size=2, num_workers=2)
>>> [b[0].tolist() for b in loader]
[[0, 1], [2, 3], [4, 5]]
"""
from __future__ import annotations

import builtins
import multiprocessing
import pickle
import queue
import time
from collections.abc import Iterator
from typing import Any

from eager.utils.data.errors import DataLoaderError
from eager.utils.data.fetch import Fetcher
from eager.utils.data.worker import (
    END,
    INIT_TASK,
    WorkerFailure,
    WorkerSetup,
    unship,
    worker_loop,
)

_POLL_S = 1.0  # how often a waiting loader checks that its workers are still alive


class DataLoaderWorkerError(DataLoaderError, RuntimeError):
    """A DataLoader worker process failed in a way that cannot be re-raised as the
    dataset's own exception: it died, timed out, or raised something that cannot be
    rebuilt in the main process."""


class WorkerPool:
    """`num_workers` processes serving one loader's batches; closed by `close()` (or
    when garbage collected)."""

    def __init__(self, fetcher: Fetcher, num_workers: int, *, base_seed: int, init_fn,
                 context, iterable: bool, prefetch_factor: int, timeout: float) -> None:
        from kernels.dtypes import current_default_float

        ctx = multiprocessing.get_context(context) if isinstance(context, str) or \
            context is None else context
        self.num_workers, self.prefetch_factor, self.timeout = (num_workers,
                                                                prefetch_factor, timeout)
        self.iterable = iterable
        self.results = ctx.Queue()
        self.tasks = [ctx.Queue() for _ in range(num_workers)]
        self.processes = []
        self.next_task = 0     # task numbers are unique over the pool's life, across epochs
        self.epochs = 0
        for worker_id in range(num_workers):
            setup = WorkerSetup(worker_id, num_workers, base_seed, fetcher.dataset, fetcher,
                                init_fn, current_default_float(), iterable)
            process = ctx.Process(target=worker_loop, args=(setup, self.tasks[worker_id],
                                                           self.results), daemon=True)
            process.start()
            self.processes.append(process)
        self.closed = False

    def close(self) -> None:
        """Ask every worker to stop, wait briefly, and end those that do not."""
        if self.closed:
            return
        self.closed = True
        for tasks in self.tasks:
            try:
                tasks.put(None)
            except (OSError, ValueError):   # the queue is already gone at interpreter exit
                pass
        for process in self.processes:
            process.join(timeout=2.0)
            if process.is_alive():
                process.terminate()
                process.join(timeout=1.0)
        for q in (*self.tasks, self.results):
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        self.close()

    def epoch(self, index_batches: Iterator | None) -> _Epoch:
        """An iterator over one pass: the batches of `index_batches` (index lists, or
        single indices), or of the workers' streams for an IterableDataset (None)."""
        self.epochs += 1
        return _Epoch(self, index_batches)


class _Epoch:
    """One pass over the data through a pool; yields batches in the sampler's order."""

    def __init__(self, pool: WorkerPool, index_batches: Iterator | None) -> None:
        self.pool, self.index_batches = pool, index_batches
        self.epoch = pool.epochs
        self.first = pool.next_task     # earlier tasks belong to an abandoned pass
        self.expected = pool.next_task
        self.sent: dict[int, tuple[int, Any]] = {}   # task -> (worker, indices)
        self.arrived: dict[int, Any] = {}
        self.active = list(range(pool.num_workers))   # workers whose stream continues
        self.turn = 0
        self.exhausted = False
        self.on_close = None            # set by the loader for a pool it does not keep
        for _ in range(pool.prefetch_factor * pool.num_workers):
            self._send()

    def __iter__(self) -> _Epoch:
        return self

    def _send(self) -> None:
        if self.exhausted or not self.active:
            return
        if self.index_batches is None:
            indices = None
        else:
            indices = next(self.index_batches, END)
            if indices is END:
                self.exhausted = True
                return
        worker = self.active[self.turn % len(self.active)]
        self.turn += 1
        task = self.pool.next_task
        self.pool.next_task += 1
        self.sent[task] = (worker, indices)
        self.pool.tasks[worker].put((task, self.epoch, indices))

    def __next__(self) -> Any:
        while self.sent:
            task = min(self.sent)
            worker = self.sent[task][0]
            payload = self._wait_for(task, worker)
            del self.sent[task]
            if payload == END:
                if worker in self.active:
                    self.active.remove(worker)
                continue
            self._send()
            if isinstance(payload, WorkerFailure):
                self._finish()
                raise _rebuild(payload, task - self.first)
            return unship(pickle.loads(payload))
        self._finish()
        raise StopIteration

    def _wait_for(self, task: int, worker: int) -> Any:
        started = time.monotonic()
        while task not in self.arrived:
            try:
                got, payload = self.pool.results.get(timeout=_POLL_S)
            except queue.Empty:
                self._check_alive(worker, task, started)
                continue
            if got == INIT_TASK:
                self._finish()
                raise _rebuild(payload, None)
            if got >= self.first:
                self.arrived[got] = payload
        return self.arrived.pop(task)

    def _check_alive(self, worker: int, task: int, started: float) -> None:
        process = self.pool.processes[worker]
        indices = self.sent[task][1]
        if not process.is_alive():
            self._finish()
            raise DataLoaderWorkerError(
                f"DataLoader: worker {worker} (pid {process.pid}) exited unexpectedly with "
                f"exit code {process.exitcode} while fetching batch {task - self.first}"
                + ("" if indices is None else f" (indices {indices})"))
        timeout = self.pool.timeout
        if timeout and time.monotonic() - started > timeout:
            self._finish()
            raise DataLoaderWorkerError(
                f"DataLoader: worker {worker} gave no batch {task - self.first} within "
                f"timeout={timeout} s" + ("" if indices is None else f" (indices {indices})"))

    def _finish(self) -> None:
        self.sent.clear()
        self.exhausted = True
        if self.on_close is not None:
            on_close, self.on_close = self.on_close, None
            on_close()

    def __del__(self) -> None:
        self._finish()


def _rebuild(failure: WorkerFailure, batch: int | None) -> Exception:
    """The worker's exception, raised again here with a message naming the worker and the
    batch (torch's behaviour): same type when it can be rebuilt from a message."""
    where = "in worker_init_fn" if batch is None else f"while fetching batch {batch}"
    if failure.indices is not None:
        where += f" (indices {failure.indices})"
    message = (f"DataLoader worker {failure.worker_id} raised {failure.kind} {where}: "
               f"{failure.message}\n\nOriginal traceback in the worker:\n{failure.trace}")
    kind = failure.exc_type
    if kind is None:
        kind = getattr(builtins, failure.kind, None)
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        return DataLoaderWorkerError(message)
    try:
        return kind(message)
    except Exception:  # noqa: BLE001  (a constructor that wants other arguments)
        return DataLoaderWorkerError(message)
