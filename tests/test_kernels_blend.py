"""kernels.blend.where (numpy's where without a branch per element) against np.where,
bit for bit: every dtype it takes over, broadcasting, scalars and special values."""
import numpy as np
import pytest

import eager
from kernels import OPS
from kernels.blend import where

SHAPES = [((64, 64), (64, 64), (64, 64)), ((), (64, 64), (64, 64)), ((64, 1), (1, 64), (64, 64)),
          ((64, 64), (64, 64), (64, 1)), ((1, 64), (), (64, 64)), ((), (), (64, 64))]


def operand(rng, shape, dtype):
    if not shape:
        return 3 if np.dtype(dtype).kind in "iu" else -0.0
    values = rng.standard_normal(shape) * 100
    if np.dtype(dtype).kind == "f":
        values.flat[:4] = [np.nan, -np.inf, np.inf, -0.0]
    return values.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64, np.int8,
                                   np.uint16])
@pytest.mark.parametrize("shapes", SHAPES)
def test_matches_numpy_bit_for_bit(dtype, shapes):
    rng = np.random.default_rng(0)
    a, b = operand(rng, shapes[0], dtype), operand(rng, shapes[1], dtype)
    cond = rng.random(shapes[2]) > 0.5
    expected, got = np.where(cond, a, b), where(cond, a, b)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert np.array_equal(np.ascontiguousarray(got).view(np.uint8),
                          expected.view(np.uint8))


def test_mixed_dtypes_and_non_bool_conditions_defer_to_numpy():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((50, 50)).astype(np.float32)
    b = rng.integers(0, 5, (50, 50))
    cond = rng.random((50, 50)) > 0.5
    assert np.array_equal(where(cond, a, b), np.where(cond, a, b))
    assert where(cond, a, b).dtype == np.float64
    assert np.array_equal(where(cond.astype(np.int8), a, 1.0), np.where(cond, a, 1.0))
    flags = np.zeros((50, 50), bool)
    assert np.array_equal(where(cond, flags, True), np.where(cond, flags, True))


def test_eager_where_and_relu_use_it():
    assert OPS.where.kernel(np) is where
    x = eager.tensor(np.random.default_rng(2).standard_normal((64, 64)).astype(np.float32),
                     requires_grad=True)
    y = eager.nn.functional.relu(x)
    y.sum().backward()
    data = x.detach().numpy()
    assert np.array_equal(y.detach().numpy(), np.where(data <= 0, 0, data))
    assert np.array_equal(x.grad.numpy(), (data > 0).astype(np.float32))
