"""max/min over a short last axis (kernels.reductions reduces the transposed rows) give
numpy's answer exactly: values, NaN propagation, keepdims, dtypes, and the shapes on
either side of where the transposed path starts."""
import numpy as np
import pytest

import eager
from kernels import OPS

SHAPES = [(16, 4, 32, 32), (512, 64), (4096, 2), (64, 65), (3, 5), (2, 3, 4096)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_last_axis_matches_numpy(shape, name, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 100).astype(dtype)
    if x.dtype.kind == "f":
        x.flat[::97] = np.nan
        x.flat[5::89] = -np.inf
    ufunc = np.maximum if name == "max" else np.minimum
    for keepdims in (True, False):
        got = OPS[name].kernel(np)(x, axis=(x.ndim - 1,), keepdims=keepdims)
        expected = ufunc.reduce(x, axis=-1, keepdims=keepdims)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        assert np.array_equal(got, expected, equal_nan=True)


def test_other_axes_and_views_are_untouched():
    x = np.random.default_rng(1).standard_normal((64, 32, 16)).astype(np.float32)
    kernel = OPS.max.kernel(np)
    assert np.array_equal(kernel(x, axis=(1,)), x.max(axis=1))
    assert np.array_equal(kernel(x, axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True))
    view = x.transpose(0, 2, 1)
    assert np.array_equal(kernel(view, axis=(2,)), view.max(axis=2))


def test_softmax_gradient_is_unchanged():
    x = eager.tensor(np.random.default_rng(2).standard_normal((64, 4, 32)).astype(np.float32),
                     requires_grad=True)
    y = eager.nn.functional.softmax(x, dim=-1)
    (y * y).sum().backward()
    data = x.detach().numpy()
    e = np.exp(data - data.max(axis=-1, keepdims=True))
    s = e / e.sum(axis=-1, keepdims=True)
    assert np.allclose(y.detach().numpy(), s, atol=1e-6)
    g = 2 * s
    assert np.allclose(x.grad.numpy(), s * (g - (g * s).sum(axis=-1, keepdims=True)), atol=1e-6)
