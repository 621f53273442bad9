"""Tensor basics: creation, dtypes, repr, views and memory sharing, version counter,
devices, the Array API namespace, seeded random numbers, host conversions."""
import subprocess
import sys

import numpy as np
import pytest

import eager
from eager.tensor import wrap


def test_creation_functions_and_default_dtypes():
    assert eager.tensor([[1.0, 2.0]]).dtype == eager.float32
    assert eager.tensor([1, 2]).dtype == eager.int64
    assert eager.tensor([True]).dtype == eager.bool
    assert eager.tensor(np.ones(2, np.float64)).dtype == eager.float64
    assert eager.tensor([1, 2], dtype=eager.float16).dtype == eager.float16
    assert eager.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert eager.ones((2,), dtype="int8").tolist() == [1, 1]
    assert eager.full((2,), 7).dtype == eager.int64
    assert eager.full((2,), 0.5).tolist() == [0.5, 0.5]
    assert eager.empty(3).shape == (3,)
    x = eager.tensor([[1, 2, 3]], dtype=eager.int32)
    assert eager.zeros_like(x).dtype == eager.int32 and eager.ones_like(x).tolist() == [[1] * 3]
    assert eager.full_like(x, 4).tolist() == [[4] * 3] and eager.empty_like(x).shape == (1, 3)
    assert eager.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert eager.arange(1, 2, 0.25).tolist() == [1.0, 1.25, 1.5, 1.75]
    assert eager.arange(5, 0, -2).tolist() == [5, 3, 1]
    np.testing.assert_allclose(eager.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    np.testing.assert_array_equal(eager.eye(2, 3, k=1).numpy(), np.eye(2, 3, k=1))
    assert eager.asarray([1.5]).dtype == eager.float32


@pytest.mark.parametrize("dtype", ["bool", "int8", "int16", "int32", "int64", "uint8",
                                   "float16", "float32", "float64"])
def test_every_dtype_round_trips(dtype):
    values = np.array([0, 1, 1], dtype=dtype)
    t = eager.tensor(values)
    assert t.dtype == np.dtype(dtype) and str(t.dtype) == dtype
    assert getattr(eager, "bool" if dtype == "bool" else dtype) == np.dtype(dtype)
    np.testing.assert_array_equal(t.numpy(), values)
    assert t.astype(eager.float64).dtype == eager.float64
    assert t.to(eager.int32).dtype == eager.int32


def test_repr_follows_pytorch():
    assert repr(eager.tensor([1.0, 2.5])) == "tensor([1.0000, 2.5000])"
    assert repr(eager.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(eager.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(eager.tensor(3.5)) == "tensor(3.5000)"
    assert repr(eager.tensor([1.0], dtype=eager.float64)) == "tensor([1.], dtype=eager.float64)"
    assert repr(eager.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    x = eager.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward>)"
    assert repr(eager.zeros(0)) == "tensor([], dtype=eager.float32)"
    assert repr(wrap(np.ones(1, np.float32), "cuda")) == "tensor([1.], device='cuda')"


def test_metadata_and_host_conversions():
    x = eager.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2 and x.numel() == 6
    assert x.size == 6 and x.size() == (2, 3) and x.size(1) == 3
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2)
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert x[1, 2].item() == 6.0 and float(x[0, 0]) == 1.0 and int(x[1, 1]) == 5
    assert np.asarray(x).shape == (2, 3)
    assert [0, 10, 20][eager.tensor(2)] == 20
    assert x.is_leaf and x.grad_fn is None and x.device == "cpu"


def test_array_namespace_runs_array_api_code():
    def standardize(a):
        xp = a.__array_namespace__()
        centered = a - xp.mean(a, axis=0, keepdims=True)
        return centered / xp.sqrt(xp.mean(centered * centered, axis=0, keepdims=True))

    data = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 7.0]], dtype=np.float32)
    x = eager.asarray(data)
    assert x.__array_namespace__() is eager
    out = standardize(x)
    assert isinstance(out, eager.Tensor)
    np.testing.assert_allclose(out.numpy(), (data - data.mean(0)) / data.std(0), rtol=1e-5)


def test_array_api_dtype_and_float_class_functions():
    x = eager.tensor([1.0, float("nan"), float("inf"), -float("inf")])
    assert eager.isnan(x).tolist() == [False, True, False, False]
    assert eager.isinf(x).tolist() == [False, False, True, True]
    assert eager.isfinite(x).tolist() == [True, False, False, False]
    assert eager.isfinite(eager.tensor([1, 2])).tolist() == [True, True]
    assert eager.finfo(eager.float16).max == np.finfo(np.float16).max
    assert eager.iinfo("uint8").max == 255
    assert eager.result_type(eager.tensor([1], dtype=eager.int8), eager.int16) == eager.int16
    assert eager.result_type(eager.tensor([True]), 2) == eager.int64
    assert eager.can_cast(eager.int8, eager.int64) and not eager.can_cast(eager.int64, eager.int8)
    assert eager.isdtype(eager.uint8, ("bool", "integral"))
    assert eager.isdtype(eager.float32, eager.float32)
    assert not eager.isdtype(eager.float32, "complex floating")
    with pytest.raises(eager.DTypeError, match="isdtype: unknown kind 'complex'"):
        eager.isdtype(eager.float32, "complex")


def test_views_share_memory_with_their_base():
    base = eager.arange(6, dtype=eager.float32)
    for view in (base[1:4], base.reshape(2, 3), base.view(3, 2).T, base.expand(2, 6),
                 base.unsqueeze(0), base[None, ::2], base.detach()):
        assert np.shares_memory(view.numpy(), base.numpy())
    assert not np.shares_memory(base.clone().numpy(), base.numpy())
    reshaped = base.reshape(2, 3)
    reshaped[1] = 0.0
    assert base.tolist() == [0.0, 1.0, 2.0, 0.0, 0.0, 0.0]
    window = base[2:5]
    window *= 10
    assert base.tolist() == [0.0, 1.0, 20.0, 0.0, 0.0, 0.0]
    base.permute(0)[0] = 9.0
    assert base[0].item() == 9.0


def test_version_counter_is_shared_by_views():
    base = eager.zeros(4)
    view = base[1:3]
    assert base._version == 0
    view += 1
    base.zero_()
    base[0] = 1.0
    assert base._version == 3
    assert view.tolist() == [0.0, 0.0]


def test_inplace_methods_write_in_place():
    x = eager.tensor([1.0, -2.0, 3.0])
    same = x.mul_(2).add_(1).sub_(0.5).div_(2).clamp_(min=0.0)
    assert same is x
    assert x.tolist() == [1.25, 0.0, 3.25]
    y = eager.tensor([7, 9])
    y //= 2
    y %= 3
    assert y.tolist() == [0, 1]
    m = eager.tensor([True, False])
    m &= eager.tensor([True, True])
    m |= eager.tensor([False, True])
    m ^= eager.tensor([True, False])
    assert m.tolist() == [False, True]
    z = eager.ones(2, 2)
    z @= eager.tensor([[2.0, 0.0], [0.0, 3.0]])
    assert z.tolist() == [[2.0, 3.0], [2.0, 3.0]]
    w = eager.zeros(2).fill_(4.0)
    w.copy_(eager.tensor([1.0, 2.0]))
    assert w.tolist() == [1.0, 2.0]


def test_reflected_operators_and_unary_operators():
    x = eager.tensor([1.0, 2.0])
    assert (3 - x).tolist() == [2.0, 1.0]
    assert (6 / x).tolist() == [6.0, 3.0]
    assert (2 ** x).tolist() == [2.0, 4.0]
    assert (5 // x).tolist() == [5.0, 2.0] and (5 % x).tolist() == [0.0, 1.0]
    assert (1 + x).tolist() == [2.0, 3.0] and (2 * x).tolist() == [2.0, 4.0]
    assert (-x).tolist() == [-1.0, -2.0] and (+x) is x and abs(-x).tolist() == [1.0, 2.0]
    assert (~eager.tensor([True, False])).tolist() == [False, True]
    assert (~eager.tensor([1, -1])).tolist() == [-2, 0]
    assert ([[1.0, 0.0]] @ eager.eye(2)).tolist() == [[1.0, 0.0]]
    assert ((x > 1) & True).tolist() == [False, True]
    assert (x == 1).tolist() == [True, False] and (x != 1).tolist() == [False, True]
    assert (x <= 1).tolist() == [True, False] and (x >= 2).tolist() == [False, True]


def test_to_and_devices_on_cpu():
    x = eager.tensor([1.0, 2.0])
    assert x.to("cpu") is x and x.cpu() is x
    y = x.to("cpu", copy=True)
    assert y is not x and y.tolist() == x.tolist()
    assert x.to(eager.float64).dtype == eager.float64
    assert x.to(eager.zeros(1, dtype=eager.int32)).dtype == eager.int32
    assert eager.get_default_device() in ("cpu", "cuda")


def test_default_device_can_be_changed():
    previous = eager.get_default_device()
    eager.set_default_device("cpu")
    try:
        assert eager.zeros(1).device == "cpu"
    finally:
        eager.set_default_device(previous)
    with pytest.raises(eager.DeviceError, match="unknown device 'gpu'"):
        eager.set_default_device("gpu")


def test_seeded_random_is_reproducible_and_matches_pcg64():
    eager.manual_seed(123)
    a = eager.rand(4)
    b = eager.randn(2, 2)
    eager.manual_seed(123)
    assert eager.rand(4).tolist() == a.tolist()
    assert eager.randn(2, 2).tolist() == b.tolist()
    rng = np.random.Generator(np.random.PCG64(123))
    np.testing.assert_array_equal(a.numpy(), rng.random(4, dtype=np.float32))
    gen = eager.Generator(seed=7)
    first = eager.rand(3, generator=gen)
    gen.manual_seed(7)
    assert eager.rand(3, generator=gen).tolist() == first.tolist()
    state = gen.get_state()
    later = eager.randn(3, generator=gen)
    gen.set_state(state)
    assert eager.randn(3, generator=gen).tolist() == later.tolist()


def test_same_seed_gives_the_same_numbers_in_a_fresh_process():
    code = ("import eager; eager.manual_seed(5); "
            "print(eager.rand(3).tolist(), eager.randint(0, 100, (4,)).tolist())")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)}
    assert len(runs) == 1
    eager.manual_seed(5)
    assert runs.pop().strip() == str(eager.rand(3).tolist()) + " " + str(
        eager.randint(0, 100, (4,)).tolist())


def test_random_distributions_and_ranges():
    eager.manual_seed(0)
    u = eager.rand(2000)
    assert 0.0 <= u.min().item() and u.max().item() < 1.0
    n = eager.randn(4000, dtype=eager.float64)
    assert abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1) < 0.1
    r = eager.randint(3, 7, (1000,))
    assert r.dtype == eager.int64 and set(r.tolist()) == {3, 4, 5, 6}
    p = eager.randperm(10)
    assert sorted(p.tolist()) == list(range(10))
    assert eager.normal(5.0, 0.1, (100,)).mean().item() == pytest.approx(5.0, abs=0.1)
    assert eager.rand(2, dtype=eager.float16).dtype == eager.float16


def test_detach_clone_requires_grad():
    x = eager.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.detach().numpy())
    c = x.clone()
    assert c.requires_grad and c.grad_fn is not None
    y = eager.tensor([1.0]).requires_grad_()
    assert y.requires_grad and y.is_leaf
    y.requires_grad = False
    assert not y.requires_grad
