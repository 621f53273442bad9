"""eager.nn.functional against numpy references and finite differences."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import eager
import eager.nn.functional as F
from eager.autograd.gradcheck import gradcheck
from eager.nn import ArgumentError

f64 = eager.float64


def t64(array, requires_grad=True):
    return eager.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def np_log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_conv2d(x, w, b, stride, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride[0] + 1, (wd - kw) // stride[1] + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out + b.reshape(1, -1, 1, 1)


def np_max_pool2d(x, k, s, p):
    x = np.pad(x, ((0, 0), (0, 0), (p,) * 2, (p,) * 2), constant_values=-np.inf)
    oh, ow = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
    out = np.empty(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
    return out


arrays_2d = st.tuples(st.integers(1, 5), st.integers(1, 6)).flatmap(
    lambda shape: st.lists(st.floats(-30, 30), min_size=shape[0] * shape[1],
                           max_size=shape[0] * shape[1]).map(
        lambda v: np.array(v, dtype=np.float64).reshape(shape)))


@given(arrays_2d)
def test_softmax_and_log_softmax_match_numpy(x):
    expected = np_log_softmax(x)
    assert np.allclose(F.log_softmax(t64(x, False)).numpy(), expected, atol=1e-12)
    assert np.allclose(F.softmax(t64(x, False), dim=1).numpy(), np.exp(expected), atol=1e-12)
    assert np.allclose(F.softmax(t64(x, False), dim=0).numpy().sum(axis=0), 1.0)


@given(arrays_2d, st.sampled_from(["mean", "sum", "none"]), st.integers(0, 2**31))
def test_cross_entropy_matches_numpy(x, reduction, seed):
    target = np.random.default_rng(seed).integers(0, x.shape[1], size=x.shape[0])
    per_example = -np_log_softmax(x)[np.arange(x.shape[0]), target]
    expected = {"mean": per_example.mean(), "sum": per_example.sum(),
                "none": per_example}[reduction]
    got = F.cross_entropy(t64(x, False), eager.tensor(target), reduction=reduction)
    assert np.allclose(got.numpy(), expected, atol=1e-10)


def test_log_softmax_is_stable_for_huge_and_tiny_logits():
    x = eager.tensor([[1e4, 0.0, -1e4]])
    out = F.log_softmax(x).tolist()[0]
    assert out[0] == 0.0 and out[1] == -1e4 and math.isfinite(out[2])
    assert math.isfinite(F.cross_entropy(x, eager.tensor([2])).item())


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gradcheck_log_softmax(dim):
    x = t64(np.random.default_rng(0).normal(size=(3, 4)) * 3)
    assert gradcheck(lambda x: F.log_softmax(x, dim=dim), [x])
    assert gradcheck(lambda x: F.softmax(x, dim=dim), [x])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck_cross_entropy(reduction):
    x = t64(np.random.default_rng(1).normal(size=(5, 4)))
    target = eager.tensor([0, 3, 1, 1, 2])
    assert gradcheck(lambda x: F.cross_entropy(x, target, reduction=reduction), [x])


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    x = t64([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    F.cross_entropy(x, eager.tensor([1, 0])).backward()
    expected = np.exp(np_log_softmax(x.detach().numpy()))
    expected[[0, 1], [1, 0]] -= 1
    assert np.allclose(x.grad.numpy(), expected / 2)


def test_cross_entropy_errors_name_the_mistake():
    logits = eager.zeros(4, 3)
    with pytest.raises(eager.DTypeError, match="cross_entropy: target must hold integer "
                                               "class indices, got float32"):
        F.cross_entropy(logits, eager.zeros(4))
    with pytest.raises(eager.ShapeError, match=r"target of shape \(5,\) does not match input "
                                               r"of shape \(4, 3\).*test_nn_functional.py"):
        F.cross_entropy(logits, eager.zeros(5, dtype=eager.int64))
    with pytest.raises(F.TargetError, match=r"outside \[0, 3\)") as info:
        F.cross_entropy(logits, eager.tensor([0, 1, 2, 3]))
    assert isinstance(info.value, IndexError)
    with pytest.raises(ArgumentError, match="reduction must be one of"):
        F.cross_entropy(logits, eager.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(eager.ShapeError, match=r"input must have shape \(batch, classes\)"):
        F.cross_entropy(eager.zeros(3), eager.tensor([0]))


def test_mse_loss_value_gradient_and_shape_check():
    a, b = t64([1.0, 2.0, 4.0]), t64([0.0, 2.0, 1.0], False)
    loss = F.mse_loss(a, b)
    assert loss.item() == pytest.approx(10.0 / 3)
    loss.backward()
    assert np.allclose(a.grad.numpy(), 2 * np.array([1.0, 0.0, 3.0]) / 3)
    assert F.mse_loss(a, b, reduction="sum").item() == pytest.approx(10.0)
    with pytest.raises(eager.ShapeError, match=r"mse_loss: input of shape \(3,\) and target "
                                               r"of shape \(3, 1\) differ"):
        F.mse_loss(a, eager.zeros(3, 1, dtype=f64))


def test_relu_has_zero_gradient_at_zero_and_matches_numpy():
    x = t64([-2.0, 0.0, 3.0])
    F.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]
    assert F.relu(x).tolist() == [0.0, 0.0, 3.0]
    assert np.allclose(F.sigmoid(x).detach().numpy(), 1 / (1 + np.exp(-x.detach().numpy())))
    assert np.allclose(F.tanh(x).detach().numpy(), np.tanh(x.detach().numpy()))


def test_linear_matches_numpy_and_gradchecks():
    rng = np.random.default_rng(2)
    x, w, b = (t64(rng.normal(size=s)) for s in [(4, 3), (5, 3), (5,)])
    expected = x.detach().numpy() @ w.detach().numpy().T + b.detach().numpy()
    assert np.allclose(F.linear(x, w, b).detach().numpy(), expected)
    assert gradcheck(F.linear, [x, w, b])
    with pytest.raises(eager.ShapeError, match=r"linear: input of shape \(4, 3\) has"):
        F.linear(x, t64(rng.normal(size=(5, 2))))


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), ((2, 1), (0, 2))])
def test_conv2d_matches_direct_loop(stride, padding):
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    s = (stride, stride) if isinstance(stride, int) else stride
    p = (padding, padding) if isinstance(padding, int) else padding
    got = F.conv2d(t64(x, False), t64(w, False), t64(b, False), stride, padding).numpy()
    assert np.allclose(got, np_conv2d(x, w, b, s, p))


def test_gradcheck_conv2d_with_stride_and_padding():
    rng = np.random.default_rng(4)
    x, w, b = (t64(rng.normal(size=s)) for s in [(2, 2, 5, 4), (3, 2, 3, 3), (3,)])
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [x, w, b])


def test_gradcheck_conv2d_module():
    eager.manual_seed(0)
    conv = eager.nn.Conv2d(2, 2, 2, padding=1).double()
    x = t64(np.random.default_rng(5).normal(size=(1, 2, 3, 3)))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, conv.stride, conv.padding),
                     [x, conv.weight, conv.bias])


def test_conv2d_errors():
    with pytest.raises(eager.ShapeError, match=r"conv2d: expected input \(N, C, H, W\) and "
                                               r"weight .* got input \(1, 2, 5, 5\) and weight "
                                               r"\(4, 3, 3, 3\)"):
        F.conv2d(eager.zeros(1, 2, 5, 5), eager.zeros(4, 3, 3, 3))
    with pytest.raises(eager.ShapeError, match="kernel .* is larger than the padded input"):
        F.conv2d(eager.zeros(1, 1, 2, 2), eager.zeros(1, 1, 3, 3))


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 1, 1), (3, 2, 1), (2, 1, 0)])
def test_max_pool2d_matches_numpy(k, s, p):
    x = np.random.default_rng(6).normal(size=(2, 3, 6, 5))
    got = F.max_pool2d(t64(x, False), k, s, p).numpy()
    assert np.allclose(got, np_max_pool2d(x, k, s, p))


def test_gradcheck_max_pool2d():
    x = t64(np.random.default_rng(7).permutation(50).reshape(1, 2, 5, 5) / 10.0)
    assert gradcheck(lambda x: F.max_pool2d(x, 2), [x])
    assert gradcheck(lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [x])


@pytest.mark.parametrize("shape,normalized", [((3, 4), (4,)), ((2, 3, 4), (3, 4))])
def test_layer_norm_matches_numpy_and_gradchecks(shape, normalized):
    rng = np.random.default_rng(8)
    x = t64(rng.normal(size=shape) * 2 + 1)
    w, b = t64(rng.normal(size=normalized)), t64(rng.normal(size=normalized))
    xn = x.detach().numpy()
    axes = tuple(range(len(shape) - len(normalized), len(shape)))
    ref = (xn - xn.mean(axes, keepdims=True)) / np.sqrt(xn.var(axes, keepdims=True) + 1e-5)
    got = F.layer_norm(x, normalized, w, b).detach().numpy()
    assert np.allclose(got, ref * w.detach().numpy() + b.detach().numpy())
    assert gradcheck(lambda x, w, b: F.layer_norm(x, normalized, w, b), [x, w, b])
    with pytest.raises(eager.ShapeError, match="layer_norm: normalized_shape"):
        F.layer_norm(x, (5,))


def test_dropout_scales_kept_values_and_is_seeded():
    x = eager.ones(100_000)
    eager.manual_seed(0)
    a = F.dropout(x, 0.25).numpy()
    eager.manual_seed(0)
    b = F.dropout(x, 0.25).numpy()
    assert np.array_equal(a, b)
    values = np.unique(a)
    assert len(values) == 2 and values[0] == 0.0 and values[1] == pytest.approx(1 / 0.75)
    assert abs((a == 0).mean() - 0.25) < 0.01
    assert F.dropout(x, 0.25, training=False) is x
    assert float(F.dropout(x, 1.0).sum()) == 0.0
    with pytest.raises(ArgumentError, match="dropout: probability must be in"):
        F.dropout(x, 1.5)


def test_dropout_gradient_flows_only_through_kept_elements():
    x = t64(np.ones(1000))
    eager.manual_seed(1)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    kept = y.detach().numpy() != 0
    assert np.allclose(x.grad.numpy()[kept], 2.0) and np.all(x.grad.numpy()[~kept] == 0)


def test_embedding_errors():
    w = eager.zeros(4, 2)
    with pytest.raises(eager.DTypeError, match="embedding: indices must be integers"):
        F.embedding(eager.zeros(2), w)
    with pytest.raises(F.TargetError, match=r"embedding: an index is outside \[0, 4\)"):
        F.embedding(eager.tensor([4]), w)


@pytest.mark.gpu
def test_composites_on_cuda_match_cpu():
    rng = np.random.default_rng(9)
    x, w, b = rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    target = np.array([1, 3])
    results = {}
    for device in ("cpu", "cuda"):
        xt = eager.tensor(x, dtype=f64, device=device, requires_grad=True)
        wt = eager.tensor(w, dtype=f64, device=device, requires_grad=True)
        bt = eager.tensor(b, dtype=f64, device=device)
        h = F.max_pool2d(F.relu(F.conv2d(xt, wt, bt, stride=1, padding=1)), 2)
        h = F.layer_norm(h.flatten(1), (36,))
        loss = F.cross_entropy(h[:, :4], eager.tensor(target, device=device))
        loss.backward()
        results[device] = [loss.item(), xt.grad.to("cpu").numpy(), wt.grad.to("cpu").numpy()]
    assert np.isclose(results["cpu"][0], results["cuda"][0])
    assert np.allclose(results["cpu"][1], results["cuda"][1])
    assert np.allclose(results["cpu"][2], results["cuda"][2])
