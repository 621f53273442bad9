"""A complex elementwise chain, eager vs @jit (fused C kernels) vs plain numpy.

    PYTHONPATH=$PWD python benchmarks/bench_complex.py [--n 1048576] [--clock cpu]

The chain, on complex64 (and on complex128 with --dtype complex128):
    y = exp(1j * z * w) * conj(z) + z / (w * w + 2) ; out = abs(y) + real(y)
Eager mode runs one numpy kernel per op with a temporary per step; @jit runs the whole
chain as one compiled C loop. With `--clock cpu` the figures are CPU seconds of this
process (steadier on a shared machine than wall time).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import eager
from jit import jit


def chain(z, w):
    """The benchmarked program, for eager tensors (and, jitted, for the fused kernel)."""
    y = eager.exp(1j * z * w) * eager.conj(z) + z / (w * w + 2.0)
    return eager.abs(y) + eager.real(y)


def chain_numpy(z, w):
    """The same program on numpy arrays."""
    y = np.exp(1j * z * w) * np.conj(z) + z / (w * w + 2.0)
    return np.abs(y) + np.real(y)


def median_time(fn, repeat: int, clock) -> float:
    """Median seconds per call of fn() after two warm-up calls."""
    fn()
    fn()
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def main() -> None:
    """Print ms per call for numpy, eager and @jit, and the speed-up of @jit over eager."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1 << 20, help="elements")
    parser.add_argument("--dtype", default="complex64", choices=("complex64", "complex128"))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--clock", default="wall", choices=("wall", "cpu"))
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    eager.set_num_threads(1)
    rng = np.random.default_rng(0)
    z_np = (rng.normal(size=args.n) + 1j * rng.normal(size=args.n)).astype(args.dtype)
    w_np = rng.normal(size=args.n).astype(np.float32 if args.dtype == "complex64"
                                           else np.float64)
    z, w = eager.tensor(z_np), eager.tensor(w_np)
    jitted = jit(chain)
    np.testing.assert_allclose(jitted(z, w).numpy(), chain(z, w).numpy(), rtol=1e-4, atol=1e-4)
    results = {
        "numpy": median_time(lambda: chain_numpy(z_np, w_np), args.repeat, clock),
        "eager": median_time(lambda: chain(z, w), args.repeat, clock),
        "@jit (fused C)": median_time(lambda: jitted(z, w), args.repeat, clock),
    }
    print(f"complex elementwise chain, {args.n} x {args.dtype}, 1 thread, {args.clock} clock")
    for name, seconds in results.items():
        print(f"  {name:16s} {seconds * 1e3:9.2f} ms")
    print(f"  @jit / eager speed-up: {results['eager'] / results['@jit (fused C)']:.2f}x")


if __name__ == "__main__":
    main()
