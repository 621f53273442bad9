"""PyTorch programs run with `import eager as torch` (issue 11, part A): promotion, the
data utilities, namespace spellings, saving to file objects, custom autograd Functions.

Each test is a small program written as a torch user would write it. Expected values are
spelled out; where torch is installed the same program also runs on it and must agree.
The training-step programs also run under `@jit` and must match eager.
"""
import io
import warnings
from collections import namedtuple

import numpy as np
import pytest

import eager as torch
from eager.utils.data import (
    BatchSampler,
    DataLoader,
    DataLoaderError,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    random_split,
)
from jit import jit

nn = torch.nn
F = torch.nn.functional


def _real_torch():
    return pytest.importorskip("torch")


# ---- promotion: PyTorch's category rule ----------------------------------------------

MIXES = [
    # (dtype of a, dtype of b, expected result dtype)
    ("float32", "int64", "float32"),
    ("float16", "int32", "float16"),
    ("float64", "int8", "float64"),
    ("float16", "bool", "float16"),
    ("int8", "uint8", "int16"),
    ("int8", "bool", "int8"),
    ("float16", "float32", "float32"),
    ("int32", "int64", "int64"),
    ("bfloat16", "int64", "bfloat16"),
    ("bfloat16", "float16", "float32"),
    ("bfloat16", "float64", "float64"),
]


def _ones(dtype):
    return torch.ones(3, dtype=getattr(torch, dtype if dtype != "bool" else "bool"))


@pytest.mark.parametrize("a, b, want", MIXES)
def test_mixed_tensors_promote_by_category(a, b, want):
    x, y = _ones(a), _ones(b)
    for out in (x + y, y + x, x * y, torch.maximum(x, y), torch.where(x > 0, x, y),
                torch.cat([x, y])):
        assert out.dtype.name == want
    assert torch.result_type(x, y).name == want


@pytest.mark.parametrize("a, b, want", MIXES)
def test_mixed_promotion_matches_torch(a, b, want):
    real = _real_torch()
    got = real.result_type(real.ones(3, dtype=getattr(real, a)),
                           real.ones(3, dtype=getattr(real, b)))
    assert str(got) == f"torch.{want}"


def test_float_tensor_to_an_integer_tensor_power_stays_float32():
    base = torch.tensor([1.5, 2.0, 3.0])
    exponent = torch.tensor([2, 3, 1])
    out = base ** exponent
    assert out.dtype == torch.float32
    assert out.tolist() == [2.25, 8.0, 3.0]
    assert (base / exponent).dtype == torch.float32
    assert (torch.ones(2, 2) @ torch.ones(2, 2, dtype=torch.long)).dtype == torch.float32
    assert (exponent ** base).dtype == torch.float32


def test_weak_scalars_are_unchanged():
    assert (torch.tensor([1, 2]) * 2.5).dtype == torch.float32
    assert (torch.tensor([True]) + 1).dtype == torch.int64
    assert (torch.ones(2, dtype=torch.float16) * 3.0).dtype == torch.float16


def test_jitted_mixed_program_keeps_float32_and_matches_eager():
    def f(x, n):
        return (x ** n + x * n).tanh() - torch.where(x > 1, n, x)

    fast = jit(f)
    x = torch.tensor([0.5, 1.5, 2.5])
    n = torch.tensor([1, 2, 3])
    for _ in range(3):
        got, want = fast(x, n), f(x, n)
        assert got.dtype == want.dtype == torch.float32
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert fast.cache_info().hits == 2


# ---- bfloat16 -------------------------------------------------------------------------


def test_bfloat16_is_a_real_dtype():
    pytest.importorskip("ml_dtypes")
    x = torch.tensor([1.5, 2.25, -3.0]).to(torch.bfloat16)
    assert x.dtype == torch.bfloat16 and x.tolist() == [1.5, 2.25, -3.0]
    assert (x * 2).dtype == torch.bfloat16
    assert (x + torch.tensor([1, 2, 3])).dtype == torch.bfloat16
    assert (x + torch.ones(3, dtype=torch.float16)).dtype == torch.float32
    assert x.float().tolist() == [1.5, 2.25, -3.0]
    assert torch.finfo(torch.bfloat16).eps == 2.0 ** -7


def test_bfloat16_requires_grad_and_saves():
    pytest.importorskip("ml_dtypes")
    x = torch.zeros(2, dtype=torch.bfloat16)
    assert x.requires_grad_().requires_grad     # issue 11 part D: bfloat16 autograd
    buffer = io.BytesIO()
    torch.save({"x": x.detach()}, buffer)
    buffer.seek(0)
    assert torch.load(buffer)["x"].dtype == torch.bfloat16


def test_bfloat16_under_jit_matches_eager():
    pytest.importorskip("ml_dtypes")

    def f(x):
        return (x * 2 + 1).tanh()

    x = torch.tensor([0.25, -0.5]).to(torch.bfloat16)
    fast = jit(f)
    for _ in range(2):
        assert fast(x).tolist() == f(x).tolist()
        assert fast(x).dtype == torch.bfloat16


# ---- eager.utils.data ---------------------------------------------------------------------


def _xy(n=10):
    return torch.arange(n * 2, dtype=torch.float32).reshape(n, 2), torch.arange(n)


def test_tensor_dataset_and_sequential_loader():
    x, y = _xy()
    ds = TensorDataset(x, y)
    assert len(ds) == 10 and ds[3][1].item() == 3
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == torch.float32
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    assert [b[1].tolist() for b in DataLoader(ds, batch_size=4, drop_last=True)][-1] == \
        [4, 5, 6, 7]


def test_shuffle_with_a_generator_is_a_reproducible_fresh_permutation_each_epoch():
    ds = TensorDataset(*_xy(12))

    def epochs(seed):
        loader = DataLoader(ds, batch_size=5, shuffle=True,
                            generator=torch.Generator().manual_seed(seed))
        return [[i for _, y in loader for i in y.tolist()] for _ in range(2)]

    first, second = epochs(0)
    assert sorted(first) == list(range(12)) and first != list(range(12))
    assert first != second
    assert epochs(0) == [first, second]


def test_samplers_and_batch_sampler():
    ds = TensorDataset(*_xy(6))
    loader = DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert [y.tolist() for _, y in loader] == [[5, 4], [3, 2], [1, 0]]
    batches = BatchSampler(SequentialSampler(ds), batch_size=4, drop_last=False)
    loader = DataLoader(ds, batch_sampler=batches)
    assert [y.tolist() for _, y in loader] == [[0, 1, 2, 3], [4, 5]] and len(loader) == 2
    draws = list(RandomSampler(ds, replacement=True, num_samples=20,
                               generator=torch.Generator().manual_seed(0)))
    assert len(draws) == 20 and set(draws) <= set(range(6))
    assert len(RandomSampler(ds, num_samples=8)) == 8
    more = list(RandomSampler(ds, num_samples=8))   # one whole permutation, then two more
    assert sorted(set(more)) == list(range(6)) and sorted(more.count(i) for i in range(6)) \
        == [1, 1, 1, 1, 2, 2]


def test_conflicting_loader_options_raise_a_named_error():
    ds = TensorDataset(*_xy(4))
    with pytest.raises(DataLoaderError, match="shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(DataLoaderError, match="batch_sampler"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(DataLoaderError, match="same first dimension"):
        TensorDataset(torch.zeros(3), torch.zeros(4))


Point = namedtuple("Point", "x y")


class Records(Dataset):
    """A user dataset of dict samples: numpy features, a float, an int, a string."""

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return {"features": np.full(2, i, dtype=np.float32), "weight": i / 2,
                "label": i, "name": f"r{i}", "point": Point(i, -i)}


def test_default_collate_of_dicts_numbers_strings_and_namedtuples():
    (batch,) = list(DataLoader(Records(), batch_size=3))
    assert batch["features"].shape == (3, 2) and batch["features"].dtype == torch.float32
    assert batch["weight"].dtype == torch.float64 and batch["weight"].tolist() == [0, .5, 1]
    assert batch["label"].dtype == torch.int64 and batch["label"].tolist() == [0, 1, 2]
    assert batch["name"] == ["r0", "r1", "r2"]
    assert isinstance(batch["point"], Point) and batch["point"].y.tolist() == [0, -1, -2]


def test_default_collate_matches_torch():
    real = _real_torch()
    samples = [{"x": np.full(2, i, dtype=np.float32), "w": i / 2, "n": i, "s": "a"}
               for i in range(3)]
    ours = torch.utils.data.default_collate(samples)
    theirs = real.utils.data.default_collate(samples)
    assert ours["s"] == theirs["s"]
    for key in ("x", "w", "n"):
        assert ours[key].dtype.name == str(theirs[key].dtype).removeprefix("torch.")
        assert ours[key].tolist() == theirs[key].tolist()
    pairs = [(np.float32(1.5), 2), (np.float32(2.5), 3)]
    ours, theirs = torch.utils.data.default_collate(pairs), \
        real.utils.data.default_collate(pairs)
    assert type(ours) is type(theirs) is list
    assert [t.dtype.name for t in ours] == [str(t.dtype)[6:] for t in theirs]


def test_collate_stacks_tensor_samples_and_names_bad_shapes():
    class Ragged(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return torch.zeros(i + 1), i

    with pytest.raises(DataLoaderError, match=r"shapes \[\(1,\), \(2,\)\]"):
        next(iter(DataLoader(Ragged(), batch_size=2)))
    loader = DataLoader(Ragged(), batch_size=2, collate_fn=lambda b: [x.sum() for x, _ in b])
    assert [t.item() for t in next(iter(loader))] == [0.0, 0.0]
    single = list(DataLoader(Ragged(), batch_size=None))
    assert single[1][0].shape == (2,) and single[1][1] == 1


def test_iterable_dataset_is_batched_in_order():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(5))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=2)] == [[0, 1], [2, 3], [4]]


def test_random_split_by_lengths_and_fractions():
    ds = TensorDataset(*_xy(10))
    parts = random_split(ds, [0.34, 0.33, 0.33], generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [4, 3, 3]
    indices = sorted(i for p in parts for i in p.indices)
    assert indices == list(range(10))
    train, test = random_split(ds, [7, 3], generator=torch.Generator().manual_seed(0))
    assert isinstance(train, Subset) and len(train) == 7 and len(test) == 3
    assert train[0][1].item() == train.indices[0]
    with pytest.raises(DataLoaderError, match="sum to"):
        random_split(ds, [5, 4])


def test_random_split_lengths_match_torch():
    real = _real_torch()
    for fractions in ([0.34, 0.33, 0.33], [0.5, 0.5], [0.1, 0.2, 0.7]):
        want = [len(p) for p in real.utils.data.random_split(range(10), fractions)]
        assert [len(p) for p in random_split(range(10), fractions)] == want


def test_loader_batches_match_torch_without_shuffle():
    real = _real_torch()
    x, y = _xy(7)
    ours = list(DataLoader(TensorDataset(x, y), batch_size=3))
    theirs = list(real.utils.data.DataLoader(
        real.utils.data.TensorDataset(real.tensor(x.numpy()), real.tensor(y.numpy())),
        batch_size=3))
    for (a, b), (c, d) in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())


def _regression_run(use_jit):
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(xb, yb):
        loss = F.mse_loss(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.detach()

    step = jit(step) if use_jit else step
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True,
                        generator=torch.Generator().manual_seed(1))
    losses = [step(xb, yb).item() for _ in range(5) for xb, yb in loader]
    return losses, model.weight.detach().numpy(), step


def test_dataloader_training_loop_under_jit_matches_eager():
    eager_losses, eager_w, _ = _regression_run(False)
    jit_losses, jit_w, step = _regression_run(True)
    np.testing.assert_allclose(jit_losses, eager_losses, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jit_w, eager_w, rtol=1e-5, atol=1e-6)
    assert eager_losses[-1] < 0.01 * eager_losses[0]
    assert step.cache_info().hits >= 15


# ---- namespace spellings ----------------------------------------------------------------


def test_device_objects_work_wherever_device_strings_do():
    cpu = torch.device("cpu")
    assert cpu == "cpu" and cpu.type == "cpu" and cpu.index is None and str(cpu) == "cpu"
    assert torch.device("cuda", 1) == "cuda:1" and torch.device("cuda:1").index == 1
    x = torch.zeros(2, device=cpu)
    assert x.device == "cpu" and x.device == cpu and x.device.type == "cpu"
    assert x.to(cpu).device == "cpu" and torch.randn(2, device=cpu).device == "cpu"
    assert nn.Linear(2, 2).to(cpu).weight.device == "cpu"
    assert torch.Generator(device=cpu).device == "cpu"
    assert {x.device: 1}["cpu"] == 1
    with pytest.raises(torch.DeviceError, match="tpu"):
        torch.device("tpu")


def test_dtype_spellings():
    assert torch.float is torch.float32 and torch.double is torch.float64
    assert torch.long is torch.int64 and torch.int is torch.int32
    assert torch.half is torch.float16 and torch.short is torch.int16
    assert torch.bool.name == "bool"
    assert torch.tensor([1, 2]).to(torch.float).dtype == torch.float32
    assert torch.zeros(2, dtype=torch.long).dtype == torch.int64
    assert torch.get_default_dtype() == torch.float32
    torch.set_default_dtype(torch.float32)
    with pytest.raises(torch.DTypeError, match="set_default_dtype.*int32"):
        torch.set_default_dtype(torch.int32)


def test_typed_constructors_and_queries():
    assert torch.Tensor([1, 2]).dtype == torch.float32
    assert torch.Tensor([[1, 2]]).tolist() == [[1.0, 2.0]]
    assert torch.Tensor(2, 3).shape == (2, 3) and torch.Tensor().shape == (0,)
    assert torch.FloatTensor([1]).dtype == torch.float32
    assert torch.LongTensor([1.9, 2]).tolist() == [1, 2]
    assert torch.DoubleTensor(2).dtype == torch.float64
    assert torch.BoolTensor([0, 1]).tolist() == [False, True]
    assert torch.ByteTensor([255]).dtype == torch.uint8
    assert isinstance(torch.Tensor([1.0]), torch.Tensor)
    assert isinstance(torch.ones(2), torch.FloatTensor)
    assert isinstance(torch.arange(2), torch.LongTensor)
    assert not isinstance(torch.arange(2), torch.FloatTensor)
    assert torch.is_tensor(torch.ones(1)) and not torch.is_tensor(np.ones(1))
    assert torch.numel(torch.zeros(2, 3, 4)) == 24
    with pytest.raises(torch.DTypeError, match="FloatTensor"):
        torch.FloatTensor(["a"])


def test_typed_constructors_match_torch():
    real = _real_torch()
    for name in ("Tensor", "FloatTensor", "LongTensor", "DoubleTensor", "BoolTensor"):
        ours, theirs = getattr(torch, name)([0, 1.5, 2]), getattr(real, name)([0, 1.5, 2])
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
        assert ours.tolist() == theirs.tolist()


def test_cuda_queries_and_amp_on_this_machine():
    assert torch.cuda.is_available() == (torch.cuda.device_count() > 0)
    torch.cuda.manual_seed_all(0)
    torch.cuda.manual_seed(0)
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    assert torch.cuda.memory_allocated() >= 0
    assert torch.accelerator.is_available() == torch.cuda.is_available()
    assert torch.accelerator.device_count() == torch.cuda.device_count()
    if not torch.cuda.is_available():
        assert torch.accelerator.current_accelerator() is None
        with pytest.raises(torch.DeviceError, match="current_device"):
            torch.cuda.current_device()
    with torch.amp.autocast(device_type="cpu", dtype=torch.bfloat16):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32

    @torch.autocast("cpu")
    def double(x):
        return x * 2

    assert double(torch.ones(1)).tolist() == [2.0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.amp.GradScaler._warned = False
        scaler = torch.cuda.amp.GradScaler()
    assert any("GradScaler" in str(w.message) for w in caught)
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0


def test_grad_scaler_loop_trains_as_without_it():
    def run(with_scaler):
        w = torch.tensor([2.0], requires_grad=True)
        opt = torch.optim.SGD([w], lr=0.25)
        scaler = torch.cuda.amp.GradScaler(enabled=False)
        for _ in range(3):
            opt.zero_grad()
            loss = (w * w).sum()
            if with_scaler:
                scaler.scale(loss).backward()
                scaler.unscale_(opt)
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
        return w.item()

    assert run(True) == run(False) == 0.25


def test_backend_flags_are_settable():
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.deterministic = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = False
    assert torch.backends.cudnn.benchmark and torch.backends.cuda.matmul.allow_tf32
    assert torch.backends.mps.is_available() is False and torch.backends.mps.is_built() is False
    assert torch.backends.cudnn.is_available() == torch.cuda.is_available()
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = False


def test_inference_mode_as_context_and_decorator():
    w = torch.tensor([1.0], requires_grad=True)
    with torch.inference_mode():
        assert not (w * 2).requires_grad and not torch.is_grad_enabled()
    assert torch.is_grad_enabled()

    @torch.inference_mode()
    def predict(x):
        return w * x

    @torch.inference_mode
    def predict_bare(x):
        return w * x

    @torch.inference_mode(False)
    def train_step(x):
        return w * x

    assert not predict(2.0).requires_grad and not predict_bare(2.0).requires_grad
    with torch.no_grad():
        assert not train_step(2.0).requires_grad


# ---- saving ----------------------------------------------------------------------------


def test_save_and_load_through_file_objects(tmp_path):
    model = nn.Linear(3, 2)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    restored = nn.Linear(3, 2)
    restored.load_state_dict(torch.load(buffer, map_location="cpu"))
    assert restored.weight.tolist() == model.weight.tolist()
    path = tmp_path / "ckpt.pt"
    with open(path, "wb") as f:
        torch.save({"model": model.state_dict(), "step": 7}, f)
    with open(path, "rb") as f:
        checkpoint = torch.load(f, map_location=torch.device("cpu"), weights_only=True)
    assert checkpoint["step"] == 7
    assert checkpoint["model"]["bias"].tolist() == model.bias.tolist()
    assert torch.load(path)["step"] == 7


def test_saving_a_module_or_optimizer_says_to_save_its_state_dict():
    model = nn.Linear(2, 2)
    opt = torch.optim.Adam(model.parameters())
    with pytest.raises(torch.SaveError, match=r"Linear \(a Module\).*state_dict\(\)"):
        torch.save(model, io.BytesIO())
    with pytest.raises(torch.SaveError, match=r"Adam \(an optimizer\) at obj\['opt'\]"):
        torch.save({"opt": opt}, io.BytesIO())


def test_loading_a_foreign_file_object_raises_load_error():
    with pytest.raises(torch.LoadError, match="not a readable eager checkpoint"):
        torch.load(io.BytesIO(b"not a checkpoint"))
    with pytest.raises(torch.LoadError, match="map_location"):
        torch.load(io.BytesIO(), map_location={"cuda:0": "cpu"})


# ---- autograd.Function ------------------------------------------------------------------


class ScaledExp(torch.autograd.Function):
    """exp(x) * scale, with a Python scale that gets no gradient."""

    @staticmethod
    def forward(ctx, x, scale):
        out = x.exp() * scale
        ctx.save_for_backward(out)
        ctx.scale = scale
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return grad * out, None


class SplitSquare(torch.autograd.Function):
    """(x * x, 2 * x): two outputs."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x, x * 2

    @staticmethod
    def backward(ctx, g_square, g_double):
        (x,) = ctx.saved_tensors
        return g_square * 2 * x + g_double * 2


def test_custom_function_forward_and_backward():
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    y = ScaledExp.apply(x, 3.0)
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp([0.0, 1.0]), rtol=1e-6)
    with torch.no_grad():
        assert not ScaledExp.apply(x, 2.0).requires_grad


def test_custom_function_with_two_outputs_sums_their_gradients():
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    square, double = SplitSquare.apply(x)
    (square.sum() * 3 + double.sum()).backward()
    assert x.grad.tolist() == [3 * 2 * 1.0 + 2, 3 * 2 * -2.0 + 2]
    x.grad = None
    SplitSquare.apply(x)[0].sum().backward()
    assert x.grad.tolist() == [2.0, -4.0]


def test_custom_function_passes_gradcheck():
    x = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: ScaledExp.apply(t, 1.5), [x])
    assert torch.autograd.gradcheck(lambda t: SplitSquare.apply(t)[0], [x])


def test_custom_function_errors_are_named():
    class Bad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = torch.ones(2, requires_grad=True)
    with pytest.raises(torch.AutogradError, match="Bad.backward: returned 1 gradients"):
        Bad.apply(x, torch.ones(2)).sum().backward()
    leaf = torch.ones(2)
    y = ScaledExp.apply(torch.ones(2, requires_grad=True) * leaf, 1.0)
    with torch.no_grad():
        y.mul_(2)   # the saved output changes under the node
    with pytest.raises(torch.AutogradError, match="ScaledExp.backward: saved tensor 0"):
        y.sum().backward()


def test_custom_function_matches_torch():
    real = _real_torch()

    class RealScaledExp(real.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            out = x.exp() * scale
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out, None

    values = [0.5, -1.0, 2.0]
    x = torch.tensor(values, requires_grad=True)
    (ScaledExp.apply(x, 2.0) ** 2).sum().backward()
    rx = real.tensor(values, requires_grad=True)
    (RealScaledExp.apply(rx, 2.0) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), rx.grad.numpy(), rtol=1e-5)


class ClampedRelu(torch.autograd.Function):
    """relu whose gradient is clipped to [-1, 1], as in a straight-through trick."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, grad.clamp(-1.0, 1.0), torch.zeros_like(grad))


def _custom_function_training(use_jit):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    x = torch.randn(32, 4)
    target = (x.sum(dim=1, keepdim=True) > 0).float()

    def step(xb, yb):
        hidden = ClampedRelu.apply(model[0](xb))
        loss = F.mse_loss(model[1](hidden), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.detach()

    step = jit(step) if use_jit else step
    losses = [step(x, target).item() for _ in range(6)]
    return losses, [p.detach().numpy().copy() for p in model.parameters()], step


def test_jitted_step_with_a_custom_function_replays_like_eager():
    eager_losses, eager_params, _ = _custom_function_training(False)
    jit_losses, jit_params, step = _custom_function_training(True)
    np.testing.assert_allclose(jit_losses, eager_losses, rtol=1e-5, atol=1e-6)
    for a, b in zip(jit_params, eager_params):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert step.cache_info().hits == 5
    assert eager_losses[-1] < eager_losses[0]
