"""How a DataLoader turns indices into a batch, in the main process or in a worker.

`Fetcher` holds only what a batch needs (the dataset, the collate function, the batch
size), so a worker process gets it without the loader around it.

>>> import eager
>>> from eager.utils.data import TensorDataset
>>> fetch = Fetcher(TensorDataset(eager.arange(5)), None, batched=True)
>>> fetch([3, 1])[0].tolist(), [b.tolist() for b in Fetcher(range(3), None, True, 2).stream()]
([3, 1], [[0, 1], [2]])
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from eager.utils.data.collate import default_collate, default_convert
from eager.utils.data.dataset import TensorDataset


class Fetcher:
    """Builds what a DataLoader yields from `dataset`: `fetch(indices)` for a map-style
    dataset (`batched`: a batch from a list of indices; otherwise one sample from an
    index), `stream()` for an iterable one (batches of `batch_size` when `batched`)."""

    def __init__(self, dataset, collate_fn: Callable[[Any], Any] | None, batched: bool,
                 batch_size: int | None = None, drop_last: bool = False) -> None:
        self.dataset, self.batched = dataset, batched
        self.batch_size, self.drop_last = batch_size, drop_last
        self.auto_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if batched else default_convert
        self.collate_fn = collate_fn

    def __call__(self, indices) -> Any:
        """The batch of the samples at `indices` (a list), or the sample at one index."""
        if not self.batched:
            return self.collate_fn(self.dataset[indices])
        if self.auto_collate and type(self.dataset) is TensorDataset:
            from eager.creation import tensor

            # One indexing per tensor gives the same batch as stacking the samples.
            where = tensor(indices, device=self.dataset.tensors[0].device)
            return [t[where] if t.device == where.device else t[where.to(t.device)]
                    for t in self.dataset.tensors]
        return self.collate_fn([self.dataset[i] for i in indices])

    def stream(self) -> Iterator:
        """The batches of an iterable dataset, in its order."""
        if not self.batched:
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
