"""uint16, uint32, uint64: dtypes, Array API promotion, creation, limits, bit ops, sums,
casts, fused C code and checkpoints."""
import numpy as np
import pytest

import eager
from jit import jit

UINTS = [eager.uint8, eager.uint16, eager.uint32, eager.uint64]


@pytest.mark.parametrize("a, b, expected", [
    ("uint8", "uint16", "uint16"), ("uint16", "uint32", "uint32"), ("uint32", "uint64", "uint64"),
    ("uint8", "int8", "int16"), ("uint16", "int16", "int32"), ("uint32", "int32", "int64"),
    ("uint16", "int64", "int64"), ("uint64", "uint8", "uint64"), ("uint32", "float32", "float32"),
    ("uint64", "bool", "uint64"),
])
def test_promotion_table_of_the_array_api(a, b, expected):
    x, y = eager.ones(2, dtype=a), eager.ones(2, dtype=b)
    assert eager.result_type(x, y) == np.dtype(expected)
    assert (x + y).dtype == np.dtype(expected)


@pytest.mark.parametrize("signed", ["int8", "int16", "int32", "int64"])
def test_uint64_with_a_signed_integer_has_no_promotion(signed):
    x, y = eager.ones(2, dtype=eager.uint64), eager.ones(2, dtype=signed)
    with pytest.raises(eager.DTypeError, match=f"uint64 and {signed}"):
        x + y
    with pytest.raises(TypeError):
        eager.result_type(eager.uint64, signed)


def test_python_ints_stay_weak_and_are_range_checked():
    x = eager.tensor([1, 2], dtype=eager.uint16)
    assert (x + 1).dtype == eager.uint16
    assert (x * 2.5).dtype == eager.float32
    with pytest.raises(eager.DTypeError, match="out of range for a uint16"):
        x + 70000


@pytest.mark.parametrize("dtype", UINTS)
def test_creation_and_iinfo(dtype):
    info = eager.iinfo(dtype)
    assert (info.min, info.max, info.bits) == (0, np.iinfo(dtype).max, dtype.itemsize * 8)
    assert eager.zeros(3, dtype=dtype).dtype == dtype
    assert eager.full((2,), info.max, dtype=dtype).tolist() == [info.max, info.max]
    assert eager.arange(4, dtype=dtype).tolist() == [0, 1, 2, 3]
    assert eager.asarray(np.array([7], dtype=dtype)).dtype == dtype
    assert eager.isdtype(dtype, "unsigned integer") and not eager.isdtype(dtype, "signed integer")


def test_uint64_top_values_are_exact():
    top = 2**64 - 1
    x = eager.tensor([top, 2**63], dtype=eager.uint64)
    assert x.tolist() == [top, 2**63]
    assert (x >> 63).tolist() == [1, 1]
    assert (x & 0xFF).tolist() == [0xFF, 0]


@pytest.mark.parametrize("dtype", UINTS)
@pytest.mark.parametrize("op", ["bitwise_and", "bitwise_or", "bitwise_xor",
                                "bitwise_left_shift", "bitwise_right_shift"])
def test_bitwise_ops_match_numpy(dtype, op):
    rng = np.random.default_rng(0)
    a = rng.integers(0, np.iinfo(dtype).max, 20, dtype=dtype, endpoint=True)
    b = rng.integers(0, dtype.itemsize * 8 + 3, 20).astype(dtype)
    got = getattr(eager, op)(eager.asarray(a), eager.asarray(b))
    want = getattr(np, op.replace("bitwise_left_shift", "left_shift")
                   .replace("bitwise_right_shift", "right_shift"))(a, b)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal((~eager.asarray(a)).numpy(), ~a)


@pytest.mark.parametrize("dtype", UINTS)
def test_sum_and_prod_accumulate_in_uint64(dtype):
    x = eager.tensor([200, 100, 3], dtype=dtype)
    assert x.sum().dtype == eager.uint64 and x.sum().item() == 303
    assert eager.prod(x).dtype == eager.uint64 and eager.prod(x).item() == 60000
    assert eager.sum(x, dtype=dtype).dtype == dtype
    assert eager.tensor([1, 2], dtype=eager.int16).sum().dtype == eager.int64


@pytest.mark.parametrize("dtype", UINTS)
def test_float_to_uint_casts_saturate(dtype):
    x = eager.tensor([-5.0, 3.7, 1e30, float("nan")], dtype=eager.float64)
    assert x.to(dtype).tolist() == [0, 3, np.iinfo(dtype).max, 0]


@pytest.mark.parametrize("dtype", [eager.uint16, eager.uint32, eager.uint64])
def test_fused_c_code_matches_eager(dtype):
    def f(a, b):
        return ((a * 3 + b) >> 1) ^ (b | 5), (a.to(eager.float64) * 1e30).to(dtype)

    fast = jit(f)
    top = np.iinfo(dtype).max
    a = eager.tensor([1, 2, top // 3, top], dtype=dtype)
    b = eager.tensor([5, top, 7, 0], dtype=dtype)
    want = f(a, b)
    for _ in range(2):
        got = fast(a, b)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert fast.cache_info().hits == 1


def test_fused_literal_above_int64_max():
    top = 2**64 - 1
    fast = jit(lambda a: (a ^ top) + 1)
    a = eager.tensor([0, 5, top], dtype=eager.uint64)
    for _ in range(2):
        assert fast(a).tolist() == [0, top - 4, 1]


def test_checkpoint_round_trip(tmp_path):
    state = {f"x{d.name}": eager.tensor([0, np.iinfo(d).max], dtype=d) for d in UINTS}
    eager.save(state, tmp_path / "u.ckpt")
    back = eager.load(tmp_path / "u.ckpt")
    for name, x in state.items():
        assert back[name].dtype == x.dtype and back[name].tolist() == x.tolist()


def test_graph_prints_short_uint_types():
    import tracer

    g = tracer.trace(lambda a: a + 1, eager.ones(3, dtype=eager.uint32))
    assert "u32[3]" in str(g)


def test_cumulative_sums_accumulate_like_sum():
    x = eager.tensor([200, 100], dtype=eager.uint8)
    assert eager.cumulative_sum(x).dtype == eager.uint64
    assert eager.cumulative_sum(x).tolist() == [200, 300]
    assert eager.cumulative_prod(x).tolist() == [200, 20000]
    assert eager.cumsum(eager.tensor([2**63, 1], dtype=eager.uint64), 0).tolist() == [2**63, 2**63 + 1]
