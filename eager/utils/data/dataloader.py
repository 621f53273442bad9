"""`DataLoader`: iterate a dataset in (shuffled) batches, as PyTorch's.

With `num_workers=0` batches are built in the calling process. With more, as in torch,
worker processes build them (`eager.utils.data.worker_pool`) and the loader yields them
in the sampler's order; each worker is seeded from a base seed drawn from `generator`
(or eager's default generator) plus its id, calls `worker_init_fn(id)` first, and can
read `get_worker_info()`. `persistent_workers=True` keeps the processes between passes;
`prefetch_factor` batches per worker are in flight. `pin_memory` is accepted and changes
nothing on the cpu. A `TensorDataset` with the default collate is batched by indexing its
tensors once per batch, which gives the same batch as stacking the samples.

>>> import eager
>>> from eager.utils.data import DataLoader, TensorDataset
>>> loader = DataLoader(TensorDataset(eager.arange(5)), batch_size=2, drop_last=True)
>>> [b[0].tolist() for b in loader], len(loader)
([[0, 1], [2, 3]], 2)
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from eager.utils.data.dataset import IterableDataset
from eager.utils.data.errors import DataLoaderError
from eager.utils.data.fetch import Fetcher
from eager.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler
from eager.utils.data.worker_pool import WorkerPool

__all__ = ["DataLoader", "DataLoaderError"]


class DataLoader:
    """Batches of `dataset`: `batch_size` samples each (None: single samples), in a
    random order each pass with `shuffle=True` (drawn from `generator` when given), or
    in the order a `sampler` (indices) or `batch_sampler` (lists of indices) gives.

    >>> import eager
    >>> from eager.utils.data import TensorDataset
    >>> ds = TensorDataset(eager.arange(6.0).reshape(3, 2), eager.tensor([0, 1, 0]))
    >>> x, y = next(iter(DataLoader(ds, batch_size=2)))
    >>> x.tolist(), y.tolist()
    ([[0.0, 1.0], [2.0, 3.0]], [0, 1])
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, **_ignored: Any) -> None:
        self._check_workers(num_workers, timeout, prefetch_factor, persistent_workers,
                            multiprocessing_context)
        self.dataset, self.generator, self.num_workers = dataset, generator, num_workers
        self.drop_last, self.pin_memory, self.timeout = drop_last, pin_memory, timeout
        self.worker_init_fn, self.multiprocessing_context = (worker_init_fn,
                                                             multiprocessing_context)
        self.prefetch_factor = 2 if num_workers and prefetch_factor is None \
            else prefetch_factor
        self.persistent_workers = persistent_workers
        self._pool: WorkerPool | None = None
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle or sampler is not None or batch_sampler is not None:
                raise DataLoaderError("DataLoader: an IterableDataset gives its own order; "
                                      "shuffle, sampler and batch_sampler cannot be used")
            self.sampler = self.batch_sampler = None
            self.batch_size = batch_size
            self._fetcher = Fetcher(dataset, collate_fn, batch_size is not None, batch_size,
                                    drop_last)
            self.collate_fn = self._fetcher.collate_fn
            return
        needs = ("__getitem__",) if sampler is not None or batch_sampler is not None \
            else ("__getitem__", "__len__")
        missing = [name for name in needs if not hasattr(type(dataset), name)]
        if missing:
            raise DataLoaderError(f"DataLoader: dataset of type {type(dataset).__name__} has "
                                  f"no {' or '.join(missing)}; pass a map-style dataset (a "
                                  "list, a TensorDataset, a Dataset subclass) or an "
                                  "IterableDataset")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise DataLoaderError("DataLoader: batch_sampler gives the batches itself; "
                                      "it cannot be combined with batch_size, shuffle, "
                                      "sampler or drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise DataLoaderError("DataLoader: drop_last needs a batch_size (batch_size=None "
                                  "yields single samples)")
        if sampler is not None and shuffle:
            raise DataLoaderError("DataLoader: sampler gives the order itself; shuffle "
                                  "cannot be combined with it")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.sampler, self.batch_sampler, self.batch_size = sampler, batch_sampler, batch_size
        self._fetcher = Fetcher(dataset, collate_fn, batch_sampler is not None)
        self.collate_fn = self._fetcher.collate_fn

    @staticmethod
    def _check_workers(num_workers, timeout, prefetch_factor, persistent_workers,
                       context) -> None:
        if type(num_workers) is not int or num_workers < 0:
            raise DataLoaderError(f"DataLoader: num_workers must be a non-negative int, got "
                                  f"{num_workers!r}")
        if not isinstance(timeout, (int, float)) or timeout < 0:
            raise DataLoaderError(f"DataLoader: timeout must be a non-negative number of "
                                  f"seconds, got {timeout!r}")
        if num_workers == 0 and (prefetch_factor is not None or persistent_workers
                                 or context is not None):
            raise DataLoaderError("DataLoader: prefetch_factor, persistent_workers and "
                                  "multiprocessing_context need worker processes; pass "
                                  "num_workers > 0")
        if prefetch_factor is not None and (type(prefetch_factor) is not int
                                            or prefetch_factor < 1):
            raise DataLoaderError(f"DataLoader: prefetch_factor must be a positive int, got "
                                  f"{prefetch_factor!r}")

    def __iter__(self) -> Iterator:
        from eager.random import randint

        # Drawn on every pass, with or without workers, as torch does: the generator then
        # gives the same shuffled order whatever num_workers is.
        base_seed = randint(0, 2 ** 63 - 1, (), generator=self.generator).item()
        if self.num_workers:
            return self._through_workers(base_seed)
        fetch = self._fetcher
        if self._iterable:
            return fetch.stream()
        return (fetch(indices) for indices in (self.batch_sampler or self.sampler))

    def _through_workers(self, base_seed: int) -> Iterator:
        pool = self._pool
        if pool is None or pool.closed:
            pool = WorkerPool(self._fetcher, self.num_workers, base_seed=base_seed,
                              init_fn=self.worker_init_fn, context=self.multiprocessing_context,
                              iterable=self._iterable, prefetch_factor=self.prefetch_factor,
                              timeout=self.timeout)
            if self.persistent_workers:
                self._pool = pool
        epoch = pool.epoch(None if self._iterable else iter(self.batch_sampler or self.sampler))
        if not self.persistent_workers:
            epoch.on_close = pool.close
        return epoch

    def __del__(self) -> None:
        if getattr(self, "_pool", None) is not None:
            self._pool.close()

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)
