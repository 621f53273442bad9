"""Samplers: which indices a DataLoader reads, and in which groups.

>>> import eager
>>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
[[0, 1], [2, 3], [4]]
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from eager.utils.data.errors import DataLoaderError

_DRAW_CHUNK = 4096


class Sampler:
    """Base class: an iterable of dataset indices (and usually a `len`).

    >>> class Evens(Sampler):
    ...     def __iter__(self): return iter([0, 2])
    ...     def __len__(self): return 2
    >>> list(Evens())
    [0, 2]
    """

    def __init__(self, data_source=None) -> None:
        """Samplers need not keep the data source (torch's signature takes one)."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1.

    >>> list(SequentialSampler("abc"))
    [0, 1, 2]
    """

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _permutation(n: int, generator) -> list[int]:
    from eager.random import randperm

    device = "cpu" if generator is None else generator.device
    return randperm(n, device=device, generator=generator).tolist()


class RandomSampler(Sampler):
    """The indices in a random order (a fresh one each pass), drawn from `generator` or
    eager's default generator; with `replacement=True`, `num_samples` independent draws.

    >>> import eager
    >>> sorted(RandomSampler(range(4), generator=eager.Generator(seed=1)))
    [0, 1, 2, 3]
    """

    def __init__(self, data_source, replacement: bool = False,
                 num_samples: int | None = None, generator=None) -> None:
        if not isinstance(replacement, bool):
            raise DataLoaderError(f"RandomSampler: replacement must be a bool, got "
                                  f"{replacement!r}")
        if num_samples is not None and (type(num_samples) is not int or num_samples <= 0):
            raise DataLoaderError(f"RandomSampler: num_samples must be a positive int, got "
                                  f"{num_samples!r}")
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator

    @property
    def num_samples(self) -> int:
        """How many indices one pass yields (the dataset's length unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.replacement:
            from eager.random import randint

            device = "cpu" if self.generator is None else self.generator.device
            # Drawn in chunks, so a practically endless sampler (num_samples=10**10, an
            # "infinite" loader) starts at once and holds one chunk in memory.
            for start in range(0, self.num_samples, _DRAW_CHUNK):
                count = min(_DRAW_CHUNK, self.num_samples - start)
                yield from randint(0, n, (count,), device=device,
                                   generator=self.generator).tolist()
            return
        left = self.num_samples
        while left > 0:
            order = _permutation(n, self.generator)
            yield from order[:left]
            left -= n

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order.

    >>> import eager
    >>> sorted(SubsetRandomSampler([5, 7], generator=eager.Generator(seed=0)))
    [5, 7]
    """

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices, self.generator = list(indices), generator

    def __iter__(self) -> Iterator[int]:
        return (self.indices[i] for i in _permutation(len(self.indices), self.generator))

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices drawn with probability proportional to `weights` (one weight
    per dataset item), with replacement unless `replacement=False`, from `generator` or
    eager's default generator; a fresh draw each pass. Weights need not sum to one.

    >>> import eager
    >>> g = eager.Generator(seed=0)
    >>> sampler = WeightedRandomSampler([0.0, 5.0, 0.0, 1e-9], 4, generator=g)
    >>> list(sampler), len(sampler)
    ([1, 1, 1, 1], 4)
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        from eager.creation import asarray
        from kernels.dtypes import float64

        if type(num_samples) is not int or num_samples <= 0:
            raise DataLoaderError(f"WeightedRandomSampler: num_samples must be a positive "
                                  f"int, got {num_samples!r}")
        if not isinstance(replacement, bool):
            raise DataLoaderError(f"WeightedRandomSampler: replacement must be a bool, got "
                                  f"{replacement!r}")
        weights = asarray(weights, dtype=float64)
        if weights.ndim != 1 or weights.shape[0] == 0:
            raise DataLoaderError(f"WeightedRandomSampler: weights must be a non-empty 1-D "
                                  f"sequence, got shape {tuple(weights.shape)}")
        if not (weights >= 0).all().item() or not weights.isfinite().all().item() \
                or weights.sum().item() <= 0:
            raise DataLoaderError("WeightedRandomSampler: weights must be finite, "
                                  "non-negative and not all zero")
        if not replacement and num_samples > weights.shape[0]:
            raise DataLoaderError(f"WeightedRandomSampler: cannot draw {num_samples} samples "
                                  f"without replacement from {weights.shape[0]} weights")
        self.weights, self.num_samples = weights, num_samples
        self.replacement, self.generator = replacement, generator

    def __iter__(self) -> Iterator[int]:
        from eager.random import multinomial

        yield from multinomial(self.weights, self.num_samples, self.replacement,
                               generator=self.generator).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size`; a short last group is
    kept unless `drop_last`.

    >>> len(BatchSampler(range(5), 2, drop_last=True)), len(BatchSampler(range(5), 2, False))
    (2, 3)
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if type(batch_size) is not int or batch_size <= 0:
            raise DataLoaderError(f"BatchSampler: batch_size must be a positive int, got "
                                  f"{batch_size!r}")
        if not isinstance(drop_last, bool):
            raise DataLoaderError(f"BatchSampler: drop_last must be a bool, got {drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
