"""W7: data-dependent loops under eager, @jit, @jit.script, and jax / torch when installed.

    PYTHONPATH=$PWD python benchmarks/bench_script.py           # full run
    PYTHONPATH=$PWD python benchmarks/bench_script.py --quick   # fewer repetitions
    PYTHONPATH=$PWD python benchmarks/bench_script.py --backward-only   # the last table

Two loops whose trip count depends on the data, on float32 vectors of 1,000 and
1,000,000 elements (fastest of several calls, after a warm-up):
  halve   x = x * 0.5 until x.abs().max() < eps           (~40 trips)
  newton  y = 0.5 * (y + a / y) until |y*y - a| <= tol*a  (Newton's sqrt, ~10-25 trips)
@jit traces one trip count: each new count is a guard failure and a retrace, so it is
timed on the same input (its best case). @jit.script compiles the loop itself: one C
call. jax runs the same loop as `jax.lax.while_loop` under `jax.jit`; torch eagerly.
Everything runs on one thread (XLA_FLAGS and torch.set_num_threads are set before they
start), and the contestants of a row are timed in alternation, so load on the machine
slows them alike. Targets: @jit.script at least 20x faster than eager on 1,000
elements, and faster than jax.lax.while_loop on both sizes.

Backward: forward and backward of `walk` (x = x * r + 0.01 * tanh(x), a fixed number of
trips given as a tensor) on 1,000 float32 elements, eager autograd vs @jit.script (whose
backward is loops over checkpoints, O(n) body trips) vs torch autograd. Running this
file with PYTHONPATH at an older tree times that tree's script backward (before the
checkpoints: n(n-1)/2 extra trips).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench_jit import optional  # the import helper all benchmarks share

import eager
import jit

EPS = 1e-3
TOL = 1e-6
ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def halve(x):
    while x.abs().max() >= EPS:
        x = x * 0.5
    return x


def newton(a):
    y = a
    while ((y * y - a).abs() > TOL * a).any():
        y = 0.5 * (y + a / y)
    return y


def walk(x, r, n):
    i = eager.tensor(0)
    while i < n:
        x = x * r + 0.01 * x.tanh()
        i = i + 1
    return x


def backward_table(repeat: int) -> None:
    """Forward + backward through `walk` for 1,000 trips, each contestant in turn."""
    scripted = jit.script(walk)
    data = np.random.RandomState(0).uniform(-1.0, 1.0, 1_000).astype(np.float32)
    grads = {}

    def ours(fn, trips):
        def run():
            x = eager.asarray(data).requires_grad_()
            r = eager.tensor(0.999, requires_grad=True)
            fn(x, r, eager.tensor(trips)).sum().backward()
            grads[fn] = (x.grad.numpy(), r.grad.item())
        return run

    print(f"{'backward':8s} {'n':>9s} {'trips':>6s}{'eager':>13s}{'@jit.script':>13s}"
          f"{'torch':>13s} {'vs eager':>9s}")
    torch = optional("torch")
    for trips in (10, 100, 1_000):
        contestants = {"eager": ours(walk, trips), "@jit.script": ours(scripted, trips)}
        if torch is not None:
            def torch_run(trips=trips):
                x = torch.from_numpy(data.copy()).requires_grad_()
                r = torch.tensor(0.999, requires_grad=True)
                y = x
                for _ in range(trips):
                    y = y * r + 0.01 * y.tanh()
                y.sum().backward()
            contestants["torch"] = torch_run
        best = race(contestants, repeat, 1)
        np.testing.assert_allclose(grads[scripted][0], grads[walk][0], rtol=1e-4)
        cells = "".join(f"{best[k] * 1e6:11,.0f}us" if k in best else f"{'-':>13s}"
                        for k in ("eager", "@jit.script", "torch"))
        print(f"{'walk':8s} {1_000:9,d} {trips:6d}{cells} "
              f"{best['eager'] / best['@jit.script']:8.1f}x")


def jax_versions():
    """The two loops as `jax.lax.while_loop` under `jax.jit`, or None without jax."""
    os.environ.setdefault("XLA_FLAGS", ONE_THREAD)
    jax = optional("jax")
    if jax is None:
        return None
    jnp = jax.numpy

    @jax.jit
    def jax_halve(x):
        return jax.lax.while_loop(lambda x: jnp.abs(x).max() >= EPS, lambda x: x * 0.5, x)

    @jax.jit
    def jax_newton(a):
        def cond(y):
            return (jnp.abs(y * y - a) > TOL * a).any()
        return jax.lax.while_loop(cond, lambda y: 0.5 * (y + a / y), a)

    def run(fn):
        return lambda x: fn(x).block_until_ready()
    return {"halve": (run(jax_halve), jnp.asarray), "newton": (run(jax_newton), jnp.asarray)}


def torch_versions():
    """The two loops in torch eager mode, or None without torch."""
    torch = optional("torch")
    if torch is None:
        return None
    torch.set_num_threads(1)

    def t_halve(x):
        while x.abs().max() >= EPS:
            x = x * 0.5
        return x

    def t_newton(a):
        y = a
        while ((y * y - a).abs() > TOL * a).any():
            y = 0.5 * (y + a / y)
        return y
    return {"halve": (t_halve, torch.from_numpy), "newton": (t_newton, torch.from_numpy)}


def inputs(n: int) -> dict:
    rs = np.random.RandomState(n)
    return {"halve": rs.uniform(1.0, 1e9, n).astype(np.float32),
            "newton": rs.uniform(1.0, 1e4, n).astype(np.float32)}


def race(contestants: dict, repeat: int, batch: int) -> dict:
    """Fastest seconds per call of each fn: `repeat` rounds, each timing `batch` calls
    of every contestant in turn (so load on the machine hits them alike)."""
    for fn in contestants.values():
        fn()
    best = dict.fromkeys(contestants, math.inf)
    for _ in range(repeat):
        for label, fn in contestants.items():
            start = time.perf_counter()
            for _ in range(batch):
                fn()
            best[label] = min(best[label], (time.perf_counter() - start) / batch)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--backward-only", action="store_true",
                        help="only the loop-backward table")
    args = parser.parse_args()
    if args.backward_only:
        backward_table(3 if args.quick else 10)
        return
    programs = {"halve": halve, "newton": newton}
    scripted = {name: jit.script(fn) for name, fn in programs.items()}
    jitted = {name: jit.jit(fn) for name, fn in programs.items()}
    others = {"jax": jax_versions(), "torch": torch_versions()}
    for label, found in others.items():
        if found is None:
            print(f"({label}: not installed, skipped)")
    labels = ["eager", "@jit", "@jit.script"] + [k for k, v in others.items() if v is not None]
    header = "".join(f"{label:>13s}" for label in labels)
    print(f"{'loop':8s} {'n':>9s} {'trips':>6s}{header} {'vs eager':>9s}"
          + (f" {'vs jax':>7s}" if others["jax"] else ""))
    for n in (1_000, 1_000_000):
        repeat = 3 if args.quick else (20 if n == 1_000 else 10)
        batch = 10 if n == 1_000 else 1
        for name, data in inputs(n).items():
            x = eager.asarray(data)
            expected = programs[name](x).numpy()
            np.testing.assert_array_equal(scripted[name](x).numpy(), expected)
            contestants = {"eager": lambda f=programs[name], x=x: f(x),
                           "@jit": lambda f=jitted[name], x=x: f(x),
                           "@jit.script": lambda f=scripted[name], x=x: f(x)}
            for label, found in others.items():
                if found is not None:
                    fn, convert = found[name]
                    value = convert(data)
                    np.testing.assert_allclose(np.asarray(fn(value)), expected, rtol=1e-5)
                    contestants[label] = lambda f=fn, v=value: f(v)
            best = race(contestants, repeat, batch)
            cells = "".join(f"{best[label] * 1e6:11,.0f}us" for label in labels)
            ratios = f" {best['eager'] / best['@jit.script']:8.1f}x"
            if others["jax"]:
                ratios += f" {best['jax'] / best['@jit.script']:6.1f}x"
            print(f"{name:8s} {n:9,d} {_trips(name, data):6d}{cells}{ratios}")
    print()
    backward_table(3 if args.quick else 10)
    print()
    print(scripted["newton"].explain(eager.ones(4)))


def _trips(name: str, data: np.ndarray) -> int:
    x = data.copy()
    trips = 0
    if name == "halve":
        while np.abs(x).max() >= EPS:
            x = x * np.float32(0.5)
            trips += 1
        return trips
    y = x.copy()
    while (np.abs(y * y - x) > np.float32(TOL) * x).any():
        y = np.float32(0.5) * (y + x / y)
        trips += 1
    return trips


if __name__ == "__main__":
    main()
