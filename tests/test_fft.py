"""eager.fft: the 14 functions of the Array API's fft extension against numpy, their
gradients (finite differences and torch), tracing and jit replay."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eager
import tracer
from jit import jit

NORMS = ["backward", "ortho", "forward"]
ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
N_D = ["fftn", "ifftn", "rfftn", "irfftn"]
REAL_INPUT = {"rfft", "rfftn", "ihfft"}


def _sample(name, shape, dtype, rng):
    x = rng.standard_normal(shape)
    if name not in REAL_INPUT:
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _dtype_pair(name, precision):
    real, cplx = (np.float32, np.complex64) if precision == 32 else (np.float64, np.complex128)
    return real if name in REAL_INPUT else cplx


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(ONE_D), shape=st.lists(st.integers(1, 6), min_size=1, max_size=3),
       norm=st.sampled_from(NORMS), precision=st.sampled_from([32, 64]),
       n=st.one_of(st.none(), st.integers(1, 8)), data=st.data())
def test_one_dimensional_transforms_match_numpy(name, shape, norm, precision, n, data):
    if name in ("irfft", "hfft") and n is None and shape[-1] == 1:
        n = 2   # the default length 2 * (m - 1) would be 0
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    if name in ("irfft", "hfft") and n is None and shape[axis] == 1:
        n = 1
    x = _sample(name, shape, _dtype_pair(name, precision), np.random.default_rng(0))
    got = getattr(eager.fft, name)(eager.asarray(x), n=n, axis=axis, norm=norm)
    want = getattr(np.fft, name)(x, n=n, axis=axis, norm=norm)
    assert got.shape == want.shape
    expected_kind = "f" if name in ("irfft", "hfft") else "c"
    assert got.dtype.kind == expected_kind and got.dtype.itemsize * (
        2 if expected_kind == "f" else 1) == precision // 4
    tol = 2e-4 if precision == 32 else 1e-10
    np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol)


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(N_D), shape=st.lists(st.integers(2, 5), min_size=1, max_size=3),
       norm=st.sampled_from(NORMS), data=st.data())
def test_n_dimensional_transforms_match_numpy(name, shape, norm, data):
    ndim = len(shape)
    axes = data.draw(st.one_of(st.none(), st.lists(st.integers(0, ndim - 1), min_size=1,
                                                   max_size=ndim, unique=True)))
    s = None
    if axes is not None and data.draw(st.booleans()):
        s = data.draw(st.lists(st.integers(2, 6), min_size=len(axes), max_size=len(axes)))
    x = _sample(name, shape, _dtype_pair(name, 64), np.random.default_rng(1))
    got = getattr(eager.fft, name)(eager.asarray(x), s=s, axes=axes, norm=norm)
    want = getattr(np.fft, name)(x, s=s, axes=axes, norm=norm)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-10)


def test_frequencies_and_shifts():
    np.testing.assert_allclose(eager.fft.fftfreq(5, d=0.5, dtype=eager.float64).numpy(),
                               np.fft.fftfreq(5, 0.5))
    np.testing.assert_allclose(eager.fft.rfftfreq(6, dtype=eager.float64).numpy(),
                               np.fft.rfftfreq(6))
    a = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(eager.fft.fftshift(eager.asarray(a)).numpy(), np.fft.fftshift(a))
    np.testing.assert_array_equal(eager.fft.ifftshift(eager.asarray(a), axes=1).numpy(),
                                  np.fft.ifftshift(a, axes=1))


def test_real_input_to_complex_transforms_is_converted():
    x = eager.tensor([1.0, 2.0, 3.0])
    assert eager.fft.fft(x).dtype == eager.complex64
    assert eager.fft.fft(eager.tensor([1, 2])).dtype == eager.complex64
    assert eager.fft.rfft(eager.tensor([1, 2])).dtype == eager.complex64
    assert eager.fft.fft(eager.tensor([1.0], dtype=eager.float64)).dtype == eager.complex128


def test_bad_arguments_raise_named_errors():
    x = eager.ones(4, dtype=eager.complex64)
    with pytest.raises(eager.ArgumentError, match="fft: norm must be one of"):
        eager.fft.fft(x, norm="both")
    with pytest.raises(eager.ArgumentError, match="fft: n must be an int >= 1"):
        eager.fft.fft(x, n=0)
    with pytest.raises(eager.ArgumentError, match="fftn: s .* and axes .* must have the same"):
        eager.fft.fftn(x, s=(2, 2), axes=(0,))
    with pytest.raises(eager.DTypeError, match="rfft: x must be real"):
        eager.fft.rfft(x)
    with pytest.raises(eager.ShapeError, match="fft: axis 3 is out of range"):
        eager.fft.fft(x, axis=3)


CASES = [(name, norm) for name in ONE_D + N_D for norm in NORMS]


def _call(name, x, norm):
    if name in N_D:
        return getattr(eager.fft, name)(x, s=(3, 5) if name.startswith("i") else None,
                                        axes=(0, 1), norm=norm)
    return getattr(eager.fft, name)(x, n=5, axis=1, norm=norm)


@pytest.mark.parametrize("name, norm", CASES)
def test_gradcheck(name, norm):
    x = _sample(name, (3, 4), np.float64 if name in REAL_INPUT else np.complex128,
                np.random.default_rng(2))
    t = eager.tensor(x, requires_grad=True)
    assert eager.autograd.gradcheck(lambda a: _call(name, a, norm), [t])


@pytest.mark.parametrize("name, norm", CASES)
def test_gradients_match_torch(name, norm):
    torch = pytest.importorskip("torch")
    x = _sample(name, (3, 4), np.float64 if name in REAL_INPUT else np.complex128,
                np.random.default_rng(3))
    rng = np.random.default_rng(4)
    t = eager.tensor(x, requires_grad=True)
    out = _call(name, t, norm)
    w = rng.standard_normal(out.shape) + (1j * rng.standard_normal(out.shape)
                                          if out.dtype.kind == "c" else 0)
    eager.real(out * eager.tensor(w)).sum().backward()
    tt = torch.tensor(x, requires_grad=True)
    kwargs = ({"s": (3, 5) if name.startswith("i") else None, "dim": (0, 1)} if name in N_D
              else {"n": 5, "dim": 1})
    tout = getattr(torch.fft, name)(tt, norm=norm, **kwargs)
    torch.real(tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(tout.detach().resolve_conj().numpy(), out.detach().numpy(), rtol=1e-10,
                               atol=1e-10)
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.resolve_conj().numpy(), rtol=1e-9,
                               atol=1e-10)


def test_transforms_are_graph_ops_that_replay():
    def spectrum_energy(x):
        return eager.abs(eager.fft.rfft(x, norm="ortho")).sum(), eager.fft.irfft(
            eager.fft.rfft(x), n=x.shape[-1])

    g = tracer.trace(spectrum_energy, eager.ones(8))
    assert "fft" in str(g)
    fast = jit(spectrum_energy)
    for seed in range(3):
        x = eager.tensor(np.random.default_rng(seed).standard_normal(8), dtype=eager.float32)
        got, want = fast(x), spectrum_energy(x)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)
    assert fast.cache_info().hits == 2


def test_jitted_training_step_through_fft():
    w = eager.tensor(np.ones(6), dtype=eager.float64, requires_grad=True)

    @jit
    def grad_of(x):
        loss = eager.abs(eager.fft.fft(x * w)).sum()
        return eager.grad(loss, [w])[0]

    x = eager.tensor(np.arange(6.0), dtype=eager.float64)
    want = eager.grad(eager.abs(eager.fft.fft(x * w)).sum(), [w])[0]
    for _ in range(2):
        np.testing.assert_allclose(grad_of(x).numpy(), want.numpy(), rtol=1e-10)
