"""MultiheadAttention's and the Transformer layers' PyTorch options: add_bias_kv,
add_zero_attn, kdim/vdim (torch's parameter names, so checkpoints load either way),
unbatched input, weights after dropout, the masks, callable activations; values against
a numpy reference here and against torch where it is installed, gradients, and the same
results under @jit."""
import math

import numpy as np
import pytest

import eager
import eager.nn.functional as F
from eager import nn
from eager.autograd import gradcheck
from jit import jit
from kernels.errors import DTypeError, ShapeError

RNG = np.random.default_rng(3)
E, H, L, S, N = 8, 2, 3, 4, 2


def t64(a, grad=False):
    return eager.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def values(t):
    return t.detach().numpy()


def np_mha(mha, q, k, v, attn_mask=None, key_padding_mask=None):
    """Reference attention over (L, N, E) inputs with numpy, from mha's parameters;
    additive float masks (attn_mask (L, S) or (N*H, L, S), key_padding_mask (N, S))."""
    p = {name: values(t) for name, t in mha.state_dict().items()}
    if "in_proj_weight" in p:
        wq, wk, wv = np.split(p["in_proj_weight"], 3)
    else:
        wq, wk, wv = p["q_proj_weight"], p["k_proj_weight"], p["v_proj_weight"]
    bq, bk, bv = np.split(p["in_proj_bias"], 3) if "in_proj_bias" in p else (0, 0, 0)
    q, k, v = q @ wq.T + bq, k @ wk.T + bk, v @ wv.T + bv
    batch, length, source = q.shape[1], q.shape[0], k.shape[0]
    mask = np.zeros((batch, H, length, source)) if attn_mask is None else \
        np.broadcast_to(np.asarray(attn_mask).reshape(-1, H, length, source) if
                        np.ndim(attn_mask) == 3 else attn_mask, (batch, H, length, source))
    if key_padding_mask is not None:
        mask = mask + np.asarray(key_padding_mask)[:, None, None, :]
    extra = []
    if "bias_k" in p:
        k = np.concatenate([k, np.repeat(p["bias_k"], batch, axis=1)])
        v = np.concatenate([v, np.repeat(p["bias_v"], batch, axis=1)])
        extra.append(0)
    heads = [x.transpose(1, 0, 2).reshape(batch, x.shape[0], H, E // H).transpose(0, 2, 1, 3)
             for x in (q, k, v)]
    if mha.add_zero_attn:
        heads[1:] = [np.concatenate([x, np.zeros((batch, H, 1, E // H))], axis=2)
                     for x in heads[1:]]
        extra.append(0)
    mask = np.concatenate([mask, np.zeros((batch, H, length, len(extra)))], axis=-1)
    scores = heads[0] @ heads[1].transpose(0, 1, 3, 2) / math.sqrt(E // H) + mask
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    out = (weights @ heads[2]).transpose(0, 2, 1, 3).reshape(batch, length, E)
    out = out @ p["out_proj.weight"].T + p.get("out_proj.bias", 0)
    return out.transpose(1, 0, 2), weights


OPTIONS = [{}, {"add_bias_kv": True}, {"add_zero_attn": True},
           {"add_bias_kv": True, "add_zero_attn": True, "kdim": 5, "vdim": 3},
           {"kdim": 6, "vdim": 6, "bias": False}]


def inputs(mha, batch=N, grad=False):
    return (t64(RNG.normal(size=(L, batch, E)), grad),
            t64(RNG.normal(size=(S, batch, mha.kdim)), grad),
            t64(RNG.normal(size=(S, batch, mha.vdim)), grad))


# ---- the options against numpy ---------------------------------------------------------------
@pytest.mark.parametrize("options", OPTIONS)
def test_options_match_the_numpy_reference_with_masks(options):
    mha = nn.MultiheadAttention(E, H, **options).double()
    q, k, v = inputs(mha)
    attn = RNG.normal(size=(N * H, L, S))
    padding = np.where(np.array([[0, 0, 0, 1], [0, 1, 0, 0]], bool), -math.inf, 0.0)
    out, weights = mha(q, k, v, attn_mask=t64(attn), key_padding_mask=t64(padding),
                       average_attn_weights=False)
    want_out, want_weights = np_mha(mha, values(q), values(k), values(v), attn, padding)
    np.testing.assert_allclose(values(out), want_out, atol=1e-12)
    np.testing.assert_allclose(values(weights), want_weights, atol=1e-12)
    extra = options.get("add_bias_kv", False) + options.get("add_zero_attn", False)
    assert weights.shape == (N, H, L, S + extra)


def test_state_dict_names_and_shapes_are_torchs():
    mha = nn.MultiheadAttention(E, H, kdim=5, vdim=3, add_bias_kv=True)
    assert [(name, t.shape) for name, t in mha.state_dict().items()] == [
        ("q_proj_weight", (E, E)), ("k_proj_weight", (E, 5)), ("v_proj_weight", (E, 3)),
        ("in_proj_bias", (3 * E,)), ("bias_k", (1, 1, E)), ("bias_v", (1, 1, E)),
        ("out_proj.weight", (E, E)), ("out_proj.bias", (E,))]
    assert mha.in_proj_weight is None and not mha._qkv_same_embed_dim
    assert nn.MultiheadAttention(E, H, kdim=E, vdim=E)._qkv_same_embed_dim


@pytest.mark.parametrize("options", OPTIONS[:4])
def test_options_have_gradients(options):
    mha = nn.MultiheadAttention(4, 2, **{**options, "kdim": options.get("kdim", 4),
                                         "vdim": options.get("vdim", 4)}).double()
    q = t64(RNG.normal(size=(2, 1, 4)), True)
    k = t64(RNG.normal(size=(3, 1, mha.kdim)), True)
    v = t64(RNG.normal(size=(3, 1, mha.vdim)), True)
    assert gradcheck(lambda a, b, c, *ps: mha(a, b, c)[0], [q, k, v, *mha.parameters()])


# ---- shapes and masks ---------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input_is_a_batch_of_one(batch_first):
    mha = nn.MultiheadAttention(E, H, kdim=5, vdim=3, add_zero_attn=True,
                                batch_first=batch_first).double()
    q, k, v = inputs(mha, batch=1)
    mask = RNG.normal(size=(H, L, S))
    pad = np.array([False, True, False, False])
    out, weights = mha(q[:, 0], k[:, 0], v[:, 0], attn_mask=t64(mask),
                       key_padding_mask=eager.tensor(pad), average_attn_weights=False)
    assert out.shape == (L, E) and weights.shape == (H, L, S + 1)
    if batch_first:
        q, k, v = (x.transpose(0, 1) for x in (q, k, v))
    want, want_weights = mha(q, k, v, attn_mask=t64(mask), key_padding_mask=eager.tensor(pad[None]),
                             average_attn_weights=False)
    np.testing.assert_allclose(values(out), values(want).reshape(L, E), atol=1e-12)
    np.testing.assert_allclose(values(weights), values(want_weights)[0], atol=1e-12)


def test_batch_first_is_the_same_attention_transposed():
    a = nn.MultiheadAttention(E, H, add_bias_kv=True).double()
    b = nn.MultiheadAttention(E, H, add_bias_kv=True, batch_first=True).double()
    b.load_state_dict(a.state_dict())
    q, k, v = inputs(a)
    pad = eager.tensor(np.array([[False] * 3 + [True], [False] * 4]))
    out_a, w_a = a(q, k, v, key_padding_mask=pad)
    out_b, w_b = b(*(x.transpose(0, 1) for x in (q, k, v)), key_padding_mask=pad)
    np.testing.assert_allclose(values(out_b.transpose(0, 1)), values(out_a), atol=1e-12)
    np.testing.assert_allclose(values(w_b), values(w_a), atol=1e-12)


def test_bool_and_float_masks_agree_in_2d_and_3d():
    mha = nn.MultiheadAttention(E, H).double()
    q, k, v = inputs(mha)
    keep = RNG.random((L, S)) < 0.6
    keep[:, 0] = True
    for shape in [(L, S), (N * H, L, S)]:
        blocked = np.broadcast_to(~keep, shape).copy()
        got = mha(q, k, v, attn_mask=eager.tensor(blocked))[1]
        want = mha(q, k, v, attn_mask=t64(np.where(blocked, -math.inf, 0.0)))[1]
        np.testing.assert_allclose(values(got), values(want), atol=1e-12)
        assert float(got[:, ~keep].abs().max()) == 0.0
    pad = np.array([[False, False, True, True], [False, True, False, False]])
    bool_out = mha(q, k, v, key_padding_mask=eager.tensor(pad))
    float_out = mha(q, k, v, key_padding_mask=t64(np.where(pad, -math.inf, 0.0)))
    for got, want in zip(bool_out, float_out):
        np.testing.assert_allclose(values(got), values(want), atol=1e-12)


def test_is_causal_uses_the_mask_given_or_builds_one():
    mha = nn.MultiheadAttention(E, H).double()
    x = t64(RNG.normal(size=(L, N, E)))
    causal = nn.Transformer.generate_square_subsequent_mask(L).double()
    with_mask = mha(x, x, x, attn_mask=causal, is_causal=True)
    without = mha(x, x, x, is_causal=True)
    for got, want in zip(without, with_mask):
        np.testing.assert_allclose(values(got), values(want), atol=1e-12)
    assert float(without[1][:, 0, 1:].abs().max()) == 0.0


def test_need_weights_false_and_per_head_weights():
    mha = nn.MultiheadAttention(E, H, add_zero_attn=True).double()
    q, k, v = inputs(mha)
    out, none = mha(q, k, v, need_weights=False)
    assert none is None
    full, per_head = mha(q, k, v, average_attn_weights=False)
    averaged = mha(q, k, v)[1]
    np.testing.assert_allclose(values(out), values(full), atol=1e-12)
    np.testing.assert_allclose(values(per_head.mean(dim=1)), values(averaged), atol=1e-12)


def test_returned_weights_are_the_ones_after_dropout():
    eager.manual_seed(0)
    mha = nn.MultiheadAttention(E, H, dropout=0.5, bias=False).double().train()
    q, k, v = inputs(mha)
    out, weights = mha(q, k, v, average_attn_weights=False)
    sums = values(weights).sum(-1)
    assert not np.allclose(sums, 1.0)  # dropped and rescaled: rows no longer sum to 1
    wv = values(mha.in_proj_weight)[2 * E:]
    heads = (values(v) @ wv.T).transpose(1, 0, 2).reshape(N, S, H, E // H).transpose(0, 2, 1, 3)
    mixed = (values(weights) @ heads).transpose(0, 2, 1, 3).reshape(N, L, E)
    want = mixed @ values(mha.out_proj.weight).T
    np.testing.assert_allclose(values(out), want.transpose(1, 0, 2), atol=1e-12)
    mha.eval()
    np.testing.assert_allclose(values(mha(q, k, v)[1]).sum(-1), 1.0, atol=1e-12)


def test_functional_form_matches_the_module():
    mha = nn.MultiheadAttention(E, H, kdim=5, vdim=3, add_bias_kv=True,
                                add_zero_attn=True).double()
    q, k, v = inputs(mha)
    pad = eager.tensor(np.array([[False, True, False, False], [False] * 4]))
    want = mha(q, k, v, key_padding_mask=pad)
    got = F.multi_head_attention_forward(
        q, k, v, E, H, None, mha.in_proj_bias, mha.bias_k, mha.bias_v, True, 0.0,
        mha.out_proj.weight, mha.out_proj.bias, key_padding_mask=pad,
        use_separate_proj_weight=True, q_proj_weight=mha.q_proj_weight,
        k_proj_weight=mha.k_proj_weight, v_proj_weight=mha.v_proj_weight)
    for a, b in zip(got, want):
        np.testing.assert_allclose(values(a), values(b), atol=1e-12)


def test_functional_static_k_and_v_replace_the_projected_keys():
    w, wo = t64(RNG.normal(size=(3 * E, E))), t64(RNG.normal(size=(E, E)))
    q = t64(RNG.normal(size=(L, N, E)))
    k = v = t64(RNG.normal(size=(S, N, E)))
    static_k = t64(RNG.normal(size=(N * H, 5, E // H)))
    static_v = t64(RNG.normal(size=(N * H, 5, E // H)))
    out, weights = F.multi_head_attention_forward(
        q, k, v, E, H, w, None, None, None, False, 0.0, wo, None, static_k=static_k,
        static_v=static_v, average_attn_weights=False)
    assert weights.shape == (N, H, L, 5)
    qh = (values(q) @ values(w)[:E].T).transpose(1, 0, 2).reshape(N, L, H, E // H)
    scores = qh.transpose(0, 2, 1, 3) @ values(static_k).reshape(N, H, 5, -1).transpose(
        0, 1, 3, 2) / math.sqrt(E // H)
    want = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    np.testing.assert_allclose(values(weights), want, atol=1e-12)
    mixed = want @ values(static_v).reshape(N, H, 5, -1)
    want_out = mixed.transpose(0, 2, 1, 3).reshape(N, L, E) @ values(wo).T
    np.testing.assert_allclose(values(out), want_out.transpose(1, 0, 2), atol=1e-12)


# ---- under @jit ---------------------------------------------------------------------------------
@pytest.mark.parametrize("options", OPTIONS[1:4])
def test_jitted_options_match_eager_with_gradients(options):
    eager.manual_seed(1)
    mha = nn.MultiheadAttention(E, H, batch_first=True, **options)
    pad = eager.tensor(np.array([[False] * 3 + [True], [False] * 4]))
    causal = eager.tensor(np.triu(np.ones((L, S), bool), 1))

    def step(q, k, v):
        out, weights = mha(q, k, v, key_padding_mask=pad, attn_mask=causal,
                           average_attn_weights=False)
        loss = (out * out).sum() + (weights * weights).sum()
        return loss.detach(), eager.grad(loss, [q, k, v, *mha.parameters()])

    jitted = jit(step)
    for _ in range(3):
        args = [eager.tensor(RNG.normal(size=(N, n, d)).astype(np.float32), requires_grad=True)
                for n, d in ((L, E), (S, mha.kdim), (S, mha.vdim))]
        want_loss, want_grads = step(*args)
        got_loss, got_grads = jitted(*args)
        np.testing.assert_allclose(got_loss.item(), want_loss.item(), rtol=1e-5)
        for g, w in zip(got_grads, want_grads):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-4, atol=1e-5)
    assert jitted.cache_info().hits == 2


# ---- errors -------------------------------------------------------------------------------------
def test_bad_arguments_name_the_function_and_the_shapes():
    mha = nn.MultiheadAttention(E, H, kdim=5, vdim=3)
    q, k, v = eager.randn(L, N, E), eager.randn(S, N, 5), eager.randn(S, N, 3)
    with pytest.raises(ShapeError, match=r"MultiheadAttention: key must be 3-d .* with 5 "
                                         r"features, got \(4, 2, 8\)"):
        mha(q, eager.randn(S, N, E), v)
    with pytest.raises(ShapeError, match=r"MultiheadAttention: query must be 2-d .*got "
                                         r"\(2, 3, 4, 8\)"):
        mha(eager.randn(2, L, 4, E), k, v)
    with pytest.raises(ShapeError, match=r"key_padding_mask must be \(2, 4\).*got \(2, 3\)"):
        mha(q, k, v, key_padding_mask=eager.zeros(N, 3, dtype=eager.bool))
    with pytest.raises(ShapeError, match=r"attn_mask must be \(3, 4\) or \(4, 3, 4\).*"
                                         r"got \(3, 3\)"):
        mha(q, k, v, attn_mask=eager.zeros(L, 3))
    with pytest.raises(ShapeError, match=r"MultiheadAttention: key \(4, 2, 5\) and value "
                                         r"\(5, 2, 3\) must have one source length"):
        mha(q, k, eager.randn(5, N, 3))
    with pytest.raises(DTypeError, match=r"MultiheadAttention.*attn_mask must be bool .* "
                                         r"got int64"):
        mha(q, k, v, attn_mask=eager.zeros(L, S, dtype=eager.int64))
    with pytest.raises(ValueError, match="bias_k and bias_v together"):
        F.multi_head_attention_forward(q, q, q, E, H, eager.randn(3 * E, E), None,
                                       eager.zeros(1, 1, E), None, False, 0.0,
                                       eager.randn(E, E), None)
    with pytest.raises(ValueError, match="kdim"):
        nn.MultiheadAttention(E, H, kdim=0)


# ---- transformer layers -------------------------------------------------------------------------
@pytest.mark.parametrize("activation", [F.gelu, nn.GELU(), lambda x: F.gelu(x)])
def test_a_callable_activation_is_used_as_given(activation):
    eager.manual_seed(0)
    named = nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, activation="gelu").double()
    given = nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, activation=activation).double()
    given.load_state_dict(named.state_dict())
    assert list(given.state_dict()) == list(named.state_dict())
    x = t64(RNG.normal(size=(L, N, E)))
    stack = nn.TransformerEncoder(given, 2)
    np.testing.assert_allclose(values(given(x)), values(named(x)), atol=1e-12)
    relu = nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, activation=F.relu).double()
    relu.load_state_dict(named.state_dict())
    assert not np.allclose(values(relu(x)), values(named(x)))
    assert stack(x).shape == (L, N, E)


def test_transformer_options_and_signature():
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, 16), 1,
                                    enable_nested_tensor=False, mask_check=False)
    assert encoder.enable_nested_tensor is False
    custom = nn.Transformer(E, H, custom_encoder=encoder, num_decoder_layers=1,
                            dim_feedforward=16)
    assert custom.encoder is encoder
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=eager.float64)
    assert mask.dtype == eager.float64 and mask.tolist()[1] == [0.0, 0.0, -math.inf]
    assert nn.Transformer.generate_square_subsequent_mask(2).dtype == eager.float32
    out = custom(eager.randn(5, 2, E), eager.randn(3, 2, E), tgt_mask=mask.astype(eager.float32),
                 src_is_causal=False, tgt_is_causal=True, memory_is_causal=False)
    assert out.shape == (3, 2, E)
    with pytest.raises(ShapeError, match=r"Transformer: src \(5, 2, 8\) and tgt \(3, 4, 8\) "
                                         r"must have one batch size"):
        custom(eager.randn(5, 2, E), eager.randn(3, 4, E))
    with pytest.raises(ShapeError, match="d_model=8"):
        custom(eager.randn(5, 2, 6), eager.randn(3, 2, 6))


# ---- against torch -----------------------------------------------------------------------------
def to_eager(state):
    return {k: eager.tensor(v.detach().numpy()) for k, v in state.items()}


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_torch_checkpoints_load_and_match_values_and_gradients(options, batch_first):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(E, H, batch_first=batch_first, **options).double()
    ours = nn.MultiheadAttention(E, H, batch_first=batch_first, **options).double()
    assert [(k, tuple(v.shape)) for k, v in ref.state_dict().items()] == \
        [(k, v.shape) for k, v in ours.state_dict().items()]
    ours.load_state_dict(to_eager(ref.state_dict()))
    back = torch.nn.MultiheadAttention(E, H, batch_first=batch_first, **options).double()
    back.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    layout = (lambda n, d: (N, n, d)) if batch_first else (lambda n, d: (n, N, d))
    arrays = [RNG.normal(size=layout(n, d)) for n, d in ((L, E), (S, ours.kdim), (S, ours.vdim))]
    pad = np.array([[False, False, True, False], [False] * 4])
    attn = RNG.normal(size=(N * H, L, S))
    for kwargs in [{"key_padding_mask": pad, "attn_mask": attn, "average_attn_weights": False},
                   {"key_padding_mask": np.where(pad, -math.inf, 0.0),
                    "attn_mask": np.triu(np.ones((L, S), bool), 1)},
                   {"need_weights": False}]:
        theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
        ours_in = [t64(a, True) for a in arrays]
        ref.zero_grad()
        ours.zero_grad()
        want = ref(*theirs_in, **{k: torch.tensor(m) if isinstance(m, np.ndarray) else m
                                  for k, m in kwargs.items()})
        got = ours(*ours_in, **{k: eager.tensor(m) if isinstance(m, np.ndarray) else m
                                for k, m in kwargs.items()})
        assert (want[1] is None) == (got[1] is None)
        np.testing.assert_allclose(values(got[0]), want[0].detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(values(back(*theirs_in, **{
            k: torch.tensor(m) if isinstance(m, np.ndarray) else m
            for k, m in kwargs.items()})[0]), want[0].detach().numpy(), atol=1e-12)
        if want[1] is not None:
            np.testing.assert_allclose(values(got[1]), want[1].detach().numpy(), atol=1e-12)
        (want[0] ** 2).sum().backward()
        (got[0] ** 2).sum().backward()
        for a, b in zip(ours_in, theirs_in):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-10)
        for a, b in zip(ours.parameters(), ref.parameters()):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-10)


def test_unbatched_matches_torch():
    torch = pytest.importorskip("torch")
    ref = torch.nn.MultiheadAttention(E, H, kdim=5, vdim=3, add_bias_kv=True).double()
    ours = nn.MultiheadAttention(E, H, kdim=5, vdim=3, add_bias_kv=True).double()
    ours.load_state_dict(to_eager(ref.state_dict()))
    arrays = [RNG.normal(size=s) for s in ((L, E), (S, 5), (S, 3))]
    mask = RNG.normal(size=(H, L, S))
    pad = np.array([False, True, False, False])
    want = ref(*map(torch.tensor, arrays), attn_mask=torch.tensor(mask),
               key_padding_mask=torch.tensor(pad), average_attn_weights=False)
    got = ours(*map(t64, arrays), attn_mask=t64(mask), key_padding_mask=eager.tensor(pad),
               average_attn_weights=False)
    for a, b in zip(got, want):
        np.testing.assert_allclose(values(a), b.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("kw", [{}, {"norm_first": True},
                                {"bias": False, "layer_norm_eps": 1e-3, "batch_first": True}])
@pytest.mark.parametrize("activation", ["relu", "gelu", "gelu_function"])
def test_transformer_matches_torch_with_padding_masks(kw, activation):
    torch = pytest.importorskip("torch")
    theirs_act, ours_act = {"relu": ("relu", "relu"), "gelu": ("gelu", "gelu"),
                            "gelu_function": (torch.nn.functional.gelu, F.gelu)}[activation]
    torch.manual_seed(0)
    ref = torch.nn.Transformer(E, H, 1, 2, 16, dropout=0.0, activation=theirs_act,
                               **kw).double()
    ours = nn.Transformer(E, H, 1, 2, 16, dropout=0.0, activation=ours_act, **kw).double()
    ours.load_state_dict(to_eager(ref.state_dict()))
    first = kw.get("batch_first", False)
    src = RNG.normal(size=(N, 5, E) if first else (5, N, E))
    tgt = RNG.normal(size=(N, 3, E) if first else (3, N, E))
    src_pad = np.array([[False] * 5, [False] * 3 + [True] * 2])
    tgt_pad = np.array([[False, False, True], [False] * 3])
    theirs_in = [torch.tensor(src, requires_grad=True), torch.tensor(tgt, requires_grad=True)]
    ours_in = [t64(src, True), t64(tgt, True)]
    want = ref(*theirs_in, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(3),
               src_key_padding_mask=torch.tensor(src_pad),
               tgt_key_padding_mask=torch.tensor(tgt_pad),
               memory_key_padding_mask=torch.tensor(src_pad), tgt_is_causal=True)
    got = ours(*ours_in, tgt_mask=nn.Transformer.generate_square_subsequent_mask(3),
               src_key_padding_mask=eager.tensor(src_pad),
               tgt_key_padding_mask=eager.tensor(tgt_pad),
               memory_key_padding_mask=eager.tensor(src_pad), tgt_is_causal=True)
    tol = 1e-12 if activation == "relu" else 1e-6  # our exact GELU's erf is approximate
    np.testing.assert_allclose(values(got), want.detach().numpy(), atol=tol)
    (want ** 2).sum().backward()
    (got ** 2).sum().backward()
    for a, b in zip(ours_in, theirs_in):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=100 * tol)
    for a, b in zip(ours.parameters(), ref.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=100 * tol)
