"""The main demo: train a digits classifier eagerly, then with the same step under @jit.

    python -m jit.demo                    # MLP 64-128-10, Adam, 20 epochs
    python -m jit.demo --model cnn        # Conv2d + max_pool2d + Linear
    python -m jit.demo --epochs 5 --device cpu --seed 1 --out out
    mpirun -n 2 python -m jit.demo --distributed   # data-parallel on two processes

Data: the 1,797 8x8 handwritten digits shipped in `jit/data/` (UCI, CC BY 4.0), split
80/20 into train and test with the seed. Each phase builds the same model from the same
seed and sees the batches in the same order, so their loss curves should coincide; the
jit phase differs only in that `train_step` is wrapped by `jit`. Prints time per step,
test accuracy and the speed-up, writes a PNG of the loss curves, and saves and reloads
the eager model through `eager.save` / `eager.load`. With --distributed, each rank
trains on its share of every global batch under DistributedDataParallel; rank 0 prints,
plots and saves.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

import eager
import eager.nn.functional as F
from eager import nn, optim
from eager.distributed import init, rank, world_size
from eager.distributed.functional import all_reduce
from eager.nn.parallel import DistributedDataParallel
from jit.data import load_digits

MODELS = ("mlp", "cnn")


@dataclass
class PhaseResult:
    """What one training run measured."""

    name: str
    losses: list[float] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)
    accuracy: float = 0.0

    @property
    def first_step(self) -> float:
        """Seconds of the first call (for jit: trace + compile + run)."""
        return self.step_seconds[0]

    @property
    def per_step(self) -> float:
        """Median seconds per step after the first (steady state)."""
        return statistics.median(self.step_seconds[1:] or self.step_seconds)

    @property
    def total(self) -> float:
        """Seconds spent in training steps, all of them."""
        return sum(self.step_seconds)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options of the demo.

    >>> parse_args(["--model", "cnn", "--epochs", "3"]).epochs
    3
    """
    parser = argparse.ArgumentParser(prog="python -m jit.demo", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=MODELS, default="mlp",
                        help="mlp: 64-128-10 perceptron; cnn: two conv+pool blocks")
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=None,
                        help="Adam learning rate (default 1e-2 for mlp, 5e-3 for cnn)")
    parser.add_argument("--device", default=None,
                        help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out", help="directory for the plot and checkpoint")
    parser.add_argument("--no-jit", action="store_true", help="run only the eager phase")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--distributed", action="store_true",
                        help="data-parallel over the ranks mpirun started; each rank takes "
                             "batch-size / ranks examples of every batch")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1:
        parser.error("--epochs and --batch-size must be positive")
    args.rank, args.world = 0, 1  # this process's share of each batch (see --distributed)
    return args


def build_model(kind: str) -> nn.Module:
    """A freshly initialised model (weights from the default generator).

    >>> build_model("mlp")
    Sequential(
      (0): Linear(in_features=64, out_features=128, bias=True)
      (1): ReLU()
      (2): Linear(in_features=128, out_features=10, bias=True)
    )
    """
    if kind == "mlp":
        return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 2 x 2
        nn.Flatten(), nn.Linear(128, 10))


def make_train_step(model: nn.Module, opt: optim.Optimizer) -> Callable:
    """One training step over a batch: forward, loss, backward, update, clear gradients.

    This is the function the jit phase wraps, unchanged. It returns the loss detached:
    it is for logging, and a jitted replay gives results without autograd history.
    """
    def train_step(x: eager.Tensor, y: eager.Tensor) -> eager.Tensor:
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.detach()
    return train_step


def split_digits(seed: int, kind: str, test_fraction: float = 0.2):
    """(x_train, y_train, x_test, y_test) as numpy arrays, pixels scaled to [0, 1].

    >>> [a.shape for a in split_digits(0, "cnn")]
    [(1438, 1, 8, 8), (1438,), (359, 1, 8, 8), (359,)]
    """
    images, labels = load_digits()
    images = images / 16.0
    if kind == "cnn":
        images = images.reshape(-1, 1, 8, 8)
    order = np.random.default_rng(seed).permutation(len(labels))
    n_test = round(len(labels) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return images[train], labels[train], images[test], labels[test]


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, device: str) -> float:
    """Fraction of correctly classified examples (in eval mode, without gradients)."""
    model.eval()
    with eager.no_grad():
        logits = model(eager.tensor(x, device=device))
        correct = (logits.argmax(dim=1) == eager.tensor(y, device=device)).sum().item()
    model.train()
    return correct / len(y)


def train(name: str, step: Callable, model: nn.Module, data, args, device: str,
          progress: Callable | None) -> PhaseResult:
    """Run `step` over shuffled fixed-size batches for args.epochs epochs; time each call.

    Every batch has the same shape (the remainder is dropped), so a jitted step compiles
    once. The shuffling is seeded, so every phase sees the same batches.
    """
    x_train, y_train, x_test, y_test = data
    rng = np.random.default_rng(args.seed + 1)
    result = PhaseResult(name)
    n_batches = len(y_train) // args.batch_size
    epochs = range(args.epochs)
    bar = progress(epochs, desc=f"{name:>5}", unit="epoch", leave=True) if progress else epochs
    for _ in bar:
        order = rng.permutation(len(y_train))
        for b in range(n_batches):
            idx = order[b * args.batch_size:(b + 1) * args.batch_size]
            idx = idx[args.rank::args.world]
            xb = eager.tensor(x_train[idx], device=device)
            yb = eager.tensor(y_train[idx], device=device)
            start = time.perf_counter()
            loss = step(xb, yb)
            value = loss.item() if args.world == 1 else all_reduce(loss, "mean").item()
            result.step_seconds.append(time.perf_counter() - start)
            result.losses.append(value)
        if progress:
            bar.set_postfix(loss=f"{result.losses[-1]:.4f}")
    result.accuracy = accuracy(model, x_test, y_test, device)
    return result


def find_jit():
    """The `jit` decorator if the jit package provides it, else (None, why not)."""
    try:
        from jit import jit
    except ImportError:
        return None, "jit: not available yet (the jit package does not provide `jit`)"
    except Exception as exc:  # noqa: BLE001  (a broken jit must not stop the eager half)
        return None, f"jit: failed to import ({type(exc).__name__}: {exc})"
    return jit, ""


def run_phase(name: str, wrap: Callable[[Callable], Callable], args, device: str, data,
              progress) -> tuple[PhaseResult, nn.Module, optim.Optimizer]:
    """Build model and optimizer from the seed, wrap the training step with `wrap`
    (identity for eager, `jit` for jit) and train."""
    eager.manual_seed(args.seed)
    model = build_model(args.model).to(device)
    lr = args.lr if args.lr is not None else (1e-2 if args.model == "mlp" else 5e-3)
    opt = optim.Adam(model.parameters(), lr=lr)
    replicas = DistributedDataParallel(model) if args.distributed else model
    step = wrap(make_train_step(replicas, opt))
    return train(name, step, model, data, args, device, progress), model, opt


def check_checkpoint(model: nn.Module, opt: optim.Optimizer, args, device: str, data,
                     out_dir: str) -> tuple[str, float]:
    """Save model and optimizer state, load it into a fresh model, return (path, its
    test accuracy): the reloaded model must score exactly as the trained one."""
    path = os.path.join(out_dir, f"digits_{args.model}.eager")
    eager.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                "args": vars(args)}, path)
    restored = build_model(args.model).to(device)
    restored.load_state_dict(eager.load(path, device=device)["model"])
    return path, accuracy(restored, data[2], data[3], device)


def plot(results: list[PhaseResult], path: str, title: str) -> str | None:
    """Loss per step of each phase, with a per-epoch running mean; None without
    matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for r, style in zip(results, ("-", "--")):
        steps = np.arange(1, len(r.losses) + 1)
        window = max(1, min(20, len(r.losses)))
        smooth = np.convolve(r.losses, np.ones(window) / window, mode="valid")
        (line,) = ax.plot(steps[window - 1:], smooth, style, label=f"{r.name} (test acc "
                          f"{r.accuracy:.1%}, {r.per_step * 1e3:.2f} ms/step)")
        ax.plot(steps, r.losses, style, color=line.get_color(), alpha=0.25)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def summary_table(results: list[PhaseResult]) -> str:
    """The closing table: one row per phase, speed-up relative to eager.

    >>> r = PhaseResult("eager", losses=[0.5], step_seconds=[0.002, 0.001], accuracy=0.97)
    >>> print(summary_table([r]))
     phase | first step | time/step | train total | test acc | final loss | speed-up
    -------+------------+-----------+-------------+----------+------------+----------
     eager |     2.0 ms |  1.000 ms |      0.00 s |   97.00% |     0.5000 |    1.00x
    """
    header = ("phase", "first step", "time/step", "train total", "test acc", "final loss",
              "speed-up")
    base = results[0].per_step
    rows = [header] + [(r.name, f"{r.first_step * 1e3:.1f} ms", f"{r.per_step * 1e3:.3f} ms",
                        f"{r.total:.2f} s", f"{r.accuracy:.2%}", f"{r.losses[-1]:.4f}",
                        f"{base / r.per_step:.2f}x") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    line = "+".join("-" * (w + 2) for w in widths)
    fmt = [" " + " | ".join(cell.rjust(w) if i else cell.ljust(w)
                      for i, (cell, w) in enumerate(zip(row, widths))) for row in rows]
    return "\n".join([fmt[0], line] + fmt[1:])


def main(argv: Sequence[str] | None = None) -> dict:
    """Run the demo; returns {"eager": PhaseResult, "jit": PhaseResult | None,
    "plot": path | None, "checkpoint": path, "restored_accuracy": float}.

    --device becomes the default device while the demo runs and is restored after.
    """
    args = parse_args(argv)
    if args.distributed:
        init()
        args.rank, args.world = rank(), world_size()
        if args.batch_size % args.world:
            raise SystemExit(f"--batch-size {args.batch_size} must be divisible by the "
                             f"{args.world} ranks")
    previous_device = eager.get_default_device()
    if args.device is not None:
        eager.set_default_device(args.device)
    try:
        if args.rank == 0:
            return run_demo(args, eager.get_default_device())
        args.quiet = True
        with contextlib.redirect_stdout(io.StringIO()):
            return run_demo(args, eager.get_default_device())
    finally:
        eager.set_default_device(previous_device)


def run_demo(args: argparse.Namespace, device: str) -> dict:
    """Both phases, the checkpoint round trip, the plot and the table (see `main`)."""
    progress = None
    if not args.quiet:
        try:
            from tqdm import tqdm as progress
        except ImportError:
            print("(install tqdm for progress bars: pip install -e '.[demo]')")
    os.makedirs(args.out, exist_ok=True)
    data = split_digits(args.seed, args.model)
    print(f"digits: {len(data[1])} train / {len(data[3])} test images, model {args.model}, "
          f"device {device}, {args.epochs} epochs of {len(data[1]) // args.batch_size} "
          f"steps (batch {args.batch_size}), seed {args.seed}"
          + (f", data-parallel over {args.world} ranks" if args.distributed else ""))

    eager_result, model, opt = run_phase("eager", lambda f: f, args, device, data, progress)
    print(f"eager: {eager_result.per_step * 1e3:.3f} ms/step, test accuracy "
          f"{eager_result.accuracy:.2%}")
    checkpoint, restored_accuracy = (check_checkpoint(model, opt, args, device, data, args.out)
                                     if args.rank == 0 else (None, eager_result.accuracy))
    print(f"checkpoint: {checkpoint} (reloaded model: test accuracy {restored_accuracy:.2%})")

    results, jit_result = [eager_result], None
    jit, why_not = (None, "jit: skipped (--no-jit)") if args.no_jit else find_jit()
    if jit is None:
        print(why_not)
    else:
        jit_result, _, _ = run_phase("jit", jit, args, device, data, progress)
        results.append(jit_result)
        gap = max(abs(a - b) for a, b in zip(eager_result.losses, jit_result.losses))
        speedup = eager_result.per_step / jit_result.per_step
        print(f"jit: {jit_result.per_step * 1e3:.3f} ms/step (first step, with tracing and "
              f"compiling, {jit_result.first_step:.2f} s), test accuracy "
              f"{jit_result.accuracy:.2%}, speed-up {speedup:.2f}x, "
              f"largest loss difference from eager {gap:.2e}")

    ranks = f", {args.world} ranks" if args.distributed else ""
    plot_path = plot(results, os.path.join(args.out, f"loss_curves_{args.model}.png"),
                     f"digits, {args.model}, {device}{ranks}") if args.rank == 0 else None
    print()
    print(summary_table(results))
    print()
    print(f"loss curves: {plot_path}" if plot_path else
          "loss curves: not drawn (install matplotlib: pip install -e '.[demo]')")
    return {"eager": eager_result, "jit": jit_result, "plot": plot_path,
            "checkpoint": checkpoint, "restored_accuracy": restored_accuracy}


if __name__ == "__main__":
    main(sys.argv[1:])
