"""The Array API's signatures and semantics where they used to differ: shape keywords,
expand_dims, astype(device=), moveaxis with tuples, nonzero as a tuple, boolean 0-d
masks, tensordot on zero-size operands, eye with a huge k, vecdot's dtype, the standard
forms of roll/tril/triu/diff/count_nonzero/meshgrid, finfo, pinv/matrix_rank rtol, and
the PyTorch spellings the Tensor methods keep. Checked against numpy."""
import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import eager
from jit import jit


def test_shape_is_positional_or_keyword():
    for fn in (eager.zeros, eager.ones, eager.empty):
        param = next(iter(inspect.signature(fn).parameters.values()))
        assert (param.name, param.kind) == ("shape", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        assert fn(shape=(2, 3)).shape == fn((2, 3)).shape == fn(2, 3).shape == (2, 3)
        assert fn().shape == fn(()).shape == ()
    x = eager.arange(6)
    assert eager.reshape(x, shape=(3, 2)).shape == (3, 2)
    assert x.reshape(2, 3).shape == x.reshape((2, 3)).shape == (2, 3)


def test_expand_dims_axis_and_index_error():
    x = eager.zeros(2, 3)
    assert eager.expand_dims(x, 0).shape == (1, 2, 3)
    assert eager.expand_dims(x, axis=-1).shape == (2, 3, 1)
    assert eager.expand_dims(x, axis=-3).shape == (1, 2, 3)
    for bad in (3, -4):
        with pytest.raises(IndexError, match="expand_dims"):
            eager.expand_dims(x, axis=bad)


def test_astype_copy_and_device():
    x = eager.tensor([1.5, -2.5])
    assert eager.astype(x, eager.float32, copy=False) is x
    same = eager.astype(x, eager.float32, device="cpu")
    assert same is not x and same.tolist() == x.tolist()
    assert eager.astype(x, eager.int16, device="cpu").tolist() == [1, -2]


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_moveaxis_matches_numpy(data):
    shape = data.draw(array_shapes(min_dims=1, max_dims=4, max_side=3))
    n = data.draw(st.integers(1, len(shape)))
    src = data.draw(st.permutations(range(len(shape))))[:n]
    dst = data.draw(st.permutations(range(-len(shape), 0)))[:n]
    a = np.arange(np.prod(shape)).reshape(shape)
    got = eager.moveaxis(eager.tensor(a), tuple(src), tuple(dst))
    np.testing.assert_array_equal(got.numpy(), np.moveaxis(a, src, dst))


def test_moveaxis_refuses_repeated_axes():
    with pytest.raises(ValueError, match="moveaxis"):
        eager.moveaxis(eager.zeros(2, 3), (0, 0), (0, 1))


@settings(max_examples=40, deadline=None)
@given(arrays(np.int8, array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4),
              elements=st.integers(-1, 1)))
def test_nonzero_is_a_tuple_and_the_method_stays_pytorchs(a):
    got = eager.nonzero(eager.tensor(a))
    assert isinstance(got, tuple) and len(got) == a.ndim
    for mine, ref in zip(got, np.nonzero(a)):
        np.testing.assert_array_equal(mine.numpy(), ref)
    np.testing.assert_array_equal(eager.tensor(a).nonzero().numpy(), np.argwhere(a))


def test_nonzero_of_a_0d_tensor_raises():
    with pytest.raises(TypeError, match="nonzero"):
        eager.nonzero(eager.tensor(3))


@pytest.mark.parametrize("value", [True, False])
def test_0d_boolean_masks(value):
    x = eager.tensor(4.0)
    np.testing.assert_array_equal(x[eager.tensor(value)].numpy(), np.float32(4.0)[np.bool_(value)])
    m = eager.arange(6).reshape(2, 3)
    ref = np.arange(6).reshape(2, 3)
    for key in ((eager.tensor(value),), (0, eager.tensor(value)), (Ellipsis, value, 1)):
        np_key = tuple(np.bool_(k.item()) if isinstance(k, eager.Tensor) else k for k in key)
        np.testing.assert_array_equal(m[key].numpy(), ref[np_key])
    y = eager.tensor(1.0)
    y[eager.tensor(value)] = 9.0
    assert y.item() == (9.0 if value else 1.0)


def test_0d_mask_under_jit_guards_its_value():
    f = jit(lambda x, m: x[m] * 2)
    x = eager.tensor(3.0)
    for value in (True, False, True):
        out = f(x, eager.tensor(value))
        assert out.shape == ((1,) if value else (0,))


def test_boolean_mask_mismatch_is_an_index_error_and_zero_size_dims_select_nothing():
    x = eager.arange(6).reshape(2, 3)
    with pytest.raises(IndexError):
        x[eager.ones(3, dtype=eager.bool)]
    with pytest.raises(IndexError):
        x[eager.ones((2, 3, 1), dtype=eager.bool)]
    assert x[eager.zeros((0, 3), dtype=eager.bool)].shape == (0,)


@pytest.mark.parametrize("a_shape, b_shape, axes", [((2, 0), (0, 3), 1), ((0, 3), (3, 4), 1),
                                                    ((2, 3), (3, 0), 1), ((0,), (0,), 1),
                                                    ((2, 0, 3), (3, 0, 2), ([2, 1], [0, 1]))])
def test_tensordot_on_zero_size_operands(a_shape, b_shape, axes):
    a, b = np.ones(a_shape, np.float32), np.ones(b_shape, np.float32)
    got = eager.tensordot(eager.tensor(a), eager.tensor(b), axes=axes)
    np.testing.assert_array_equal(got.numpy(), np.tensordot(a, b, axes=axes))


@pytest.mark.parametrize("k", [2 ** 62, -(2 ** 62), 2 ** 63 - 1, -(2 ** 63), 3, -2])
def test_eye_with_a_huge_k(k):
    np.testing.assert_array_equal(eager.eye(3, 4, k=k).numpy(), np.eye(3, 4, k=k))


def test_vecdot_keeps_the_dtype_and_checks_sizes():
    a = eager.tensor([[1, 2, 3]], dtype=eager.uint8)
    out = eager.vecdot(a, a)
    assert out.dtype == eager.uint8 and out.tolist() == [14]
    assert eager.linalg.vecdot(eager.ones(3), eager.ones(2, 3)).tolist() == [3.0, 3.0]
    assert eager.vecdot(eager.ones(2, 1), eager.ones(2, 3), axis=-2).shape == (3,)
    with pytest.raises(ValueError, match="vecdot"):
        eager.vecdot(eager.ones(3, 1), eager.ones(3, 2))


def test_standard_forms_with_pytorch_aliases():
    a = np.arange(12).reshape(3, 4)
    x = eager.tensor(a)
    np.testing.assert_array_equal(eager.roll(x, 1).numpy(), np.roll(a, 1))
    np.testing.assert_array_equal(eager.roll(x, (1, -1), axis=(0, 1)).numpy(),
                                  np.roll(a, (1, -1), axis=(0, 1)))
    np.testing.assert_array_equal(eager.roll(x, shifts=2, dims=1).numpy(), np.roll(a, 2, 1))
    np.testing.assert_array_equal(eager.tril(x, k=-1).numpy(), np.tril(a, -1))
    np.testing.assert_array_equal(eager.triu(x, 1).numpy(), np.triu(a, 1))
    np.testing.assert_array_equal(eager.triu(x, diagonal=1).numpy(), np.triu(a, 1))
    np.testing.assert_array_equal(eager.diff(x, axis=0, n=2).numpy(), np.diff(a, n=2, axis=0))
    np.testing.assert_array_equal(eager.diff(x, 1, 0).numpy(), np.diff(a, axis=0))
    np.testing.assert_array_equal(
        eager.count_nonzero(x, axis=(0, 1), keepdims=True).numpy(),
        np.count_nonzero(a, axis=(0, 1), keepdims=True))
    assert eager.count_nonzero(x, dim=1).tolist() == np.count_nonzero(a, axis=1).tolist()
    with pytest.raises(TypeError, match="not both"):
        eager.roll(x, 1, axis=0, dims=0)
    # The Tensor methods keep PyTorch's names.
    assert x.roll(1, 0).tolist() == np.roll(a, 1, 0).tolist()
    assert x.tril(diagonal=-1).tolist() == np.tril(a, -1).tolist()
    assert x.diff(dim=0).tolist() == np.diff(a, axis=0).tolist()


def test_meshgrid_defaults_to_xy_and_returns_a_list():
    a, b = eager.arange(2), eager.arange(3)
    grids = eager.meshgrid(a, b)
    assert isinstance(grids, list)
    for mine, ref in zip(grids, np.meshgrid(np.arange(2), np.arange(3))):
        np.testing.assert_array_equal(mine.numpy(), ref)
    for mine, ref in zip(eager.meshgrid(a, b, indexing="ij"),
                         np.meshgrid(np.arange(2), np.arange(3), indexing="ij")):
        np.testing.assert_array_equal(mine.numpy(), ref)
    assert [g.shape for g in eager.meshgrid([a, b])] == [(2, 3), (2, 3)]  # PyTorch's form


def test_finfo_fields_are_python_numbers():
    for dtype in (eager.float16, eager.float32, eager.float64):
        info = eager.finfo(dtype)
        ref = np.finfo(dtype)
        assert type(info.bits) is int and info.bits == ref.bits
        for field in ("eps", "max", "min", "smallest_normal", "tiny"):
            assert type(getattr(info, field)) is float
            assert getattr(info, field) == float(getattr(ref, field))
        assert info.dtype == dtype
        assert eager.finfo(eager.ones(1, dtype=dtype)).eps == info.eps


def test_pinv_and_matrix_rank_take_a_tensor_rtol_and_empty_matrices():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 3))
    a[1, 2] = a[1, 0]
    rtol = np.array([1e-6, 1e-6])
    got = eager.linalg.pinv(eager.tensor(a), rtol=eager.tensor(rtol))
    np.testing.assert_allclose(got.numpy(), np.linalg.pinv(a, rtol=rtol),
                               atol=1e-5)
    assert eager.linalg.matrix_rank(eager.tensor(a), rtol=eager.tensor(rtol)).tolist() == [3, 2]
    assert eager.linalg.pinv(eager.ones(2, 3, 0)).shape == (2, 0, 3)
    assert eager.linalg.matrix_rank(eager.ones(0, 2, 2)).shape == (0,)


def test_cumulative_functions_honour_dtype():
    x = eager.tensor([3, 4], dtype=eager.uint8)
    out = eager.cumulative_prod(x, dtype=eager.uint8, include_initial=True)
    assert out.dtype == eager.uint8 and out.tolist() == [1, 3, 12]
    assert eager.cumulative_sum(x, dtype=eager.int16).dtype == eager.int16


def test_eye_takes_any_int_k():
    assert eager.eye(0, k=2 ** 63).shape == (0, 0)
    assert eager.eye(2, k=-(2 ** 100)).tolist() == [[0.0, 0.0], [0.0, 0.0]]


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_take_along_axis_wraps_negative_indices_as_numpy(data):
    shape = data.draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    idx_shape = shape[:axis % len(shape)] + (data.draw(st.integers(0, 4)),) \
        + shape[axis % len(shape) + 1:]
    indices = data.draw(arrays(np.int64, idx_shape, elements=st.integers(-n, n - 1)))
    a = np.arange(np.prod(shape)).reshape(shape)
    got = eager.take_along_axis(eager.tensor(a), eager.tensor(indices), axis=axis)
    np.testing.assert_array_equal(got.numpy(), np.take_along_axis(a, indices, axis=axis))


def test_take_along_axis_refuses_indices_outside_minus_n_to_n():
    with pytest.raises(IndexError, match=r"\[-2, 2\)"):
        eager.take_along_axis(eager.tensor([1, 2]), eager.tensor([-3]), axis=0)


def test_mixed_float_dtypes_promote_in_composites_and_solve():
    x32, x64 = eager.tensor([0.0, 2.0]), eager.tensor([-0.0, 3.0], dtype=eager.float64)
    assert eager.copysign(x32, x64).dtype == eager.float64
    assert eager.hypot(x32, x64).dtype == eager.float64
    assert eager.linalg.solve(eager.eye(2), x64).dtype == eager.float64


@pytest.mark.parametrize("a_shape, b_shape, axis", [((4, 3), (2, 4, 3), -1), ((0, 3), (0, 0, 3), -1),
                                                    ((3, 2), (3, 2), -2), ((3,), (5, 3), -1)])
def test_linalg_cross_broadcasts_as_numpy(a_shape, b_shape, axis):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    got = eager.linalg.cross(eager.tensor(a), eager.tensor(b), axis=axis)
    np.testing.assert_allclose(got.numpy(), np.cross(a, b, axis=axis), rtol=1e-12)
