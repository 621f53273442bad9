"""The error datasets, samplers and loaders raise for arguments they cannot use."""
from __future__ import annotations

from kernels.errors import EagerError


class DataLoaderError(EagerError, ValueError):
    """A dataset, sampler, `DataLoader` or `random_split` got arguments it cannot use
    (conflicting options, lengths that do not add up, samples that cannot be batched).

    >>> from eager.utils.data import TensorDataset
    >>> import eager
    >>> try:
    ...     TensorDataset(eager.zeros(3), eager.zeros(4))
    ... except DataLoaderError as exc:
    ...     print(exc)
    TensorDataset: every tensor needs the same first dimension, got sizes [3, 4] ...
    """
