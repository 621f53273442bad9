"""index_add of whole rows (an embedding's gradient) takes a 1-d add.at over element
positions (kernels.indexing._add_rows): the same sums, bit for bit, as numpy's add.at."""
import numpy as np
import pytest

import eager
from eager.dispatch import apply
from kernels import OPS


def reference(base, src, rows):
    out = base.copy()
    np.add.at(out, (rows,), src)
    return out


@pytest.mark.parametrize("rows_shape", [(512,), (16, 32), (7, 1, 3)])
@pytest.mark.parametrize("tail", [(64,), (3, 5), ()])
def test_matches_add_at_bit_for_bit(rows_shape, tail):
    rng = np.random.default_rng(0)
    n = 20
    rows = rng.integers(-n, n, rows_shape)
    base = rng.standard_normal((n,) + tail).astype(np.float32)
    src = rng.standard_normal(rows_shape + tail).astype(np.float32)
    got = OPS.index_add.kernel(np)(base, src, rows, key=(("t", 0),))
    assert np.array_equal(got, reference(base, src, rows))
    if tail:
        broadcast = rng.standard_normal(tail).astype(np.float32)
        got = OPS.index_add.kernel(np)(base, broadcast, rows, key=(("t", 0),))
        assert np.array_equal(got, reference(base, broadcast, rows))


def test_out_of_range_rows_raise_a_named_error():
    with pytest.raises(IndexError, match="out of bounds"):
        OPS.index_add.kernel(np)(np.zeros((4, 3)), np.ones((2, 3)), np.array([1, 4]),
                                 key=(("t", 0),))
    with pytest.raises(eager.ShapeError, match="index_add"):
        apply(OPS.index_add, eager.zeros(4, 3), eager.ones(2, 3), eager.tensor([1, -5]),
              key=(("t", 0),))


def test_embedding_gradient_sums_repeated_tokens():
    weight = eager.tensor(np.arange(12.0, dtype=np.float32).reshape(4, 3), requires_grad=True)
    tokens = eager.tensor([[1, 1], [3, 1]])
    eager.nn.functional.embedding(tokens, weight).sum().backward()
    assert weight.grad.tolist() == [[0.0] * 3, [3.0] * 3, [0.0] * 3, [1.0] * 3]
