"""Issue 11, part D: `set_default_dtype`, written as PyTorch programs with
`import eager as torch` and checked against PyTorch where it is installed."""
import threading

import numpy as np
import pytest

import eager as torch
from eager import nn


@pytest.fixture
def float64_default():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def _factories(lib):
    return {
        "tensor": lib.tensor([1.5, 2.0]),
        "tensor_scalar": lib.tensor(3.0),
        "zeros": lib.zeros(2, 3),
        "ones": lib.ones(2),
        "empty": lib.empty(2),
        "full_float": lib.full((2,), 1.5),
        "rand": lib.rand(2),
        "randn": lib.randn(2),
        "arange_float": lib.arange(0.0, 1.0, 0.25),
        "linspace": lib.linspace(0, 1, 5),
        "eye": lib.eye(2),
        "Tensor": lib.Tensor([1, 2]),
        "int_times_float": lib.arange(3) * 0.5,
        "int_mean": lib.arange(4).float().mean(),
        "linear_weight": lib.nn.Linear(2, 3).weight,
        "conv_bias": lib.nn.Conv2d(1, 2, 3).bias,
        "layer_norm_weight": lib.nn.LayerNorm(4).weight,
        "lstm_weight": lib.nn.LSTM(2, 3).weight_hh_l0,
        "embedding": lib.nn.Embedding(4, 2).weight,
    }


def test_float32_stays_the_default():
    assert torch.get_default_dtype() == torch.float32
    for name, value in _factories(torch).items():
        assert value.dtype == torch.float32, name


def test_float64_default_reaches_creation_layers_and_promotion(float64_default):
    got = _factories(torch)
    for name, value in got.items():
        want = torch.float32 if name == "int_mean" else torch.float64
        assert value.dtype == want, name
    # explicit dtypes and integer data are untouched
    assert torch.tensor([1, 2]).dtype == torch.int64
    assert torch.zeros(2, dtype=torch.float32).dtype == torch.float32
    assert torch.FloatTensor([1.0]).dtype == torch.float32
    assert (torch.ones(2, dtype=torch.float32) * 0.5).dtype == torch.float32
    param = torch.empty(3, 3)
    nn.init.kaiming_uniform_(param)
    assert param.dtype == torch.float64


def test_dtypes_match_torch(float64_default):
    pt = pytest.importorskip("torch")
    previous = pt.get_default_dtype()
    pt.set_default_dtype(pt.float64)
    try:
        want = {name: str(v.dtype).removeprefix("torch.") for name, v in _factories(pt).items()}
    finally:
        pt.set_default_dtype(previous)
    got = {name: v.dtype.name for name, v in _factories(torch).items()}
    assert got == want


def test_values_under_float64_keep_their_digits(float64_default):
    x = torch.tensor([0.1, 1 / 3])
    np.testing.assert_array_equal(x.numpy(), np.array([0.1, 1 / 3]))
    assert torch.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]


def test_non_floating_default_is_refused():
    with pytest.raises(torch.DTypeError, match="set_default_dtype.*int64"):
        torch.set_default_dtype(torch.int64)
    assert torch.get_default_dtype() == torch.float32


def test_default_is_per_thread(float64_default):
    seen = []
    worker = threading.Thread(target=lambda: seen.append((torch.get_default_dtype(),
                                                           torch.zeros(1).dtype)))
    worker.start()
    worker.join()
    assert seen == [(torch.float32, torch.float32)]
    assert torch.zeros(1).dtype == torch.float64


@pytest.mark.parametrize("default, complex_dtype", [("float32", "complex64"),
                                                    ("float64", "complex128")])
def test_complex_values_follow_the_default_float_as_in_torch(default, complex_dtype):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, default))
    try:
        made = {"tensor": torch.tensor(1 + 2j), "full": torch.full((1,), 1j),
                "int_times_complex": torch.ones(2, dtype=torch.int64) * 1j}
        assert {name: str(t.dtype) for name, t in made.items()} == \
            dict.fromkeys(made, complex_dtype)
    finally:
        torch.set_default_dtype(previous)
