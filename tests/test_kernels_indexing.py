"""gather and scatter_add kernels against numpy, on every path (matching or broadcast
dims, any axis, negative and repeated indices), and their errors."""
import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernels import indexing
from kernels.indexing import gather, scatter_add

gather_np = gather.impl(np)


@contextlib.contextmanager
def setting(module, name, value):
    """A module attribute set for a block (hypothesis runs one test body many times, so
    pytest's function-scoped monkeypatch does not fit)."""
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)
scatter_add_np = scatter_add.impl(np)


@st.composite
def along_axis_case(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    axis = draw(st.integers(-ndim, ndim - 1))
    idx_shape = list(shape)
    idx_shape[axis] = draw(st.integers(1, 5))
    if draw(st.booleans()):  # idx with a size-1 dim where x is larger: numpy broadcasts
        d = draw(st.integers(0, ndim - 1))
        if d != axis % ndim:
            idx_shape[d] = 1
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = shape[axis]
    idx = rng.integers(-n, n, size=idx_shape)
    x = rng.standard_normal(shape)
    return x, idx, axis


@given(along_axis_case())
def test_gather_matches_take_along_axis(case):
    x, idx, axis = case
    got = gather_np(x, idx, axis=axis)
    np.testing.assert_array_equal(got, np.take_along_axis(x, idx, axis=axis))


def scatter_add_reference(base, idx, src, axis):
    out = base.copy()
    axis %= idx.ndim
    for pos in np.ndindex(*idx.shape):
        target = list(pos)
        target[axis] = idx[pos]
        out[tuple(target)] += src[pos]
    return out


@given(along_axis_case())
def test_scatter_add_matches_a_loop_with_repeated_indices(case):
    x, idx, axis = case
    idx = np.broadcast_to(idx, tuple(
        b if d != axis % x.ndim else i for d, (i, b) in enumerate(zip(idx.shape, x.shape))
    )).copy()
    src = np.arange(idx.size, dtype=np.float64).reshape(idx.shape) + 1.0
    got = scatter_add_np(x, idx, src, axis=axis)
    np.testing.assert_allclose(got, scatter_add_reference(x, idx, src, axis))
    assert not np.shares_memory(got, x)


@given(along_axis_case(), st.sampled_from([np.float32, np.float64]))
def test_scatter_add_over_flat_positions_adds_exactly_as_add_at(case, dtype):
    """The flat-position path (taken from FLAT_SCATTER_MIN elements) gives add.at's sums
    bit for bit: the same additions in the same order, repeated indices included."""
    x, idx, axis = case
    idx = np.broadcast_to(idx, tuple(
        b if d != axis % x.ndim else i for d, (i, b) in enumerate(zip(idx.shape, x.shape))
    )).copy()
    x = x.astype(dtype)
    src = np.random.default_rng(idx.size).standard_normal(idx.shape).astype(dtype)
    expected = x.copy()
    np.add.at(expected, indexing._along_axis_key(np, idx, axis % x.ndim), src)
    with setting(indexing, "FLAT_SCATTER_MIN", 1):
        got = scatter_add_np(x, idx, src, axis=axis)
        with pytest.raises(IndexError):
            scatter_add_np(x, idx + x.shape[axis] * 2, src, axis=axis)
    np.testing.assert_array_equal(got, expected)


def test_gather_fast_path_does_not_share_or_expose_cached_grids():
    x = np.arange(12.0).reshape(3, 4)
    a = gather_np(x, np.array([[1], [2], [3]]), axis=1)
    a[:] = -1.0   # results are fresh arrays: writing one changes no later result
    b = gather_np(x, np.array([[1], [2], [3]]), axis=1)
    np.testing.assert_array_equal(b, [[1.0], [6.0], [11.0]])


def test_gather_out_of_range_raises_index_error():
    x = np.zeros((2, 3))
    with pytest.raises(IndexError):
        gather_np(x, np.array([[0], [3]]), axis=1)
    with pytest.raises(IndexError):
        scatter_add_np(x, np.array([[0], [-4]]), np.ones((2, 1)), axis=1)
