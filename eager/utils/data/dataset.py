"""Datasets: `Dataset` (map-style), `IterableDataset`, `TensorDataset`, `Subset`,
`ConcatDataset`, and `random_split`.

>>> import eager
>>> from eager.utils.data import TensorDataset, random_split
>>> train, test = random_split(TensorDataset(eager.arange(10)), [0.8, 0.2],
...                            generator=eager.Generator(seed=0))
>>> len(train), len(test)
(8, 2)
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Sequence
from typing import Any

from eager.tensor import Tensor
from eager.utils.data.errors import DataLoaderError


class Dataset:
    """A map-style dataset: subclasses define `__getitem__(index)` and `__len__()`.

    >>> class Squares(Dataset):
    ...     def __len__(self): return 4
    ...     def __getitem__(self, i): return i * i
    >>> [Squares()[i] for i in range(4)], len(Squares() + Squares())
    ([0, 1, 4, 9], 8)
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset:
    """A dataset that is a stream: subclasses define `__iter__()`; a DataLoader batches
    what it yields in order (no sampler, no shuffle).

    >>> class Count(IterableDataset):
    ...     def __iter__(self): return iter(range(3))
    >>> list(Count())
    [0, 1, 2]
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class TensorDataset(Dataset):
    """Samples are tuples of the i-th rows of tensors of one first dimension.

    >>> import eager
    >>> ds = TensorDataset(eager.tensor([[1., 2.], [3., 4.]]), eager.tensor([0, 1]))
    >>> len(ds), ds[1]
    (2, (tensor([3., 4.]), tensor(1)))
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise DataLoaderError("TensorDataset: needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor) or t.ndim == 0:
                raise DataLoaderError(f"TensorDataset: argument {i} must be a tensor with "
                                      f"at least one dimension, got {_describe(t)}")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) != 1:
            raise DataLoaderError(f"TensorDataset: every tensor needs the same first "
                                  f"dimension, got sizes {sizes}")
        self.tensors = tensors

    def __getitem__(self, index) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order.

    >>> Subset([10, 20, 30], [2, 0])[0], len(Subset([10, 20, 30], [2, 0]))
    (30, 2)
    """

    def __init__(self, dataset, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several map-style datasets one after another.

    >>> ds = ConcatDataset([[1, 2], [3]])
    >>> len(ds), ds[2], ds[-1]
    (3, 3, 3)
    """

    def __init__(self, datasets) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise DataLoaderError("ConcatDataset: needs at least one dataset")
        self.cumulative_sizes = []
        total = 0
        for ds in self.datasets:
            total += len(ds)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        if index < 0:
            if -index > len(self):
                raise IndexError(f"ConcatDataset: index {index} is out of range for "
                                 f"{len(self)} samples")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} is out of range for "
                             f"{len(self)} samples")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def random_split(dataset, lengths: Sequence[int | float], generator=None) -> list[Subset]:
    """Split `dataset` into non-overlapping random subsets of the given lengths, or of
    the given fractions of its length (they must sum to 1; samples left over by rounding
    down go one each to the first subsets, as in PyTorch).

    >>> import eager
    >>> parts = random_split(range(5), [3, 2], generator=eager.Generator(seed=0))
    >>> sorted(parts[0].indices + parts[1].indices)
    [0, 1, 2, 3, 4]
    """
    from eager.random import randperm

    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and \
            math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1.0 + 1e-9:
        if any(not 0.0 <= x <= 1.0 for x in lengths):
            raise DataLoaderError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        counts = [math.floor(n * x) for x in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(type(x) is not int or x < 0 for x in lengths) or sum(lengths) != n:
        raise DataLoaderError(f"random_split: lengths {lengths} must be non-negative ints "
                              f"that sum to the dataset's length {n}, or fractions that "
                              "sum to 1")
    device = "cpu" if generator is None else generator.device
    order = randperm(n, device=device, generator=generator).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start:start + length]))
        start += length
    return subsets


def _describe(x) -> str:
    if isinstance(x, Tensor):
        return f"a 0-d {x.dtype.name} tensor"
    return f"a {type(x).__name__}"
