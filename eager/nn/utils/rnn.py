"""`nn.utils.rnn`: batches of sequences of different lengths, as PyTorch's.

`pad_sequence` stacks sequences into one zero-padded tensor. A `PackedSequence` holds
only the real steps, time-major: for each time step t, the steps of the
`batch_sizes[t]` sequences still running, the batch sorted by decreasing length
(`sorted_indices`; `unsorted_indices` undoes it). `RNN`, `LSTM` and `GRU` take one and
return one. Packing and padding are slicing and concatenation, so gradients flow
through them.

>>> import eager
>>> a, b = eager.tensor([1.0, 2.0, 3.0]), eager.tensor([4.0])
>>> packed = pack_sequence([b, a], enforce_sorted=False)
>>> packed.data.tolist(), packed.batch_sizes.tolist(), packed.sorted_indices.tolist()
([1.0, 4.0, 2.0, 3.0], [2, 1, 1], [1, 0])
>>> padded, lengths = pad_packed_sequence(packed, batch_first=True)
>>> padded.tolist(), lengths.tolist()
([[4.0, 0.0, 0.0], [1.0, 2.0, 3.0]], [1, 3])
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from eager import arguments
from eager.creation import tensor
from eager.dispatch import user_line_suffix
from eager.nn.errors import ArgumentError
from eager.ops.shape import concat, pad, stack, transpose
from eager.tensor import Tensor
from kernels.dtypes import int64
from kernels.errors import ShapeError


class PackedSequence(NamedTuple):
    """Sequences of different lengths without their padding (see the module doc)."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """`data` moved or converted with `Tensor.to`; the index tensors stay as they are.

        >>> import eager
        >>> pack_sequence([eager.ones(2)]).to(eager.float64).data.dtype
        dtype('float64')
        """
        return self._replace(data=self.data.to(*args, **kwargs))

    @property
    def is_cuda(self) -> bool:
        """Whether the data lives on a GPU."""
        return self.data.device.startswith("cuda")

    def lengths(self) -> list[int]:
        """Each sequence's length, in the original batch order.

        >>> import eager
        >>> pack_sequence([eager.ones(1), eager.ones(3)], enforce_sorted=False).lengths()
        [1, 3]
        """
        sizes = self.batch_sizes.tolist()
        by_rank = [sum(1 for s in sizes if s > rank) for rank in range(sizes[0])]
        if self.unsorted_indices is None:
            return by_rank
        return [by_rank[rank] for rank in self.unsorted_indices.tolist()]


def _lengths(op: str, lengths, batch: int) -> list[int]:
    values = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    values = [arguments.integer(op, "lengths", v, minimum=1) for v in values]
    if len(values) != batch:
        raise ShapeError(f"{op}: {len(values)} lengths for a batch of {batch} sequences"
                         f"{user_line_suffix()}")
    return values


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) ((B, T, *) with batch_first) whose sequence b has
    `lengths[b]` real steps. With `enforce_sorted` the lengths must be decreasing;
    otherwise the batch is sorted here and the permutation is kept.

    >>> import eager
    >>> x = eager.tensor([[1, 2, 3], [4, 5, 0]])
    >>> pack_padded_sequence(x, [3, 2], batch_first=True).data.tolist()
    [1, 4, 2, 5, 3]
    """
    op = "pack_padded_sequence"
    arguments.tensor(op, "input", input)
    if input.ndim < 2:
        raise ShapeError(f"{op}: input must be (T, B, *) or (B, T, *) with batch_first, got "
                         f"{input.shape}{user_line_suffix()}")
    x = transpose(input, 0, 1) if batch_first else input
    values = _lengths(op, lengths, x.shape[1])
    if max(values) > x.shape[0]:
        raise ShapeError(f"{op}: a length of {max(values)} is longer than the {x.shape[0]} "
                         f"steps of input {input.shape}{user_line_suffix()}")
    order = sorted(range(len(values)), key=lambda b: -values[b])
    sorted_indices = unsorted_indices = None
    if enforce_sorted:
        if any(values[b] < values[b + 1] for b in range(len(values) - 1)):
            raise ArgumentError(f"{op}: lengths {values} are not sorted in decreasing order; "
                                "sort the batch or pass enforce_sorted=False")
        order = list(range(len(values)))
    else:
        sorted_indices = tensor(order, dtype=int64, device=x.device)
        inverse = [0] * len(order)
        for rank, b in enumerate(order):
            inverse[b] = rank
        unsorted_indices = tensor(inverse, dtype=int64, device=x.device)
        x = x[:, sorted_indices]
    ordered = [values[b] for b in order]
    batch_sizes = [sum(1 for n in ordered if n > t) for t in range(ordered[0])]
    data = concat([x[t, :size] for t, size in enumerate(batch_sizes)], axis=0)
    return PackedSequence(data, tensor(batch_sizes, dtype=int64), sorted_indices,
                          unsorted_indices)


def repack(padded: Tensor, like: PackedSequence) -> PackedSequence:
    """Pack a time-major padded batch (T, B, *) in the original batch order with the
    lengths, order and batch sizes of `like` (how an RNN returns a packed output).

    >>> import eager
    >>> packed = pack_sequence([eager.tensor([1, 2]), eager.tensor([3])])
    >>> repack(pad_packed_sequence(packed)[0] * 10, packed).data.tolist()
    [10, 30, 20]
    """
    x = padded if like.sorted_indices is None else padded[:, like.sorted_indices]
    sizes = like.batch_sizes.tolist()
    data = concat([x[t, :size] for t, size in enumerate(sizes)], axis=0)
    return like._replace(data=data)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """The padded batch (T, B, *) ((B, T, *) with batch_first) and the lengths (an int64
    tensor) of a PackedSequence, in the original batch order; `total_length` pads T up.

    >>> import eager
    >>> packed = pack_padded_sequence(eager.tensor([[1.0, 2.0], [3.0, 0.0]]), [2, 1],
    ...                               batch_first=True)
    >>> pad_packed_sequence(packed, batch_first=True, padding_value=-1.0)[0].tolist()
    [[1.0, 2.0], [3.0, -1.0]]
    """
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise ArgumentError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    sizes = sequence.batch_sizes.tolist()
    steps = len(sizes)
    if total_length is not None:
        total_length = arguments.integer(op, "total_length", total_length, minimum=steps)
    batch, data = sizes[0], sequence.data
    rows, start = [], 0
    for size in sizes:
        step = data[start:start + size]
        if size < batch:
            step = pad(step, ((0, batch - size),) + ((0, 0),) * (data.ndim - 1),
                       padding_value)
        rows.append(step)
        start += size
    padded = stack(rows, axis=0)
    if total_length is not None and total_length > steps:
        padded = pad(padded, ((0, total_length - steps),) + ((0, 0),) * (padded.ndim - 1),
                     padding_value)
    if sequence.unsorted_indices is not None:
        padded = padded[:, sequence.unsorted_indices]
    lengths = tensor(sequence.lengths(), dtype=int64)
    return (transpose(padded, 0, 1) if batch_first else padded), lengths


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stack sequences (L_i, *) into (T, B, *) ((B, T, *) with batch_first), T the
    longest length, padding with `padding_value` on the right (or the left).

    >>> import eager
    >>> pad_sequence([eager.tensor([1, 2]), eager.tensor([3])], batch_first=True).tolist()
    [[1, 2], [3, 0]]
    """
    op = "pad_sequence"
    if isinstance(sequences, Tensor):
        sequences = list(sequences)
    if not sequences:
        raise ArgumentError(f"{op}: expected a non-empty list of tensors")
    if padding_side not in ("right", "left"):
        raise ArgumentError(f"{op}: padding_side must be 'right' or 'left', got "
                            f"{padding_side!r}")
    for i, s in enumerate(sequences):
        arguments.tensor(op, f"sequences[{i}]", s)
        if s.ndim < 1 or s.shape[1:] != sequences[0].shape[1:]:
            raise ShapeError(f"{op}: sequence {i} has shape {s.shape}, but every sequence "
                             f"must be (L, {', '.join(map(str, sequences[0].shape[1:]))}) "
                             f"like the first{user_line_suffix()}")
    longest = max(s.shape[0] for s in sequences)
    trail = ((0, 0),) * (sequences[0].ndim - 1)
    rows = []
    for s in sequences:
        missing = longest - s.shape[0]
        widths = (0, missing) if padding_side == "right" else (missing, 0)
        rows.append(pad(s, (widths,) + trail, padding_value) if missing else s)
    return stack(rows, axis=0 if batch_first else 1)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True
                  ) -> PackedSequence:
    """Pack a list of sequences (L_i, *) (`pad_sequence` then `pack_padded_sequence`).

    >>> import eager
    >>> pack_sequence([eager.tensor([1, 2]), eager.tensor([3])]).data.tolist()
    [1, 3, 2]
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False
                   ) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length.

    >>> import eager
    >>> [s.tolist() for s in unpad_sequence(eager.tensor([[1, 2], [3, 0]]), [2, 1], True)]
    [[1, 2], [3]]
    """
    x = padded_sequences if batch_first else transpose(padded_sequences, 0, 1)
    values = _lengths("unpad_sequence", lengths, x.shape[0])
    return [x[b, :n] for b, n in enumerate(values)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The sequences of a PackedSequence, in the original batch order.

    >>> import eager
    >>> [s.tolist() for s in unpack_sequence(pack_sequence([eager.tensor([1, 2])]))]
    [[1, 2]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
           "pad_sequence", "repack", "unpack_sequence", "unpad_sequence"]
