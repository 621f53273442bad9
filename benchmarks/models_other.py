"""The benchmark models in torch (eager and torch.compile) and jax (jax.jit), when
installed. Each builder returns (step(x, y) -> loss float, convert(x, y) -> inputs), or
None when its framework does not import; weights come from models_eager.initial_weights
so every contestant starts from the same point.
"""
from __future__ import annotations

import math

import numpy as np
from models_eager import GPT


# ---- torch ------------------------------------------------------------------------------
def _torch_models(torch):
    nn, F = torch.nn, torch.nn.functional

    class DigitsCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
            self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
            self.fc = nn.Linear(512, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            return self.fc(F.relu(self.conv2(x)).flatten(1))

    class MnistCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3)
            self.conv2 = nn.Conv2d(32, 64, 3)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv2(F.relu(self.conv1(x))))
            x = F.dropout(F.max_pool2d(x, 2), 0.25, self.training)
            x = F.dropout(F.relu(self.fc1(x.flatten(1))), 0.5, self.training)
            return self.fc2(x)

    class Block(nn.Module):
        def __init__(self, n_embd, n_head):
            super().__init__()
            self.n_head = n_head
            self.ln1 = nn.LayerNorm(n_embd)
            self.qkv = nn.Linear(n_embd, 3 * n_embd)
            self.proj = nn.Linear(n_embd, n_embd)
            self.ln2 = nn.LayerNorm(n_embd)
            self.fc = nn.Linear(n_embd, 4 * n_embd)
            self.out = nn.Linear(4 * n_embd, n_embd)

        def forward(self, x, mask):
            b, t, c = x.shape
            h = self.n_head
            q, k, v = self.qkv(self.ln1(x)).reshape(b, t, 3, h, c // h).permute(2, 0, 3, 1, 4)
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(c // h)) + mask
            y = (F.softmax(scores, dim=-1) @ v).permute(0, 2, 1, 3).reshape(b, t, c)
            x = x + self.proj(y)
            return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    class TinyGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(GPT["vocab"], GPT["n_embd"])
            self.pos = nn.Embedding(GPT["block"], GPT["n_embd"])
            self.blocks = nn.Sequential(*[Block(GPT["n_embd"], GPT["n_head"])
                                          for _ in range(GPT["n_layer"])])
            self.ln = nn.LayerNorm(GPT["n_embd"])
            self.head = nn.Linear(GPT["n_embd"], GPT["vocab"])
            t = GPT["block"]
            self.register_buffer("mask", torch.triu(torch.full((t, t), -math.inf), 1))

        def forward(self, idx):
            t = idx.shape[1]
            x = self.tok(idx) + self.pos(torch.arange(t))
            for block in self.blocks:
                x = block(x, self.mask[:t, :t])
            return self.head(self.ln(x))

    return {"w5": DigitsCNN, "w6": TinyGPT, "mnist": MnistCNN}


def torch_step(name: str, weights: list[np.ndarray], compiled: bool = False):
    """The training step in torch (torch.compile'd model with `compiled`), or None."""
    try:
        import torch
    except ImportError:
        return None
    model = _torch_models(torch)[name]()
    params = list(model.parameters())
    if len(params) != len(weights):
        raise RuntimeError(f"torch {name}: {len(params)} parameters, expected {len(weights)}")
    with torch.no_grad():
        for p, w in zip(params, weights):
            p.copy_(torch.from_numpy(w))
    if name == "w6":
        opt = torch.optim.AdamW(params, lr=3e-4, weight_decay=0.01)
    else:
        opt = torch.optim.Adam(params, lr=1e-3)
    forward = torch.compile(model) if compiled else model

    def step(x, y):
        logits = forward(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 y.reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.item()

    return step, (lambda x, y: (torch.from_numpy(x), torch.from_numpy(y)))


# ---- jax --------------------------------------------------------------------------------
def _jax_forward(jnp, lax, jax, name: str):
    def linear(x, w, b):
        return x @ w.T + b

    def layer_norm(x, w, b, eps=1e-5):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / jnp.sqrt(var + eps) * w + b

    def conv(x, w, b, padding):
        out = lax.conv_general_dilated(x, w, (1, 1), [(padding, padding)] * 2)
        return out + b[None, :, None, None]

    def w5(p, x):
        w1, b1, w2, b2, wf, bf = p
        h = jax.nn.relu(conv(x, w1, b1, 1))
        h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
        h = jax.nn.relu(conv(h, w2, b2, 1))
        return linear(h.reshape(h.shape[0], -1), wf, bf)

    def w6(p, idx):
        tok, pos, *rest = p
        b, t = idx.shape
        x = tok[idx] + pos[:t]
        mask = jnp.triu(jnp.full((t, t), -jnp.inf), 1)
        h, c = GPT["n_head"], GPT["n_embd"]
        for layer in range(GPT["n_layer"]):
            ln1w, ln1b, qw, qb, pw, pb, ln2w, ln2b, fw, fb, ow, ob = rest[12 * layer:12 * layer + 12]
            qkv = linear(layer_norm(x, ln1w, ln1b), qw, qb)
            q, k, v = qkv.reshape(b, t, 3, h, c // h).transpose(2, 0, 3, 1, 4)
            scores = q @ k.swapaxes(-1, -2) / math.sqrt(c // h) + mask
            y = (jax.nn.softmax(scores, -1) @ v).transpose(0, 2, 1, 3).reshape(b, t, c)
            x = x + linear(y, pw, pb)
            hidden = jax.nn.gelu(linear(layer_norm(x, ln2w, ln2b), fw, fb), approximate=True)
            x = x + linear(hidden, ow, ob)
        lnw, lnb, hw, hb = rest[12 * GPT["n_layer"]:]
        return linear(layer_norm(x, lnw, lnb), hw, hb)

    return {"w5": w5, "w6": w6}[name]


def jax_step(name: str, weights: list[np.ndarray]):
    """The training step under jax.jit (W5, W6; Adam / AdamW written out), or None."""
    if name not in ("w5", "w6"):
        return None
    try:
        import jax
        import jax.numpy as jnp
        from jax import lax
    except ImportError:
        return None
    forward = _jax_forward(jnp, lax, jax, name)
    lr, decay = (3e-4, 0.01) if name == "w6" else (1e-3, 0.0)
    b1, b2, eps = 0.9, 0.999, 1e-8

    def loss_fn(params, x, y):
        logits = forward(params, x)
        logits = logits.reshape(-1, logits.shape[-1])
        logp = jax.nn.log_softmax(logits, -1)
        return -jnp.take_along_axis(logp, y.reshape(-1, 1), 1).mean()

    @jax.jit
    def update(params, m, v, t, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        t = t + 1
        out_p, out_m, out_v = [], [], []
        for p, g, mi, vi in zip(params, grads, m, v):
            p = p * (1 - lr * decay)
            mi = b1 * mi + (1 - b1) * g
            vi = b2 * vi + (1 - b2) * g * g
            denom = jnp.sqrt(vi) / jnp.sqrt(1 - b2 ** t) + eps
            out_p.append(p - lr / (1 - b1 ** t) * mi / denom)
            out_m.append(mi)
            out_v.append(vi)
        return loss, out_p, out_m, out_v, t

    state = {"p": [jnp.asarray(w) for w in weights], "t": jnp.asarray(0.0)}
    state["m"] = [jnp.zeros_like(w) for w in state["p"]]
    state["v"] = [jnp.zeros_like(w) for w in state["p"]]

    def step(x, y):
        loss, state["p"], state["m"], state["v"], state["t"] = update(
            state["p"], state["m"], state["v"], state["t"], x, y)
        return float(loss)

    return step, (lambda x, y: (jnp.asarray(x), jnp.asarray(y)))
