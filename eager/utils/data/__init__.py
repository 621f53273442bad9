"""`eager.utils.data`: datasets, samplers and the `DataLoader` that batches them, as
PyTorch's `torch.utils.data`.

>>> import eager
>>> from eager.utils.data import DataLoader, TensorDataset
>>> data = TensorDataset(eager.arange(10.0), eager.arange(10))
>>> loader = DataLoader(data, batch_size=4, shuffle=True, generator=eager.Generator(seed=0))
>>> len(loader), [tuple(x.shape) for x, y in loader]
(3, [(4,), (4,), (2,)])
"""
from eager.utils.data.collate import default_collate, default_convert
from eager.utils.data.dataloader import DataLoader, DataLoaderError
from eager.utils.data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from eager.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from eager.utils.data.worker import WorkerInfo, get_worker_info
from eager.utils.data.worker_pool import DataLoaderWorkerError

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "DataLoaderError",
    "DataLoaderWorkerError",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]
