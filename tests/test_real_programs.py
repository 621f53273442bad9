"""Gaps met running public PyTorch programs with `import eager as torch` (pytorch/examples,
nanoGPT, makemore, minGPT, micrograd): each test is a small program in that style, of our
own, checked against torch when it is installed and against eager under `@jit`."""
import io
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import eager as torch
import eager.nn.functional as F
import eager.onnx
from eager import nn, optim
from eager.distributed import destroy_process_group, get_rank, get_world_size, init_process_group
from eager.utils.data import DataLoader, RandomSampler, TensorDataset
from jit import jit


def test_lstm_cells_step_a_python_loop_and_load_torch_state_dicts():
    # time_sequence_prediction: two stacked LSTMCells in double, stepped by hand.
    torch.manual_seed(0)
    cell1, cell2 = nn.LSTMCell(1, 5).double(), nn.LSTMCell(5, 5).double()
    x = torch.randn(3, 7, 1, dtype=torch.double)
    h, c = torch.zeros(3, 5, dtype=torch.double), torch.zeros(3, 5, dtype=torch.double)
    h2, c2 = h, c
    outs = []
    for x_t in x.split(1, dim=1):
        h, c = cell1(x_t.squeeze(1), (h, c))
        h2, c2 = cell2(h, (h2, c2))
        outs.append(h2)
    out = torch.stack(outs, 1)
    out.sum().backward()
    assert out.shape == (3, 7, 5) and out.dtype == torch.double
    assert cell1.weight_ih.grad.shape == (20, 1)
    ref = pytest.importorskip("torch")
    for ours, theirs in ((nn.LSTMCell(3, 4), ref.nn.LSTMCell(3, 4)), (nn.GRUCell(3, 4), ref.nn.GRUCell(3, 4)),
                         (nn.RNNCell(3, 4, nonlinearity="relu"), ref.nn.RNNCell(3, 4, nonlinearity="relu"))):
        ours.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
        xs = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
        a, b = ours(torch.tensor(xs)), theirs(ref.tensor(xs))
        a, b = (a[0], b[0]) if isinstance(a, tuple) else (a, b)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_cells_check_their_input_and_state():
    cell = nn.GRUCell(3, 4)
    assert cell(torch.randn(3)).shape == (4,)       # unbatched, as torch
    with pytest.raises(ValueError, match="GRUCell"):
        cell(torch.randn(2, 5))
    with pytest.raises(ValueError, match="LSTMCell"):
        nn.LSTMCell(3, 4)(torch.randn(2, 3), (torch.zeros(2, 4),))


def test_lbfgs_with_a_closure_minimises_a_quadratic_and_matches_torch():
    target = np.array([1.0, -2.0, 0.5])

    def run(lib, opt_cls):
        w = lib.zeros(3, dtype=lib.float64, requires_grad=True)
        opt = opt_cls([w], lr=0.8, max_iter=5)
        losses = []

        def closure():
            opt.zero_grad()
            loss = ((w - lib.tensor(target)) ** 4).sum() + (w ** 2).sum()
            loss.backward()
            losses.append(loss.item())
            return loss
        for _ in range(3):
            opt.step(closure)
        return losses, w.detach().numpy()
    losses, w = run(torch, optim.LBFGS)
    assert losses[-1] < losses[0] * 0.5
    with pytest.raises(ValueError, match="LBFGS"):
        optim.LBFGS([torch.zeros(1, requires_grad=True)], line_search_fn="backtracking")
    ref = pytest.importorskip("torch")
    ref_losses, ref_w = run(ref, ref.optim.LBFGS)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-9)
    np.testing.assert_allclose(w, ref_w, rtol=1e-9)


def test_dropout2d_zeros_whole_channels():
    torch.manual_seed(0)
    drop = nn.Dropout2d(0.5)
    y = drop(torch.ones(4, 6, 3, 3))
    per_channel = y.sum(dim=(2, 3)).numpy()
    assert set(np.unique(per_channel)) <= {0.0, 18.0} and 0 < (per_channel == 0).sum() < 24
    assert drop.eval()(torch.ones(1, 2, 2, 2)).sum().item() == 8.0
    with pytest.warns(UserWarning, match="dropout2d"):
        F.dropout2d(torch.ones(4, 5), 0.5)


def test_linear_takes_device_and_dtype_by_position():
    # mnist_forward_forward: super().__init__(in_features, out_features, bias, device, dtype)
    layer = nn.Linear(3, 2, True, "cpu", torch.float64)
    assert layer.weight.dtype == torch.float64 and layer.bias is not None


def test_save_and_load_numpy_arrays():
    # generate_sine_wave.py: torch.save(np_array, open(path, "wb")); train.py torch.load(path)
    data = np.sin(np.arange(12.0)).reshape(3, 4)
    buffer = io.BytesIO()
    torch.save({"data": data, "ints": np.arange(3)}, buffer)
    buffer.seek(0)
    back = torch.load(buffer)
    assert type(back["data"]) is np.ndarray and back["data"].dtype == np.float64
    np.testing.assert_array_equal(back["data"], data)
    np.testing.assert_array_equal(back["ints"], np.arange(3))


def test_an_endless_random_sampler_starts_at_once():
    # makemore's InfiniteDataLoader: RandomSampler(replacement=True, num_samples=int(1e10))
    ds = TensorDataset(torch.arange(10), torch.arange(10) * 2)
    loader = DataLoader(ds, batch_size=4, sampler=RandomSampler(ds, replacement=True,
                                                                num_samples=int(1e10)))
    x, y = next(iter(loader))
    assert x.shape == (4,) and (y == x * 2).all().item()
    assert len(loader) == -(-int(1e10) // 4)


def test_torch_onnx_imports_and_export_says_what_to_use():
    with pytest.raises(eager.onnx.OnnxExportError, match="jit.export"):
        torch.onnx.export(nn.Linear(2, 2), (torch.ones(1, 2),), "model.onnx")
    assert torch.onnx.is_in_onnx_export() is False


def test_torch_distributed_names():
    pytest.importorskip("mpi4py")
    init_process_group(backend="gloo")
    assert 0 <= get_rank() < get_world_size()
    destroy_process_group()
    with pytest.raises(ValueError, match="init_process_group"):
        init_process_group(backend="bogus")


def test_jitted_step_that_clears_grads_at_the_end_replays_and_matches_eager():
    # nanoGPT's train.py: forward, backward, clip, step, zero_grad(set_to_none=True), with
    # the learning rate assigned every iteration.
    def make():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 3))
        return model, optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)

    def train(use_jit):
        model, opt = make()

        def step(x, y):
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss
        f = jit(step) if use_jit else step
        rng = np.random.default_rng(1)
        losses = []
        for i in range(6):
            for group in opt.param_groups:
                group["lr"] = 1e-2 * (i + 1) / 6
            x = torch.tensor(rng.standard_normal((5, 4)).astype(np.float32))
            losses.append(f(x, torch.tensor(rng.integers(0, 3, 5))).item())
        return losses, f
    eager_losses, _ = train(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        jit_losses, f = train(True)
    np.testing.assert_allclose(jit_losses, eager_losses, rtol=1e-5)
    info = f.cache_info()
    assert info.hits == 5 and info.eager_calls == 0


def test_ieee_results_come_back_without_numpy_warnings():
    # word_language_model's Transformer mask: torch.log(torch.tril(torch.ones(n, n))).
    # A fresh interpreter: pytest drops warning filters set while it imports test modules.
    program = (
        "import warnings, numpy as np\n"
        "warnings.simplefilter('always')\n"
        "import eager as torch\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    mask = torch.log(torch.tril(torch.ones(3, 3)))\n"
        "    ratio = torch.zeros(2) / torch.zeros(2)\n"
        "    np.log(np.zeros(1))\n"
        "assert mask[0, 1].item() == float('-inf') and torch.isnan(ratio).all().item()\n"
        "print([str(w.message) for w in caught])\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          check=False)
    assert done.returncode == 0, done.stderr
    # the user's own numpy code still warns as numpy does
    assert done.stdout.strip() == "['divide by zero encountered in log']"


def test_summary_writer_writes_tensorboard_event_records(tmp_path):
    import struct

    from eager.utils.tensorboard import SummaryWriter, crc32c

    def masked(data):
        crc = crc32c(data)
        return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    writer = SummaryWriter(tmp_path / "run")
    for step in range(3):
        writer.add_scalar("Loss/train", torch.tensor(0.5 * step), step)
    writer.close()
    with open(writer.file_name, "rb") as f:
        blob = f.read()
    records, at = [], 0
    while at < len(blob):
        (length,) = struct.unpack_from("<Q", blob, at)
        assert struct.unpack_from("<I", blob, at + 8)[0] == masked(blob[at:at + 8])
        data = blob[at + 12:at + 12 + length]
        assert struct.unpack_from("<I", blob, at + 12 + length)[0] == masked(data)
        records.append(data)
        at += 16 + length
    assert len(records) == 4 and b"brain.Event:2" in records[0]
    last = records[-1]
    assert b"Loss/train" in last and last[9:11] == b"\x10\x02"      # field 2 (step) = 2
    assert struct.unpack("<f", last[-4:])[0] == 1.0                  # simple_value
    with pytest.raises(ValueError, match="closed"):
        writer.add_scalar("x", 1.0)


def test_inplace_activations_overwrite_their_input_and_keep_gradients():
    # torchvision-style blocks: nn.ReLU(inplace=True) after BatchNorm, nn.Dropout(p, True)
    torch.manual_seed(0)
    for layer, plain in ((nn.ReLU(inplace=True), F.relu), (nn.LeakyReLU(0.2, inplace=True),
                         lambda v: F.leaky_relu(v, 0.2)), (nn.ELU(inplace=True), F.elu),
                         (nn.SiLU(inplace=True), F.silu)):
        w = torch.randn(2, 3, 4, 4, requires_grad=True)
        bn = nn.BatchNorm2d(3)
        h = bn(w * 1.0)
        out = layer(h)
        assert out is h
        out.sum().backward()
        w2 = w.detach().clone().requires_grad_()
        plain(nn.BatchNorm2d(3)(w2 * 1.0)).sum().backward()
        np.testing.assert_allclose(w.grad.numpy(), w2.grad.numpy(), rtol=1e-5, atol=1e-6)
    x = torch.ones(2, 3)
    drop = nn.Dropout(0.5, True)
    assert drop(x) is x and set(np.unique(x.numpy())) <= {0.0, 2.0}
    with pytest.raises(RuntimeError):
        F.relu(torch.ones(2, requires_grad=True), inplace=True)   # a leaf, as torch refuses


def test_replacing_a_layer_keeps_its_place_among_the_children():
    # siamese_network: resnet.conv1 = nn.Conv2d(1, ...); nn.Sequential(*list(resnet.children())[:-1])
    net = nn.Sequential()
    net.conv1 = nn.Conv2d(3, 4, 3)
    net.act = nn.ReLU()
    net.fc = nn.Linear(4, 2)
    net.conv1 = nn.Conv2d(1, 4, 3)
    assert [name for name, _ in net.named_children()] == ["conv1", "act", "fc"]
    assert list(net.state_dict())[:2] == ["conv1.weight", "conv1.bias"]
    trunk = nn.Sequential(*list(net.children())[:-1])
    assert trunk(torch.ones(1, 1, 5, 5)).shape == (1, 4, 3, 3)


def test_rnn_flatten_parameters_leaves_the_layer_working():
    # word_language_model calls model.rnn.flatten_parameters() after loading a checkpoint
    lstm = nn.LSTM(3, 4, num_layers=2)
    before = {k: v.clone() for k, v in lstm.state_dict().items()}
    x = torch.randn(5, 2, 3)
    expected = lstm(x)[0]
    lstm.flatten_parameters()
    assert all(bool((before[k] == v).all()) for k, v in lstm.state_dict().items())
    assert torch.allclose(lstm(x)[0], expected)


def test_bce_gradient_stays_finite_at_saturated_probabilities():
    # siamese_network: nn.Sigmoid() then nn.BCELoss(); a saturated sigmoid gives exactly 0 or 1
    p = torch.tensor([0.0, 1.0, 0.25, 0.0, 1.0], requires_grad=True)
    t = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0])
    loss = nn.BCELoss()(p, t)
    loss.backward()
    expected = (p.detach() - t) / np.maximum((p.detach() * (1 - p.detach())).numpy(), 1e-12) / 5
    assert np.isfinite(p.grad.numpy()).all()
    np.testing.assert_allclose(p.grad.numpy(), expected.numpy(), rtol=1e-6)
    assert loss.item() == pytest.approx((100 + 100 - np.log(0.25)) / 5, rel=1e-6)
    ref = pytest.importorskip("torch")
    q = ref.tensor(p.detach().numpy(), requires_grad=True)
    ref.nn.BCELoss()(q, ref.tensor(t.numpy())).backward()
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)
