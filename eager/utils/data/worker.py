"""What runs inside a `DataLoader` worker process, and what the process can ask about
itself (`get_worker_info`, as `torch.utils.data.get_worker_info`).

A worker reads tasks `(task, epoch, indices)` from its own queue, builds each batch with
the loader's `Fetcher` and puts `(task, batch)` on the shared result queue. Tensors do
not pickle (eager refuses, so a checkpoint never becomes one), so batches travel as
their host arrays (`ship` / `unship`), pickled by the worker itself. An exception in the
dataset or collate function travels as a `WorkerFailure` that names the worker and the
indices, and the loader raises it in the main process.

>>> import eager
>>> batch = unship(ship({"x": eager.arange(3), "ys": (eager.ones(2), "label")}))
>>> batch["x"].tolist(), batch["ys"][0].dtype, batch["ys"][1]
([0, 1, 2], dtype('float32'), 'label')
>>> get_worker_info() is None    # the main process is not a worker
True
"""
from __future__ import annotations

import pickle
import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class WorkerInfo:
    """Who this worker is: `id` in `range(num_workers)`, its `seed` (the epoch's base
    seed plus `id`, which seeded eager's and Python's generators), and its own copy of
    the `dataset` (an IterableDataset uses these to split the stream)."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_info: WorkerInfo | None = None
_END = object()
END = "end of stream"
"""What a worker answers for a task once its IterableDataset copy is exhausted."""
INIT_TASK = -1
"""The task number a failure of `worker_init_fn` (or of starting the stream) carries."""


def get_worker_info() -> WorkerInfo | None:
    """This worker's `WorkerInfo` inside a DataLoader worker process, None elsewhere.

    >>> get_worker_info() is None
    True
    """
    return _info


@dataclass(frozen=True)
class WorkerFailure:
    """An exception raised in a worker, carried to the main process as text."""

    worker_id: int
    indices: Any
    kind: str
    exc_type: type | None
    message: str
    trace: str


@dataclass(frozen=True)
class _Shipped:
    """A tensor on its way between processes: its array on the host and its device."""

    array: np.ndarray
    device: str


def ship(obj: Any) -> Any:
    """`obj` with every Tensor inside lists, tuples, named tuples and dicts replaced by
    its host array, so it pickles."""
    from eager.tensor import Tensor

    if type(obj) is Tensor or isinstance(obj, Tensor):
        data = obj._data if obj.device == "cpu" else obj._data.get()
        return _Shipped(np.asarray(data), obj.device)
    return _map_containers(ship, obj)


def unship(obj: Any) -> Any:
    """The inverse of `ship`: tensors again, on the device they left."""
    if type(obj) is _Shipped:
        from eager.creation import asarray

        return asarray(obj.array, device=obj.device)
    return _map_containers(unship, obj)


def _map_containers(fn: Callable, obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: fn(v) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):   # a named tuple
        return type(obj)(*(fn(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(fn(v) for v in obj)
    return obj


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process is started with."""

    worker_id: int
    num_workers: int
    base_seed: int
    dataset: Any
    fetch: Any   # an eager.utils.data.fetch.Fetcher
    init_fn: Callable[[int], None] | None
    default_dtype: np.dtype
    iterable: bool


def seed_worker(worker_id: int, base_seed: int) -> int:
    """Seed eager's default generators, Python's `random` and numpy's global generator
    for worker `worker_id` of an epoch whose base seed is `base_seed`, as torch does;
    return the worker's seed (base + id)."""
    from eager.random import manual_seed

    seed = (base_seed + worker_id) % 2 ** 64
    random.seed(seed)
    manual_seed(seed)
    # numpy's global seed must fit 32 bits; mix in the id rather than truncating the sum.
    np.random.seed(np.random.SeedSequence([base_seed, worker_id]).generate_state(1)[0])
    return seed


def worker_loop(setup: WorkerSetup, tasks, results) -> None:
    """A worker process's body: serve `(task, epoch, indices)` from `tasks` until it
    reads None, putting `(task, pickled batch or WorkerFailure)` on `results`.

    For an IterableDataset the indices are None and each task takes the next batch of the
    worker's own copy of the stream (restarted when a new epoch begins); once it runs out
    the worker answers `END`.
    """
    global _info
    from kernels.dtypes import swap_default_float

    swap_default_float(setup.default_dtype)
    seed = seed_worker(setup.worker_id, setup.base_seed)
    _info = WorkerInfo(setup.worker_id, setup.num_workers, seed, setup.dataset)
    try:
        if setup.init_fn is not None:
            setup.init_fn(setup.worker_id)
    except Exception as exc:  # noqa: BLE001  (reported in the main process)
        results.put((INIT_TASK, _failure(setup.worker_id, None, exc)))
        return
    stream, stream_epoch = None, None
    while True:
        item = tasks.get()
        if item is None:
            return
        task, epoch, indices = item
        try:
            if setup.iterable:
                if epoch != stream_epoch:
                    stream, stream_epoch = setup.fetch.stream(), epoch
                batch = next(stream, _END)
            else:
                batch = setup.fetch(indices)
            # Pickled here, not in the queue's feeder thread, so a batch that cannot be
            # pickled is reported like any other error instead of being dropped.
            results.put((task, END if batch is _END else pickle.dumps(ship(batch))))
        except Exception as exc:  # noqa: BLE001  (reported in the main process)
            results.put((task, _failure(setup.worker_id, indices, exc)))


def _failure(worker_id: int, indices: Any, exc: Exception) -> WorkerFailure:
    kind: type | None = type(exc)
    try:
        pickle.dumps(kind)
    except Exception:  # noqa: BLE001  (a class defined inside a function: sent by name)
        kind = None
    return WorkerFailure(worker_id, indices, type(exc).__name__, kind, str(exc),
                         "".join(traceback.format_exception(exc)))
