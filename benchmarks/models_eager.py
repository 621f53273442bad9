"""The benchmark models (W5 CNN on digits, W6 tiny GPT, pytorch/examples' MNIST CNN)
written with eager.nn, their training steps, and their data.

Every other contestant (numpy, torch, jax) starts from `initial_weights(name)`: these
models' freshly initialised parameters as numpy arrays, in `parameters()` order.
"""
from __future__ import annotations

import math

import numpy as np

import eager
import eager.nn.functional as F
from eager import nn, optim

GPT = {"vocab": 64, "n_embd": 64, "n_head": 4, "n_layer": 2, "block": 32, "batch": 16}


class DigitsCNN(nn.Module):
    """W5: conv 1->16 3x3 pad 1, ReLU, max-pool 2, conv 16->32 3x3 pad 1, ReLU, linear 512->10."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        return self.fc(x.reshape(x.shape[0], -1))


class MnistCNN(nn.Module):
    """pytorch/examples' MNIST CNN: conv 32, conv 64, max-pool 2, dropout, 9216->128->10."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        x = F.dropout(F.max_pool2d(x, 2), 0.25, self.training)
        x = F.dropout(F.relu(self.fc1(x.reshape(x.shape[0], -1))), 0.5, self.training)
        return self.fc2(x)


class Block(nn.Module):
    """Pre-LN transformer block: x + attn(ln1(x)), then x + mlp(ln2(x))."""

    def __init__(self, n_embd: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.ln1 = nn.LayerNorm(n_embd)
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)
        self.ln2 = nn.LayerNorm(n_embd)
        self.fc = nn.Linear(n_embd, 4 * n_embd)
        self.out = nn.Linear(4 * n_embd, n_embd)

    def attention(self, x, mask):
        b, t, c = x.shape
        h = self.n_head
        q, k, v = self.qkv(x).reshape(b, t, 3, h, c // h).permute(2, 0, 3, 1, 4)
        scores = (q @ k.mT) * (1.0 / math.sqrt(c // h)) + mask
        y = F.softmax(scores, dim=-1) @ v
        return self.proj(y.permute(0, 2, 1, 3).reshape(b, t, c))

    def forward(self, x, mask):
        x = x + self.attention(self.ln1(x), mask)
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class TinyGPT(nn.Module):
    """W6: token + position embeddings, 2 pre-LN blocks, final LayerNorm, linear head."""

    def __init__(self, vocab: int, n_embd: int, n_head: int, n_layer: int, block: int) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab, n_embd)
        self.pos = nn.Embedding(block, n_embd)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head) for _ in range(n_layer)])
        self.ln = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab)
        causal = np.triu(np.full((block, block), -np.inf, np.float32), 1)
        self.mask = eager.tensor(causal)
        self.positions = eager.arange(block)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(self.positions[:idx.shape[1]])
        t = idx.shape[1]
        mask = self.mask[:t, :t]
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.ln(x))


def build(name: str) -> nn.Module:
    """A fresh model for workload `name` ("w5", "w6", "mnist"), seeded."""
    eager.manual_seed(0)
    if name == "w5":
        return DigitsCNN()
    if name == "w6":
        return TinyGPT(GPT["vocab"], GPT["n_embd"], GPT["n_head"], GPT["n_layer"], GPT["block"])
    return MnistCNN()


def initial_weights(name: str) -> list[np.ndarray]:
    """The seeded model's parameters as numpy arrays, in parameters() order."""
    return [p.detach().numpy().copy() for p in build(name).parameters()]


def batch(name: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One fixed batch: digits (64 of them, scaled to [0, 1]), random tokens for W6
    (targets: the next token), or random 28x28 images for MNIST."""
    rng = np.random.default_rng(seed)
    if name == "w5":
        from jit.data import load_digits

        images, labels = load_digits()
        pick = rng.choice(len(labels), 64, replace=False)
        return (images[pick] / 16.0).reshape(64, 1, 8, 8).astype(np.float32), labels[pick]
    if name == "w6":
        tokens = rng.integers(0, GPT["vocab"], (GPT["batch"], GPT["block"] + 1))
        return tokens[:, :-1], tokens[:, 1:]
    return rng.random((64, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 64)


def optimizer(name: str, params):
    """Adam 1e-3 (W5, MNIST) or AdamW 3e-4, weight decay 0.01 (W6)."""
    if name == "w6":
        return optim.AdamW(params, lr=3e-4, weight_decay=0.01)
    return optim.Adam(params, lr=1e-3)


def train_step(name: str, wrap=None):
    """(step(x, y) -> loss as a float, convert(x, y) -> inputs) for eager-jit, eager or
    wrapped (e.g. by jit)."""
    model = build(name)
    opt = optimizer(name, model.parameters())

    def step(x, y):
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.detach()

    run = wrap(step) if wrap else step
    return (lambda x, y: run(x, y).item()), (lambda x, y: (eager.tensor(x), eager.tensor(y)))
