"""Issue 11, part D: bfloat16 tensors through autograd, save/load, `.to` and `@jit`,
written with `import eager as torch` and checked against PyTorch where it is installed
(PyTorch's cpu kernels compute bfloat16 in float32 and round each op's result, as here)."""
import io
import json
import zipfile

import numpy as np
import pytest

import eager as torch
import eager.nn.functional as F
from eager import nn
from jit import jit

pytest.importorskip("ml_dtypes")

RNG = np.random.default_rng(3)
A = RNG.standard_normal((4, 6)).astype(np.float32)
B = RNG.standard_normal((6, 3)).astype(np.float32)
TARGET = np.array([0, 2, 1, 0])

# Each case: the loss a PyTorch program computes from x, written once for both libraries.
CASES = {
    "exp": lambda L, F, x: x.exp().sum(),
    "log": lambda L, F, x: (x.abs() + 1).log().sum(),
    "tanh": lambda L, F, x: x.tanh().sum(),
    "sigmoid": lambda L, F, x: x.sigmoid().sum(),
    "relu": lambda L, F, x: F.relu(x).sum(),
    "softmax": lambda L, F, x: (F.softmax(x, dim=1) * x).sum(),
    "log_softmax": lambda L, F, x: F.log_softmax(x, dim=1).sum(),
    "cross_entropy": lambda L, F, x: F.cross_entropy(x, L.tensor(TARGET)),
    "mse_loss": lambda L, F, x: F.mse_loss(x, x.detach() * 0.5),
    "layer_norm": lambda L, F, x: (F.layer_norm(x, (6,)) * x).sum(),
    "mean": lambda L, F, x: (x * x).mean(),
    "var": lambda L, F, x: x.var(),
    "max": lambda L, F, x: x.max(),
    "matmul": lambda L, F, x: (x @ L.tensor(B).to(x.dtype)).sum(),
    "pow": lambda L, F, x: (x ** 2).sum(),
    "div": lambda L, F, x: (x / (x.abs() + 1)).sum(),
    "gelu": lambda L, F, x: F.gelu(x).sum(),
    "silu": lambda L, F, x: F.silu(x).sum(),
    "linear": lambda L, F, x: F.linear(x, L.tensor(B.T).to(x.dtype),
                                       L.tensor(B[0]).to(x.dtype)).sum(),
    "where_scalar": lambda L, F, x: L.where(x > 0, x, x * 2).sum(),
    "clamp": lambda L, F, x: x.clamp(-0.5, 0.5).sum(),
    "conv2d": lambda L, F, x: F.conv2d(x.reshape(1, 1, 4, 6), L.tensor(
        B[:2, :2].reshape(1, 1, 2, 2)).to(x.dtype)).sum(),
}


def _run(lib, functional, name, dtype):
    x = lib.tensor(A).to(dtype).requires_grad_()
    loss = CASES[name](lib, functional, x)
    loss.backward()
    return loss, x.grad


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_stay_bfloat16_and_track_float64(name):
    loss, grad = _run(torch, F, name, torch.bfloat16)
    assert loss.dtype == torch.bfloat16 and grad.dtype == torch.bfloat16
    want_loss, want_grad = _run(torch, F, name, torch.float64)
    np.testing.assert_allclose(loss.float().item(), want_loss.item(), rtol=5e-2, atol=5e-2)
    np.testing.assert_allclose(grad.float().numpy(), want_grad.numpy(), rtol=5e-2, atol=5e-2)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name):
    pt = pytest.importorskip("torch")
    import torch.nn.functional as PF

    loss, grad = _run(torch, F, name, torch.bfloat16)
    want_loss, want_grad = _run(pt, PF, name, pt.bfloat16)
    np.testing.assert_allclose(loss.float().item(), want_loss.float().item(), rtol=2e-2,
                               atol=2e-2)
    np.testing.assert_allclose(grad.float().numpy(), want_grad.float().numpy(), rtol=2e-2,
                               atol=2e-2)


def test_bfloat16_with_a_python_float_rounds_the_float32_result():
    x = torch.tensor([1.0, 3.0], dtype=torch.bfloat16)
    out = x * 0.1
    assert out.dtype == torch.bfloat16
    # computed in float32 then rounded once: bf16(3 * 0.1), not bf16(3 * bf16(0.1))
    assert out.tolist() == torch.tensor([0.1, 0.3]).to(torch.bfloat16).tolist()


def test_to_bfloat16_round_trips():
    x = torch.tensor([1.0, -2.5, 0.15625, 3e38])
    b = x.to(torch.bfloat16)
    assert b.dtype == torch.bfloat16 and b.to(torch.float32).dtype == torch.float32
    assert b.to(torch.float32).tolist() == [1.0, -2.5, 0.15625, float(np.float32(
        np.array(3e38, np.float32).astype(b.numpy().dtype)))]
    assert b.to(torch.float32).to(torch.bfloat16).tolist() == b.tolist()
    assert torch.tensor([0.5], dtype=torch.bfloat16).dtype == torch.bfloat16
    model = nn.Linear(3, 2).to(torch.bfloat16)
    assert model.weight.dtype == torch.bfloat16 and model.weight.requires_grad
    assert model.float().weight.dtype == torch.float32


def test_bfloat16_gradient_flows_back_into_float32_leaf():
    w = torch.tensor([0.5, -1.5], requires_grad=True)
    (w.to(torch.bfloat16) * 3.0).sum().backward()
    assert w.grad.dtype == torch.float32 and w.grad.tolist() == [3.0, 3.0]


def test_save_and_load_keep_bfloat16_bits():
    x = torch.tensor([1.5, -2.25, 1e-3, float("inf")]).to(torch.bfloat16)
    model = nn.Linear(2, 2).to(torch.bfloat16)
    buffer = io.BytesIO()
    torch.save({"x": x, "model": model.state_dict()}, buffer)
    buffer.seek(0)
    back = torch.load(buffer)
    assert back["x"].dtype == torch.bfloat16
    np.testing.assert_array_equal(back["x"].numpy().view(np.uint16), x.numpy().view(np.uint16))
    fresh = nn.Linear(2, 2).to(torch.bfloat16)
    fresh.load_state_dict(back["model"])
    assert fresh.weight.tolist() == model.weight.tolist()


def test_load_validates_bfloat16_entries(tmp_path):
    path = tmp_path / "bad.eager"
    manifest = {"format": "eager-jit checkpoint", "version": 1,
                "root": {"tensor": 0, "dtype": "bfloat16", "shape": [3], "device": "cpu"}}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        with zf.open("tensors/0.npy", "w") as f:
            np.save(f, np.zeros(3, np.float16))   # two bytes an element, but not the bits
    with pytest.raises(torch.LoadError, match=r"holds float16\[3\] but the manifest says "
                                              r"bfloat16\[3\]"):
        torch.load(path)


def test_torch_reads_what_eager_saves_as_the_same_numbers():
    pt = pytest.importorskip("torch")
    x = torch.tensor([1.5, -2.25, 7.0]).to(torch.bfloat16)
    buffer = io.BytesIO()
    torch.save({"x": x}, buffer)
    buffer.seek(0)
    got = torch.load(buffer)["x"]
    want = pt.tensor([1.5, -2.25, 7.0]).to(pt.bfloat16)
    assert got.float().tolist() == want.float().tolist()


def _train(use_jit):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).to(torch.bfloat16)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.tensor(A[:, :4] + A[:, 2:]).to(torch.bfloat16)
    y = torch.tensor([0, 1, 2, 1])

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y) + 0.01 * (model[0].weight ** 2).sum()
        loss.backward()
        opt.step()
        return loss

    run = jit(step) if use_jit else step
    losses = [run(x, y) for _ in range(4)]
    return losses, model, run


def test_jit_replays_of_a_bfloat16_training_step_equal_eager():
    eager_losses, eager_model, _ = _train(False)
    jit_losses, jit_model, run = _train(True)
    assert run.cache_info().hits == 3
    assert [v.dtype for v in jit_losses] == [torch.bfloat16] * 4
    assert [v.item() for v in jit_losses] == [v.item() for v in eager_losses]
    for a, b in zip(eager_model.parameters(), jit_model.parameters()):
        assert a.dtype == b.dtype == torch.bfloat16
        np.testing.assert_array_equal(a.detach().float().numpy(), b.detach().float().numpy())


def test_long_sums_accumulate_in_float32_as_torch():
    x = torch.ones(1000, dtype=torch.bfloat16)
    assert x.sum().item() == 1000 and x.mean().item() == 1.0
    assert x.cumsum(0)[-1].item() == 1000
    assert x.reshape(100, 10).sum(0).tolist() == [100] * 10
    small = torch.full((4000,), 0.01).to(torch.bfloat16)
    assert abs(small.sum().item() - 40) < 0.5
    f = jit(lambda t: t.sum() * t.mean())
    assert f(x).item() == f(x).item() == 1000
    pt = pytest.importorskip("torch")
    want = pt.full((4000,), 0.01).to(pt.bfloat16).sum().float().item()
    assert small.sum().float().item() == want
