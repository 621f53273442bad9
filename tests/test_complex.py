"""complex64 / complex128: promotion, creation, parts, elementwise math against numpy,
comparisons, reductions, matmul/linalg, printing, checkpoints, tracing and jit."""
import numpy as np
import pytest

import eager
import tracer
from jit import jit

Z = np.array([1 + 2j, -0.5 + 0.25j, 3 - 1j, 0.1 - 0.7j])
W = np.array([0.5 - 1j, 2 + 0.5j, -1 + 1j, 0.3 + 0.2j])


@pytest.mark.parametrize("a, b, expected", [
    ("complex64", "complex128", "complex128"), ("complex64", "float32", "complex64"),
    ("complex64", "float64", "complex128"), ("complex128", "float32", "complex128"),
    ("complex64", "int64", "complex64"), ("complex64", "bool", "complex64"),
    ("complex64", "uint8", "complex64"),
])
def test_promotion(a, b, expected):
    x, y = eager.ones(2, dtype=a), eager.ones(2, dtype=b)
    assert eager.result_type(x, y) == np.dtype(expected)
    assert (x + y).dtype == (y * x).dtype == np.dtype(expected)


def test_python_complex_scalars_are_weak():
    assert (eager.ones(2, dtype=eager.float64) + 1j).dtype == eager.complex128
    assert (eager.ones(2) * 1j).dtype == eager.complex64
    assert (eager.ones(2, dtype=eager.int8) + 1j).dtype == eager.complex64
    assert (eager.ones(2, dtype=eager.complex64) * 2.5).dtype == eager.complex64
    assert eager.result_type(eager.float64, 1j) == eager.complex128


def test_creation():
    assert eager.tensor(1 + 2j).dtype == eager.complex64
    assert eager.tensor(1 + 2j).item() == 1 + 2j
    assert eager.asarray([1j, 2]).tolist() == [1j, 2 + 0j]
    assert eager.zeros(2, dtype=eager.complex64).tolist() == [0j, 0j]
    assert eager.full((2,), 1 - 1j).dtype == eager.complex64
    assert eager.full((1,), 2j, dtype=eager.complex128).tolist() == [2j]
    assert eager.ones_like(eager.tensor([1j])).dtype == eager.complex64
    assert eager.astype(eager.tensor([1.5]), eager.complex128).tolist() == [1.5 + 0j]
    assert complex(eager.tensor([2 - 3j])) == 2 - 3j
    assert eager.isdtype(eager.complex64, "complex floating")
    assert eager.isdtype(eager.complex128, "numeric")
    assert not eager.isdtype(eager.complex64, "real floating")
    assert eager.finfo(eager.complex64).dtype == eager.float32


def test_complex_to_real_cast_is_refused():
    with pytest.raises(eager.DTypeError, match="imaginary part"):
        eager.astype(eager.tensor([1j]), eager.float32)
    assert eager.astype(eager.tensor([0j, 1j]), eager.bool).tolist() == [False, True]


@pytest.mark.parametrize("dtype", [eager.complex64, eager.complex128])
def test_parts(dtype):
    z = eager.tensor(Z, dtype=dtype)
    real_dtype = np.float32 if dtype == eager.complex64 else np.float64
    for name, fn in (("real", np.real), ("imag", np.imag), ("angle", np.angle),
                     ("abs", np.abs)):
        got = getattr(eager, name)(z)
        assert got.dtype == real_dtype, name
        np.testing.assert_allclose(got.numpy(), fn(Z.astype(dtype)), rtol=1e-6)
    np.testing.assert_array_equal(eager.conj(z).numpy(), np.conj(Z.astype(dtype)))
    np.testing.assert_array_equal(z.conj().numpy(), np.conj(Z.astype(dtype)))


def test_parts_of_real_tensors():
    x = eager.tensor([1.5, -2.0])
    assert eager.real(x).tolist() == eager.conj(x).tolist() == [1.5, -2.0]
    assert eager.imag(x).tolist() == [0.0, 0.0]
    assert eager.angle(x).tolist() == [0.0, pytest.approx(np.pi)]


@pytest.mark.parametrize("name, numpy_name", [
    ("exp", "exp"), ("log", "log"), ("sqrt", "sqrt"), ("sin", "sin"), ("cos", "cos"),
    ("tanh", "tanh"), ("tan", "tan"), ("sinh", "sinh"), ("cosh", "cosh"), ("acos", "arccos"),
    ("asin", "arcsin"), ("atan", "arctan"), ("acosh", "arccosh"), ("asinh", "arcsinh"),
    ("atanh", "arctanh"), ("expm1", "expm1"), ("log1p", "log1p"), ("log2", "log2"),
    ("log10", "log10"), ("square", "square"), ("reciprocal", "reciprocal"), ("sign", "sign"),
    ("negative", "negative"), ("round", "round"),
])
@pytest.mark.parametrize("dtype", [eager.complex64, eager.complex128])
def test_unary_math_matches_numpy(name, numpy_name, dtype):
    z = Z.astype(dtype)
    got = getattr(eager, name)(eager.tensor(z))
    assert got.dtype == dtype
    rtol = 1e-5 if dtype == eager.complex64 else 1e-12
    np.testing.assert_allclose(got.numpy(), getattr(np, numpy_name)(z), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "pow"])
def test_binary_math_matches_numpy(name):
    got = getattr(eager, name)(eager.tensor(Z, dtype=eager.complex128), eager.tensor(W, dtype=eager.complex128))
    np.testing.assert_allclose(got.numpy(), getattr(np, "power" if name == "pow" else name)(Z, W),
                               rtol=1e-12)


def test_equality_only():
    z, w = eager.tensor(Z), eager.tensor(np.where([True, False, True, False], Z, W))
    assert (z == w).tolist() == [True, False, True, False]
    assert eager.not_equal(z, w).tolist() == [False, True, False, True]
    assert eager.equal(z, 1 + 2j).tolist() == [True, False, False, False]
    for op in (eager.less, eager.less_equal, eager.greater, eager.greater_equal,
               eager.maximum, eager.minimum):
        with pytest.raises(eager.DTypeError, match="complex128 is not supported"):
            op(z, w)
    with pytest.raises(eager.DTypeError):
        _ = z < 1
    with pytest.raises(eager.DTypeError):
        eager.floor(z)


def test_reductions():
    z = eager.tensor(Z, dtype=eager.complex128)
    np.testing.assert_allclose(eager.sum(z).item(), Z.sum())
    np.testing.assert_allclose(eager.prod(z).item(), Z.prod())
    np.testing.assert_allclose(eager.mean(z).item(), Z.mean())
    assert eager.sum(z).dtype == eager.complex128
    assert eager.any(z).item() and eager.all(z).item()


def test_matmul_and_linalg():
    a = (Z[:, None] * W[None, :] + np.eye(4)).astype(np.complex128)
    ta = eager.tensor(a)
    np.testing.assert_allclose((ta @ ta).numpy(), a @ a)
    np.testing.assert_allclose(eager.linalg.inv(ta).numpy(), np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_allclose(eager.linalg.det(ta).item(), np.linalg.det(a), rtol=1e-10)
    np.testing.assert_allclose(eager.vecdot(eager.tensor(Z), eager.tensor(W)).item(),
                               np.vdot(Z, W), rtol=1e-6)


def test_printing():
    text = repr(eager.tensor([1 + 2j, -0.5j]))
    assert "dtype=eager.complex64" in text and "2.j" in text
    g = tracer.trace(lambda z: z * 2, eager.ones(3, dtype=eager.complex128))
    assert "c128[3]" in str(g)


def test_checkpoint_round_trip(tmp_path):
    state = {"a": eager.tensor(Z, dtype=eager.complex64), "b": eager.tensor(W, dtype=eager.complex128)}
    eager.save(state, tmp_path / "c.ckpt")
    back = eager.load(tmp_path / "c.ckpt")
    for k, v in state.items():
        assert back[k].dtype == v.dtype
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())


def test_jit_replays_complex_math_through_numpy():
    def f(z, w, x):
        return eager.exp(z) * w + eager.conj(z) - eager.abs(w) * x, eager.sum(z * w), \
            eager.real(z) + eager.imag(w) * x

    fast = jit(f)
    z, w = eager.tensor(Z, dtype=eager.complex64), eager.tensor(W, dtype=eager.complex64)
    x = eager.tensor([1.0, 2.0, 3.0, 4.0])
    want = f(z, w, x)
    for _ in range(2):
        got = fast(z, w, x)
        for g, e in zip(got, want):
            assert g.dtype == e.dtype
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-6)
    assert fast.cache_info().hits == 1
