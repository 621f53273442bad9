"""`torch.sparse`'s COO constructor and products, backed by dense tensors.

Programs such as pytorch/examples `gcn` build an adjacency matrix with
`torch.sparse_coo_tensor(indices, values, size)`, convert with `.to_sparse()` and multiply
with `torch.spmm` or `torch.sparse.mm`. Here the same calls give the same values, held
densely: `sparse_coo_tensor` scatters the values into a zero tensor of `size` (repeated
indices add up, as coalescing does), `to_sparse()`/`to_dense()` return the tensor itself
and `mm`/`spmm` are the dense matrix product. Memory is that of the dense tensor (a graph
of V nodes costs V * V numbers), and gradients, tracing and `@jit` fusion see through
it like any dense program.

>>> import eager
>>> adj = eager.sparse_coo_tensor([[0, 1, 1], [1, 0, 0]], [1.0, 2.0, 3.0], (2, 2))
>>> adj.tolist()
[[0.0, 1.0], [5.0, 0.0]]
>>> eager.spmm(adj, eager.ones(2, 1)).tolist()
[[1.0], [5.0]]
"""
from __future__ import annotations

import math

import numpy as np

from eager.creation import asarray, zeros
from eager.ops.matrices import mm as _dense_mm
from eager.tensor import Tensor
from kernels.errors import ArgumentError, IndexOutOfRangeError, ShapeError


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      requires_grad: bool = False, check_invariants: bool | None = None,
                      is_coalesced: bool | None = None) -> Tensor:
    """The tensor of `size` whose entry at column j of `indices` (one row per sparse dim)
    is `values[j]`, repeated indices summed; held densely (see the module's note).
    `values` may have trailing dense dims, as torch's hybrid tensors; without `size` each
    sparse dim is one past its largest index. Gradients reach `values`.
    `check_invariants` and `is_coalesced` are accepted as torch's; a dense tensor has no
    invariants to check and nothing to coalesce.

    >>> import eager
    >>> eager.sparse_coo_tensor([[0, 2]], [[1.0, 2.0], [3.0, 4.0]]).tolist()
    [[1.0, 2.0], [0.0, 0.0], [3.0, 4.0]]
    """
    if isinstance(indices, Tensor):
        index = indices.to("cpu").numpy()
    else:
        index = np.asarray(indices)
    if index.ndim != 2 or not (index.dtype.kind in "iu" or index.size == 0):
        raise ArgumentError(f"sparse_coo_tensor: indices must be a 2-D integer array "
                            f"(sparse dims x entries), got {index.dtype.name} of shape "
                            f"{index.shape}")
    values = asarray(values, device=device)
    if dtype is not None:
        values = values.to(dtype)
    if values.ndim == 0 or values.shape[0] != index.shape[1]:
        raise ShapeError(f"sparse_coo_tensor: indices give {index.shape[1]} entries but "
                         f"values has shape {values.shape}; values' first dim counts the "
                         "entries")
    sparse_dims = index.shape[0]
    if size is None:
        size = tuple(int(m) + 1 for m in index.max(axis=1)) + values.shape[1:] \
            if index.size else (0,) * sparse_dims + values.shape[1:]
    size = tuple(int(s) for s in size)
    if len(size) != sparse_dims + values.ndim - 1 or size[sparse_dims:] != values.shape[1:]:
        raise ShapeError(f"sparse_coo_tensor: size {size} does not fit {sparse_dims} sparse "
                         f"dims of indices and values of shape {values.shape}")
    for d in range(sparse_dims):
        bad = (index[d] < 0) | (index[d] >= size[d])
        if bad.any():
            raise IndexOutOfRangeError(f"sparse_coo_tensor: index {int(index[d][bad][0])} "
                                       f"in row {d} of indices is out of range for size "
                                       f"{size[d]} of dim {d}")
    flat = np.ravel_multi_index(tuple(index), size[:sparse_dims]) if index.size else \
        np.zeros(0, np.int64)
    rows = zeros((math.prod(size[:sparse_dims]),) + values.shape[1:], dtype=values.dtype,
                 device=values.device)
    out = rows.index_add(0, asarray(flat.astype(np.int64), device=values.device), values)
    out = out.reshape(size)
    return out.requires_grad_() if requires_grad else out


def mm(mat1: Tensor, mat2: Tensor) -> Tensor:
    """`torch.sparse.mm` / `torch.spmm`: the matrix product, dense here.

    >>> import eager
    >>> eager.sparse.mm(eager.eye(2), eager.ones(2, 3)).shape
    (2, 3)
    """
    return _dense_mm(mat1, mat2)


spmm = mm
