"""Per-step time of one training step of the demo's digits models (cross-entropy, Adam,
batch 64): eager-jit eager mode, the same step under @jit (when the jit package provides
it), a hand-written numpy version of the same math (MLP only), and torch (if installed).

    python benchmarks/bench_training.py                 # MLP 64-128-10: 300 steps, 5 repeats
    python benchmarks/bench_training.py --model cnn --steps 50
    python benchmarks/bench_training.py --steps 500 --batch 128
    OPENBLAS_NUM_THREADS=2 python benchmarks/bench_training.py    # let BLAS use 2 threads

Every variant starts from the same weights and trains on the same fixed batch, so the
loss after the timed steps is printed too: they should agree to float32 precision.
The median over repeats of the mean time per step is reported, with the ratio to the
first row (numpy for the MLP, eager for the CNN).

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


def make_data(model: str, batch: int, seed: int = 0):
    """A fixed batch of digits-like inputs and labels, and the demo model's initial
    weights (numpy arrays in parameter order)."""
    import eager
    from jit.demo import build_model

    rng = np.random.default_rng(seed)
    x = rng.random((batch, 64), dtype=np.float32)
    if model == "cnn":
        x = x.reshape(batch, 1, 8, 8)
    y = rng.integers(0, 10, size=batch)
    eager.manual_seed(seed)
    weights = [p.detach().numpy().copy() for p in build_model(model).parameters()]
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


def eager_step(model_kind: str, weights, wrap=None):
    """The eager-jit training step (optionally wrapped, e.g. by jit) and an input converter."""
    import eager
    import eager.nn.functional as F
    from eager import optim
    from jit.demo import build_model

    model = build_model(model_kind)
    with eager.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(eager.tensor(w))
    opt = optim.Adam(model.parameters(), lr=1e-3)

    def train_step(x, y):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.detach()

    step = wrap(train_step) if wrap else train_step
    return lambda x, y: step(x, y).item(), (lambda x, y: (eager.tensor(x), eager.tensor(y)))


def torch_step(model_kind: str, weights):
    """The same step in torch, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    nn = torch.nn
    if model_kind == "mlp":
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    else:
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(128, 10))
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
    parser.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    x, y, weights = make_data(args.model, args.batch)

    variants = []
    if args.model == "mlp":
        variants.append(("numpy (hand-written)", NumpyMLP(weights).step, lambda a, b: (a, b)))
    variants.append(("eager-jit eager", *eager_step(args.model, weights)))
    try:
        from jit import jit
    except ImportError:
        print("jit: not available yet")
    else:
        variants.append(("eager-jit @jit", *eager_step(args.model, weights, jit)))
    torch_variant = torch_step(args.model, weights)
    if torch_variant is None:
        print("torch: not installed (pip install torch for the comparison)")
    else:
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        variants.append(("torch " + torch.__version__, *torch_variant))

    print(f"{args.model}, Adam, batch {args.batch}: {args.steps} steps x {args.repeats} "
          f"repeats, median time per step, {os.environ['OPENBLAS_NUM_THREADS']} BLAS thread(s)")
    base = None
    for name, step, convert in variants:
        seconds, loss = time_steps(step, *convert(x, y), args.steps, args.repeats)
        base = base or seconds
        print(f"  {name:<22} {seconds * 1e3:8.3f} ms/step  {seconds / base:6.2f}x "
              f"{variants[0][0].split()[0]:<6} loss after {1 + args.steps * args.repeats} "
              f"steps {loss:.6f}")


if __name__ == "__main__":
    main()
