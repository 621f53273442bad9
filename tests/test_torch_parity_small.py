"""Small PyTorch-parity rules a ported model would notice, one test per rule: each states
the rule without PyTorch (so it fails if our code is wrong even where torch is missing),
and a `_matches_torch` twin compares with torch itself where it is installed.
"""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import eager
import eager.nn.functional as F
from eager import nn, optim
from eager.autograd import gradcheck
from eager.nn.errors import ArgumentError
from jit import jit
from kernels.errors import DeviceError, ShapeError

HERE = os.path.basename(__file__)
RNG = np.random.default_rng(7)


def t64(a, grad: bool = False) -> eager.Tensor:
    return eager.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def implicit(fn, *args):
    """fn(*args) and the messages of the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args)
    return out, [(w.category, str(w.message)) for w in caught]


# 1. softmax family without dim: PyTorch's implicit dim, with its UserWarning

@pytest.mark.parametrize("shape, dim", [((), 0), ((5,), 0), ((2, 3), 1), ((2, 3, 4), 0),
                                        ((2, 3, 4, 5), 1)])
def test_softmax_family_without_dim_picks_torchs_dim_and_warns(shape, dim):
    x = t64(RNG.standard_normal(shape))
    for name, explicit in (("softmax", lambda v: F.softmax(v, dim=dim)),
                           ("log_softmax", lambda v: F.log_softmax(v, dim=dim)),
                           ("softmin", lambda v: F.softmax(-v, dim=dim))):
        out, caught = implicit(getattr(F, name), x)
        np.testing.assert_allclose(out.numpy(), explicit(x).numpy(), rtol=1e-12)
        assert [c for c, _ in caught] == [UserWarning]
        message = caught[0][1]
        assert f"Implicit dimension choice for {name} has been deprecated" in message
        assert f"dim={dim}" in message and f"(at {HERE}:" in message


def test_softmax_without_dim_under_jit_and_nn_softmax():
    x = eager.tensor(RNG.standard_normal((2, 3, 4)), dtype=eager.float32)
    want = F.softmax(x, dim=0).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        f = jit(lambda v: F.softmax(v))
        for _ in range(3):  # trace, then replays
            np.testing.assert_allclose(f(x).numpy(), want, rtol=1e-6)
    _, caught = implicit(nn.Softmax(), x)
    assert [c for c, _ in caught] == [UserWarning]
    np.testing.assert_allclose(implicit(nn.LogSoftmax(), x)[0].numpy(), np.log(want),
                               rtol=1e-5, atol=1e-6)


def test_softmax_family_without_dim_matches_torch():
    torch = pytest.importorskip("torch")
    for shape in ((5,), (2, 3), (2, 3, 4), (2, 3, 4, 5)):
        a = RNG.standard_normal(shape)
        for name in ("softmax", "log_softmax", "softmin"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                ours = getattr(F, name)(t64(a)).numpy()
                theirs = getattr(torch.nn.functional, name)(torch.tensor(a)).numpy()
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


# 2. binary_cross_entropy refuses input or target outside [0, 1]

@pytest.mark.parametrize("p, t, name", [([0.5, 1.5], [1.0, 0.0], "input"),
                                        ([-0.1, 0.5], [1.0, 0.0], "input"),
                                        ([float("nan"), 0.5], [1.0, 0.0], "input"),
                                        ([0.5, 0.5], [2.0, 0.0], "target"),
                                        ([0.5, 0.5], [-1.0, 0.0], "target")])
def test_binary_cross_entropy_outside_zero_one_raises(p, t, name):
    with pytest.raises(ArgumentError) as info:
        F.binary_cross_entropy(eager.tensor(p), eager.tensor(t))
    message = str(info.value)
    assert f"binary_cross_entropy: all elements of {name} should be between 0 and 1" in message
    assert "got values in [" in message and f"(at {HERE}:" in message
    assert isinstance(info.value, ValueError)


def test_binary_cross_entropy_range_check_is_a_guard_under_jit():
    f = jit(lambda p, t: F.binary_cross_entropy(p, t))
    t = eager.tensor([1.0, 0.0])
    good = eager.tensor([0.25, 0.5])
    want = F.binary_cross_entropy(good, t).item()
    assert f(good, t).item() == pytest.approx(want)
    assert f(good, t).item() == pytest.approx(want)   # a replay
    with pytest.raises(ArgumentError, match=r"input should be between 0 and 1, got values in "
                                            r"\[0\.25, 1\.5\]"):
        f(eager.tensor([0.25, 1.5]), t)
    assert f(good, t).item() == pytest.approx(want)


def test_binary_cross_entropy_edges_still_accepted():
    # exactly 0 and 1 are probabilities; the clamped logs keep the loss finite
    loss = F.binary_cross_entropy(eager.tensor([0.0, 1.0]), eager.tensor([0.0, 1.0]))
    assert loss.item() == 0.0


def test_binary_cross_entropy_range_matches_torch():
    torch = pytest.importorskip("torch")
    for p, t in (([0.5, 1.5], [1.0, 0.0]), ([0.5, 0.5], [2.0, 0.0])):
        with pytest.raises(RuntimeError, match="should be between 0 and 1"):
            torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t))
        with pytest.raises(ArgumentError, match="should be between 0 and 1"):
            F.binary_cross_entropy(eager.tensor(p), eager.tensor(t))


# 3. unbatched inputs: (C, L) for conv1d, (C, H, W) for the 2-D convolutions and pools

UNBATCHED = {
    "conv1d": (lambda x, w: F.conv1d(x, w, padding=1), (3, 7), (4, 3, 3)),
    "conv2d": (lambda x, w: F.conv2d(x, w, stride=2), (3, 6, 5), (4, 3, 2, 2)),
    "conv_transpose2d": (lambda x, w: F.conv_transpose2d(x, w, stride=2), (3, 4, 3),
                         (3, 2, 2, 2)),
    "max_pool2d": (lambda x, w: F.max_pool2d(x, 2, stride=1), (3, 4, 5), None),
    "avg_pool2d": (lambda x, w: F.avg_pool2d(x, 2, ceil_mode=True, padding=1,
                                             count_include_pad=False), (3, 5, 5), None),
    "adaptive_avg_pool2d": (lambda x, w: F.adaptive_avg_pool2d(x, (2, 3)), (3, 5, 7), None),
}


@pytest.mark.parametrize("name", sorted(UNBATCHED))
def test_unbatched_input_is_the_batch_of_one_without_its_batch_dim(name):
    fn, x_shape, w_shape = UNBATCHED[name]
    x = t64(RNG.standard_normal(x_shape), grad=True)
    w = None if w_shape is None else t64(RNG.standard_normal(w_shape), grad=True)
    out = fn(x, w)
    batched = fn(x.unsqueeze(0), w)
    assert out.shape == batched.shape[1:]
    np.testing.assert_allclose(out.detach().numpy(), batched.detach().numpy()[0], rtol=1e-12)
    inputs = [x] if w is None else [x, w]
    assert gradcheck(lambda *a: fn(a[0], a[1] if len(a) > 1 else None), inputs)
    f = jit(fn)
    w = None if w is None else w.detach()
    for _ in range(2):
        np.testing.assert_allclose(f(x.detach(), w).numpy(), out.detach().numpy(), rtol=1e-12)
    assert f.cache_info().hits == 1


def test_unbatched_conv_layers():
    conv1 = nn.Conv1d(3, 4, 3, dtype=eager.float64)
    conv2 = nn.Conv2d(3, 4, 3, padding=1, dtype=eager.float64)
    convt = nn.ConvTranspose2d(3, 4, 3, stride=2, dtype=eager.float64)
    x1, x2 = t64(RNG.standard_normal((3, 8))), t64(RNG.standard_normal((3, 5, 6)))
    for layer, x in ((conv1, x1), (conv2, x2), (convt, x2)):
        np.testing.assert_allclose(layer(x).detach().numpy(),
                                   layer(x.unsqueeze(0)).detach().numpy()[0],
                                   rtol=1e-12)
    assert convt(x2, output_size=(12, 14)).shape == (4, 12, 14)
    with pytest.raises(ShapeError, match=r"has 2 channels but the layer expects in_channels=3"):
        conv2(eager.ones(2, 5, 5, dtype=eager.float64))
    with pytest.raises(ShapeError, match=r"3-D \(C, H, W\) or 4-D \(N, C, H, W\)"):
        F.conv2d(eager.ones(5, 5), eager.ones(4, 3, 2, 2))
    with pytest.raises(ShapeError, match=r"\(C, L\) or \(N, C, L\)"):
        F.conv1d(eager.ones(5), eager.ones(4, 3, 2))
    with pytest.raises(ShapeError, match=r"conv1d: the unbatched input of shape \(2, 4\) has "
                                         r"2 channels but the weight .* expects 4"):
        F.conv1d(eager.ones(2, 4), eager.ones(1, 4, 3))
    with pytest.raises(ShapeError, match="4-d input"):  # BatchNorm2d is never unbatched
        nn.BatchNorm2d(3)(eager.ones(3, 4, 4))


def test_unbatched_inputs_match_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    theirs = {"conv1d": lambda x, w: tf.conv1d(x, w, padding=1),
              "conv2d": lambda x, w: tf.conv2d(x, w, stride=2),
              "conv_transpose2d": lambda x, w: tf.conv_transpose2d(x, w, stride=2),
              "max_pool2d": lambda x, w: tf.max_pool2d(x, 2, stride=1),
              "avg_pool2d": lambda x, w: tf.avg_pool2d(x, 2, ceil_mode=True, padding=1,
                                                       count_include_pad=False),
              "adaptive_avg_pool2d": lambda x, w: tf.adaptive_avg_pool2d(x, (2, 3))}
    for name, (fn, x_shape, w_shape) in UNBATCHED.items():
        a = RNG.standard_normal(x_shape)
        b = None if w_shape is None else RNG.standard_normal(w_shape)
        ours = fn(t64(a), None if b is None else t64(b)).numpy()
        want = theirs[name](torch.tensor(a), None if b is None else torch.tensor(b)).numpy()
        np.testing.assert_allclose(ours, want, rtol=1e-10, atol=1e-12, err_msg=name)
    with pytest.raises(ValueError, match="expected 4D input"):
        torch.nn.BatchNorm2d(3)(torch.ones(3, 4, 4))


# 4. optimizer parameter groups

def test_optimizer_param_group_errors_name_the_optimizer_and_group():
    p, q = eager.ones(2, requires_grad=True), eager.ones(3, requires_grad=True)
    with pytest.raises(ArgumentError, match=r"SGD: parameter group 1: 'params' must be a "
                                            r"Tensor or an iterable of Tensors, got int 3"):
        optim.SGD([{"params": [q]}, {"params": 3}], lr=0.1)
    with pytest.raises(ArgumentError, match=r"Adam: parameter group 1: parameter 1 of shape "
                                            r"\(2,\) appears in more than one group: group 0"):
        optim.Adam([{"params": [p]}, {"params": [q, p]}])
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ArgumentError, match=r"SGD: parameter group 1: .* group 0 holds it"):
        opt.add_param_group({"params": [p]})
    with pytest.raises(ArgumentError, match=r"SGD: parameter group 0: params is a set"):
        optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(ArgumentError, match=r"SGD: got an empty parameter list"):
        optim.SGD([], lr=0.1)
    params = (t for t in [p])
    optim.SGD(params, lr=0.1)
    with pytest.raises(ArgumentError, match=r"empty parameter list.*used up after one pass"):
        optim.SGD(params, lr=0.1)


def test_optimizer_defaults_and_empty_groups():
    p = eager.ones(2, requires_grad=True)
    assert optim.SGD([p]).param_groups[0]["lr"].item() == pytest.approx(1e-3)
    opt = optim.SGD([{"params": []}, {"params": [p]}], lr=0.5)
    opt.add_param_group({"params": []})
    assert [len(g["params"]) for g in opt.param_groups] == [0, 1, 0]
    p.grad = eager.ones(2)
    opt.step()
    assert p.tolist() == [0.5, 0.5]


def test_optimizer_param_groups_match_torch():
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.ones(2))
    with pytest.raises(ValueError, match="more than one parameter group"):
        torch.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        torch.optim.SGD([], lr=0.1)
    assert torch.optim.SGD([p]).param_groups[0]["lr"] == 1e-3
    assert len(torch.optim.SGD([{"params": []}, {"params": [p]}], lr=0.1).param_groups) == 2


# 5. .to with a string that names no device

def test_to_with_a_string_that_is_no_device():
    x = eager.zeros(2)
    with pytest.raises(DeviceError, match=r"to: 'float99' is neither a device .* nor a dtype "
                                          r"name"):
        x.to("float99")
    with pytest.raises(DeviceError, match=r"to: 'float32' names a dtype, not a device.*"
                                          r"x\.to\(eager\.float32\)"):
        x.to("float32")
    assert x.to("cpu") is x
    assert x.to(eager.float64).dtype == eager.float64


def test_to_with_a_dtype_string_matches_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="Invalid device string: 'float32'"):
        torch.zeros(2).to("float32")
    with pytest.raises(RuntimeError):
        eager.zeros(2).to("float32")


# more probes: Embedding(max_norm, padding_idx) and errors PyTorch raises too

W0 = RNG.standard_normal((6, 3)) * 3
EMBEDDING_IDS = [[1, 2, 2], [0, 4, 1]]


def _embedding_run(lib, ids):
    """(output, weight after, weight gradient) of one lookup with max_norm=1.5, in lib
    (eager or torch), float64 throughout."""
    emb = lib.nn.Embedding(6, 3, padding_idx=0, max_norm=1.5, dtype=lib.float64)
    with lib.no_grad():
        emb.weight.copy_(lib.tensor(W0, dtype=lib.float64))
    out = emb(ids)
    (out * out).sum().backward()
    return [v.detach().numpy() for v in (out, emb.weight, emb.weight.grad)]


def test_embedding_max_norm_and_padding_idx():
    out, weight, grad = _embedding_run(eager, eager.tensor(EMBEDDING_IDS))
    norms = np.linalg.norm(W0, axis=1)
    looked_up = sorted({i for row in EMBEDDING_IDS for i in row})
    for i in range(6):
        want = W0[i] * min(1.0, 1.5 / (norms[i] + 1e-7)) if i in looked_up else W0[i]
        np.testing.assert_allclose(weight[i], want, rtol=1e-12)  # renormed in place
    np.testing.assert_allclose(out[1, 1], weight[4])
    assert not grad[0].any() and grad[4].any()   # the padding row gets no gradient
    assert not grad[3].any() and not grad[5].any()
    e = nn.Embedding(4, 2, max_norm=1.0)
    assert "max_norm=1.0" in repr(e)
    with pytest.raises(ArgumentError, match="Embedding: max_norm"):
        nn.Embedding(4, 2, max_norm=-1.0)


def test_embedding_max_norm_in_a_jitted_training_step():
    def make():
        emb = nn.Embedding(6, 3, max_norm=1.0, dtype=eager.float64)
        with eager.no_grad():
            emb.weight.copy_(t64(W0))
        return emb, optim.SGD(emb.parameters(), lr=0.5)

    def step(emb, opt, ids):
        opt.zero_grad()
        loss = (emb(ids) ** 3).sum()
        loss.backward()
        opt.step()
        return loss.detach()

    (e1, o1), (e2, o2) = make(), make()
    jitted = jit(lambda ids: step(e2, o2, ids))
    for ids in ([1, 2], [3, 1], [2, 5], [0, 4]):
        ids = eager.tensor(ids)
        assert jitted(ids).item() == pytest.approx(step(e1, o1, ids).item(), rel=1e-12)
        np.testing.assert_allclose(e2.weight.detach().numpy(), e1.weight.detach().numpy(),
                                   rtol=1e-12)
    assert jitted.cache_info().hits == 3


def test_embedding_max_norm_matches_torch():
    torch = pytest.importorskip("torch")
    ours = _embedding_run(eager, eager.tensor(EMBEDDING_IDS))
    theirs = _embedding_run(torch, torch.tensor(EMBEDDING_IDS))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


REFUSED = [
    ("dropout p", lambda: F.dropout(eager.ones(3), 1.5), ArgumentError, "dropout"),
    ("one_hot too few classes", lambda: F.one_hot(eager.tensor([3]), 2), IndexError,
     "one_hot"),
    ("max over an empty dim", lambda: eager.max(eager.zeros(0, 3), 0), ShapeError, "max"),
    ("view of a transpose", lambda: eager.zeros(2, 3).T.view(-1), ShapeError, "reshape"),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c[0] for c in REFUSED])
def test_what_torch_refuses_is_refused(case):
    _, fn, kind, part = case
    with pytest.raises(kind, match=part):
        fn()


def test_clamp_with_min_above_max_gives_max_as_torch():
    x = eager.tensor([0.0, 5.0, 10.0])
    assert x.clamp(7.0, 3.0).tolist() == [3.0, 3.0, 3.0]


# convolutions with padding="same" / "valid"; F.softmax's third positional is _stacklevel

SAME_CASES = [((3, 3), 1), ((2, 4), 1), ((2, 3), 2), ((4, 1), (1, 3))]


def _string_padded(lib, functional):
    rng = np.random.default_rng(3)
    x, x1 = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((2, 3, 9))
    outs = []
    for kernel, dilation in SAME_CASES:
        w = lib.tensor(rng.standard_normal((4, 3) + kernel))
        for padding in ("same", "valid"):
            outs.append(functional.conv2d(lib.tensor(x), w, padding=padding,
                                          dilation=dilation).numpy())
    for k in (2, 3, 4):
        w = lib.tensor(rng.standard_normal((4, 3, k)))
        outs.append(functional.conv1d(lib.tensor(x1), w, padding="same", dilation=3).numpy())
    return outs


def test_conv_padding_same_and_valid():
    outs = _string_padded(eager, F)
    assert [o.shape for o in outs[:8:2]] == [(2, 4, 7, 6)] * 4     # "same" keeps the size
    assert [o.shape for o in outs[1:8:2]] == [(2, 4, 5, 4), (2, 4, 6, 3), (2, 4, 5, 2),
                                              (2, 4, 4, 6)]
    assert [o.shape for o in outs[8:]] == [(2, 4, 9)] * 3
    x = t64(RNG.standard_normal((1, 1, 4, 5)))
    w = t64(RNG.standard_normal((1, 1, 2, 2)))
    # an even kernel: the extra zero goes after (bottom, right)
    want = F.conv2d(F.pad(x, (0, 1, 0, 1)), w)
    np.testing.assert_allclose(F.conv2d(x, w, padding="same").numpy(), want.numpy())
    conv = nn.Conv2d(2, 3, 4, padding="same")
    assert conv(eager.ones(2, 5, 5)).shape == (3, 5, 5)
    assert nn.Conv1d(2, 3, 4, padding="valid")(eager.ones(1, 2, 9)).shape == (1, 3, 6)
    with pytest.raises(ArgumentError, match="padding='same' is not supported for strided"):
        nn.Conv2d(2, 3, 3, stride=2, padding="same")
    with pytest.raises(ArgumentError, match="conv2d: padding must be numbers, 'valid' or "
                                            "'same', got 'full'"):
        F.conv2d(eager.ones(1, 1, 4, 4), eager.ones(1, 1, 2, 2), padding="full")


def test_conv_padding_same_and_valid_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_string_padded(eager, F),
                            _string_padded(torch, torch.nn.functional)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_softmax_third_positional_is_stacklevel():
    x = eager.ones(2, 3)
    assert F.softmax(x, 1, 3).dtype == eager.float32
    assert F.log_softmax(x, 1, 3, eager.float64).dtype == eager.float64


# Conv1d / Conv2d padding_mode

PADDING_MODE_CASES = [(1, 3, 1), ((2, 1), (3, 2), (1, 2)), ("same", (2, 3), 1),
                      ("valid", 3, 1)]


def _mode_padded(lib, mode):
    rng = np.random.default_rng(5)
    x = lib.tensor(rng.standard_normal((2, 3, 6, 7)))
    outs = []
    for padding, kernel, dilation in PADDING_MODE_CASES:
        conv = lib.nn.Conv2d(3, 4, kernel, padding=padding, dilation=dilation,
                             padding_mode=mode, dtype=lib.float64)
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(rng.standard_normal(tuple(conv.weight.shape))))
        outs.append(conv(x) - conv.bias.reshape(1, -1, 1, 1))
    conv = lib.nn.Conv1d(3, 4, 4, padding="same", padding_mode=mode, dtype=lib.float64)
    with lib.no_grad():
        conv.weight.copy_(lib.tensor(rng.standard_normal(tuple(conv.weight.shape))))
    outs.append(conv(lib.tensor(rng.standard_normal((3, 8)))) - conv.bias.reshape(-1, 1))
    return [o.detach().numpy() for o in outs]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv_padding_mode(mode):
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False, padding_mode=mode, dtype=eager.float64)
    x = t64(RNG.standard_normal((1, 1, 4, 5)))
    want = F.conv2d(F.pad(x, (1, 1, 1, 1), mode=mode), conv.weight)
    np.testing.assert_allclose(conv(x).detach().numpy(), want.detach().numpy())
    assert f"padding_mode={mode}" in repr(conv)
    shapes = [o.shape for o in _mode_padded(eager, mode)]
    assert shapes == [(2, 4, 6, 7), (2, 4, 8, 7), (2, 4, 6, 7), (2, 4, 4, 5), (4, 8)]
    with pytest.raises(ArgumentError, match="Conv2d: padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")


def test_conv_padding_mode_matches_torch():
    torch = pytest.importorskip("torch")
    for mode in ("reflect", "replicate", "circular"):
        for ours, theirs in zip(_mode_padded(eager, mode), _mode_padded(torch, mode)):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
