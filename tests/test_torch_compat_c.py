"""Issue 11, part C (nn): PyTorch programs written with `import eager as torch`.

Values are checked against numpy reference implementations written here (and against
PyTorch itself where it is installed), gradients with float64 gradcheck.
"""
import copy
import math

import numpy as np
import pytest

import eager as torch
import eager.nn.functional as F
from eager import nn
from eager.autograd import gradcheck

RNG = np.random.default_rng(0)


def t64(a, grad=True):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def randn(*shape):
    return RNG.standard_normal(shape)


def close(got, want, tol=1e-6):
    got = got.detach().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def np_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# ---- losses ---------------------------------------------------------------------------
def np_cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean",
                     smoothing=0.0):
    """PyTorch's definition, written out for (N, C, ...) logits and index targets."""
    c = x.shape[1]
    logp = np.moveaxis(np_log_softmax(x, 1), 1, -1).reshape(-1, c)
    t = target.reshape(-1)
    w = np.ones(c) if weight is None else weight
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    wt = w[safe] * valid
    nll = -logp[np.arange(len(t)), safe] * wt
    smooth = -(logp * w).sum(-1) * valid
    if reduction == "none":
        out = (1 - smoothing) * nll + smoothing / c * smooth
        return out.reshape(target.shape)
    if reduction == "sum":
        return (1 - smoothing) * nll.sum() + smoothing / c * smooth.sum()
    return (1 - smoothing) * nll.sum() / wt.sum() + smoothing / c * smooth.sum() / wt.sum()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_nd_ignore_index_smoothing_weight(reduction, smoothing, weighted):
    x = randn(3, 4, 2, 5)
    target = RNG.integers(0, 4, (3, 2, 5))
    target[0, 0, :3] = -1
    weight = RNG.uniform(0.5, 2.0, 4) if weighted else None
    crit = torch.nn.CrossEntropyLoss(weight=None if weight is None else t64(weight, False),
                                     ignore_index=-1, reduction=reduction,
                                     label_smoothing=smoothing)
    got = crit(t64(x), torch.tensor(target))
    close(got, np_cross_entropy(x, target, weight, -1, reduction, smoothing), 1e-10)
    wt = None if weight is None else t64(weight, False)
    assert gradcheck(lambda v: F.cross_entropy(v, torch.tensor(target), wt, ignore_index=-1,
                                               reduction=reduction,
                                               label_smoothing=smoothing), [t64(x)])


def test_cross_entropy_ignores_minus_100_by_default_and_rejects_other_negatives():
    x = randn(4, 3)
    target = np.array([0, -100, 2, 1])
    close(F.cross_entropy(t64(x), torch.tensor(target)), np_cross_entropy(x, target), 1e-10)
    with pytest.raises(F.TargetError, match=r"cross_entropy: .*outside \[0, 3\).*-1"):
        F.cross_entropy(t64(x), torch.tensor([0, -1, 2, 1]))


def test_cross_entropy_probability_targets():
    x, p = randn(5, 4), RNG.dirichlet(np.ones(4), 5)
    want = -(np_log_softmax(x, 1) * (p * 0.9 + 0.1 / 4)).sum(1).mean()
    close(F.cross_entropy(t64(x), t64(p, False), label_smoothing=0.1), want, 1e-10)
    assert gradcheck(lambda v: F.cross_entropy(v, t64(p, False)), [t64(x)])


def test_cross_entropy_keeps_the_positional_reduction_of_earlier_versions():
    x, t = randn(3, 4), np.array([1, 0, 3])
    close(F.cross_entropy(t64(x), torch.tensor(t), "sum"),
          np_cross_entropy(x, t, reduction="sum"), 1e-10)


def test_nll_loss_with_log_softmax_matches_cross_entropy():
    x, t = randn(6, 5), RNG.integers(0, 5, 6)
    w = RNG.uniform(0.5, 2, 5)
    logp = F.log_softmax(t64(x), dim=1)
    got = nn.NLLLoss(weight=t64(w, False))(logp, torch.tensor(t))
    close(got, np_cross_entropy(x, t, w), 1e-10)
    assert gradcheck(lambda v: F.nll_loss(F.log_softmax(v, 1), torch.tensor(t)), [t64(x)])


def test_regression_losses_match_their_definitions():
    a, b = randn(4, 3) * 2, randn(4, 3) * 2
    d = a - b
    close(nn.MSELoss()(t64(a), t64(b)), (d ** 2).mean())
    close(nn.L1Loss(reduction="sum")(t64(a), t64(b)), np.abs(d).sum())
    ad = np.abs(d)
    close(nn.SmoothL1Loss(beta=0.5)(t64(a), t64(b)),
          np.where(ad < 0.5, 0.5 * d * d / 0.5, ad - 0.25).mean())
    close(nn.HuberLoss(delta=1.5, reduction="none")(t64(a), t64(b)),
          np.where(ad <= 1.5, 0.5 * d * d, 1.5 * (ad - 0.75)))
    for fn in (F.l1_loss, F.smooth_l1_loss, F.huber_loss):
        assert gradcheck(lambda v, fn=fn: fn(v, t64(b, False)), [t64(a)])


def test_binary_cross_entropy_and_with_logits_and_pos_weight():
    x, y = randn(5, 3), RNG.integers(0, 2, (5, 3)).astype(np.float64)
    p = 1 / (1 + np.exp(-x))
    want = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    close(nn.BCELoss(reduction="none")(t64(p), t64(y, False)), want, 1e-10)
    close(nn.BCEWithLogitsLoss()(t64(x), t64(y, False)), want.mean(), 1e-10)
    pw = np.array([1.0, 2.0, 3.0])
    weighted = -(pw * y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    close(nn.BCEWithLogitsLoss(pos_weight=t64(pw, False))(t64(x), t64(y, False)), weighted,
          1e-10)
    big = F.binary_cross_entropy_with_logits(t64([100.0, -100.0]), t64([0.0, 1.0], False))
    close(big, 100.0)
    assert gradcheck(lambda v: F.binary_cross_entropy_with_logits(
        v, t64(y, False), pos_weight=t64(pw, False)), [t64(x)])
    assert gradcheck(lambda v: F.binary_cross_entropy(v, t64(y, False)), [t64(p * 0.9 + 0.05)])


# ---- activations ----------------------------------------------------------------------
ERF = np.vectorize(math.erf)


@pytest.mark.parametrize("layer, ref", [
    (nn.GELU(), lambda x: 0.5 * x * (1 + ERF(x / math.sqrt(2)))),
    (nn.GELU(approximate="tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    (nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.ELU(alpha=0.7), lambda x: np.where(x > 0, x, 0.7 * (np.exp(x) - 1))),
    (nn.Softplus(beta=2.0), lambda x: np.log1p(np.exp(2 * x)) / 2),
    (nn.Mish(), lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    (nn.Softmax(dim=1), lambda x: np.exp(np_log_softmax(x, 1))),
    (nn.LogSoftmax(dim=-1), lambda x: np_log_softmax(x, -1)),
])
def test_activation_layers_match_numpy_and_gradcheck(layer, ref):
    x = randn(3, 5) * 3
    close(layer(t64(x)), ref(x), 1e-7)
    assert gradcheck(layer, [t64(x)])


def test_elu_has_a_finite_gradient_for_large_inputs():
    x = t64([200.0, -3.0])
    F.elu(x).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_one_hot_and_normalize():
    assert F.one_hot(torch.tensor([2, 0])).tolist() == [[0, 0, 1], [1, 0, 0]]
    with pytest.raises(F.TargetError, match="one_hot"):
        F.one_hot(torch.tensor([-1, 0]), 3)
    x = randn(4, 3)
    close(F.normalize(t64(x), dim=1), x / np.linalg.norm(x, axis=1, keepdims=True))
    assert gradcheck(lambda v: F.normalize(v, dim=0), [t64(x)])


# ---- padding, resizing, pooling -----------------------------------------------------
@pytest.mark.parametrize("mode, np_mode", [("reflect", "reflect"), ("replicate", "edge"),
                                           ("circular", "wrap"), ("constant", "constant")])
def test_pad_modes_match_numpy(mode, np_mode):
    x = randn(2, 3, 4, 5)
    got = F.pad(t64(x), (2, 1, 1, 3), mode=mode)
    close(got, np.pad(x, ((0, 0), (0, 0), (1, 3), (2, 1)), mode=np_mode))
    assert gradcheck(lambda v: F.pad(v, (2, 1, 1, 3), mode=mode), [t64(x)])


def np_bilinear(x, oh, ow):
    """align_corners=False, as PyTorch: source = (dst + 0.5) * in / out - 0.5, >= 0."""
    def axis(n_in, n_out):
        src = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0)
        lo = np.minimum(np.floor(src).astype(int), n_in - 1)
        return lo, np.minimum(lo + 1, n_in - 1), src - lo
    h0, h1, fh = axis(x.shape[2], oh)
    w0, w1, fw = axis(x.shape[3], ow)
    rows = x[:, :, h0] * (1 - fh)[:, None] + x[:, :, h1] * fh[:, None]
    return rows[..., w0] * (1 - fw) + rows[..., w1] * fw


def test_interpolate_nearest_and_bilinear():
    x = randn(1, 2, 3, 4)
    close(F.interpolate(t64(x), size=(5, 7), mode="bilinear"), np_bilinear(x, 5, 7))
    near = F.interpolate(t64(x), scale_factor=2, mode="nearest")
    close(near, x.repeat(2, axis=2).repeat(2, axis=3))
    assert gradcheck(lambda v: F.interpolate(v, size=(5, 2), mode="bilinear"), [t64(x)])


def test_avg_pool_and_adaptive_avg_pool():
    x = randn(2, 3, 6, 7)
    want = x[:, :, :6, :6].reshape(2, 3, 3, 2, 3, 2).mean(axis=(3, 5))
    close(nn.AvgPool2d(2)(t64(x)), want)
    close(nn.AdaptiveAvgPool2d(1)(t64(x)), x.mean(axis=(2, 3), keepdims=True))
    got = F.adaptive_avg_pool2d(t64(x), (4, 3))
    starts = [(i * 6) // 4 for i in range(4)]
    ends = [-(-(i + 1) * 6 // 4) for i in range(4)]
    wstarts = [(j * 7) // 3 for j in range(3)]
    wends = [-(-(j + 1) * 7 // 3) for j in range(3)]
    want = np.array([[x[:, :, a:b, c:d].mean(axis=(2, 3)) for c, d in zip(wstarts, wends)]
                     for a, b in zip(starts, ends)]).transpose(2, 3, 0, 1)
    close(got, want)
    padded = F.avg_pool2d(t64(x), 3, 1, 1, count_include_pad=False)
    close(padded[0, 0, 0, 0], x[0, 0, :2, :2].mean())
    assert gradcheck(lambda v: F.avg_pool2d(v, 3, 2, 1), [t64(x)])
    assert gradcheck(lambda v: F.adaptive_avg_pool2d(v, (4, 3)), [t64(x)])


# ---- batch norm -----------------------------------------------------------------------
def test_batch_norm_2d_training_eval_and_running_stats():
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(3, momentum=0.2).double()
    x = randn(4, 3, 2, 5) * 2 + 1
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    y = bn(t64(x))
    close(y, (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5))
    n = x.size / 3
    close(bn.running_mean, 0.2 * mean)
    close(bn.running_var, 0.8 + 0.2 * var * n / (n - 1))
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    rm, rv = bn.running_mean.numpy(), bn.running_var.numpy()
    close(bn(t64(x)), (x - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5))
    assert bn.num_batches_tracked.item() == 1
    w, b = t64(RNG.uniform(0.5, 2, 3)), t64(randn(3))
    assert gradcheck(lambda v, w, b: F.batch_norm(v, None, None, w, b, training=True),
                     [t64(x), w, b])


def test_batch_norm_1d_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None, affine=False).double()
    batches = [randn(5, 2) for _ in range(3)]
    for b in batches:
        bn(t64(b, False))
    close(bn.running_mean, np.mean([b.mean(0) for b in batches], axis=0))
    close(bn.running_var, np.mean([b.var(0, ddof=1) for b in batches], axis=0))
    assert sorted(bn.state_dict()) == ["num_batches_tracked", "running_mean", "running_var"]


# ---- recurrent layers -----------------------------------------------------------------
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_lstm_layer(x, h, c, w_ih, w_hh, b_ih, b_hh):
    outs = []
    for xt in x:
        g = xt @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, gg, o = np.split(g, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(gg)
        h = sigmoid(o) * np.tanh(c)
        outs.append(h)
    return np.stack(outs), h, c


def np_gru_layer(x, h, w_ih, w_hh, b_ih, b_hh):
    outs = []
    for xt in x:
        gi, gh = xt @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        (ir, iz, inn), (hr, hz, hn) = np.split(gi, 3, -1), np.split(gh, 3, -1)
        r, z = sigmoid(ir + hr), sigmoid(iz + hz)
        n = np.tanh(inn + r * hn)
        h = (1 - z) * n + z * h
        outs.append(h)
    return np.stack(outs), h


def weights(module, layer, suffix=""):
    return [getattr(module, f"{k}_l{layer}{suffix}").detach().numpy()
            for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def test_lstm_two_layers_batch_first_matches_a_numpy_cell():
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, batch_first=True).double()
    x, h0, c0 = randn(2, 5, 3), randn(2, 2, 4), randn(2, 2, 4)
    out, (h, c) = lstm(t64(x, False), (t64(h0, False), t64(c0, False)))
    seq = x.transpose(1, 0, 2)
    want_h, want_c = [], []
    for layer in range(2):
        seq, hl, cl = np_lstm_layer(seq, h0[layer], c0[layer], *weights(lstm, layer))
        want_h.append(hl)
        want_c.append(cl)
    close(out, seq.transpose(1, 0, 2))
    close(h, np.stack(want_h))
    close(c, np.stack(want_c))


def test_lstm_parameters_are_named_and_shaped_as_pytorch():
    lstm = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    shapes = {k: v.shape for k, v in lstm.state_dict().items()}
    assert shapes["weight_ih_l0"] == (80, 10) and shapes["weight_hh_l0"] == (80, 20)
    assert shapes["weight_ih_l1_reverse"] == (80, 40) and shapes["bias_hh_l1"] == (80,)
    assert len(shapes) == 16
    bound = 1 / math.sqrt(20)
    assert all(float(p.abs().max()) <= bound for p in lstm.parameters())


def test_bidirectional_gru_and_relu_rnn_match_numpy():
    torch.manual_seed(1)
    gru = nn.GRU(3, 4, bidirectional=True).double()
    x = randn(6, 2, 3)
    out, h = gru(t64(x, False))
    fwd, hf = np_gru_layer(x, np.zeros((2, 4)), *weights(gru, 0))
    bwd, hb = np_gru_layer(x[::-1], np.zeros((2, 4)), *weights(gru, 0, "_reverse"))
    close(out, np.concatenate([fwd, bwd[::-1]], axis=-1))
    close(h, np.stack([hf, hb]))
    rnn = nn.RNN(3, 4, nonlinearity="relu").double()
    out, h = rnn(t64(x[:, 0], False))  # unbatched (L, H_in)
    w_ih, w_hh, b_ih, b_hh = weights(rnn, 0)
    state = np.zeros(4)
    for xt in x[:, 0]:
        state = np.maximum(xt @ w_ih.T + b_ih + state @ w_hh.T + b_hh, 0)
    close(h, state[None])


def test_lstm_gradcheck():
    torch.manual_seed(2)
    lstm = nn.LSTM(2, 3).double()
    x = t64(randn(4, 1, 2))
    params = list(lstm.parameters())
    assert gradcheck(lambda v, *ps: lstm(v)[0], [x, *params])


# ---- attention and transformers -------------------------------------------------------
def np_attention(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    return np.exp(np_log_softmax(s, -1)) @ v


def test_scaled_dot_product_attention_causal_and_masks():
    q, k, v = randn(2, 3, 4, 8), randn(2, 3, 4, 8), randn(2, 3, 4, 5)
    causal = np.tril(np.ones((4, 4), bool))
    got = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), is_causal=True)
    close(got, np_attention(q, k, v, causal))
    mask = RNG.integers(0, 2, (4, 4)).astype(bool) | np.eye(4, dtype=bool)
    got = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), attn_mask=torch.tensor(mask))
    close(got, np_attention(q, k, v, mask))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
                     [t64(q), t64(k), t64(v)])


def test_multihead_attention_matches_numpy_with_padding_mask():
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2).double()
    x = randn(5, 3, 8)  # (L, N, E)
    pad = np.zeros((3, 5), bool)
    pad[1, 3:] = True
    out, w = mha(t64(x, False), t64(x, False), t64(x, False),
                 key_padding_mask=torch.tensor(pad))
    wi, bi = mha.in_proj_weight.detach().numpy(), mha.in_proj_bias.detach().numpy()
    wo, bo = mha.out_proj.weight.detach().numpy(), mha.out_proj.bias.detach().numpy()
    xb = x.transpose(1, 0, 2)
    q, k, v = (xb @ wi[i * 8:(i + 1) * 8].T + bi[i * 8:(i + 1) * 8] for i in range(3))
    heads = [z.reshape(3, 5, 2, 4).transpose(0, 2, 1, 3) for z in (q, k, v)]
    mask = ~pad[:, None, None, :]
    attn = np_attention(*heads, mask)
    want = attn.transpose(0, 2, 1, 3).reshape(3, 5, 8) @ wo.T + bo
    close(out, want.transpose(1, 0, 2))
    assert w.shape == (3, 5, 5) and float(w[1, :, 3:].abs().max()) == 0.0


def test_transformer_encoder_layer_post_and_pre_norm_and_state_dict_names():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                       batch_first=True, norm_first=True,
                                       activation="gelu").double()
    x = t64(randn(2, 4, 8), False)
    h = x + layer.self_attn(layer.norm1(x), layer.norm1(x), layer.norm1(x))[0]
    want = h + layer.linear2(F.gelu(layer.linear1(layer.norm2(h))))
    close(layer(x), want.detach().numpy())
    names = set(nn.TransformerEncoder(layer, 2).state_dict())
    assert "layers.1.self_attn.in_proj_weight" in names and "layers.0.norm2.bias" in names
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)
    assert "decoder.layers.0.multihead_attn.out_proj.weight" in model.state_dict()
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    assert mask.tolist()[0] == [0.0, -math.inf, -math.inf]
    out = model(torch.randn(5, 2, 8), torch.randn(3, 2, 8), tgt_mask=mask)
    assert out.shape == (3, 2, 8)


def test_bias_false_drops_every_bias_as_pytorch():
    names = sorted(nn.TransformerEncoderLayer(4, 2, 8, bias=False).state_dict())
    assert names == ["linear1.weight", "linear2.weight", "norm1.weight", "norm2.weight",
                     "self_attn.in_proj_weight", "self_attn.out_proj.weight"]


def test_encoder_copies_are_independent_parameters():
    layer = nn.TransformerEncoderLayer(4, 1, 8)
    enc = nn.TransformerEncoder(layer, 2)
    a, b = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert a is not b and isinstance(a, nn.Parameter)
    assert len(list(enc.parameters())) == 2 * len(list(layer.parameters()))


# ---- modules, containers, hooks -------------------------------------------------------
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Identity()})
        self.scales = nn.ParameterList([nn.Parameter(torch.ones(4))])
        self.extra = nn.ParameterDict({"shift": nn.Parameter(torch.zeros(4))})
        self.register_buffer("step", torch.zeros(()), persistent=False)

    def forward(self, x):
        for block in self.blocks:
            x = block(x).relu() * self.scales[0] + self.extra["shift"]
        return self.heads["a"](self.heads["b"](x))


def test_containers_register_everything_pytorch_style():
    net = Net()
    keys = list(net.state_dict())
    assert keys == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
                    "heads.a.weight", "heads.a.bias", "scales.0", "extra.shift"]
    assert [n for n, _ in net.named_children()] == ["blocks", "heads", "scales", "extra"]
    assert "heads.b" in dict(net.named_modules())
    assert len(list(net.parameters())) == 8
    assert net(torch.ones(3, 4)).shape == (3, 2)
    with pytest.raises(IndexError):
        net.blocks[2]


def test_apply_initialises_every_linear_and_hooks_see_calls():
    net = Net()

    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
            nn.init.constant_(m.bias, 0.5)
    net.apply(init_weights)
    assert float(net.heads["a"].weight.abs().sum()) == 0.0
    calls = []
    handle = net.blocks[0].register_forward_hook(lambda m, args, out: calls.append(out.shape))
    pre = net.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    out = net(torch.ones(2, 4))
    assert calls == [(2, 4)] and out.tolist() == [[0.5, 0.5], [0.5, 0.5]]
    handle.remove()
    pre.remove()
    net(torch.ones(2, 4))
    assert calls == [(2, 4)]


def test_deepcopy_of_a_model_copies_parameters_and_buffers():
    net = Net()
    twin = copy.deepcopy(net)
    with torch.no_grad():
        twin.blocks[0].weight.fill_(3.0)
    assert float(net.blocks[0].weight.max()) < 3.0
    assert isinstance(twin.blocks[0].weight, nn.Parameter)
    assert "step" in dict(twin.named_buffers())


def test_embedding_padding_idx_row_is_zero_and_gets_no_gradient():
    emb = nn.Embedding(6, 3, padding_idx=0)
    assert emb.weight[0].tolist() == [0.0, 0.0, 0.0]
    emb(torch.tensor([[0, 2, 0]])).sum().backward()
    assert emb.weight.grad[0].tolist() == [0.0, 0.0, 0.0]
    assert emb.weight.grad[2].tolist() == [1.0, 1.0, 1.0]


# ---- nn.utils and nn.init -------------------------------------------------------------
def test_clip_grad_norm_and_value():
    a, b = torch.zeros(3, requires_grad=True), torch.zeros(2, requires_grad=True)
    ga, gb = randn(3), randn(2)
    a.grad, b.grad = torch.tensor(ga), torch.tensor(gb)
    total = nn.utils.clip_grad_norm_([a, b], max_norm=0.5)
    norm = np.sqrt((ga ** 2).sum() + (gb ** 2).sum())
    close(total, norm)
    close(a.grad, ga * min(1.0, 0.5 / (norm + 1e-6)))
    nn.utils.clip_grad_norm_([a, b], 0.1, norm_type=float("inf"))
    assert float(torch.cat([a.grad.abs(), b.grad.abs()]).max()) <= 0.1 + 1e-6
    a.grad = torch.tensor(ga)
    nn.utils.clip_grad_value_([a], 0.2)
    close(a.grad, np.clip(ga, -0.2, 0.2))
    vec = nn.utils.parameters_to_vector([a, b])
    assert vec.shape == (5,)


@pytest.mark.parametrize("fn, std", [
    (lambda w: nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu"),
     math.sqrt(2 / 300)),
    (lambda w: nn.init.xavier_normal_(w), math.sqrt(2 / 500)),
    (lambda w: nn.init.normal_(w, 0.0, 0.02), 0.02),
    (lambda w: nn.init.trunc_normal_(w, std=0.02), 0.02),  # a, b = -2, 2 are absolute
    (lambda w: nn.init.trunc_normal_(w), 0.8796),  # N(0, 1) cut at +-2 sigma
])
def test_init_spreads(fn, std):
    torch.manual_seed(0)
    w = fn(torch.zeros(200, 300))
    assert abs(float(w.std()) / std - 1) < 0.03


def test_orthogonal_init_gives_orthonormal_rows():
    w = nn.init.orthogonal_(torch.zeros(4, 6)).numpy()
    np.testing.assert_allclose(w @ w.T, np.eye(4), atol=1e-5)


def test_against_pytorch_when_installed():
    real = pytest.importorskip("torch")
    x, t = randn(4, 5, 3), RNG.integers(0, 5, (4, 3))
    t[0, 0] = -100
    want = real.nn.functional.cross_entropy(real.tensor(x), real.tensor(t),
                                            label_smoothing=0.1).item()
    close(F.cross_entropy(t64(x), torch.tensor(t), label_smoothing=0.1), want, 1e-8)
    real.manual_seed(0)
    ref = real.nn.LSTM(3, 4, num_layers=2).double()
    ours = nn.LSTM(3, 4, num_layers=2).double()
    ours.load_state_dict({k: torch.tensor(v.detach().numpy())
                          for k, v in ref.state_dict().items()})
    seq = randn(5, 2, 3)
    close(ours(t64(seq, False))[0], ref(real.tensor(seq))[0].detach().numpy(), 1e-8)


def test_gru_rnn_attention_and_encoder_layer_gradcheck():
    torch.manual_seed(3)
    gru = nn.GRU(2, 3, bidirectional=True).double()
    assert gradcheck(lambda v, *ps: gru(v)[0], [t64(randn(3, 1, 2)), *gru.parameters()])
    rnn = nn.RNN(2, 3, num_layers=2).double()
    assert gradcheck(lambda v, *ps: rnn(v)[1], [t64(randn(3, 2, 2)), *rnn.parameters()])
    mha = nn.MultiheadAttention(4, 2, batch_first=True).double()
    causal = nn.Transformer.generate_square_subsequent_mask(3).double()
    assert gradcheck(lambda q, kv, *ps: mha(q, kv, kv, attn_mask=causal)[0],
                     [t64(randn(2, 3, 4)), t64(randn(2, 3, 4)), *mha.parameters()])
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0).double()
    assert gradcheck(layer, [t64(randn(3, 2, 4))])
