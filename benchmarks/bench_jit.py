"""Benchmarks of @jit against eager, plain numpy, and torch / jax when installed.

    python benchmarks/bench_jit.py            # full run (~1-2 minutes)
    python benchmarks/bench_jit.py --quick    # fewer repetitions

Workloads (all float32 on cpu, one process, medians of many calls):
  W1  100 chained small elementwise ops on a 16-element tensor (dispatch overhead)
  W2  the neuron tanh(w*x+b), and GELU (tanh form), on 4,194,304 elements (memory bound;
      the floor is the bytes moved divided by the measured copy bandwidth)
  W3  one training step (forward, backward, SGD) of the digits MLP 64-128-10, batch 64
  W4  forward + backward of 100 chained small ops (autograd overhead)
  first call of W2 and W3: trace + optimize + compile with a cold and a warm disk cache
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import eager
from eager import nn
from eager.nn import functional as F
from jit import jit

REPEAT = {"fast": 2000, "slow": 30}


def median_time(fn, repeat: int, warmup: int = 3) -> float:
    """Median seconds per call of fn()."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def best_time(fn, repeat: int) -> float:
    """Fastest seconds per call of fn() (after one warm-up call)."""
    fn()
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def optional(name: str):
    try:
        return __import__(name)
    except ImportError:
        return None


# ---- W1 / W4: chains of small ops ---------------------------------------------------
def chain(x, n: int = 100):
    """n elementwise ops cycling mul, add, tanh, sub (values stay bounded)."""
    for i in range(n):
        k = i % 4
        x = x * 1.01 if k == 0 else x + 0.01 if k == 1 else x.tanh() if k == 2 else x - 0.02
    return x


def chain_numpy(x, n: int = 100):
    for i in range(n):
        k = i % 4
        x = x * np.float32(1.01) if k == 0 else x + np.float32(0.01) if k == 1 else \
            np.tanh(x) if k == 2 else x - np.float32(0.02)
    return x


def chain_grad_numpy(x, n: int = 100):
    """Forward and hand-written backward of `chain` followed by sum."""
    saved = []
    for i in range(n):
        k = i % 4
        if k == 2:
            x = np.tanh(x)
            saved.append(x)
        else:
            x = x * np.float32(1.01) if k == 0 else x + np.float32(0.01) if k == 1 else \
                x - np.float32(0.02)
    g = np.ones_like(x)
    for i in reversed(range(n)):
        k = i % 4
        if k == 0:
            g = g * np.float32(1.01)
        elif k == 2:
            t = saved.pop()
            g = g * (1 - t * t)
    return g


def w4_step(x):
    x.grad = None
    chain(x).sum().backward()
    return x.grad


# ---- W2 ------------------------------------------------------------------------------
def neuron(w, x, b):
    return (w * x + b).tanh()


GELU_C = math.sqrt(2 / math.pi)


def gelu(x):
    return 0.5 * x * (1.0 + (GELU_C * (x + 0.044715 * x * x * x)).tanh())


def gelu_numpy(x):
    return np.float32(0.5) * x * (np.float32(1) + np.tanh(
        np.float32(GELU_C) * (x + np.float32(0.044715) * x * x * x)))


def copy_bandwidth(nbytes: int = 64 << 20) -> float:
    """Bytes per second moved by a large copy (read + write): the better of numpy's copy
    and a compiled copy kernel split across threads like the jitted kernels are."""
    from kernels import TensorSpec, float32
    from kernels.codegen import ElementwiseGroup, Step, compile_groups

    n = nbytes // 4
    src = np.ones(n, np.float32)
    dst = np.empty_like(src)
    copy = ElementwiseGroup((TensorSpec((n,), float32),),
                            (Step("copy", (("in", 0),), float32),), (0,), (n,))
    (kernel,) = compile_groups([copy])
    # The fastest of many copies: a floor is what the machine can do at best, and taking
    # a median here would let a noisy moment lower it.
    t = min(best_time(lambda: np.copyto(dst, src), 30),
            best_time(lambda: kernel.run([src], [dst]), 30))
    return 2 * nbytes / t


# ---- W3 ------------------------------------------------------------------------------
def make_mlp(seed: int = 0):
    eager.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = eager.optim.SGD(model.parameters(), lr=0.05)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()
    return step


def make_mlp_numpy(seed: int = 0):
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((64, 128)) * 0.1).astype(np.float32)
    b1 = np.zeros(128, np.float32)
    w2 = (rng.standard_normal((128, 10)) * 0.1).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    lr = np.float32(0.05)

    def step(x, y):
        h = x @ w1 + b1
        a = np.maximum(h, 0)
        z = a @ w2 + b2
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(len(y)), y]).mean()
        dz = p
        dz[np.arange(len(y)), y] -= 1
        dz /= len(y)
        dw2, db2 = a.T @ dz, dz.sum(axis=0)
        dh = (dz @ w2.T) * (h > 0)
        dw1, db1 = x.T @ dh, dh.sum(axis=0)
        for p_, g in ((w1, dw1), (b1, db1), (w2, dw2), (b2, db2)):
            p_ -= lr * g
        return loss
    return step


# ---- torch (when installed) -------------------------------------------------------------
def torch_workloads(torch, xs, ys, x16, w, x, b):
    """Callables for torch eager versions of W1-W4 (same math as the eager-jit ones)."""
    tx16 = torch.from_numpy(x16.numpy().copy())
    tw, tx, tb = (torch.from_numpy(t.numpy().copy()) for t in (w, x, b))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    txs, tys = torch.from_numpy(xs.numpy().copy()), torch.from_numpy(ys.numpy().copy())

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(txs), tys)
        loss.backward()
        opt.step()

    txg = tx16.clone().requires_grad_(True)

    def fwd_bwd():
        txg.grad = None
        chain(txg).sum().backward()

    return {"W1": lambda: chain(tx16), "W2 neuron": lambda: torch.tanh(tw * tx + tb),
            "W2 GELU": lambda: gelu(tx), "W3": step, "W4": fwd_bwd}


# ---- running -------------------------------------------------------------------------
def row(name: str, seconds: dict[str, float]) -> str:
    """Medians, then how many times slower each other column is than jit."""
    cells = [f"{k} {v * 1e6:9.1f} us" for k, v in seconds.items()]
    ratios = [f"{k}/jit {v / seconds['jit']:5.1f}x" for k, v in seconds.items() if k != "jit"]
    return f"{name:20s} " + " | ".join(cells) + "   " + ", ".join(ratios)


def first_call(make_fn, args) -> tuple[float, float]:
    """Seconds of the first jitted call with a cold disk cache, then with a warm one."""
    from kernels.codegen import compiler

    results = []
    with tempfile.TemporaryDirectory() as cache:
        old = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = cache
        try:
            for _ in range(2):
                compiler._loaded.clear()
                fn = jit(make_fn())
                start = time.perf_counter()
                fn(*args)
                results.append(time.perf_counter() - start)
        finally:
            if old is None:
                os.environ.pop("XDG_CACHE_HOME")
            else:
                os.environ["XDG_CACHE_HOME"] = old
    return results[0], results[1]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    opts = parser.parse_args(argv)
    fast, slow = (300, 10) if opts.quick else (REPEAT["fast"], REPEAT["slow"])
    torch, jax = optional("torch"), optional("jax")
    print(f"eager-jit benchmarks, numpy {np.__version__}, {os.cpu_count()} cpu(s); "
          f"torch {'yes' if torch else 'not installed'}, jax {'yes' if jax else 'not installed'}")

    x16 = eager.tensor(np.linspace(-1, 1, 16, dtype=np.float32))
    n = 4_194_304
    rng = np.random.default_rng(0)
    w, x, b = (eager.tensor(rng.standard_normal(n).astype(np.float32)) for _ in range(3))
    xs = eager.tensor(rng.standard_normal((64, 64)).astype(np.float32))
    ys = eager.tensor(rng.integers(0, 10, 64))
    peers = torch_workloads(torch, xs, ys, x16, w, x, b) if torch else {}

    def with_torch(t, name, repeat):
        if name in peers:
            t["torch"] = median_time(peers[name], repeat)
        return t

    w1 = jit(chain)
    t = {"eager": median_time(lambda: chain(x16), fast // 4),
         "jit": median_time(lambda: w1(x16), fast),
         "numpy": median_time(lambda: chain_numpy(x16.numpy()), fast // 4)}
    print(row("W1 100 small ops", with_torch(t, "W1", fast // 4)))

    wn, xn, bn = w.numpy(), x.numpy(), b.numpy()
    bandwidth = copy_bandwidth()
    for name, fn, np_fn, args, np_args, nbytes in (
            ("W2 neuron", neuron, lambda a, c, d: np.tanh(a * c + d), (w, x, b),
             (wn, xn, bn), 4 * n * 4),
            ("W2 GELU", gelu, gelu_numpy, (x,), (xn,), 2 * n * 4)):
        jitted = jit(fn)
        t = {"eager": median_time(lambda fn=fn, args=args: fn(*args), slow),
             "jit": median_time(lambda f=jitted, args=args: f(*args), slow),
             "numpy": median_time(lambda f=np_fn, args=np_args: f(*args), slow)}
        floor = nbytes / bandwidth
        print(row(name + " 4M", with_torch(t, name, slow)) + f", jit/floor "
              f"{t['jit'] / floor:.2f}x (floor {floor * 1e3:.2f} ms at {bandwidth / 1e9:.1f} GB/s)")

    eager_step, jit_step, np_step = make_mlp(), jit(make_mlp()), make_mlp_numpy()
    t = {"eager": median_time(lambda: eager_step(xs, ys), fast // 10),
         "jit": median_time(lambda: jit_step(xs, ys), fast // 4),
         "numpy": median_time(lambda: np_step(xs.numpy(), ys.numpy()), fast // 4)}
    print(row("W3 MLP train step", with_torch(t, "W3", fast // 10)))

    xg = eager.tensor(np.linspace(-1, 1, 16, dtype=np.float32), requires_grad=True)
    w4 = jit(w4_step)
    t = {"eager": median_time(lambda: w4_step(xg), fast // 10),
         "jit": median_time(lambda: w4(xg), fast),
         "numpy": median_time(lambda: chain_grad_numpy(xg.detach().numpy()), fast // 4)}
    print(row("W4 100 ops fwd+bwd", with_torch(t, "W4", fast // 10)))

    cold, warm = first_call(lambda: neuron, (w, x, b))
    print(f"{'first call W2 neuron':22s} cold cache {cold * 1e3:7.1f} ms | warm cache "
          f"{warm * 1e3:7.1f} ms")
    cold, warm = first_call(make_mlp, (xs, ys))
    print(f"{'first call W3 MLP':22s} cold cache {cold * 1e3:7.1f} ms | warm cache "
          f"{warm * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
