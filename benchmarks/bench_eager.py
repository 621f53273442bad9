"""Per-op dispatch cost of eager on a small float32 array, vs raw numpy and torch (if
installed).

    python benchmarks/bench_eager.py            # default: 16 elements, 7 repeats
    python benchmarks/bench_eager.py --size 1024 --repeats 11

Each case is timed with `timeit` in batches; the median over repeats (microseconds per
op) is printed with its ratio to the numpy baseline of the same operation. The issue's
targets: eager `a * b` at most 3x numpy and faster than torch; with requires_grad=True
inputs at most 1.5x the time without.
"""
from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np

import eager


def median_us(stmt, number: int, repeats: int) -> float:
    """Median over `repeats` of the mean time of one call of `stmt`, in microseconds."""
    times = timeit.repeat(stmt, number=number, repeat=repeats)
    return statistics.median(times) / number * 1e6


def cases(size: int):
    """(name, numpy callable, eager callable, torch callable or None) for each case."""
    rng = np.random.default_rng(0)
    na = rng.standard_normal(size).astype(np.float32)
    nb = rng.standard_normal(size).astype(np.float32)
    ea, eb = eager.tensor(na, device="cpu"), eager.tensor(nb, device="cpu")
    ga = eager.tensor(na, device="cpu", requires_grad=True)
    gb = eager.tensor(nb, device="cpu", requires_grad=True)
    try:
        import torch

        torch.set_num_threads(1)
        ta, tb = torch.from_numpy(na), torch.from_numpy(nb)
        tga, tgb = ta.clone().requires_grad_(), tb.clone().requires_grad_()
    except ImportError:
        torch = None
    rows = [
        ("a * b", lambda: na * nb, lambda: ea * eb, torch and (lambda: ta * tb)),
        ("a * b (requires_grad)", lambda: na * nb, lambda: ga * gb,
         torch and (lambda: tga * tgb)),
        ("a * 2.0", lambda: na * 2.0, lambda: ea * 2.0, torch and (lambda: ta * 2.0)),
        ("a + b", lambda: na + nb, lambda: ea + eb, torch and (lambda: ta + tb)),
        ("tanh(a)", lambda: np.tanh(na), lambda: ea.tanh(), torch and (lambda: ta.tanh())),
        ("a.sum()", lambda: na.sum(), lambda: ea.sum(), torch and (lambda: ta.sum())),
        ("a[1:5]", lambda: na[1:5], lambda: ea[1:5], torch and (lambda: ta[1:5])),
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    print(f"float32[{args.size}] on cpu; median of {args.repeats} x {args.number} calls, "
          "microseconds per op")
    print(f"{'case':24} {'numpy':>8} {'eager':>8} {'torch':>8} {'eager/np':>9} "
          f"{'eager/torch':>12}")
    results = {}
    for name, np_fn, eager_fn, torch_fn in cases(args.size):
        t_np = median_us(np_fn, args.number, args.repeats)
        t_eager = median_us(eager_fn, args.number, args.repeats)
        t_torch = median_us(torch_fn, args.number, args.repeats) if torch_fn else None
        results[name] = t_eager
        torch_cols = (f"{t_torch:8.2f} {t_eager / t_torch:12.2f}" if t_torch
                      else f"{'-':>8} {'-':>12}")
        print(f"{name:24} {t_np:8.2f} {t_eager:8.2f} {torch_cols[:8]} {t_eager / t_np:9.2f} "
              f"{torch_cols[9:]}")
    grad_ratio = results["a * b (requires_grad)"] / results["a * b"]
    print(f"requires_grad overhead: {grad_ratio:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
