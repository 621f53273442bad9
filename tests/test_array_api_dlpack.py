"""DLPack: Tensor.__dlpack__ / __dlpack_device__ and eager.from_dlpack, round trips with
numpy and (when installed) torch, sharing memory unless a copy is asked for."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import eager
from eager.dlpack import DLPackError

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32",
          "float64"]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(DTYPES).flatmap(
    lambda d: arrays(d, array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))))
def test_numpy_round_trip_shares_memory(a):
    t = eager.from_dlpack(a)
    assert t.shape == a.shape and t.dtype == a.dtype
    back = np.from_dlpack(t)
    np.testing.assert_array_equal(back, a)
    if a.size:
        assert np.shares_memory(back, a)


def test_writes_through_both_ways():
    a = np.arange(4.0)
    t = eager.from_dlpack(a)
    a[0] = 9.0
    assert t.tolist() == [9.0, 1.0, 2.0, 3.0]
    np.from_dlpack(t)[1] = -1.0
    assert a.tolist() == [9.0, -1.0, 2.0, 3.0]


def test_copy_true_does_not_share():
    a = np.arange(3.0)
    t = eager.from_dlpack(a, copy=True)
    a[0] = 5.0
    assert t.tolist() == [0.0, 1.0, 2.0]
    capsule_copy = np.from_dlpack(eager.tensor([1.0, 2.0]), copy=True)
    assert capsule_copy.tolist() == [1.0, 2.0]


def test_dunder_dlpack_keywords():
    t = eager.arange(6).reshape(2, 3)
    assert t.__dlpack_device__() == (1, 0)
    for kwargs in ({}, {"max_version": (1, 0)}, {"max_version": (0, 0)},
                   {"dl_device": (1, 0)}, {"copy": True}, {"copy": False},
                   {"max_version": (2, 0), "dl_device": (1, 0), "copy": None}):
        capsule = t.__dlpack__(**kwargs)
        assert type(capsule).__name__ == "PyCapsule"
    with pytest.raises(DLPackError, match="stream"):
        t.__dlpack__(stream=1)
    with pytest.raises(BufferError, match="DLPack device"):
        t.__dlpack__(dl_device=(4, 0))


def test_views_and_read_only_views_export():
    base = eager.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(np.from_dlpack(base[:, 1::2]), np.arange(12.0).reshape(3, 4)[:, 1::2])
    expanded = eager.ones(3).expand(2, 3)
    np.testing.assert_array_equal(np.from_dlpack(expanded), np.ones((2, 3)))


def test_from_dlpack_of_a_tensor_and_errors():
    t = eager.tensor([1, 2, 3])
    u = eager.from_dlpack(t)
    u[0] = 7
    assert t.tolist() == [7, 2, 3]
    assert eager.from_dlpack(t, device="cpu").device == "cpu"
    with pytest.raises(TypeError, match="not a DLPack producer"):
        eager.from_dlpack([1, 2])
    if "cuda" not in eager.__array_namespace_info__().devices():
        with pytest.raises(BufferError, match="copy=False"):
            eager.from_dlpack(t, device="cuda", copy=False)


def test_torch_round_trip_without_copy():
    torch = pytest.importorskip("torch")
    source = torch.arange(6.0).reshape(2, 3)
    t = eager.from_dlpack(source)
    source[0, 0] = 42.0
    assert t.tolist() == [[42.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    back = torch.from_dlpack(eager.tensor([[1.5, 2.5]], dtype=eager.float64))
    assert back.dtype == torch.float64 and back.tolist() == [[1.5, 2.5]]
    mine = eager.zeros(3, dtype=eager.int32)
    torch.from_dlpack(mine)[2] = 5
    assert mine.tolist() == [0, 0, 5]
