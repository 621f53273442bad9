"""W7: data-dependent loops under eager, @jit, @jit.script, and jax / torch when installed.

    PYTHONPATH=$PWD python benchmarks/bench_script.py           # full run
    PYTHONPATH=$PWD python benchmarks/bench_script.py --quick   # fewer repetitions

Two loops whose trip count depends on the data, on float32 vectors of 1,000 and
1,000,000 elements (fastest of several calls, after a warm-up):
  halve   x = x * 0.5 until x.abs().max() < eps           (~40 trips)
  newton  y = 0.5 * (y + a / y) until |y*y - a| <= tol*a  (Newton's sqrt, ~10-25 trips)
@jit traces one trip count: each new count is a guard failure and a retrace, so it is
timed on the same input (its best case). @jit.script compiles the loop itself: one C
call. jax runs the same loop as `jax.lax.while_loop` under `jax.jit`; torch eagerly.
Target: @jit.script at least 20x faster than eager on 1,000 elements.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench_jit import best_time, optional  # the timing helpers all benchmarks share

import eager
import jit

EPS = 1e-3
TOL = 1e-6


def halve(x):
    while x.abs().max() >= EPS:
        x = x * 0.5
    return x


def newton(a):
    y = a
    while ((y * y - a).abs() > TOL * a).any():
        y = 0.5 * (y + a / y)
    return y


def jax_versions():
    """The two loops as `jax.lax.while_loop` under `jax.jit`, or None without jax."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    programs = {"halve": halve, "newton": newton}
    scripted = {name: jit.script(fn) for name, fn in programs.items()}
    jitted = {name: jit.jit(fn) for name, fn in programs.items()}
    others = {"jax lax.while_loop": jax_versions(), "torch eager": torch_versions()}
    for label, found in others.items():
        if found is None:
            print(f"({label}: not installed, skipped)")
    print(f"{'loop':8s} {'n':>9s} {'trips':>6s} {'eager':>10s} {'@jit':>10s} "
          f"{'@jit.script':>12s} {'speedup':>8s}  others")
    for n in (1_000, 1_000_000):
        repeat = (20 if n == 1_000 else 3) if args.quick else (200 if n == 1_000 else 10)
        for name, data in inputs(n).items():
            x = eager.asarray(data)
            expected = programs[name](x).numpy()
            np.testing.assert_array_equal(scripted[name](x).numpy(), expected)
            trips = _trips(name, data)
            t_eager = best_time(lambda f=programs[name], x=x: f(x), repeat)
            t_jit = best_time(lambda f=jitted[name], x=x: f(x), repeat)
            t_script = best_time(lambda f=scripted[name], x=x: f(x), repeat)
            extra = []
            for label, found in others.items():
                if found is not None:
                    fn, convert = found[name]
                    value = convert(data)
                    seconds = best_time(lambda f=fn, v=value: f(v), repeat)
                    extra.append(f"{label} {seconds * 1e6:,.0f} us")
            print(f"{name:8s} {n:9,d} {trips:6d} {t_eager * 1e6:8,.0f}us {t_jit * 1e6:8,.0f}us "
                  f"{t_script * 1e6:10,.0f}us {t_eager / t_script:7.1f}x  {'; '.join(extra)}")
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
