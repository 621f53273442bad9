"""Every op's values against numpy on generated shapes and dtypes: broadcasting, zero-size
and 0-d tensors, weak Python scalars, reductions, shape ops, indexing, matmul, ordering."""
import operator
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import eager
from kernels import result_dtype

ALL_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32",
              "float64"]
NUMERIC = ALL_DTYPES[1:]
FLOATS = ["float16", "float32", "float64"]
SIGNED = ["int8", "int16", "int32", "int64"] + FLOATS


def arrays(dtype, shape, elements=None):
    """numpy arrays of dtype and shape with small finite values."""
    dtype = np.dtype(dtype)
    if elements is None:
        if dtype.kind == "f":
            elements = st.floats(-10, 10, width=min(dtype.itemsize * 8, 64))
        elif dtype.kind == "u":
            elements = st.integers(0, 20)
        elif dtype.kind == "i":
            elements = st.integers(-20, 20)
    return hnp.arrays(dtype, shape, elements=elements)


def assert_same(got, expected):
    """Equal values (NaN-aware, float tolerance by dtype), same dtype and shape."""
    expected = np.asarray(expected)
    got_np = got.numpy()
    assert got_np.dtype == expected.dtype, (got_np.dtype, expected.dtype)
    assert got_np.shape == expected.shape, (got_np.shape, expected.shape)
    if expected.dtype.kind == "f":
        rtol = {2: 1e-3, 4: 1e-5, 8: 1e-12}[expected.dtype.itemsize]
        np.testing.assert_allclose(got_np, expected, rtol=rtol, atol=rtol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got_np, expected)


def two_broadcastable(min_side=0):
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                             min_side=min_side, max_side=4)


BINARY = {
    "add": (eager.add, np.add, ALL_DTYPES),
    "sub": (eager.subtract, np.subtract, NUMERIC),
    "mul": (eager.multiply, np.multiply, NUMERIC),
    "maximum": (eager.maximum, np.maximum, NUMERIC),
    "minimum": (eager.minimum, np.minimum, NUMERIC),
    "eq": (eager.equal, np.equal, ALL_DTYPES),
    "ne": (eager.not_equal, np.not_equal, ALL_DTYPES),
    "lt": (eager.less, np.less, NUMERIC),
    "le": (eager.less_equal, np.less_equal, NUMERIC),
    "gt": (eager.greater, np.greater, NUMERIC),
    "ge": (eager.greater_equal, np.greater_equal, NUMERIC),
    "logical_and": (eager.logical_and, np.logical_and, ALL_DTYPES),
    "logical_or": (eager.logical_or, np.logical_or, ALL_DTYPES),
    "logical_xor": (eager.logical_xor, np.logical_xor, ALL_DTYPES),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data(), shapes=two_broadcastable())
def test_binary_ops_match_numpy_with_broadcasting(name, data, shapes):
    fn, np_fn, dtypes = BINARY[name]
    dtype = data.draw(st.sampled_from(dtypes))
    a = data.draw(arrays(dtype, shapes.input_shapes[0]))
    b = data.draw(arrays(dtype, shapes.input_shapes[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np_fn(a, b)
    assert_same(fn(eager.tensor(a), eager.tensor(b)), expected)


@pytest.mark.parametrize("dtype_a,dtype_b", [("int8", "int64"), ("uint8", "int8"),
                                             ("float16", "float32"), ("int32", "float64"),
                                             ("bool", "float32"), ("bool", "int16")])
def test_mixed_tensor_dtypes_promote_like_numpy(dtype_a, dtype_b):
    a, b = np.ones(3, dtype_a), np.ones(3, dtype_b)
    out = eager.tensor(a) + eager.tensor(b)
    assert out.dtype == np.result_type(a, b)
    assert_same(out, a + b)


@pytest.mark.parametrize("name,op", [("add", operator.add), ("sub", operator.sub),
                                     ("mul", operator.mul), ("div", operator.truediv),
                                     ("floordiv", operator.floordiv), ("mod", operator.mod),
                                     ("pow", operator.pow)])
@given(data=st.data())
def test_weak_python_scalars_keep_the_tensor_dtype(name, op, data):
    dtype = data.draw(st.sampled_from(SIGNED))
    x = data.draw(arrays(dtype, (3,), elements=st.integers(1, 3)))
    scalar = data.draw(st.sampled_from([2, 3, 1.5, 0.5]))
    t = eager.tensor(x)
    for left, right in ((t, scalar), (scalar, t)):
        out = op(left, right)
        expected_dtype = result_dtype(t.dtype, scalar)
        if name == "div" and expected_dtype.kind != "f":
            expected_dtype = np.dtype("float32")
        assert out.dtype == expected_dtype
        lv = x.astype(np.float64) if left is t else scalar
        rv = x.astype(np.float64) if right is t else scalar
        expected = op(lv, rv)
        tol = 2e-3 if out.dtype == np.float16 else 1e-5
        np.testing.assert_allclose(out.numpy().astype(np.float64), expected, rtol=tol)


def test_scalar_promotion_rules():
    i = eager.tensor([1, 2])
    assert (i * 2.5).dtype == eager.float32 and (i * 2.5).tolist() == [2.5, 5.0]
    assert (eager.tensor([True]) + 1).dtype == eager.int64
    assert (eager.ones(2, dtype=eager.float16) * 2.5).dtype == eager.float16
    assert (eager.ones(2, dtype=eager.int8) * 3).dtype == eager.int8
    assert (i / i).dtype == eager.float32
    assert eager.tensor(2.0).dtype == eager.float32 and eager.tensor(2).dtype == eager.int64


@pytest.mark.parametrize("dtype", NUMERIC)
@given(data=st.data())
def test_division_floor_division_and_remainder_match_numpy(dtype, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4))
    a = data.draw(arrays(dtype, shape))
    nonzero = st.integers(1, 9) if np.dtype(dtype).kind in "iu" else st.floats(0.5, 9)
    b = data.draw(arrays(dtype, shape, elements=nonzero))
    ta, tb = eager.tensor(a), eager.tensor(b)
    div_dtype = dtype if np.dtype(dtype).kind == "f" else "float32"
    assert_same(ta / tb, (a.astype(div_dtype) / b.astype(div_dtype)).astype(div_dtype))
    assert_same(ta // tb, np.floor_divide(a, b))
    assert_same(ta % tb, np.remainder(a, b))


UNARY = {
    "neg": (eager.negative, np.negative, SIGNED),
    "abs": (eager.abs, np.abs, NUMERIC),
    "sign": (eager.sign, np.sign, SIGNED),
    "exp": (eager.exp, np.exp, FLOATS),
    "sin": (eager.sin, np.sin, FLOATS),
    "cos": (eager.cos, np.cos, FLOATS),
    "tanh": (eager.tanh, np.tanh, FLOATS),
    "floor": (eager.floor, np.floor, NUMERIC),
    "ceil": (eager.ceil, np.ceil, NUMERIC),
    "square": (eager.square, np.square, NUMERIC),
    "logical_not": (eager.logical_not, np.logical_not, ALL_DTYPES),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_ops_match_numpy(name, data):
    fn, np_fn, dtypes = UNARY[name]
    dtype = data.draw(st.sampled_from(dtypes))
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    x = data.draw(arrays(dtype, shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np_fn(x)
    assert_same(fn(eager.tensor(x)), expected)


@given(x=arrays("float64", hnp.array_shapes(min_dims=0, max_dims=2, max_side=4),
                elements=st.floats(0.1, 50)))
def test_log_sqrt_sigmoid_match_numpy(x):
    t = eager.tensor(x)
    assert_same(t.log(), np.log(x))
    assert_same(t.sqrt(), np.sqrt(x))
    assert_same((-t).sigmoid(), 1 / (1 + np.exp(x)))


def test_float_math_on_integers_gives_float32():
    out = eager.tensor([1, 4]).sqrt()
    assert out.dtype == eager.float32 and out.tolist() == [1.0, 2.0]


def test_sigmoid_does_not_overflow():
    out = eager.tensor([-1000.0, 0.0, 1000.0]).sigmoid()
    assert out.tolist() == [0.0, 0.5, 1.0]


@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3,
                                                                 max_side=3))
def test_where_matches_numpy(data, shapes):
    c = data.draw(arrays("bool", shapes.input_shapes[0]))
    a = data.draw(arrays("float32", shapes.input_shapes[1]))
    b = data.draw(arrays("float32", shapes.input_shapes[2]))
    assert_same(eager.where(eager.tensor(c), eager.tensor(a), eager.tensor(b)),
                np.where(c, a, b))
    assert_same(eager.where(eager.tensor(c), eager.tensor(a), 0.5),
                np.where(c, a, np.float32(0.5)))


@given(x=arrays("float32", hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
       lo=st.floats(-5, 0), hi=st.floats(0, 5))
def test_clip_matches_numpy(x, lo, hi):
    assert_same(eager.clip(eager.tensor(x), lo, hi), np.clip(x, np.float32(lo), np.float32(hi)))
    assert_same(eager.tensor(x).clamp(min=lo), np.maximum(x, np.float32(lo)))


def reduction_case(data, dtypes, min_side=0):
    dtype = data.draw(st.sampled_from(dtypes))
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=min_side, max_side=4))
    x = data.draw(arrays(dtype, shape))
    ndim = len(shape)
    axis = data.draw(st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1) if ndim else st.none(),
        st.lists(st.integers(0, ndim - 1), unique=True).map(tuple) if ndim else st.none()))
    keepdims = data.draw(st.booleans())
    return x, axis, keepdims


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "all", "any"])
@given(data=st.data())
def test_reductions_match_numpy(name, data):
    needs_elements = name in ("max", "min")
    x, axis, keepdims = reduction_case(data, ALL_DTYPES if name in ("all", "any") else NUMERIC,
                                       min_side=1 if needs_elements else 0)
    t = eager.tensor(x)
    kwargs = {}
    if name in ("sum", "prod") and x.dtype.kind in "biu":
        kwargs["dtype"] = np.uint64 if x.dtype.kind == "u" else np.int64  # the Array API's
    expected = getattr(np, name)(x, axis=axis, keepdims=keepdims, **kwargs)
    assert_same(getattr(eager, name)(t, axis=axis, keepdims=keepdims), expected)
    if isinstance(axis, int):
        torch_style = getattr(t, name)(dim=axis, keepdim=keepdims)
        if name in ("max", "min"):
            arg = getattr(np, "arg" + name)(x, axis=axis, keepdims=keepdims)
            assert_same(torch_style.indices, arg)
            torch_style = torch_style.values
        assert_same(torch_style, expected)


@pytest.mark.parametrize("name", ["mean", "var", "std"])
@given(data=st.data())
def test_mean_var_std_match_numpy(name, data):
    x, axis, keepdims = reduction_case(data, ["float32", "float64"], min_side=2)
    expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    got = getattr(eager, name)(eager.tensor(x), axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-4, atol=1e-4)
    assert got.dtype == x.dtype


def test_var_std_correction_and_unbiased():
    x = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 9.0]])
    t = eager.tensor(x)
    np.testing.assert_allclose(eager.var(t, axis=1, correction=1).numpy(), x.var(axis=1, ddof=1))
    np.testing.assert_allclose(t.std(dim=0, unbiased=True).numpy(), x.std(axis=0, ddof=1))
    assert eager.tensor([1, 2, 3, 4]).mean().item() == 2.5


@given(data=st.data())
def test_logsumexp_matches_numpy_and_is_stable(data):
    x, axis, keepdims = reduction_case(data, ["float64"], min_side=1)
    got = eager.logsumexp(eager.tensor(x), axis=axis, keepdims=keepdims)
    expected = np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert eager.tensor([1000.0, 1000.0]).logsumexp().item() == pytest.approx(1000 + np.log(2))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data())
def test_argmax_argmin_match_numpy(name, data):
    dtype = data.draw(st.sampled_from(NUMERIC))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = data.draw(arrays(dtype, shape))
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    keepdims = data.draw(st.booleans())
    expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert_same(getattr(eager, name)(eager.tensor(x), axis=axis, keepdims=keepdims), expected)


@given(data=st.data())
def test_cumsum_sort_argsort_match_numpy(data):
    dtype = data.draw(st.sampled_from(NUMERIC))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
    x = data.draw(arrays(dtype, shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    t = eager.tensor(x)
    cum_dtype = np.int64 if x.dtype.kind in "iu" else x.dtype
    assert_same(eager.cumsum(t, axis=axis), np.cumsum(x, axis=axis, dtype=cum_dtype))
    assert_same(eager.sort(t, axis=axis), np.sort(x, axis=axis, kind="stable"))
    assert_same(eager.argsort(t, axis=axis), np.argsort(x, axis=axis, kind="stable"))
    descending = eager.sort(t, axis=axis, descending=True).numpy()
    np.testing.assert_array_equal(descending, np.flip(np.sort(x, axis=axis), axis=axis))
    values, indices = t.sort(dim=axis)
    assert_same(values, np.sort(x, axis=axis, kind="stable"))
    assert_same(indices, np.argsort(x, axis=axis, kind="stable"))


def test_topk_and_stable_descending_argsort():
    t = eager.tensor([3.0, 1.0, 3.0, 2.0])
    assert eager.argsort(t, descending=True).tolist() == [0, 2, 3, 1]
    values, indices = t.topk(2)
    assert values.tolist() == [3.0, 3.0] and indices.tolist() == [0, 2]


@given(data=st.data())
def test_matmul_matches_numpy_with_batching_and_broadcasting(data):
    dtype = data.draw(st.sampled_from(["int32", "int64", "float32", "float64"]))
    m, k, n = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    one_d_a, one_d_b = data.draw(st.booleans()), data.draw(st.booleans())
    sa = (k,) if one_d_a else batch.input_shapes[0] + (m, k)
    sb = (k,) if one_d_b else batch.input_shapes[1] + (k, n)
    a, b = data.draw(arrays(dtype, sa)), data.draw(arrays(dtype, sb))
    assert_same(eager.tensor(a) @ eager.tensor(b), a @ b)
    assert_same(eager.matmul(eager.tensor(a), eager.tensor(b)), np.matmul(a, b))


@given(x=arrays("float32", hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)),
       data=st.data())
def test_shape_ops_match_numpy(x, data):
    t = eager.tensor(x)
    assert_same(t.reshape(-1), x.reshape(-1))
    assert_same(t.flatten(), x.reshape(-1))
    assert_same(t.T, x.T)
    perm = data.draw(st.permutations(range(x.ndim)))
    assert_same(t.permute(*perm), np.transpose(x, perm))
    assert_same(eager.permute_dims(t, perm), np.transpose(x, perm))
    assert_same(t.squeeze(), np.squeeze(x))
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    assert_same(t.unsqueeze(axis), np.expand_dims(x, axis))
    assert_same(eager.flip(t), np.flip(x))
    if x.ndim:
        d = data.draw(st.integers(0, x.ndim - 1))
        assert_same(t.transpose(0, d), np.swapaxes(x, 0, d))
        assert_same(eager.flip(t, axis=d), np.flip(x, axis=d))
        assert_same(eager.moveaxis(t, 0, d), np.moveaxis(x, 0, d))
    target = data.draw(hnp.broadcastable_shapes(x.shape, max_dims=4, max_side=4).map(
        lambda s: np.broadcast_shapes(s, x.shape)))
    assert_same(t.expand(*target), np.broadcast_to(x, target))


@given(data=st.data())
def test_concat_stack_split_match_numpy(data):
    dtype = data.draw(st.sampled_from(ALL_DTYPES))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
    axis = data.draw(st.integers(0, len(shape) - 1))
    parts = []
    for _ in range(data.draw(st.integers(1, 3))):
        s = list(shape)
        s[axis] = data.draw(st.integers(0, 3))
        parts.append(data.draw(arrays(dtype, tuple(s))))
    tensors = [eager.tensor(p) for p in parts]
    joined = np.concatenate(parts, axis=axis)
    assert_same(eager.concat(tensors, axis=axis), joined)
    assert_same(eager.cat(tensors, dim=axis), joined)
    same = [parts[0]] * 2
    assert_same(eager.stack([eager.tensor(p) for p in same], axis=axis),
                np.stack(same, axis=axis))
    size = data.draw(st.integers(1, 3))
    pieces = eager.tensor(joined).split(size, dim=axis)
    bounds = list(range(size, joined.shape[axis], size))
    expected = np.split(joined, bounds, axis=axis) if joined.shape[axis] else []
    assert len(pieces) == len(expected)
    for got, want in zip(pieces, expected):
        assert_same(got, want)


def test_concat_promotes_mixed_dtypes():
    out = eager.concat([eager.tensor([1, 2]), eager.tensor([0.5])])
    assert out.dtype == eager.float32 and out.tolist() == [1.0, 2.0, 0.5]  # category rule


@st.composite
def basic_keys(draw, shape):
    """A numpy basic-indexing key (ints, slices, None, one Ellipsis) valid for shape."""
    key, dims = [], list(shape)
    used_ellipsis = False
    while dims or draw(st.booleans()):
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis"] if dims
                                    else ["none"]))
        if kind == "int" and dims[0] > 0:
            key.append(draw(st.integers(-dims[0], dims[0] - 1)))
            dims.pop(0)
        elif kind == "slice" or (kind == "int"):
            start = draw(st.none() | st.integers(-5, 5))
            stop = draw(st.none() | st.integers(-5, 5))
            step = draw(st.none() | st.integers(-3, 3).filter(bool))
            key.append(slice(start, stop, step))
            dims.pop(0)
        elif kind == "ellipsis" and not used_ellipsis:
            key.append(Ellipsis)
            used_ellipsis = True
            dims = []
        else:
            key.append(None)
        if len(key) > 6:
            break
    return tuple(key)


@given(data=st.data())
def test_basic_indexing_matches_numpy_and_returns_views(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    x = data.draw(arrays("float32", shape))
    key = data.draw(basic_keys(shape))
    t = eager.tensor(x)
    view = t[key]
    assert_same(view, x[key])
    assert view._base is t
    if view.numel():
        with eager.no_grad():
            view.fill_(7.0)
        expected = x.copy()
        expected[key] = 7.0
        assert_same(t, expected)


@given(data=st.data())
def test_advanced_indexing_matches_numpy(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = data.draw(arrays("int32", shape))
    t = eager.tensor(x)
    idx = data.draw(hnp.arrays(np.int64, data.draw(hnp.array_shapes(min_dims=0, max_dims=2,
                                                                    max_side=3)),
                               elements=st.integers(-shape[0], shape[0] - 1)))
    assert_same(t[idx], x[idx])
    assert_same(t[eager.tensor(idx)], x[idx])
    assert_same(t[idx.tolist()] if idx.ndim else t[int(idx)], x[idx.tolist()] if idx.ndim
                else x[int(idx)])
    mask = data.draw(arrays("bool", shape))
    assert_same(t[mask], x[mask])
    assert_same(t[eager.tensor(mask)], x[mask])
    if len(shape) > 1:
        cols = data.draw(hnp.arrays(np.int64, 2, elements=st.integers(0, shape[1] - 1)))
        assert_same(t[1:, cols], x[1:, cols])
        assert_same(t[:, cols[0], ...], x[:, cols[0], ...])


@given(data=st.data())
def test_setitem_matches_numpy(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = data.draw(arrays("float64", shape))
    t = eager.tensor(x)
    expected = x.copy()
    key = data.draw(basic_keys(shape))
    t[key] = 3.5
    expected[key] = 3.5
    idx = data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=3))
    value = data.draw(arrays("float64", (len(set(idx)),) + shape[1:]))
    unique = sorted(set(idx))
    t[unique] = eager.tensor(value)
    expected[unique] = value
    mask = expected > 0
    t[eager.tensor(mask)] = -1.0
    expected[mask] = -1.0
    assert_same(t, expected)


def test_setitem_casts_value_and_writes_through_views():
    base = eager.zeros(2, 3, dtype=eager.int32)
    row = base[1]
    row[1:] = eager.tensor([7.9, 8.2])
    assert base.tolist() == [[0, 0, 0], [0, 7, 8]]
    flat = base.reshape(-1)
    flat += 1
    assert base.tolist() == [[1, 1, 1], [1, 8, 9]]
    base.T[0, 1] = 5
    assert base.tolist() == [[1, 1, 1], [5, 8, 9]]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_zero_size_and_0d_tensors(dtype):
    empty = eager.zeros(0, 3, dtype=dtype)
    assert (empty == empty).shape == (0, 3)  # noqa: PLR0124  (elementwise ==)
    assert eager.sum(empty, axis=0).shape == (3,)
    assert eager.concat([empty, empty]).shape == (0, 3)
    scalar = eager.ones((), dtype=dtype)
    assert scalar.ndim == 0 and scalar.shape == ()
    assert (scalar + scalar).shape == ()
    assert scalar.item() == 1 and bool(scalar)


def test_gather_scatter_add_take_nonzero_match_numpy():
    x = np.arange(12.0).reshape(3, 4)
    idx = np.array([[0, 3], [1, 1], [2, 0]])
    t = eager.tensor(x)
    assert_same(t.gather(1, eager.tensor(idx)), np.take_along_axis(x, idx, axis=1))
    expected = np.zeros((3, 4))
    np.add.at(expected, (np.arange(3)[:, None], idx), 1.0)
    got = eager.zeros(3, 4, dtype=eager.float64).scatter_add(1, eager.tensor(idx),
                                                             eager.ones(3, 2, dtype=eager.float64))
    assert_same(got, expected)
    assert_same(eager.take(t, eager.tensor([5, 0])), x.reshape(-1)[[5, 0]])
    assert_same(eager.tensor(x > 8).nonzero(), np.argwhere(x > 8))


def test_iteration_and_len():
    t = eager.tensor([[1, 2], [3, 4]])
    assert [row.tolist() for row in t] == [[1, 2], [3, 4]]
    assert len(t) == 2


@given(data=st.data(), shapes=two_broadcastable())
def test_pow_of_two_tensors_matches_numpy(data, shapes):
    dtype = data.draw(st.sampled_from(["float32", "float64"]))
    base = data.draw(arrays(dtype, shapes.input_shapes[0], elements=st.floats(0.1, 4)))
    exponent = data.draw(arrays(dtype, shapes.input_shapes[1], elements=st.floats(-2, 2)))
    assert_same(eager.tensor(base) ** eager.tensor(exponent), np.power(base, exponent))
    ints = data.draw(arrays("int64", shapes.input_shapes[0], elements=st.integers(0, 5)))
    small = data.draw(arrays("int64", shapes.input_shapes[1], elements=st.integers(0, 3)))
    assert_same(eager.tensor(ints) ** eager.tensor(small), np.power(ints, small))


@given(x=arrays("float64", hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3)),
       data=st.data())
def test_pad_matches_numpy(x, data):
    widths = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2)))
                   for _ in range(x.ndim))
    value = data.draw(st.floats(-3, 3))
    assert_same(eager.pad(eager.tensor(x), widths, value),
                np.pad(x, widths, constant_values=value))


@given(data=st.data())
def test_tensordot_outer_vecdot_match_numpy(data):
    m, k, n = (data.draw(st.integers(1, 4)) for _ in range(3))
    a = data.draw(arrays("float64", (m, k)))
    b = data.draw(arrays("float64", (k, n)))
    v = data.draw(arrays("float64", (k,)))
    w = data.draw(arrays("float64", (m, k)))
    ta, tb = eager.tensor(a), eager.tensor(b)
    np.testing.assert_allclose(eager.tensordot(ta, tb, axes=1).numpy(),
                               np.tensordot(a, b, axes=1), atol=1e-12)
    np.testing.assert_allclose(eager.tensordot(ta, eager.tensor(w), axes=([0, 1], [0, 1])).numpy(),
                               np.tensordot(a, w, axes=([0, 1], [0, 1])), atol=1e-12)
    assert_same(eager.outer(eager.tensor(v), eager.tensor(v)), np.outer(v, v))
    np.testing.assert_allclose(eager.vecdot(ta, eager.tensor(v)).numpy(), a @ v, atol=1e-12)
