"""Training steps of real models, side by side: W5 (CNN on digits), W6 (tiny GPT) and
pytorch/examples' MNIST CNN, in eager-jit eager mode, under @jit, as hand-written numpy
(W5), and in torch eager / torch.compile / jax.jit when those are installed.

    PYTHONPATH=$PWD python benchmarks/bench_models.py                 # all, 1 thread
    PYTHONPATH=$PWD python benchmarks/bench_models.py --workloads w6 --steps 50
    PYTHONPATH=$PWD python benchmarks/bench_models.py --threads 2
    PYTHONPATH=$PWD python benchmarks/bench_models.py --clock cpu   # a shared machine

Every contestant starts from the same initial weights and trains on the same fixed
batch. Reported per contestant: the median time of one step over --steps steps (after
the first), wall-clock and CPU time of the process, the first step's time (for @jit,
torch.compile and jax.jit: trace and compile), and the loss after the last step, which
should agree across contestants to float32 precision. The contestants take turns: the
timed steps run in --rounds rounds, each contestant's share of a round in a shuffled
order, so the ratios between contestants hold when the machine's load drifts. Single-threaded by default: set before numpy loads, BLAS, torch and
the generated kernels all use --threads threads, and the process pins itself to the first
--threads of the cores it may run on (os.sched_setaffinity, where the platform has it), so
no contestant's extra threads (jax's XLA client starts some whatever its flags say) can
take a second core; --no-pin leaves the affinity alone.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time


def _threads_from_argv() -> str:
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


def _pin_to_cores(threads: int) -> None:
    """Restrict this process (and every thread it starts later) to `threads` of the cores
    it may run on now."""
    if not hasattr(os, "sched_setaffinity"):
        return
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, allowed[:max(1, threads)])


if "--no-pin" not in sys.argv:
    _pin_to_cores(int(_threads_from_argv()))
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _threads_from_argv()
# one core for jax too: XLA's cpu client otherwise spreads over every core
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import models_eager
import models_numpy
import models_other

WORKLOADS = {"w5": "W5 CNN on digits, batch 64, Adam",
             "w6": "W6 tiny GPT, 2 pre-LN blocks, batch 16 x 32, AdamW",
             "mnist": "MNIST CNN (pytorch/examples), batch 64, Adam"}


def contestants(name: str, skip: set[str]):
    """(label, builder) per contestant; a builder returns (step, convert) or None."""
    from jit import jit

    weights = models_eager.initial_weights(name)
    out = []
    if name == "w5":
        out.append(("numpy", lambda: (models_numpy.NumpyCNN(weights).step,
                                      lambda x, y: (x, y))))
    out += [("eager", lambda: models_eager.train_step(name)),
            ("@jit", lambda: models_eager.train_step(name, jit)),
            ("torch", lambda: models_other.torch_step(name, weights)),
            ("torch.compile", lambda: models_other.torch_step(name, weights, compiled=True)),
            ("jax.jit", lambda: models_other.jax_step(name, weights))]
    return [(label, build) for label, build in out if label not in skip]


def first_step(step, x, y) -> float:
    """Seconds of the first call (for @jit, torch.compile and jax.jit: trace and compile)."""
    start = time.perf_counter()
    step(x, y)
    return time.perf_counter() - start


def interleaved(runners: dict, steps: int, rounds: int, seed: int = 0) -> dict:
    """Per contestant: (wall seconds, CPU seconds) of every timed step, the contestants
    taking turns: `rounds` rounds, each running every contestant for `steps // rounds`
    steps in a shuffled order, so a change in the machine's load (another process, a
    frequency step) falls on every contestant alike instead of on whoever ran then.
    CPU time (this process, all its threads) is what a step costs when other processes
    share the cores: wall time then includes their turns."""
    order = list(runners)
    shuffle = random.Random(seed).shuffle
    times = {label: ([], []) for label in order}
    per_round = max(1, steps // rounds)
    for _ in range(rounds):
        shuffle(order)
        for label in order:
            step, x, y = runners[label]
            wall, cpu = times[label]
            for _ in range(per_round):
                start, start_cpu = time.perf_counter(), time.process_time()
                step(x, y)
                cpu.append(time.process_time() - start_cpu)
                wall.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", nargs="+", choices=tuple(WORKLOADS),
                        default=list(WORKLOADS))
    parser.add_argument("--steps", type=int, default=30,
                        help="timed steps after the first (MNIST: a fifth of them)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="contestants take turns in this many rounds of the steps")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the process to --threads cores")
    parser.add_argument("--skip", nargs="*", default=[], help="contestants to leave out")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="which median the table shows (cpu: on a shared machine)")
    args = parser.parse_args()

    import eager

    eager.set_num_threads(args.threads)
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    rows = []
    for name in args.workloads:
        x, y = models_eager.batch(name)
        steps = max(1, args.steps // 5) if name == "mnist" else args.steps
        print(f"{WORKLOADS[name]} ({steps} steps in {args.rounds} interleaved rounds, "
              f"{args.threads} thread(s))")
        runners, firsts = {}, {}
        for label, build in contestants(name, set(args.skip)):
            built = build()
            if built is None:
                print(f"  {label:<14} not installed: skipped")
                continue
            step, convert = built
            inputs = convert(x, y)
            firsts[label] = first_step(step, *inputs)
            runners[label] = (step, *inputs)
        times = interleaved(runners, steps, min(args.rounds, steps))
        results = {}
        for label, (step, *inputs) in runners.items():
            wall, cpu = (statistics.median(t) for t in times[label])
            loss = step(*inputs)
            results[label] = (cpu if args.clock == "cpu" else wall, firsts[label])
            print(f"  {label:<14} {wall * 1e3:9.2f} ms/step ({cpu * 1e3:8.2f} ms CPU)   "
                  f"first step {firsts[label] * 1e3:9.1f} ms   loss {loss:.6f}")
        rows.append((name, results))
    print()
    print(markdown_table(rows))


def markdown_table(rows) -> str:
    """Median ms per step (first step in seconds in parentheses) per workload and
    contestant."""
    labels = []
    for _, results in rows:
        labels += [label for label in results if label not in labels]
    lines = ["| workload | " + " | ".join(labels) + " |",
             "|---|" + "---|" * len(labels)]
    for name, results in rows:
        cells = [f"{results[label][0] * 1e3:.2f} ms ({results[label][1]:.2f} s)"
                 if label in results else "—" for label in labels]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
