"""The vectorized float32 exp/tanh used by generated C meet their documented accuracy."""
import numpy as np
import pytest

from kernels import TensorSpec, float32
from kernels.codegen import ElementwiseGroup, Step, compile_groups
from kernels.codegen.fastmath import EXP_MAX_ULP, TANH_MAX_ULP


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def compiled(op, x):
    g = ElementwiseGroup((TensorSpec(x.shape, float32),),
                         (Step(op, (("in", 0),), float32),), (0,), x.shape)
    (kernel,) = compile_groups([g])
    out = np.empty_like(x)
    kernel.run([x], [out])
    return out


def sweep():
    """Every 211th positive float32 bit pattern, both signs: all binades, subnormals too."""
    x = np.arange(0, 0x7F800000, 211, dtype=np.uint32).view(np.float32)
    return np.concatenate([x, -x])


def ulp_error(got, exact):
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / spacing


@pytest.mark.parametrize("op,reference,bound", [("exp", np.exp, EXP_MAX_ULP),
                                                 ("tanh", np.tanh, TANH_MAX_ULP)])
def test_max_ulp_error_over_all_binades(op, reference, bound):
    x = sweep()
    got = compiled(op, x)
    with np.errstate(over="ignore"):
        exact = reference(x.astype(np.float64))
        representable = np.isfinite(exact.astype(np.float32))
    err = ulp_error(got[representable], exact[representable])
    assert err.max() <= bound, (op, x[representable][err.argmax()])
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(got[~representable], exact[~representable].astype(np.float32))


def test_special_values_are_exact():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 200.0, -200.0], np.float32)
    with np.errstate(over="ignore"):
        for op, ref in (("exp", np.exp), ("tanh", np.tanh), ("sigmoid", None)):
            got = compiled(op, x)
            want = ref(x) if ref else np.tanh(x * 0.5) * 0.5 + 0.5
            np.testing.assert_array_equal(got, want, err_msg=op)
            assert np.array_equal(np.signbit(got[:2]), np.signbit(want[:2])), op


def test_fast_math_does_not_leak_flush_to_zero_into_numpy():
    compiled("tanh", np.ones(4, np.float32))
    tiny = np.float32(1e-38) / np.float32(1e4)
    assert tiny > 0


def test_tanh_stays_within_minus_one_and_one_and_is_odd():
    x = np.linspace(0, 12, 200_001, dtype=np.float32)     # dense around the switch to 1
    got = compiled("tanh", np.concatenate([x, -x]))
    pos, neg = got[:x.size], got[x.size:]
    assert np.abs(got).max() == 1.0
    np.testing.assert_array_equal(neg, -pos)
    assert pos[-1] == 1.0 and pos[x >= 9.02].min() == 1.0
