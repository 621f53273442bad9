"""PyTorch's complex Tensor attributes: `.real` / `.imag` are views that can be written
to (eagerly, traced and jitted) and that gradients flow through; `.real` of a real tensor
is the tensor itself and `.imag` of one raises a RuntimeError, as in torch; is_complex,
conj_physical, resolve_conj, is_conj and mH. The Array API functions eager.real /
eager.imag stay copies."""
import numpy as np
import pytest

import eager
import tracer
from eager.autograd import gradcheck
from jit import jit


def _z():
    return eager.tensor([1 + 2j, 3 - 4j], dtype=eager.complex128)


def test_real_and_imag_are_views_that_write_through():
    z = _z()
    z.real.add_(1)
    z.imag.mul_(2)
    assert z.tolist() == [2 + 4j, 4 - 8j]
    z[0:1].real.fill_(0.0)   # a view of a view
    assert z.tolist() == [4j, 4 - 8j]
    assert z.real.dtype == eager.float64 and z.imag.dtype == eager.float64


def test_assigning_to_real_and_imag_writes_into_the_tensor():
    z = _z()
    z.real = 0.5
    z.imag = eager.tensor([1.0, 2.0], dtype=eager.float64)
    assert z.tolist() == [0.5 + 1j, 0.5 + 2j]


def test_writes_into_a_complex_tensor_show_in_its_views():
    z = _z()
    re, im = z.real, z.imag
    z.mul_(1j)
    assert re.tolist() == [-2.0, 4.0] and im.tolist() == [1.0, 3.0]


def test_function_real_and_imag_are_copies():
    z = _z()
    eager.real(z).add_(10)
    assert z.tolist() == [1 + 2j, 3 - 4j]
    assert eager.imag(eager.tensor([1.0, 2.0])).tolist() == [0.0, 0.0]


def test_real_of_a_real_tensor_is_itself_and_imag_raises():
    x = eager.tensor([1.0, 2.0])
    assert x.real is x
    with pytest.raises(RuntimeError, match=r"imag: a float32 tensor of shape \(2,\)"):
        _ = x.imag
    with pytest.raises(eager.DTypeError):
        _ = eager.tensor([1, 2]).imag


def test_gradients_flow_through_real_and_imag():
    z = eager.tensor([1 + 2j, 3 - 4j], dtype=eager.complex128, requires_grad=True)
    (z.real * 2 + z.imag ** 2).sum().backward()
    assert z.grad.tolist() == [2 + 4j, 2 - 8j]   # dL/dx + i dL/dy
    w = eager.tensor([0.5 - 1j, 2 + 0.25j], dtype=eager.complex128, requires_grad=True)
    assert gradcheck(lambda t: t.real * t.imag + eager.exp(t.imag) * t, [w])


def test_gradients_match_torch():
    torch = pytest.importorskip("torch")
    data = np.array([1 + 2j, -0.5 + 0.25j])
    z = eager.tensor(data, dtype=eager.complex128, requires_grad=True)
    t = torch.tensor(data, dtype=torch.complex128, requires_grad=True)
    for lib, x in ((eager, z), (torch, t)):
        (lib.sin(x.real) * x.imag + (x * x).imag).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_a_write_through_a_view_of_a_leaf_that_requires_grad_is_refused():
    z = eager.tensor([1 + 2j], dtype=eager.complex128, requires_grad=True)
    with pytest.raises(eager.AutogradError):
        z.real.add_(1)


def test_writes_through_views_replay_under_jit():
    @jit
    def step(z, y):
        z.real.add_(y)
        z.imag.mul_(2)
        return z.real * 1

    for _ in range(3):
        z = _z()
        out = step(z, eager.tensor([1.0, 1.0], dtype=eager.float64))
        assert z.tolist() == [2 + 4j, 4 - 8j]
        assert out.tolist() == [2.0, 4.0]
    assert step.cache_info().hits == 2


def test_traced_views_are_graph_ops():
    graph = tracer.trace(lambda z: z.imag * 3 + z.real, _z())
    assert {"imag_view", "real_view"} <= {n.op.name for n in graph.nodes}
    assert graph(eager.tensor([5 + 7j, 1j], dtype=eager.complex128)).tolist() == [26.0, 3.0]


def test_complex_methods():
    z = _z()
    assert z.is_complex() and not eager.tensor([1.0]).is_complex()
    conj = z.conj_physical()
    assert conj.tolist() == [1 - 2j, 3 + 4j] and z.tolist() == [1 + 2j, 3 - 4j]
    assert z.conj().resolve_conj().tolist() == [1 - 2j, 3 + 4j] and not z.conj().is_conj()
    m = eager.tensor([[1 + 1j, 2j], [3.0, 4 - 1j]])
    np.testing.assert_array_equal(m.mH.numpy(), m.numpy().conj().T)
    assert eager.ones(2, 3).mH.shape == (3, 2)
    assert z.abs().tolist() == pytest.approx([5 ** 0.5, 5.0])
    assert z.angle().tolist() == pytest.approx(np.angle(z.numpy()).tolist())
