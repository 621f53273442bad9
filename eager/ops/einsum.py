"""`einsum` as a composite: diagonals by indexing, sums, and pairwise contractions by
permute + reshape + matmul, so autograd and the jit see ordinary ops.

>>> import eager
>>> a, b = eager.ones(2, 3), eager.ones(3, 4)
>>> eager.einsum("ij,jk->ik", a, b).shape, eager.einsum("ii", eager.eye(3)).item()
((2, 4), 3.0)
"""
from __future__ import annotations

import string

from eager import arguments
from eager.ops import reductions as R
from eager.ops.linalg import matmul
from eager.ops.matrices import diagonal
from eager.ops.shape import expand, permute, reshape
from eager.tensor import Tensor
from kernels.errors import ArgumentError, ShapeError

_LETTERS = set(string.ascii_letters)


def _parse(equation: str, operands: list[Tensor]) -> tuple[list[str], str]:
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ArgumentError(f"einsum: the equation {equation!r} names {len(terms)} operands "
                            f"but {len(operands)} were given")
    # "..." becomes fresh labels (Greek letters, which users cannot write), one per dim
    # it stands for; operands with fewer such dims take the last ones (broadcasting).
    spare = "αβγδεζηθικλμνξοπρστυφχψω"
    ellipsis_dims = 0
    for term, x in zip(terms, operands):
        if "..." in term:
            ellipsis_dims = max(ellipsis_dims, x.ndim - (len(term) - 3))
    fill = "".join(spare[:ellipsis_dims])
    expanded = []
    for term, x in zip(terms, operands):
        if "..." in term:
            n = x.ndim - (len(term) - 3)
            term = term.replace("...", fill[ellipsis_dims - n:])
        bad = set(term) - _LETTERS - set(fill)
        if bad or len(term) != x.ndim:
            raise ArgumentError(f"einsum: term {term!r} does not fit an operand of shape "
                                f"{x.shape}")
        expanded.append(term)
    if arrow:
        output = output.replace("...", fill)
    else:
        counts = {c: "".join(expanded).count(c) for c in "".join(expanded)}
        output = fill + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in fill))
    return expanded, output


def _take_diagonals(x: Tensor, labels: str) -> tuple[Tensor, str]:
    while True:
        repeated = next((c for c in labels if labels.count(c) > 1), None)
        if repeated is None:
            return x, labels
        i = labels.index(repeated)
        j = labels.index(repeated, i + 1)
        x = diagonal(x, 0, i, j)
        labels = "".join(c for k, c in enumerate(labels) if k not in (i, j)) + repeated


def _sum_out(x: Tensor, labels: str, keep: set) -> tuple[Tensor, str]:
    axes = tuple(i for i, c in enumerate(labels) if c not in keep)
    if not axes:
        return x, labels
    return R.sum(x, axis=axes), "".join(c for c in labels if c in keep)


def _contract(a: Tensor, la: str, b: Tensor, lb: str, keep: set) -> tuple[Tensor, str]:
    sizes = {}
    for x, labels in ((a, la), (b, lb)):
        for c, d in zip(labels, x.shape):
            if sizes.get(c, 1) not in (1, d) and d != 1:
                raise ShapeError(f"einsum: label {c!r} has sizes {sizes[c]} and {d}")
            sizes[c] = max(sizes.get(c, 1), d)
    batch = [c for c in la if c in lb and c in keep]
    inner = [c for c in la if c in lb and c not in keep]
    a_only = [c for c in la if c not in lb]
    b_only = [c for c in lb if c not in la]

    def arrange(x, labels, order, shape_groups):
        x = permute(x, tuple(labels.index(c) for c in order))
        x = expand(x, tuple(sizes[c] for c in order))
        return reshape(x, tuple(_prod(sizes[c] for c in g) for g in shape_groups))

    a3 = arrange(a, la, batch + a_only + inner, (batch, a_only, inner))
    b3 = arrange(b, lb, batch + inner + b_only, (batch, inner, b_only))
    out = matmul(a3, b3)
    labels = batch + a_only + b_only
    return reshape(out, tuple(sizes[c] for c in labels)), "".join(labels)


def _prod(values) -> int:
    n = 1
    for v in values:
        n *= v
    return n


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation over the operands, e.g. "bij,bjk->bik", "ii->i", "i,j->ij",
    "...ij,...jk"; `einsum(eq, [a, b])` works too.

    >>> import eager
    >>> x = eager.tensor([[1., 2.], [3., 4.]])
    >>> eager.einsum("ij->j", x).tolist(), eager.einsum("ij,ij->", x, x).item()
    ([4.0, 6.0], 30.0)
    """
    if not isinstance(equation, str):
        raise ArgumentError(f"einsum: the equation must be a string, got "
                            f"{type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = arguments.tensors("einsum", "operands", operands)
    terms, output = _parse(equation, operands)
    if len(set(output)) != len(output):
        raise ArgumentError(f"einsum: output {output!r} repeats a label")
    pending = list(zip(operands, terms))
    x, labels = None, ""
    for i, (y, ly) in enumerate(pending):
        y, ly = _take_diagonals(y, ly)
        later = set(output) | {c for _, t in pending[i + 1:] for c in t}
        keep_y = later | set(labels)
        y, ly = _sum_out(y, ly, keep_y)
        if x is None:
            x, labels = y, ly
            continue
        x, labels = _sum_out(x, labels, later | set(ly))
        x, labels = _contract(x, labels, y, ly, later)
    missing = set(output) - set(labels)
    if missing:
        raise ArgumentError(f"einsum: output labels {sorted(missing)} appear in no input")
    x, labels = _sum_out(x, labels, set(output))
    return permute(x, tuple(labels.index(c) for c in output)) if x.ndim else x
