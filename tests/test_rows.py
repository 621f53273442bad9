"""kernels.rows: the streamed last-axis reductions agree with numpy's own (values, NaN,
-inf, dtypes) on every route: short rows, long rows, other axes, other dtypes."""
from __future__ import annotations

import numpy as np
import pytest

from kernels.rows import row_dot, row_max, row_mean, row_sum

RNG = np.random.default_rng(11)


@pytest.mark.parametrize("shape, axes", [((2048, 32), (1,)), ((16, 4, 32, 32), (3,)),
                                         ((5, 300), (1,)), ((6, 7), (0,)), ((3, 4, 5), (1, 2)),
                                         ((9,), (0,))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_agree_with_numpy(shape, axes, dtype):
    a = RNG.normal(size=shape).astype(dtype)
    b = RNG.normal(size=shape).astype(dtype)
    tol = {np.float16: 2e-2, np.float32: 1e-5, np.float64: 1e-12}[dtype]
    for got, want in ((row_sum(np, a, axes), a.sum(axis=axes, keepdims=True)),
                      (row_mean(np, a, axes), a.mean(axis=axes, keepdims=True)),
                      (row_dot(np, a, b, axes), (a * b).sum(axis=axes, keepdims=True))):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * 10)
    got = row_max(np, a, axes)
    assert got.dtype == a.dtype
    np.testing.assert_array_equal(got, a.max(axis=axes, keepdims=True))


def test_nan_and_infinities_propagate_as_numpy():
    a = RNG.normal(size=(4096, 8)).astype(np.float32)
    a[3, 2], a[5, :] = np.nan, -np.inf
    a[7, 1] = np.inf
    with np.errstate(invalid="ignore"):
        for got, want in ((row_sum(np, a, (1,)), a.sum(axis=1, keepdims=True)),
                          (row_max(np, a, (1,)), a.max(axis=1, keepdims=True)),
                          (row_dot(np, a, a, (1,)), (a * a).sum(axis=1, keepdims=True))):
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
