"""The C row loops (kernels.codegen.rows_c): argmax along the last axis as numpy's
(first largest, first NaN), adding rows at indices as np.add.at, and the jitted step
that runs them (max-pool's argmax, an embedding's gradient) equal to eager."""
import numpy as np
import pytest

import eager
import eager.nn.functional as F
from jit import jit
from kernels.codegen import rows_c

needs_c = pytest.mark.skipif(not rows_c.available(), reason="no C compiler")


@needs_c
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5,), (300, 4), (7, 3, 9), (4, 1)])
def test_argmax_matches_numpy_with_ties_and_nans(dtype, shape):
    rng = np.random.default_rng(1)
    x = np.round(rng.standard_normal(shape), 0).astype(dtype)  # many ties
    flat = x.reshape(-1)
    flat[rng.integers(0, flat.size, max(1, flat.size // 20))] = np.nan
    flat[::7] = -np.inf
    for keepdims in (False, True):
        got = rows_c.argmax_last(x, keepdims)
        want = x.argmax(axis=-1, keepdims=keepdims)
        assert got.dtype == np.int64 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@needs_c
def test_argmax_of_a_strided_view():
    x = np.arange(24.0).reshape(2, 3, 4)[:, :, ::-1].transpose(1, 0, 2)
    np.testing.assert_array_equal(rows_c.argmax_last(x), x.argmax(-1))


@needs_c
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_rows_matches_add_at(dtype):
    rng = np.random.default_rng(2)
    table = rng.standard_normal((10, 3, 2)).astype(dtype)
    index = rng.integers(0, 10, (6, 5))
    src = rng.standard_normal((6, 5, 3, 2)).astype(np.float32)
    want = table.copy()
    np.add.at(want, index, src)
    rows_c.add_rows(table, index, src)
    np.testing.assert_array_equal(table, want)
    row = np.ones((3, 2), dtype)
    rows_c.add_rows(table, index, row)
    np.add.at(want, index, row)
    np.testing.assert_array_equal(table, want)


def _pool_step(x):
    y = F.max_pool2d(F.relu(x), 2)
    y.sum().backward()
    return y


def test_jitted_max_pool_matches_eager_on_ties():
    rng = np.random.default_rng(3)
    data = np.round(rng.standard_normal((4, 3, 8, 8)), 0).astype(np.float32)
    got, want = [], []
    jitted = jit(_pool_step)
    for run, sink in ((jitted, got), (_pool_step, want)):
        for _ in range(3):
            x = eager.tensor(data, requires_grad=True)
            sink.append((run(x).detach().numpy(), x.grad.numpy()))
    for (y, g), (y0, g0) in zip(got, want):
        np.testing.assert_array_equal(y, y0)
        np.testing.assert_array_equal(g, g0)
    assert jitted.cache_info().hits == 2


def test_jitted_embedding_gradient_matches_eager():
    rng = np.random.default_rng(4)
    idx = eager.tensor(rng.integers(0, 9, (4, 6)))
    weight_data = rng.standard_normal((9, 5)).astype(np.float32)

    def step(w, i):
        loss = (F.embedding(i, w) ** 2).sum()
        loss.backward()
        return loss

    grads = []
    jitted = jit(step)
    for run in (jitted, jitted, step):
        w = eager.tensor(weight_data, requires_grad=True)
        run(w, idx)
        grads.append(w.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[2])
    np.testing.assert_array_equal(grads[1], grads[2])
    assert jitted.cache_info().hits == 1


@pytest.mark.parametrize("axis, keepdims", [(-1, False), (2, True), (0, False), (1, True)])
def test_jitted_argmax_matches_eager_on_every_axis(axis, keepdims):
    x = eager.tensor(np.round(np.random.default_rng(5).standard_normal((3, 4, 5)), 0)
                     .astype(np.float32))
    fn = jit(lambda t: t.argmax(axis, keepdims=keepdims) + 0)
    for _ in range(2):
        np.testing.assert_array_equal(fn(x).numpy(), x.numpy().argmax(axis, keepdims=keepdims))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_per_row_gather_and_scatter_add_match_numpy(dtype):
    from kernels import OPS

    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 3, 4)).astype(dtype)
    idx = rng.integers(-4, 4, (5, 3, 1))
    np.testing.assert_array_equal(OPS.gather.kernel(np)(x, idx, axis=2),
                                  np.take_along_axis(x, idx, axis=2))
    src = rng.standard_normal((5, 3, 1)).astype(dtype)
    want = x.copy()
    np.put_along_axis(want, idx, np.take_along_axis(x, idx, axis=2) + src, axis=2)
    np.testing.assert_array_equal(OPS.scatter_add.kernel(np)(x, idx, src, axis=-1), want)
    bad = idx.copy()
    bad[2, 1, 0] = 4
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 2 with size 4"):
        OPS.gather.kernel(np)(x, bad, axis=2)
    with pytest.raises(IndexError, match="index 4 is out of bounds"):
        OPS.scatter_add.kernel(np)(x, bad, src, axis=2)


def test_unpacked_rows_gradient_chain_adds_in_place_and_matches_eager():
    from jit.lowering import OpStep

    rng = np.random.default_rng(7)
    data = rng.standard_normal((3, 4, 5)).astype(np.float32)

    def step(x):
        a, b, c = x * 1.0
        loss = (a * 2.0 + b * b - c.exp()).sum()
        loss.backward()
        return loss

    x = eager.tensor(data, requires_grad=True)
    step(x)
    want = x.grad.numpy()
    for off in ((), ("simplify",), ("memory",), ("fuse",)):
        jitted = jit(step, disable=off)
        for _ in range(3):
            x = eager.tensor(data, requires_grad=True)
            jitted(x)
            np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-6)
        assert jitted.cache_info().hits == 2
    import tracer
    from jit.executable import Executable
    from jit.passes import optimize

    graph, _ = optimize(tracer.trace(step, eager.tensor(data, requires_grad=True)))
    exe = Executable(graph)
    adds = [s for s in exe.steps if isinstance(s, OpStep) and s.node.op.name == "index_add"]
    assert len(adds) == 3 and len(exe.index_add_in_place) == 2

