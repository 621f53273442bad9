"""Issue 11, part C under @jit: whole PyTorch-style training steps (an LSTM language
model, a small transformer, a BatchNorm CNN) jitted, against the same steps run eagerly.
"""
import numpy as np

import eager as torch
import eager.nn.functional as F
from eager import nn, optim
from jit import jit


class LSTMLanguageModel(nn.Module):
    """pytorch/examples word_language_model, in small."""

    def __init__(self, vocab=20, emb=8, hidden=12, layers=2):
        super().__init__()
        self.encoder = nn.Embedding(vocab, emb)
        self.rnn = nn.LSTM(emb, hidden, layers, dropout=0.0)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, tokens, state):
        out, state = self.rnn(self.encoder(tokens), state)
        return self.decoder(out), state


class TinyGPT(nn.Module):
    def __init__(self, vocab=16, d=16, heads=2, length=6):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(length, d))
        # bias=False as nanoGPT: a key bias gets a gradient that is zero up to rounding,
        # which AdamW would blow up into differences of order lr between any two runs.
        layer = nn.TransformerEncoderLayer(d, heads, 32, dropout=0.0, batch_first=True,
                                           norm_first=True, activation="gelu", bias=False)
        self.blocks = nn.TransformerEncoder(layer, 2)
        self.head = nn.Linear(d, vocab)

    def forward(self, idx):
        x = self.tok(idx) + self.pos[: idx.shape[1]]
        return self.head(self.blocks(x, is_causal=True))


class BatchNormCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4),
                                      nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(4, 6, 3),
                                      nn.BatchNorm2d(6), nn.SiLU(),
                                      nn.AdaptiveAvgPool2d((1, 1)))
        self.classifier = nn.Linear(6, 3)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def lstm_setup():
    torch.manual_seed(0)
    model = LSTMLanguageModel()
    opt = optim.Adam(model.parameters(), lr=0.01)
    state = (torch.zeros(2, 3, 12), torch.zeros(2, 3, 12))

    def step(tokens, targets):
        opt.zero_grad()
        logits, _ = model(tokens, state)
        loss = F.cross_entropy(logits.reshape(-1, 20), targets.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()
        return loss.detach()
    rng = np.random.default_rng(0)
    data = [(torch.tensor(rng.integers(0, 20, (5, 3))), torch.tensor(rng.integers(0, 20, (5, 3))))
            for _ in range(6)]
    return model, step, data


def gpt_setup():
    torch.manual_seed(0)
    model = TinyGPT()
    opt = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1)

    def step(idx, targets):
        logits = model(idx)
        loss = F.cross_entropy(logits.reshape(-1, 16), targets.reshape(-1), ignore_index=-1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()
    rng = np.random.default_rng(1)
    data = []
    for _ in range(6):
        idx = rng.integers(0, 16, (2, 6))
        targets = np.roll(idx, -1, axis=1)
        targets[:, -1] = -1
        data.append((torch.tensor(idx), torch.tensor(targets)))
    return model, step, data


def cnn_setup():
    torch.manual_seed(0)
    model = BatchNormCNN()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, dampening=0.1)

    def step(x, y):
        model.train()
        opt.zero_grad()
        loss = nn.CrossEntropyLoss(label_smoothing=0.1)(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()
    rng = np.random.default_rng(2)
    data = [(torch.tensor(rng.standard_normal((4, 1, 8, 8)).astype(np.float32)),
             torch.tensor(rng.integers(0, 3, 4))) for _ in range(6)]
    return model, step, data


def compare(setup):
    model_e, step_e, data = setup()
    model_j, step_j, _ = setup()
    step_j = jit(step_j)
    for x, y in data:
        np.testing.assert_allclose(step_j(x, y).item(), step_e(x, y).item(), rtol=2e-4)
    state_e, state_j = model_e.state_dict(), model_j.state_dict()
    for key in state_e:
        np.testing.assert_allclose(state_j[key].numpy(), state_e[key].numpy(), rtol=2e-4,
                                   atol=2e-5, err_msg=key)
    info = step_j.cache_info()
    assert info.misses == 1 and info.hits == len(data) - 1, info
    return model_j


def test_jitted_lstm_language_model_step_matches_eager():
    compare(lstm_setup)


def test_jitted_transformer_step_matches_eager():
    compare(gpt_setup)


def test_jitted_batchnorm_cnn_step_updates_running_stats_as_eager():
    model = compare(cnn_setup)
    bn = model.features[1]
    assert bn.num_batches_tracked.item() == 6
    assert float(bn.running_var.min()) != 1.0


def test_eval_after_tracing_a_closure_retraces_instead_of_replaying_train_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    predict = jit(lambda x: model(x))
    x = torch.randn(6, 3)
    with torch.no_grad():
        predict(x)
        model.eval()
        for _ in range(2):
            np.testing.assert_allclose(predict(x).numpy(), model(x).numpy(), rtol=1e-6)
        model.train()
        predict(x)
        model.eval()
        predict(x)
    info = predict.cache_info()
    assert info.variants == 2 and info.misses == 2  # one variant per mode, both kept


class Attention(nn.Module):
    def __init__(self, width, heads, p):
        super().__init__()
        self.qkv, self.out = nn.Linear(width, 3 * width, bias=False), nn.Linear(width, width)
        self.drop, self.heads, self.p = nn.Dropout(p), heads, p

    def forward(self, x):
        b, t, c = x.size()
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2)
                   for z in self.qkv(x).split(c, dim=2))
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.p if self.training else 0,
                                           is_causal=True)
        return self.drop(self.out(y.transpose(1, 2).reshape(b, t, c)))


class WeightTiedLM(nn.Module):
    """A GPT-style language model written the way public PyTorch training scripts are."""

    def __init__(self, vocab=24, length=8, width=16, heads=2, depth=2, p=0.1):
        super().__init__()
        self.parts = nn.ModuleDict({
            "tok": nn.Embedding(vocab, width), "pos": nn.Embedding(length, width),
            "drop": nn.Dropout(p),
            "blocks": nn.ModuleList([nn.ModuleList([nn.LayerNorm(width),
                                                    Attention(width, heads, p),
                                                    nn.LayerNorm(width),
                                                    nn.Sequential(nn.Linear(width, 4 * width),
                                                                  nn.GELU(approximate="tanh"),
                                                                  nn.Linear(4 * width, width))])
                                     for _ in range(depth)]),
            "norm": nn.LayerNorm(width)})
        self.head = nn.Linear(width, vocab, bias=False)
        self.parts["tok"].weight = self.head.weight  # weight tying
        self.apply(self._init)

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx, targets):
        x = self.parts["tok"](idx) + self.parts["pos"](torch.arange(idx.size(1)))
        x = self.parts["drop"](x)
        for norm1, attn, norm2, mlp in self.parts["blocks"]:
            x = x + attn(norm1(x))
            x = x + mlp(norm2(x))
        logits = self.head(self.parts["norm"](x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                               ignore_index=-1)


def train_tied_lm(use_jit, iters=8):
    torch.manual_seed(7)
    model = WeightTiedLM()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                       {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
                      lr=1e-2, betas=(0.9, 0.95))

    def step(x, y):
        loss = model(x, y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.detach()
    run = jit(step) if use_jit else step
    gen = torch.Generator(seed=3)
    losses = []
    for it in range(iters):
        for group in opt.param_groups:  # warm-up then cosine, assigned every iteration
            group["lr"] = 1e-2 * min(1.0, (it + 1) / 3) * (1 + np.cos(np.pi * it / iters)) / 2
        x = torch.randint(0, 24, (4, 8), generator=gen)
        y = torch.randint(0, 24, (4, 8), generator=gen)
        losses.append(run(x, y).item())
    return losses, model, run


def test_weight_tied_gpt_training_loop_with_dropout_and_lr_schedule_jitted_matches_eager():
    eager_losses, eager_model, _ = train_tied_lm(False)
    jit_losses, jit_model, run = train_tied_lm(True)
    np.testing.assert_allclose(jit_losses, eager_losses, rtol=2e-4)
    assert jit_model.parts["tok"].weight is jit_model.head.weight
    np.testing.assert_allclose(jit_model.head.weight.detach().numpy(),
                               eager_model.head.weight.detach().numpy(), rtol=2e-4, atol=2e-5)
    info = run.cache_info()
    assert info.misses == 1 and info.hits == 7, info
