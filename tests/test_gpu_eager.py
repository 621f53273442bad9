"""The cupy backend gives the same values and gradients as numpy (needs cupy and a GPU;
skipped cleanly otherwise)."""
import numpy as np
import pytest

import eager

pytestmark = pytest.mark.gpu

OPS = {
    "arith": lambda x, y: (x * y + 2.0) / (y.abs() + 1) - x ** 2,
    "unary": lambda x, y: x.exp().tanh() + y.sigmoid().sqrt() + x.sin().cos(),
    "reduce": lambda x, y: x.sum(dim=1) + y.max(axis=1) + x.var(dim=1) + y.logsumexp(dim=1),
    "matmul": lambda x, y: x @ y.T,
    "shape": lambda x, y: eager.cat([x.T.reshape(-1), y[:, ::2].flatten()]),
    "index": lambda x, y: x[[0, 2, 2]] + y[x > 0].sum(),
    "where_clip": lambda x, y: eager.where(x > y, x, y).clip(-0.5, 0.5),
    "order": lambda x, y: x.sort(dim=1).values + x.argsort(dim=1).astype(eager.float64)
    + x.cumsum(dim=1),
}


def _pair(device):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    return (eager.tensor(x, dtype=eager.float64, device=device, requires_grad=True),
            eager.tensor(y, dtype=eager.float64, device=device, requires_grad=True))


@pytest.mark.parametrize("name", sorted(OPS))
def test_cuda_matches_cpu_values_and_gradients(name):
    results = {}
    for device in ("cpu", "cuda"):
        x, y = _pair(device)
        out = OPS[name](x, y)
        assert out.device == device
        (out * out).sum().backward()
        results[device] = (out.detach().to("cpu").numpy(), x.grad.to("cpu").numpy(),
                           y.grad.to("cpu").numpy())
    for got, want in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_to_moves_data_and_gradients_flow_back():
    x = eager.tensor([1.0, 2.0], requires_grad=True)
    on_gpu = x.to("cuda")
    assert on_gpu.device == "cuda" and "device='cuda'" in repr(on_gpu)
    (on_gpu * 3).sum().backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [3.0, 3.0]
    assert on_gpu.to("cpu").tolist() == [1.0, 2.0]


def test_mixed_devices_raise_device_error_naming_both():
    with pytest.raises(eager.DeviceError, match="add: expected all tensors on one device, "
                                                "got cpu, cuda"):
        eager.ones(2, device="cpu") + eager.ones(2, device="cuda")


def test_creation_random_and_setitem_on_cuda():
    gen = eager.Generator(device="cuda", seed=3)
    a = eager.rand(4, generator=gen)
    gen.manual_seed(3)
    assert a.device == "cuda" and eager.rand(4, generator=gen).tolist() == a.tolist()
    t = eager.zeros(2, 3, device="cuda")
    t[0, 1:] = 5.0
    t[eager.tensor([1], device="cuda")] = eager.ones(3, device="cuda")
    assert t.tolist() == [[0.0, 5.0, 5.0], [1.0, 1.0, 1.0]]
    assert eager.arange(3, device="cuda").tolist() == [0, 1, 2]
