"""How a DataLoader turns a list of samples into one batch (PyTorch's default_collate).

Tensors are stacked along a new first dimension, numpy arrays and numbers become tensors
(Python floats float64, ints int64, as in PyTorch), strings stay a list, and dicts,
tuples, lists and namedtuples are collated field by field (a tuple of fields gives a
list, as in PyTorch).

>>> import eager
>>> batch = default_collate([(eager.ones(2), 1), (eager.zeros(2), 0)])
>>> batch[0].shape, batch[1]
((2, 2), tensor([1, 0]))
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eager.tensor import Tensor
from eager.utils.data.errors import DataLoaderError


def default_collate(batch: list) -> Any:
    """One batch from a list of samples of the same structure.

    >>> default_collate([{"x": 1.5, "name": "a"}, {"x": 2.5, "name": "b"}])
    {'x': tensor([1.5000, 2.5000], dtype=eager.float64), 'name': ['a', 'b']}
    """
    from eager.creation import tensor
    from eager.ops.shape import stack

    elem = batch[0]
    _check_same_kind(batch)
    if isinstance(elem, Tensor):
        shapes = {tuple(x.shape) for x in batch}
        if len(shapes) != 1:
            raise DataLoaderError(f"default_collate: cannot stack samples of shapes "
                                  f"{sorted(shapes)} into one batch; pad them to one shape "
                                  "or pass collate_fn=")
        return stack(list(batch))
    if isinstance(elem, np.ndarray):
        return default_collate([tensor(np.asarray(x)) for x in batch])
    if isinstance(elem, np.generic):
        return tensor(np.array(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=np.float64)
    if isinstance(elem, (bool, int)):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        for i, d in enumerate(batch):
            if d.keys() != elem.keys():
                raise DataLoaderError(f"default_collate: sample {i} has keys {sorted(d)} but "
                                      f"sample 0 has {sorted(elem)}; every sample needs the "
                                      "same keys")
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        if len({len(x) for x in batch}) != 1:
            raise DataLoaderError(f"default_collate: samples have different lengths "
                                  f"{sorted({len(x) for x in batch})}; each needs the same "
                                  "number of fields")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise DataLoaderError(f"default_collate: cannot batch samples of type "
                          f"{type(elem).__name__}; samples hold tensors, numpy arrays, "
                          "numbers, strings, or dicts/tuples/lists of those")


# Samples of one field that collate together: numbers with numbers, and so on.
_KINDS = ((Tensor, "Tensor"), (np.ndarray, "numpy array"),
          ((bool, int, float, np.generic), "number"), ((str, bytes), "string"),
          (Mapping, "dict"), (Sequence, "tuple or list"))


def _kind(sample: Any) -> str | None:
    return next((name for cls, name in _KINDS if isinstance(sample, cls)), None)


def _check_same_kind(batch: list) -> None:
    """DataLoaderError naming the first sample whose kind differs from sample 0's (a
    number where a Tensor was, a string among numbers), rather than a failure deep in
    tensor() or stack()."""
    first = _kind(batch[0])
    for i, sample in enumerate(batch):
        if _kind(sample) != first:
            raise DataLoaderError(f"default_collate: sample {i} is of type {type(sample).__name__} "
                                  f"but sample 0 of type {type(batch[0]).__name__}; the samples "
                                  "of one field must all be of one kind to form a batch")


def default_convert(data: Any) -> Any:
    """A sample made tensor-friendly without batching (numpy arrays become tensors), what
    a DataLoader with batch_size=None yields.

    >>> import numpy as np
    >>> default_convert((np.ones(2), "a"))
    (tensor([1., 1.], dtype=eager.float64), 'a')
    """
    from eager.creation import tensor

    if isinstance(data, np.ndarray):
        return tensor(data)
    if isinstance(data, Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(x) for x in data))
    if isinstance(data, tuple):
        return tuple(default_convert(x) for x in data)
    if isinstance(data, list):
        return [default_convert(x) for x in data]
    return data
