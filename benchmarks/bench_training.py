"""Per-step time of one training step of the digits MLP (64-128-10, ReLU, cross-entropy,
Adam, batch 64): eager-jit eager mode, the same step under @jit (when the jit package
provides it), a hand-written numpy version of the same math, and torch (if installed).

    python benchmarks/bench_training.py                 # 300 timed steps, 5 repeats
    python benchmarks/bench_training.py --steps 500 --batch 128
    OPENBLAS_NUM_THREADS=2 python benchmarks/bench_training.py    # let BLAS use 2 threads

Every variant starts from the same weights and trains on the same fixed batch, so the
loss after the timed steps is printed too: they should agree to float32 precision.
The median over repeats of the mean time per step is reported, with the ratio to numpy.

BLAS (and torch) run single-threaded unless the environment says otherwise: these
matmuls are tiny, and on a small shared machine idle BLAS threads spinning between calls
made every step up to 10x slower and the numbers meaningless.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np


def make_data(batch: int, seed: int = 0):
    """A fixed batch of digits-like inputs and labels, and the initial weights."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 64), dtype=np.float32)
    y = rng.integers(0, 10, size=batch)
    b1, b2 = 1 / np.sqrt(64), 1 / np.sqrt(128)
    weights = [rng.uniform(-b1, b1, (128, 64)).astype(np.float32),
               rng.uniform(-b1, b1, 128).astype(np.float32),
               rng.uniform(-b2, b2, (10, 128)).astype(np.float32),
               rng.uniform(-b2, b2, 10).astype(np.float32)]
    return x, y, weights


class NumpyMLP:
    """The same training step written directly in numpy: forward, backward, Adam."""

    def __init__(self, weights, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = [w.copy() for w in weights]
        self.m = [np.zeros_like(w) for w in weights]
        self.v = [np.zeros_like(w) for w in weights]
        self.t = 0
        self.lr, self.betas, self.eps = lr, betas, eps

    def step(self, x, y) -> float:
        w1, b1, w2, b2 = self.params
        h_pre = x @ w1.T + b1
        h = np.maximum(h_pre, 0)
        logits = h @ w2.T + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = len(y)
        loss = -logp[np.arange(n), y].mean()
        dlogits = np.exp(logp)
        dlogits[np.arange(n), y] -= 1
        dlogits /= n
        dh = dlogits @ w2
        dh_pre = dh * (h_pre > 0)
        grads = [dh_pre.T @ x, dh_pre.sum(0), dlogits.T @ h, dlogits.sum(0)]
        self.t += 1
        beta1, beta2 = self.betas
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            denom = np.sqrt(v) / np.sqrt(1 - beta2 ** self.t) + self.eps
            p -= (self.lr / (1 - beta1 ** self.t)) * m / denom
        return float(loss)


def eager_step(weights, wrap=None):
    """The eager-jit training step (optionally wrapped, e.g. by jit) and a runner."""
    import eager
    import eager.nn.functional as F
    from eager import nn, optim

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    names = ("0.weight", "0.bias", "2.weight", "2.bias")
    model.load_state_dict({name: eager.tensor(w) for name, w in zip(names, weights)})
    opt = optim.Adam(model.parameters(), lr=1e-3)

    def train_step(x, y):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.detach()

    step = wrap(train_step) if wrap else train_step
    return lambda x, y: step(x, y).item(), (lambda x, y: (eager.tensor(x), eager.tensor(y)))


def torch_step(weights):
    """The same step in torch, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10))
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(torch.from_numpy(w))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.item()
    return step, (lambda x, y: (torch.from_numpy(x), torch.from_numpy(y)))


def time_steps(step, x, y, steps: int, repeats: int) -> tuple[float, float]:
    """(median seconds per step over repeats, loss after the last step)."""
    step(x, y)   # warm-up (and for jit: trace and compile)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            loss = step(x, y)
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times), loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    x, y, weights = make_data(args.batch)

    variants = [("numpy (hand-written)", NumpyMLP(weights).step, lambda a, b: (a, b))]
    variants.append(("eager-jit eager", *eager_step(weights)))
    try:
        from jit import jit
    except ImportError:
        print("jit: not available yet")
    else:
        variants.append(("eager-jit @jit", *eager_step(weights, jit)))
    torch_variant = torch_step(weights)
    if torch_variant is None:
        print("torch: not installed (pip install torch for the comparison)")
    else:
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        variants.append(("torch " + torch.__version__, *torch_variant))

    print(f"MLP 64-128-10, Adam, batch {args.batch}: {args.steps} steps x {args.repeats} "
          f"repeats, median time per step")
    base = None
    for name, step, convert in variants:
        seconds, loss = time_steps(step, *convert(x, y), args.steps, args.repeats)
        base = base or seconds
        print(f"  {name:<22} {seconds * 1e3:8.3f} ms/step  {seconds / base:6.2f}x numpy  "
              f"loss after {1 + args.steps * args.repeats} steps {loss:.6f}")


if __name__ == "__main__":
    main()
