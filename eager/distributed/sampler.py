"""`DistributedSampler`: each rank's disjoint share of the dataset indices, per epoch."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from kernels.errors import ArgumentError


class DistributedSampler:
    """Indices of rank `rank`'s shard of a dataset of `n` items (PyTorch's name).

    Every epoch (`set_epoch`) all ranks shuffle with the same seed, so the shards stay
    disjoint and together cover the dataset; with drop_last=False the index list is
    padded by wrapping around so every rank gets the same number of items.

    >>> shards = [list(DistributedSampler(10, num_replicas=3, rank=r, seed=1)) for r in range(3)]
    >>> [len(s) for s in shards], set(sum(shards, [])) == set(range(10))
    ([4, 4, 4], True)
    """

    def __init__(self, n: int, num_replicas: int | None = None, rank: int | None = None, *,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if not isinstance(n, int):
            n = len(n)
        if num_replicas is None or rank is None:
            from eager.distributed.state import rank as my_rank
            from eager.distributed.state import world_size

            num_replicas = world_size() if num_replicas is None else num_replicas
            rank = my_rank() if rank is None else rank
        if not 0 <= rank < num_replicas:
            raise ArgumentError(f"DistributedSampler: rank must be in [0, {num_replicas}), "
                                f"got {rank}")
        self.n, self.num_replicas, self.rank = n, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        self.num_samples = n // num_replicas if drop_last else -(-n // num_replicas)

    def set_epoch(self, epoch: int) -> None:
        """Use epoch's permutation next (the same on every rank)."""
        self.epoch = epoch

    def indices(self) -> np.ndarray:
        """This rank's indices for the current epoch, as an int64 array."""
        order = (np.random.default_rng((self.seed, self.epoch)).permutation(self.n)
                 if self.shuffle else np.arange(self.n))
        total = self.num_samples * self.num_replicas
        if total > self.n:
            order = np.resize(order, total)
        return order[:total][self.rank::self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples
