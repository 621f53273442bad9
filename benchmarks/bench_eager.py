"""Per-op dispatch cost of eager on a small float32 array, vs raw numpy and torch (if
installed).

    python benchmarks/bench_eager.py            # default: 16 elements, 15 repeats
    python benchmarks/bench_eager.py --size 1024 --repeats 31

Each case is timed with `timeit` in batches of `--number` calls, numpy, eager and torch
back to back in every repeat; it prints the median time per op (microseconds) and the
median of the per-repeat ratios, which a busy machine disturbs far less than the times.
The issue's targets: eager `a * b` at most 3x numpy and faster than torch; with
requires_grad=True inputs at most 1.5x the time without.
"""
from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np

import eager


def interleaved_us(fns, number: int, repeats: int) -> list[list[float]]:
    """Per repeat, the mean time of one call of each fn in microseconds. The fns of one
    case run back to back in every repeat, so a load spike hits all of them alike."""
    rounds = []
    for _ in range(repeats):
        rounds.append([timeit.timeit(fn, number=number) / number * 1e6 for fn in fns])
    return rounds


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


def grad_pair(size: int):
    """`a * b` without and with requires_grad=True inputs, on the same values."""
    data = np.random.default_rng(1).standard_normal((2, size)).astype(np.float32)
    a, b = (eager.tensor(d, device="cpu") for d in data)
    ga, gb = (eager.tensor(d, device="cpu", requires_grad=True) for d in data)
    return (lambda: a * b), (lambda: ga * gb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--number", type=int, default=10000)
    args = parser.parse_args()
    print(f"float32[{args.size}] on cpu; medians over {args.repeats} repeats of {args.number} "
          "calls, microseconds per op (ratios: median of the per-repeat ratios)")
    print(f"{'case':24} {'numpy':>7} {'eager':>7} {'torch':>7} {'eager/np':>9} "
          f"{'eager/torch':>12}")
    for name, np_fn, eager_fn, torch_fn in cases(args.size):
        fns = [np_fn, eager_fn] + ([torch_fn] if torch_fn else [])
        rounds = interleaved_us(fns, args.number, args.repeats)
        med = [statistics.median(r[i] for r in rounds) for i in range(len(fns))]
        vs_np = statistics.median(r[1] / r[0] for r in rounds)
        torch_cols = (f"{med[2]:7.2f} {statistics.median(r[1] / r[2] for r in rounds):12.2f}"
                      if torch_fn else f"{'-':>7} {'-':>12}")
        print(f"{name:24} {med[0]:7.2f} {med[1]:7.2f} {torch_cols[:7]} {vs_np:9.2f} "
              f"{torch_cols[8:]}")
    plain, grad = grad_pair(args.size)
    rounds = interleaved_us([plain, grad], args.number, args.repeats)
    overhead = statistics.median(r[1] / r[0] for r in rounds)
    print(f"requires_grad overhead of eager a * b: {overhead:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
