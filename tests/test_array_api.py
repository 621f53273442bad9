"""The Array API 2024.12 additions checked against numpy: bitwise operators and
functions, signbit/nextafter/copysign/hypot (with special values), repeat, unstack,
cumulative_sum/prod, the unique_* family and the inspection object."""
import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eager
from eager.autograd import gradcheck
from jit import jit

INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8"]
FLOAT_DTYPES = ["float32", "float64"]


def int_pairs():
    return st.sampled_from(INT_DTYPES).flatmap(lambda dt: st.tuples(
        hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)),
        hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=1, max_side=1))))


def float_pairs(dtype):
    return hnp.array_shapes(min_dims=0, max_dims=3, max_side=4).flatmap(lambda shape: st.tuples(
        *[hnp.arrays(dtype, shape, elements=st.floats(width=int(dtype[-2:])))] * 2))


@settings(max_examples=40, deadline=None)
@given(int_pairs(), st.sampled_from(["and", "or", "xor"]))
def test_bitwise_functions_and_operators_match_numpy(pair, which):
    a, b = pair
    fn, symbol = {"and": (np.bitwise_and, "__and__"), "or": (np.bitwise_or, "__or__"),
                  "xor": (np.bitwise_xor, "__xor__")}[which]
    expected = fn(a, b)
    ours = getattr(eager, f"bitwise_{which}")(eager.asarray(a), eager.asarray(b))
    via_operator = getattr(eager.asarray(a), symbol)(eager.asarray(b))
    assert ours.dtype == expected.dtype
    np.testing.assert_array_equal(ours.numpy(), expected)
    np.testing.assert_array_equal(via_operator.numpy(), expected)


@settings(max_examples=40, deadline=None)
@given(int_pairs(), st.booleans())
def test_shifts_match_numpy_for_every_shift_count(pair, left):
    a, b = pair
    b = np.abs(b.astype(np.int64)).astype(a.dtype) if a.dtype.kind == "i" else b
    b = b % (8 * a.dtype.itemsize + 3)  # counts past the width are defined too
    fn = np.left_shift if left else np.right_shift
    ours = (eager.asarray(a) << eager.asarray(b)) if left else (eager.asarray(a) >> eager.asarray(b))
    np.testing.assert_array_equal(ours.numpy(), fn(a, b))


def test_bitwise_ops_fuse_under_jit_and_agree_with_eager():
    a = eager.tensor([5, -3, 7, 1 << 40])
    b = eager.tensor([1, 2, 70, 63])
    f = jit(lambda a, b: ((a << b) ^ (a >> b)) | (a & 3))
    expected = ((a.numpy() << b.numpy()) ^ (a.numpy() >> b.numpy())) | (a.numpy() & 3)
    expected[2] = (0 ^ 0) | (7 & 3)  # numpy: shifting by >= 64 gives 0 (7 >> 70 is 0)
    for _ in range(2):
        np.testing.assert_array_equal(f(a, b).numpy(), expected)


def test_bitwise_on_floats_raises_a_named_error():
    with pytest.raises(eager.DTypeError, match=r"\^: only bool or integer tensors"):
        eager.tensor([1.0]) ^ eager.tensor([2.0])
    with pytest.raises(eager.DTypeError, match="bitwise_left_shift"):
        eager.bitwise_left_shift(eager.tensor([1.0]), eager.tensor([1.0]))


def test_inplace_shift_updates_the_tensor():
    x = eager.tensor([1, 2])
    x <<= 2
    assert x.tolist() == [4, 8]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(FLOAT_DTYPES).flatmap(float_pairs))
def test_float_bit_functions_match_numpy(pair):
    a, b = pair
    ea, eb = eager.asarray(a), eager.asarray(b)
    np.testing.assert_array_equal(eager.signbit(ea).numpy(), np.signbit(a))
    np.testing.assert_array_equal(eager.nextafter(ea, eb).numpy(), np.nextafter(a, b))
    np.testing.assert_array_equal(eager.copysign(ea, eb).numpy(), np.copysign(a, b))
    np.testing.assert_allclose(eager.hypot(ea, eb).numpy(), np.hypot(a, b), rtol=1e-6)


@pytest.mark.parametrize("x1, x2, expected", [
    (math.inf, math.nan, math.inf), (math.nan, -math.inf, math.inf),
    (math.nan, 1.0, math.nan), (0.0, 0.0, 0.0), (-0.0, -0.0, 0.0),
    (3e307, 4e307, 5e307), (3e-200, 4e-200, 5e-200), (1e30, 1.0, 1e30)])
def test_hypot_special_values(x1, x2, expected):
    out = eager.hypot(eager.tensor([x1], dtype=eager.float64),
                      eager.tensor([x2], dtype=eager.float64)).item()
    assert (math.isnan(out) and math.isnan(expected)) or out == pytest.approx(expected)
    assert not math.copysign(1.0, out) < 0 or math.isnan(out)


@pytest.mark.parametrize("x, expected", [
    (-0.0, True), (0.0, False), (-math.inf, True), (math.inf, False),
    (-math.nan, True), (math.nan, False), (-1e-45, True)])
def test_signbit_special_values(x, expected):
    assert eager.signbit(eager.tensor([x])).item() is expected


@pytest.mark.parametrize("x1, x2, expected", [
    (1.0, -0.0, -1.0), (-2.0, 0.0, 2.0), (math.inf, -1.0, -math.inf),
    (0.0, -math.nan, -0.0)])
def test_copysign_special_values(x1, x2, expected):
    out = eager.copysign(eager.tensor([x1]), eager.tensor([x2])).item()
    assert out == expected and math.copysign(1.0, out) == math.copysign(1.0, expected)


def test_hypot_and_copysign_gradients():
    x = eager.tensor([1.0, -2.0, 0.5], dtype=eager.float64, requires_grad=True)
    y = eager.tensor([-3.0, 4.0, 0.25], dtype=eager.float64, requires_grad=True)
    assert gradcheck(eager.hypot, (x, y))
    assert gradcheck(lambda a: eager.copysign(a, y), (x,))


def test_new_elementwise_functions_trace_and_jit():
    f = jit(lambda a, b: eager.hypot(a, b) + eager.copysign(a, b) + eager.signbit(b))
    a, b = eager.tensor([3.0, -1.0]), eager.tensor([4.0, -0.0])
    for _ in range(2):
        np.testing.assert_allclose(f(a, b).numpy(), [5.0 + 3.0, 1.0 - 1.0 + 1.0])


@settings(max_examples=30, deadline=None)
@given(hnp.arrays("int32", hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)),
       st.integers(0, 3), st.data())
def test_repeat_and_unstack_match_numpy(a, repeats, data):
    axis = data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
    np.testing.assert_array_equal(eager.repeat(eager.asarray(a), repeats, axis=axis).numpy(),
                                  np.repeat(a, repeats, axis=axis))
    axis = 0 if axis is None else axis
    parts = eager.unstack(eager.asarray(a), axis=axis)
    assert isinstance(parts, tuple) and len(parts) == a.shape[axis]
    for ours, expected in zip(parts, np.moveaxis(a, axis, 0)):
        np.testing.assert_array_equal(ours.numpy(), expected)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays("float64", hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                  elements=st.floats(-3, 3)),
       st.booleans(), st.booleans(), st.data())
def test_cumulative_sum_and_prod_match_numpy(a, include_initial, prod, data):
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
    fn = eager.cumulative_prod if prod else eager.cumulative_sum
    expected = (np.cumprod if prod else np.cumsum)(a, axis=axis)
    if include_initial:
        shape = list(a.shape)
        shape[axis] = 1
        expected = np.concatenate([np.full(shape, 1.0 if prod else 0.0), expected], axis=axis)
    np.testing.assert_allclose(fn(eager.asarray(a), axis=axis,
                                  include_initial=include_initial).numpy(), expected)


def test_cumulative_sum_dtype_axis_rules_and_gradient():
    assert eager.cumulative_sum(eager.tensor([1, 2], dtype=eager.int8)).dtype == eager.int64
    with pytest.raises(ValueError, match="cumulative_sum: axis is required"):
        eager.cumulative_sum(eager.ones(2, 2))
    x = eager.tensor([1.0, 2.0, 3.0], dtype=eager.float64, requires_grad=True)
    assert gradcheck(lambda t: eager.cumulative_sum(t, include_initial=True), (x,))


@settings(max_examples=30, deadline=None)
@given(hnp.arrays("int8", hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                  elements=st.integers(-3, 3)))
def test_unique_family_matches_numpy(a):
    values, index, inverse, counts = np.unique(a.reshape(-1), return_index=True,
                                               return_inverse=True, return_counts=True)
    r = eager.unique_all(eager.asarray(a))
    np.testing.assert_array_equal(r.values.numpy(), values)
    np.testing.assert_array_equal(r.indices.numpy(), index)
    assert r.inverse_indices.shape == a.shape
    np.testing.assert_array_equal(r.inverse_indices.numpy().reshape(-1), inverse.reshape(-1))
    np.testing.assert_array_equal(r.counts.numpy(), counts)
    np.testing.assert_array_equal(eager.unique_values(eager.asarray(a)).numpy(), values)
    np.testing.assert_array_equal(eager.unique_counts(eager.asarray(a)).counts.numpy(), counts)
    assert eager.unique_inverse(eager.asarray(a)).inverse_indices.shape == a.shape


def test_unique_values_keeps_each_nan():
    out = eager.unique_values(eager.tensor([math.nan, 1.0, math.nan]))
    assert out.shape == (3,)


def test_real_conj_imag_positive_of_real_tensors():
    x = eager.tensor([1.5, -2.0])
    assert eager.real(x).tolist() == eager.conj(x).tolist() == eager.positive(x).tolist() == [1.5, -2.0]
    assert eager.imag(x).tolist() == [0.0, 0.0]
    assert eager.positive(x) is not x


def test_namespace_info_and_version():
    assert eager.__array_api_version__ == "2024.12"
    info = eager.__array_namespace_info__()
    assert info.default_device() in info.devices()
    assert info.default_dtypes()["integral"] == eager.int64
    assert set(info.dtypes(kind="integral")) == {"int8", "int16", "int32", "int64", "uint8",
                                                 "uint16", "uint32", "uint64"}
    assert set(info.dtypes(kind="real floating")) == {"float32", "float64"}
    assert set(info.dtypes(kind="complex floating")) == {"complex64", "complex128"}
    assert not eager.isdtype(eager.float32, "complex floating")
    with pytest.raises(ValueError, match="unknown kind 'ints'"):
        info.dtypes(kind="ints")
    for dtype in info.dtypes().values():
        eager.empty(1, dtype=dtype)


def spd_matrices():
    """Stacks of well-conditioned symmetric positive-definite float64 matrices."""
    return st.tuples(st.integers(1, 4), st.integers(0, 2)).flatmap(lambda nb: hnp.arrays(
        "float64", (nb[1], nb[0], nb[0]) if nb[1] else (nb[0], nb[0]),
        elements=st.floats(-1, 1))).map(
        lambda a: a @ np.swapaxes(a, -1, -2) + a.shape[-1] * np.eye(a.shape[-1]))


@settings(max_examples=25, deadline=None)
@given(spd_matrices())
def test_linalg_matches_numpy(a):
    x = eager.asarray(a)
    np.testing.assert_allclose(eager.linalg.inv(x).numpy(), np.linalg.inv(a), atol=1e-10)
    np.testing.assert_allclose(eager.linalg.det(x).numpy(), np.linalg.det(a), rtol=1e-10)
    sign, logabs = eager.linalg.slogdet(x)
    np.testing.assert_allclose(sign.numpy(), np.linalg.slogdet(a)[0])
    np.testing.assert_allclose(logabs.numpy(), np.linalg.slogdet(a)[1], atol=1e-10)
    np.testing.assert_allclose(eager.linalg.cholesky(x).numpy(), np.linalg.cholesky(a),
                               atol=1e-10)
    np.testing.assert_allclose(eager.linalg.eigvalsh(x).numpy(), np.linalg.eigvalsh(a),
                               atol=1e-10)
    u, s, vh = eager.linalg.svd(x, full_matrices=False)
    np.testing.assert_allclose((u.numpy() * s.numpy()[..., None, :]) @ vh.numpy(), a,
                               atol=1e-10)
    q, r = eager.linalg.qr(x)
    np.testing.assert_allclose(q.numpy() @ r.numpy(), a, atol=1e-10)
    b = np.ones(a.shape[:-1] + (2,))
    np.testing.assert_allclose(eager.linalg.solve(x, eager.asarray(b)).numpy(),
                               np.linalg.solve(a, b), atol=1e-10)
    np.testing.assert_allclose(eager.linalg.pinv(x).numpy(), np.linalg.pinv(a), atol=1e-8)
    np.testing.assert_array_equal(eager.linalg.matrix_rank(x).numpy(),
                                  np.linalg.matrix_rank(a))
    np.testing.assert_allclose(eager.linalg.matrix_power(x, -2).numpy(),
                               np.linalg.matrix_power(a, -2), atol=1e-10)


A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])


@pytest.mark.parametrize("fn", [
    eager.linalg.inv, eager.linalg.det, lambda a: eager.linalg.slogdet(a).logabsdet,
    lambda a: eager.linalg.cholesky((a + a.mT) * 0.5), lambda a: eager.linalg.eigvalsh(
        (a + a.mT) * 0.5), eager.linalg.svdvals,
    lambda a: eager.linalg.solve(a, eager.tensor([1.0, 2.0, 3.0], dtype=eager.float64))],
    ids=["inv", "det", "slogdet", "cholesky", "eigvalsh", "svdvals", "solve"])
def test_linalg_gradcheck(fn):
    assert gradcheck(fn, (eager.tensor(A, requires_grad=True),))


def test_linalg_under_jit_and_errors():
    f = jit(lambda a: eager.linalg.det(a) + eager.linalg.inv(a).sum())
    a = eager.tensor(A)
    for _ in range(2):
        assert f(a).item() == pytest.approx(np.linalg.det(A) + np.linalg.inv(A).sum())
    with pytest.raises(eager.ShapeError, match=r"inv: expected a stack of square matrices"):
        eager.linalg.inv(eager.ones(2, 3))


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_fft_frequencies_and_shifts_match_numpy(n):
    np.testing.assert_allclose(eager.fft.fftfreq(n, d=0.3, dtype=eager.float64).numpy(),
                               np.fft.fftfreq(n, 0.3))
    np.testing.assert_allclose(eager.fft.rfftfreq(n, d=0.3, dtype=eager.float64).numpy(),
                               np.fft.rfftfreq(n, 0.3))
    a = np.arange(n * 3).reshape(n, 3)
    np.testing.assert_array_equal(eager.fft.fftshift(eager.asarray(a)).numpy(), np.fft.fftshift(a))
    np.testing.assert_array_equal(eager.fft.ifftshift(eager.asarray(a), axes=0).numpy(),
                                  np.fft.ifftshift(a, axes=0))


@settings(max_examples=20, deadline=None)
@given(hnp.arrays("float64", st.tuples(st.integers(0, 2), st.integers(1, 4), st.integers(1, 4)),
                  elements=st.floats(-2, 2)), st.sampled_from(["fro", "nuc", 1, -1, 2, -2]))
def test_standard_linalg_spellings_match_numpy(a, ord):
    x = eager.asarray(a)
    np.testing.assert_allclose(eager.linalg.matrix_norm(x, ord=ord, keepdims=True).numpy(),
                               np.linalg.norm(a, ord=ord, axis=(-2, -1), keepdims=True),
                               atol=1e-10)
    np.testing.assert_allclose(eager.linalg.vector_norm(x, axis=-1, keepdims=True).numpy(),
                               np.linalg.norm(a, axis=-1, keepdims=True), atol=1e-10)
    np.testing.assert_array_equal(eager.linalg.diagonal(x, offset=1).numpy(),
                                  np.diagonal(a, 1, -2, -1))
    np.testing.assert_allclose(eager.linalg.trace(x, offset=-1).numpy(),
                               np.trace(a, -1, -2, -1), atol=1e-12)


def test_from_dlpack_shares_memory_with_numpy_and_copy_copies():
    a = np.arange(4, dtype=np.float32)
    shared, copied = eager.from_dlpack(a), eager.from_dlpack(a, copy=True)
    a[1] = 9.0
    assert shared.tolist() == [0.0, 9.0, 2.0, 3.0] and copied.tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(eager.ArgumentError, match="from_dlpack: list is not a DLPack producer"):
        eager.from_dlpack([1, 2])
