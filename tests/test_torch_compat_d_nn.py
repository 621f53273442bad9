"""Issue 11, part D (nn): GroupNorm, Conv1d, ConvTranspose2d, LSTM(proj_size=) and
`nn.utils.rnn` (pad_sequence, PackedSequence through RNN/LSTM/GRU), written as PyTorch
programs with `import eager as torch`. Values are checked against numpy references
written here and against PyTorch where it is installed; gradients with float64
gradcheck."""
import itertools

import numpy as np
import pytest

import eager as torch
import eager.nn.functional as F
from eager import nn
from eager.autograd import gradcheck
from eager.nn.utils import rnn
from jit import jit

RNG = np.random.default_rng(11)


def t64(a, grad=True):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def close(got, want, tol=1e-9):
    got = got.detach().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def torch_or_skip():
    return pytest.importorskip("torch")


# ---- GroupNorm ------------------------------------------------------------------------
def np_group_norm(x, groups, weight, bias, eps=1e-5):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    out = (g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)
    shape = (1, c) + (1,) * (x.ndim - 2)
    return out.reshape(x.shape) * weight.reshape(shape) + bias.reshape(shape)


@pytest.mark.parametrize("groups, shape", [(1, (2, 6, 3)), (2, (2, 6, 4, 5)), (3, (1, 6)),
                                           (6, (3, 6, 2, 2))])
def test_group_norm_matches_numpy_and_torch(groups, shape):
    x, w, b = RNG.standard_normal(shape), RNG.standard_normal(6), RNG.standard_normal(6)
    got = F.group_norm(t64(x), groups, t64(w), t64(b))
    close(got, np_group_norm(x, groups, w, b))
    assert gradcheck(lambda x, w, b: F.group_norm(x, groups, w, b), [t64(x), t64(w), t64(b)])
    layer = nn.GroupNorm(groups, 6)
    assert sorted(layer.state_dict()) == ["bias", "weight"]
    close(layer(torch.tensor(x, dtype=torch.float32)), np_group_norm(x, groups, np.ones(6),
                                                                     np.zeros(6)), 1e-5)


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_group_norm_matches_torch(groups):
    pt = torch_or_skip()
    x, w, b = RNG.standard_normal((2, 6, 4, 5)), RNG.standard_normal(6), RNG.standard_normal(6)
    close(F.group_norm(t64(x), groups, t64(w), t64(b)),
          pt.nn.functional.group_norm(pt.tensor(x), groups, pt.tensor(w),
                                      pt.tensor(b)).numpy())


def test_group_norm_errors():
    with pytest.raises(torch.ArgumentError, match="num_channels=5 must be divisible by "
                                                  "num_groups=2"):
        nn.GroupNorm(2, 5)
    with pytest.raises(torch.ShapeError, match="group_norm: input must be .* divisible by "
                                               "num_groups=4"):
        F.group_norm(torch.ones(2, 6, 3), 4)
    assert nn.GroupNorm(2, 4, affine=False).weight is None


# ---- Conv1d ---------------------------------------------------------------------------
def np_conv1d(x, w, b, stride, padding, dilation, groups):
    n, _, length = x.shape
    o, cg, k = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    out_len = (length + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((n, o, out_len))
    per = o // groups
    for oc, t in itertools.product(range(o), range(out_len)):
        g = oc // per
        taps = xp[:, g * cg:(g + 1) * cg, t * stride:t * stride + dilation * (k - 1) + 1:dilation]
        out[:, oc, t] = (taps * w[oc]).sum(axis=(1, 2)) + b[oc]
    return out


@pytest.mark.parametrize("stride, padding, dilation, groups",
                         list(itertools.product([1, 2], [0, 2], [1, 2], [1, 2])))
def test_conv1d_matches_numpy_and_torch(stride, padding, dilation, groups):
    x, w = RNG.standard_normal((2, 4, 9)), RNG.standard_normal((6, 4 // groups, 3))
    b = RNG.standard_normal(6)
    got = F.conv1d(t64(x), t64(w), t64(b), stride, padding, dilation, groups)
    close(got, np_conv1d(x, w, b, stride, padding, dilation, groups))
    try:
        import torch as pt
    except ImportError:
        return
    close(got, pt.nn.functional.conv1d(pt.tensor(x), pt.tensor(w), pt.tensor(b), stride,
                                       padding, dilation, groups).numpy())


def test_conv1d_gradcheck_layer_and_errors():
    x, w = t64(RNG.standard_normal((1, 2, 6))), t64(RNG.standard_normal((3, 2, 2)))
    assert gradcheck(lambda x, w: F.conv1d(x, w, stride=2, padding=1), [x, w])
    layer = nn.Conv1d(4, 8, 3, stride=(2,), padding=1)
    assert layer.weight.shape == (8, 4, 3) and layer(torch.zeros(2, 4, 9)).shape == (2, 8, 5)
    assert repr(layer) == "Conv1d(4, 8, kernel_size=(3,), stride=(2,), padding=(1,), bias=True)"
    # (C, L) is an unbatched input, as in PyTorch (tests/test_torch_parity_small.py)
    with pytest.raises(torch.ShapeError, match=r"conv1d: expected input \(C, L\) or \(N, C, L\)"):
        F.conv1d(torch.ones(4), torch.ones(1, 4, 3))


def test_conv1d_layer_loads_torchs_weights():
    pt = torch_or_skip()
    theirs = pt.nn.Conv1d(4, 8, 3, stride=2, padding=1)
    layer = nn.Conv1d(4, 8, 3, stride=2, padding=1)
    layer.load_state_dict({k: torch.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((2, 4, 9)).astype(np.float32)
    close(layer(torch.tensor(x)), theirs(pt.tensor(x)).detach().numpy(), 1e-5)


# ---- ConvTranspose2d ------------------------------------------------------------------
def np_conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation):
    """The definition: every input pixel scatters weight * value into the output."""
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    cg = c // groups
    size = [(m - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
            for m, k in ((h, kh), (wd, kw))]
    full = np.zeros((n, og * groups, size[0] + 2 * padding + stride,
                     size[1] + 2 * padding + stride))
    for ci, i, j, p, q in itertools.product(range(c), range(h), range(wd), range(kh),
                                            range(kw)):
        g = ci // cg
        full[:, g * og:(g + 1) * og, i * stride + p * dilation, j * stride + q * dilation] += \
            x[:, ci, i, j, None] * w[ci, :, p, q]
    out = full[:, :, padding:padding + size[0], padding:padding + size[1]]
    return out + b.reshape(1, -1, 1, 1)


CASES_T = [(s, p, o, d, g) for s, p, o, d, g in itertools.product(
    [1, 2, 3], [0, 1], [0, 1, 2], [1, 2], [1, 2]) if o < s or o < d]


@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups", CASES_T)
def test_conv_transpose2d_matches_the_definition_and_torch(stride, padding, output_padding,
                                                          dilation, groups):
    x, w = RNG.standard_normal((2, 4, 3, 4)), RNG.standard_normal((4, 3, 3, 2))
    b = RNG.standard_normal(3 * groups)
    got = F.conv_transpose2d(t64(x), t64(w), t64(b), stride, padding, output_padding,
                             groups, dilation)
    close(got, np_conv_transpose2d(x, w, b, stride, padding, output_padding, groups,
                                   dilation))
    try:
        import torch as pt
    except ImportError:
        return
    close(got, pt.nn.functional.conv_transpose2d(pt.tensor(x), pt.tensor(w), pt.tensor(b),
                                                 stride, padding, output_padding, groups,
                                                 dilation).numpy())


def test_conv_transpose2d_is_the_adjoint_of_conv2d_and_gradchecks():
    x, w = t64(RNG.standard_normal((1, 2, 3, 3))), t64(RNG.standard_normal((2, 3, 2, 2)))
    assert gradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1,
                                                     output_padding=1), [x, w])
    y = t64(RNG.standard_normal((1, 3, 6, 6)), grad=False)
    # <conv_transpose(x), y> == <x, conv2d(y)> with the same weight and stride
    lhs = (F.conv_transpose2d(x, w, stride=2) * y).sum()
    rhs = (x * F.conv2d(y, w, stride=2)).sum()
    close(lhs, rhs.item())


def test_conv_transpose2d_layer():
    layer = nn.ConvTranspose2d(3, 6, 4, stride=2, padding=1)
    assert layer.weight.shape == (3, 6, 4, 4)
    assert layer(torch.zeros(1, 3, 8, 8)).shape == (1, 6, 16, 16)
    up = nn.ConvTranspose2d(2, 2, 3, stride=2)
    assert up(torch.zeros(1, 2, 5, 5), output_size=(1, 2, 12, 12)).shape == (1, 2, 12, 12)
    with pytest.raises(torch.ArgumentError, match="output_size .* is not reachable"):
        up(torch.zeros(1, 2, 5, 5), output_size=(20, 20))
    with pytest.raises(torch.ArgumentError, match="output_padding .* must be smaller"):
        F.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2), output_padding=1)


def test_conv_transpose2d_layer_loads_torchs_weights():
    pt = torch_or_skip()
    layer = nn.ConvTranspose2d(3, 6, 4, stride=2, padding=1)
    theirs = pt.nn.ConvTranspose2d(3, 6, 4, stride=2, padding=1)
    layer.load_state_dict({k: torch.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((1, 3, 5, 5)).astype(np.float32)
    close(layer(torch.tensor(x)), theirs(pt.tensor(x)).detach().numpy(), 1e-5)


# ---- LSTM(proj_size=) -----------------------------------------------------------------
def np_lstm_proj(x, params, hidden, proj):
    w_ih, w_hh, b_ih, b_hh, w_hr = params
    h, c = np.zeros((x.shape[1], proj)), np.zeros((x.shape[1], hidden))
    def sig(v):
        return 1 / (1 + np.exp(-v))

    outs = []
    for t in range(x.shape[0]):
        gates = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, g, o = np.split(gates, 4, axis=1)
        c = sig(f) * c + sig(i) * np.tanh(g)
        h = (sig(o) * np.tanh(c)) @ w_hr.T
        outs.append(h)
    return np.stack(outs), h, c


def test_lstm_proj_size_matches_numpy():
    lstm = nn.LSTM(3, 6, proj_size=2).to(torch.float64)
    assert sorted(lstm.state_dict()) == ["bias_hh_l0", "bias_ih_l0", "weight_hh_l0",
                                         "weight_hr_l0", "weight_ih_l0"]
    assert lstm.weight_hh_l0.shape == (24, 2) and lstm.weight_hr_l0.shape == (2, 6)
    x = RNG.standard_normal((5, 4, 3))
    out, (h, c) = lstm(t64(x, grad=False))
    params = [getattr(lstm, n).detach().numpy() for n in
              ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0")]
    want_out, want_h, want_c = np_lstm_proj(x, params, 6, 2)
    close(out, want_out)
    close(h[0], want_h)
    close(c[0], want_c)
    assert repr(lstm) == "LSTM(3, 6, proj_size=2)"
    deep = nn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2, batch_first=True)
    out, (h, c) = deep(torch.randn(4, 5, 3))
    assert out.shape == (4, 5, 4) and h.shape == (4, 4, 2) and c.shape == (4, 4, 6)
    assert deep.weight_ih_l1.shape == (24, 4)
    small = nn.LSTM(2, 3, proj_size=1).to(torch.float64)
    assert gradcheck(lambda x: small(x)[0], [t64(RNG.standard_normal((3, 2, 2)))])


def test_lstm_proj_size_matches_torch():
    pt = torch_or_skip()
    deep = nn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2, batch_first=True)
    theirs = pt.nn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2,
                        batch_first=True).double()
    deep = deep.to(torch.float64)
    deep.load_state_dict({k: torch.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((4, 5, 3))
    (o1, (h1, c1)), (o2, (h2, c2)) = deep(t64(x, False)), theirs(pt.tensor(x))
    for a, b in ((o1, o2), (h1, h2), (c1, c2)):
        close(a, b.detach().numpy())


def test_proj_size_errors():
    with pytest.raises(torch.ArgumentError, match="proj_size is only supported for LSTM"):
        nn.GRU(3, 4, 1, True, False, 0.0, False, 2)
    with pytest.raises(torch.ArgumentError, match="proj_size=4 must be smaller than "
                                                  "hidden_size=4"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(torch.ShapeError, match=r"does not match \(1, 2, 2\)"):
        nn.LSTM(3, 4, proj_size=2)(torch.ones(5, 2, 3), (torch.zeros(1, 2, 4),
                                                         torch.zeros(1, 2, 4)))


# ---- nn.utils.rnn ---------------------------------------------------------------------
def test_pad_sequence_and_packing_round_trip():
    seqs = [torch.tensor(RNG.standard_normal((n, 2))) for n in (2, 5, 3)]
    padded = rnn.pad_sequence(seqs, batch_first=True, padding_value=-1.0)
    assert padded.shape == (3, 5, 2) and padded[0, 2:].tolist() == [[-1.0, -1.0]] * 3
    assert rnn.pad_sequence(seqs).shape == (5, 3, 2)
    left = rnn.pad_sequence(seqs, batch_first=True, padding_side="left")
    close(left[0, 3:], seqs[0].numpy())
    packed = rnn.pack_padded_sequence(padded, [2, 5, 3], batch_first=True,
                                      enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [3, 3, 2, 1, 1]
    assert packed.sorted_indices.tolist() == [1, 2, 0]
    assert packed.unsorted_indices.tolist() == [2, 0, 1]
    back, lengths = rnn.pad_packed_sequence(packed, batch_first=True, padding_value=-1.0,
                                            total_length=6)
    assert lengths.tolist() == [2, 5, 3] and lengths.dtype == torch.int64
    close(back[:, :5], padded.numpy())
    assert back[:, 5].tolist() == [[-1.0, -1.0]] * 3
    assert [s.tolist() for s in rnn.unpack_sequence(packed)] == [s.tolist() for s in seqs]
    with pytest.raises(torch.ArgumentError, match="not sorted in decreasing order"):
        rnn.pack_padded_sequence(padded, [2, 5, 3], batch_first=True)
    assert nn.utils.rnn.PackedSequence is rnn.PackedSequence


def test_pack_sequence_matches_torch():
    pt = torch_or_skip()
    from torch.nn.utils import rnn as prnn

    seqs = [torch.tensor(RNG.standard_normal((n, 2))) for n in (2, 5, 3)]
    theirs = prnn.pack_sequence([pt.tensor(s.numpy()) for s in seqs], enforce_sorted=False)
    ours = rnn.pack_sequence(seqs, enforce_sorted=False)
    close(ours.data, theirs.data.numpy())
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist()


def test_packing_passes_gradients():
    x = t64(RNG.standard_normal((4, 3, 2)))

    def through_packing(x):
        packed = rnn.pack_padded_sequence(x, [4, 1, 2], enforce_sorted=False)
        return rnn.pad_packed_sequence(packed)[0] * 2.0

    assert gradcheck(through_packing, [x])


@pytest.mark.parametrize("kind, layers, bidirectional, batch_first", [
    ("RNN", 1, False, False), ("GRU", 2, True, True), ("LSTM", 2, True, False),
    ("LSTM", 1, False, True)])
def test_rnns_on_packed_sequences_equal_each_sequence_run_alone(kind, layers, bidirectional,
                                                               batch_first):
    torch.manual_seed(0)
    model = getattr(nn, kind)(3, 4, num_layers=layers, bidirectional=bidirectional,
                              batch_first=batch_first).to(torch.float64)
    lengths = [3, 5, 1, 4]
    seqs = [RNG.standard_normal((n, 3)) for n in lengths]
    padded = rnn.pad_sequence([t64(s, False) for s in seqs], batch_first=batch_first)
    packed = rnn.pack_padded_sequence(padded, lengths, batch_first=batch_first,
                                      enforce_sorted=False)
    out, state = model(packed)
    assert isinstance(out, rnn.PackedSequence) and out.batch_sizes.tolist() == \
        packed.batch_sizes.tolist()
    out, out_lengths = rnn.pad_packed_sequence(out, batch_first=batch_first)
    assert out_lengths.tolist() == lengths
    h = state[0] if kind == "LSTM" else state
    for b, s in enumerate(seqs):
        alone = t64(s, False).reshape(1, len(s), 3) if batch_first else \
            t64(s, False).reshape(len(s), 1, 3)
        want_out, want_state = model(alone)
        want_h = want_state[0] if kind == "LSTM" else want_state
        got = out[b, :len(s)] if batch_first else out[:len(s), b]
        close(got, (want_out[0] if batch_first else want_out[:, 0]).detach().numpy())
        close(h[:, b], want_h[:, 0].detach().numpy())


def test_packed_lstm_matches_torch_values_and_gradients():
    pt = torch_or_skip()
    from torch.nn.utils import rnn as prnn

    theirs = pt.nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2).double()
    ours = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2).to(torch.float64)
    ours.load_state_dict({k: torch.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x, lengths = RNG.standard_normal((6, 4, 3)), [3, 6, 1, 4]
    h0 = RNG.standard_normal((4, 4, 2))
    c0 = RNG.standard_normal((4, 4, 4))
    xt, xe = pt.tensor(x, requires_grad=True), t64(x)
    ot, (ht, ct) = theirs(prnn.pack_padded_sequence(xt, lengths, enforce_sorted=False),
                          (pt.tensor(h0), pt.tensor(c0)))
    oe, (he, ce) = ours(rnn.pack_padded_sequence(xe, lengths, enforce_sorted=False),
                        (t64(h0, False), t64(c0, False)))
    close(oe.data, ot.data.detach().numpy())
    close(he, ht.detach().numpy())
    close(ce, ct.detach().numpy())
    (ot.data.sum() + ht.sum() + ct.sum()).backward()
    (oe.data.sum() + he.sum() + ce.sum()).backward()
    close(xe.grad, xt.grad.numpy())
    close(ours.weight_hr_l1_reverse.grad, theirs.weight_hr_l1_reverse.grad.numpy())


def _packed_training(use_jit):
    torch.manual_seed(1)
    model = nn.GRU(3, 4, batch_first=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.tensor(np.random.default_rng(5).standard_normal((3, 5, 3)).astype(np.float32))

    def step(x):
        opt.zero_grad()
        packed = rnn.pack_padded_sequence(x, [5, 2, 4], batch_first=True, enforce_sorted=False)
        out, h = model(packed)
        loss = (out.data ** 2).mean() + h.pow(2).sum()
        loss.backward()
        opt.step()
        return loss.detach()

    run = jit(step) if use_jit else step
    return [run(x).item() for _ in range(3)], run


def test_a_jitted_step_on_packed_batches_equals_eager():
    (want, _), (got, run) = _packed_training(False), _packed_training(True)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert run.cache_info().hits == 2
