"""Data-parallel training speed and all-reduce bandwidth, measured on 1 and 2 MPI ranks.

    PYTHONPATH=$PWD python benchmarks/bench_distributed.py            # the whole report
    PYTHONPATH=$PWD python benchmarks/bench_distributed.py --steps 30 --max-mb 16
    PYTHONPATH=$PWD python benchmarks/bench_distributed.py --bandwidth-only

The script starts itself under `mpiexec` (1 and 2 ranks) and rank 0 reports JSON:

- steps/s of a digits training step (MLP and CNN, global batch 64 split across the
  ranks, Adam), eager and jitted, plain model on 1 rank, DistributedDataParallel on 2;
- all-reduce time of float32 messages from 1 KB to 64 MB through `eager.distributed`
  (the functional form, the in-place torch form and DDP's bucket all-reduce) against
  raw `mpi4py` `Allreduce` on numpy buffers, the floor (out of place for the
  functional form, in place for the in-place ones; target: within 10% for 1 MB and
  more), as medians of paired, interleaved calls;
- scaling to 8 and 64 ranks on paper: a ring all-reduce costs
  2(n-1)·a + 2(n-1)/n·bytes/b, with the latency a and bandwidth b fitted to the 2-rank
  measurements, added to the compute time per step measured on 1 rank.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time

import numpy as np

SIZES = [1 << k for k in range(10, 27, 2)]       # 1 KB ... 64 MB


def _time(fn, repeats: int) -> float:
    """Fastest seconds of fn() over repeats (after one warm-up call): on a machine shared
    with other work the minimum is the estimate of what the code itself costs."""
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return min(samples)


def _train_step(model, opt, F):
    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.detach()
    return step


def worker_steps(steps: int) -> dict:
    import eager
    import eager.distributed as dist
    import eager.nn.functional as F
    from eager import optim
    from eager.nn.parallel import DistributedDataParallel
    from jit import jit
    from jit.demo import build_model, split_digits

    r, n = dist.rank(), dist.world_size()
    out = {}
    for kind in ("mlp", "cnn"):
        x_train, y_train, _, _ = split_digits(0, kind)
        per_rank = 64 // n
        xb = eager.tensor(x_train[r * per_rank:(r + 1) * per_rank].astype(np.float32))
        yb = eager.tensor(y_train[r * per_rank:(r + 1) * per_rank])
        for mode in ("eager", "jit"):
            eager.manual_seed(0)
            model = build_model(kind)
            step = _train_step(DistributedDataParallel(model) if n > 1 else model,
                               optim.Adam(model.parameters(), lr=1e-3), F)
            run = jit(step) if mode == "jit" else step
            for _ in range(3):
                run(xb, yb)
            dist.barrier()
            # the fastest of a few chunks of steps, so a neighbour's burst on a shared
            # machine does not count
            chunks = []
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(max(1, steps // 5)):
                    run(xb, yb).item()
                chunks.append((time.perf_counter() - start) / max(1, steps // 5))
            out[f"{kind} {mode}"] = 1 / min(chunks)
        out[f"{kind} grad bytes"] = sum(p._data.nbytes for p in model.parameters())
    return out


def worker_bandwidth(max_mb: float, repeats: int) -> dict:
    from mpi4py import MPI

    import eager
    import eager.distributed as dist
    from eager.distributed import functional as fc
    from eager.distributed.state import _host

    comm, group, out = MPI.COMM_WORLD, _host(), {}
    bucket_group = group.unchecked()
    for nbytes in (s for s in SIZES if s <= max_mb * 2**20):
        a = np.random.default_rng(0).standard_normal(nbytes // 4).astype(np.float32)
        b, bucket = np.empty_like(a), a.copy()
        t, t_in_place = eager.tensor(a), eager.tensor(a)
        # The in-place forms sum into the same memory over and over: values overflow
        # to inf, which adds as fast as any other number.
        out[nbytes] = _interleaved({
            "raw": lambda a=a, b=b: comm.Allreduce(a, b),
            "raw in place": lambda b=b: comm.Allreduce(MPI.IN_PLACE, b),
            "functional": lambda t=t: fc.all_reduce(t),
            "in place": lambda t=t_in_place: dist.all_reduce(t),
            "ddp bucket": lambda x=bucket: bucket_group.all_reduce_async(
                x, "sum", in_place=True).wait(),
            # the floor against itself: how far apart two identical contestants land
            "raw again": lambda a=a, b=b: comm.Allreduce(a, b),
        }, _rounds(nbytes, repeats))
    return out


def _rounds(nbytes: int, repeats: int) -> int:
    """Rounds for one message size: about repeats * 64 MB of traffic, at least repeats."""
    return max(repeats, repeats * (64 << 20) // (64 * nbytes))


def _interleaved(fns: dict, rounds: int) -> dict:
    """Per contestant: the median seconds of one call, and the median and quartiles over
    rounds of its time divided by "raw"'s (or "raw in place"'s, for in-place forms) in
    the same round. Every round calls each contestant once, so a neighbour's load spike
    hits a pair alike instead of one contestant, in an order shuffled anew each round
    (the same on every rank, from a fixed seed): what runs just before a call changes
    its time (a blocking MPI_Allreduce right after a non-blocking collective can take
    10x longer at 1 MB here), and a fixed or rotated order would pin each contestant to
    one predecessor."""
    names = list(fns)
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in names}
    order = np.random.default_rng(0)
    for _ in range(rounds):
        for name in order.permutation(names):
            start = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - start)
    out = {}
    for name in names:
        floor = "raw in place" if name in ("in place", "ddp bucket") else "raw"
        ratios = [x / y for x, y in zip(times[name], times[floor])]
        out[name] = statistics.median(times[name])
        if name != floor:
            q1, median, q3 = statistics.quantiles(ratios, n=4)
            out[f"{name} ratio"] = (q1, median, q3)
    return out


def worker(args) -> None:
    import eager.distributed as dist

    os.environ.setdefault("EAGER_DEVICE", "cpu")
    dist.init("mpi")
    result = {"world": dist.world_size()}
    if not args.bandwidth_only:
        result["steps"] = worker_steps(args.steps)
    if dist.world_size() > 1:
        result["bandwidth"] = worker_bandwidth(args.max_mb, args.repeats)
    if dist.rank() == 0:
        print("RESULT " + json.dumps(result), flush=True)


def launch(n: int, args) -> dict:
    from eager.distributed.launch import clean_environment, mpiexec_command

    env = clean_environment()
    env["EAGER_DEVICE"] = "cpu"
    cmd = mpiexec_command(n, [os.path.abspath(__file__), "--worker", "--steps",
                              str(args.steps), "--max-mb", str(args.max_mb), "--repeats",
                              str(args.repeats),
                              *(["--bandwidth-only"] if args.bandwidth_only else [])])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False,
                          timeout=1800)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise SystemExit(f"bench worker on {n} ranks failed:\n{proc.stdout}\n{proc.stderr}")


def ring_model(bandwidth: dict) -> tuple[float, float]:
    """(latency a in s, bandwidth b in bytes/s) of t = 2a + bytes/b at 2 ranks: a from the
    smallest message measured raw, b the median over the messages of 1 MB and more (one
    size hit by a neighbour's load spike does not set it)."""
    sizes = sorted(int(s) for s in bandwidth)
    a = bandwidth[str(sizes[0])]["raw"] / 2
    large = [s for s in sizes if s >= 1 << 20] or sizes[-1:]
    b = statistics.median(s / max(bandwidth[str(s)]["raw"] - 2 * a, 1e-9) for s in large)
    return a, b


def ring_seconds(n: int, nbytes: float, a: float, b: float) -> float:
    """Ring all-reduce time on n ranks."""
    return 2 * (n - 1) * a + 2 * (n - 1) / n * nbytes / b


def bandwidth_table(bandwidth: dict) -> str:
    """The all-reduce measurements as a markdown table."""
    lines = [("all-reduce of float32, 2 ranks: median ms of one call, and the median "
              "[quartiles] over interleaved rounds of its time / raw mpi4py's in the "
              "same round"),
             ("functional: eager.distributed.functional.all_reduce (a new tensor) against "
              "raw Allreduce(a, b); in place: dist.all_reduce(t) and DDP's bucket "
              "all-reduce against raw Allreduce(IN_PLACE, b); the checked forms include "
              "the cross-rank shape check; raw again / raw is the noise floor"),
             "", ("| size | raw | raw in place | functional | ratio | in place | ratio "
                  "| ddp bucket | ratio | raw again / raw | raw GB/s |"),
             "|-----:|-----:|-----:|-----:|-----:|-----:|-----:|-----:|-----:|-----:|-----:|"]

    def ratio(q):
        return f"{q[1]:.2f} [{q[0]:.2f}-{q[2]:.2f}]"

    for size, t in bandwidth.items():
        size = int(size)
        label = f"{size >> 20} MB" if size >= 1 << 20 else f"{size >> 10} KB"
        lines.append(f"| {label} | {t['raw'] * 1e3:.3f} | {t['raw in place'] * 1e3:.3f} | "
                     f"{t['functional'] * 1e3:.3f} | {ratio(t['functional ratio'])} | "
                     f"{t['in place'] * 1e3:.3f} | {ratio(t['in place ratio'])} | "
                     f"{t['ddp bucket'] * 1e3:.3f} | {ratio(t['ddp bucket ratio'])} | "
                     f"{ratio(t['raw again ratio'])} | {size / t['raw'] / 1e9:.2f} |")
    return "\n".join(lines)


def report(one: dict, two: dict) -> str:
    lines = ["steps/s (global batch 64; 2 ranks: DistributedDataParallel, 32 per rank)",
             "", "| model | mode  | 1 rank | 2 ranks | 2-rank speed-up |",
             "|-------|-------|-------:|--------:|----------------:|"]
    for kind in ("mlp", "cnn"):
        for mode in ("eager", "jit"):
            s1, s2 = one["steps"][f"{kind} {mode}"], two["steps"][f"{kind} {mode}"]
            lines.append(f"| {kind} | {mode} | {s1:.0f} | {s2:.0f} | {s2 / s1:.2f}x |")
    lines += ["", bandwidth_table(two["bandwidth"])]
    a, b = ring_model(two["bandwidth"])
    lines += ["", (f"ring model fitted at 2 ranks: latency a = {a * 1e6:.1f} us, bandwidth "
                   f"b = {b / 1e9:.2f} GB/s"), "",
              ("on paper (weak scaling: 64 examples per rank; compute = 1-rank step time, "
               "plus one all-reduce of all gradients):"), "",
              ("| model | mode | ranks | step ms | comm ms | steps/s | examples/s | "
               "efficiency |"), "|---|---|---:|---:|---:|---:|---:|---:|"]
    for kind in ("mlp", "cnn"):
        grad_bytes = one["steps"][f"{kind} grad bytes"]
        for mode in ("eager", "jit"):
            compute = 1 / one["steps"][f"{kind} {mode}"]
            for n in (2, 8, 64):
                comm = ring_seconds(n, grad_bytes, a, b)
                step = compute + comm
                lines.append(f"| {kind} | {mode} | {n} | {step * 1e3:.2f} | {comm * 1e3:.3f} "
                             f"| {1 / step:.0f} | {64 * n / step:.0f} | "
                             f"{compute / step:.0%} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--max-mb", type=float, default=64)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--bandwidth-only", action="store_true",
                        help="measure the all-reduce on 2 ranks only, no training steps")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return
    if args.bandwidth_only:
        print(bandwidth_table(launch(2, args)["bandwidth"]))
        return
    one, two = launch(1, args), launch(2, args)
    print(report(one, two))


if __name__ == "__main__":
    main()
