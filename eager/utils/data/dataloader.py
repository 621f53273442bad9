"""`DataLoader`: iterate a dataset in (shuffled) batches, as PyTorch's.

Everything runs in the calling process: `num_workers`, `pin_memory`, `prefetch_factor`
and `persistent_workers` are accepted and change nothing but speed in torch, so the
batches are the same. A `TensorDataset` with the default collate is batched by indexing
its tensors once per batch, which gives the same batch as stacking the samples.

>>> import eager
>>> from eager.utils.data import DataLoader, TensorDataset
>>> loader = DataLoader(TensorDataset(eager.arange(5)), batch_size=2, drop_last=True)
>>> [b[0].tolist() for b in loader], len(loader)
([[0, 1], [2, 3]], 2)
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from eager.utils.data.collate import default_collate, default_convert
from eager.utils.data.dataset import IterableDataset, TensorDataset
from eager.utils.data.errors import DataLoaderError
from eager.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler

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
                 worker_init_fn: Callable | None = None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 **_ignored: Any) -> None:
        if type(num_workers) is not int or num_workers < 0:
            raise DataLoaderError(f"DataLoader: num_workers must be a non-negative int, got "
                                  f"{num_workers!r}")
        self.dataset, self.generator, self.num_workers = dataset, generator, num_workers
        self.drop_last, self.pin_memory, self.timeout = drop_last, pin_memory, timeout
        self._auto_collate = collate_fn is None
        self.collate_fn = collate_fn
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle or sampler is not None or batch_sampler is not None:
                raise DataLoaderError("DataLoader: an IterableDataset gives its own order; "
                                      "shuffle, sampler and batch_sampler cannot be used")
            self.sampler = self.batch_sampler = None
            self.batch_size = batch_size
            if self.collate_fn is None:
                self.collate_fn = default_convert if batch_size is None else default_collate
            return
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
        if self.collate_fn is None:
            self.collate_fn = default_collate if batch_sampler is not None else default_convert

    def __iter__(self) -> Iterator:
        if self._iterable:
            return self._iterate_stream()
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        return (self._fetch(indices) for indices in self.batch_sampler)

    def _fetch(self, indices: list[int]):
        if self._auto_collate and type(self.dataset) is TensorDataset:
            from eager.creation import tensor

            where = tensor(indices, device=self.dataset.tensors[0].device)
            return [t[where] if t.device == where.device else t[where.to(t.device)]
                    for t in self.dataset.tensors]
        return self.collate_fn([self.dataset[i] for i in indices])

    def _iterate_stream(self) -> Iterator:
        if self.batch_size is None:
            yield from (self.collate_fn(x) for x in self.dataset)
            return
        batch = []
        for x in self.dataset:
            batch.append(x)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)
