"""Inference latency of the digits MLP and CNN (`jit/demo.py`), and of a small
transformer encoder where `eager.nn` has one, at batch 1 and 64: eager, @jit, the
exported C (`model_cli --bench`) and onnxruntime on the exported ONNX file.

    PYTHONPATH=$PWD python benchmarks/bench_export.py              # 300 runs per case
    PYTHONPATH=$PWD python benchmarks/bench_export.py --runs 1000 --ort-threads 0

Every column is the median latency of one forward pass in microseconds, inputs already
in memory. The exported C runs single-threaded; onnxruntime gets `--ort-threads` intra-op
threads (default 1, for a like-for-like comparison; 0 lets it choose). The issue's target:
exported C faster than onnxruntime at batch 1 and within 1.5x of it at batch 64.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np

import eager
import jit
from eager import nn
from jit.demo import build_model

INPUT_SHAPES = {"mlp": (64,), "cnn": (1, 8, 8), "transformer": (16, 64)}


def build(kind: str):
    """The model `kind` (in eval mode): the demo's MLP or CNN, or a 2-layer encoder
    (d_model 64, 4 heads, GELU feed-forward of 128) over sequences of 16."""
    if kind != "transformer":
        return build_model(kind).to("cpu").eval()
    layer = nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128,
                                       activation="gelu", batch_first=True)
    return nn.TransformerEncoder(layer, num_layers=2).to("cpu").eval()


def kinds() -> list[str]:
    """The models to measure: the transformer only where eager.nn provides one."""
    return ["mlp", "cnn"] + (["transformer"] if hasattr(nn, "TransformerEncoderLayer") else [])


def median_us(fn, runs: int) -> float:
    """Median wall time of `fn()` over `runs` calls (after 10 warm-up calls)."""
    for _ in range(10):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def exported_c_us(model, x, runs: int, workdir: str) -> float:
    """Build the export and read `model_cli --bench`'s median."""
    jit.export(model, (x,), workdir)
    subprocess.run(["make", "-s"], cwd=workdir, check=True)
    np.save(os.path.join(workdir, "x.npy"), x.numpy())
    done = subprocess.run(["./model_cli", "--bench", str(runs), "weights.bin", "x.npy",
                           "y.npy"], cwd=workdir, check=True, capture_output=True, text=True)
    return float(done.stdout.split()[2])


def onnxruntime_us(model, x, runs: int, workdir: str, threads: int) -> float | None:
    """onnxruntime's median on the exported ONNX file, or None when it is not installed."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    path = jit.export_onnx(model, (x,), os.path.join(workdir, "model.onnx"))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: x.numpy()}
    return median_us(lambda: session.run(None, feed), runs)


def bench(kind: str, batch: int, runs: int, threads: int) -> dict[str, float | None]:
    """Latencies (us) of one model at one batch size."""
    eager.manual_seed(0)
    model = build(kind)
    x = eager.randn(batch, *INPUT_SHAPES[kind], device="cpu")
    compiled = jit.jit(lambda t: model(t))
    with eager.no_grad():
        row = {"eager": median_us(lambda: model(x), runs),
               "@jit": median_us(lambda: compiled(x), runs)}
    with tempfile.TemporaryDirectory() as workdir:
        row["exported C"] = exported_c_us(model, x, runs, workdir)
        row["onnxruntime"] = onnxruntime_us(model, x, runs, workdir, threads)
    return row


def main(argv=None) -> None:
    """Run every case and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--ort-threads", type=int, default=1)
    args = parser.parse_args(argv)
    columns = ["eager", "@jit", "exported C", "onnxruntime"]
    print(f"| model | batch | {' | '.join(columns)} | C / onnxruntime |")
    print("|---|---:|" + "---:|" * (len(columns) + 1))
    for kind in kinds():
        for batch in (1, 64):
            row = bench(kind, batch, args.runs, args.ort_threads)
            cells = [f"{row[c]:.1f}" if row[c] is not None else "n/a" for c in columns]
            ratio = (f"{row['exported C'] / row['onnxruntime']:.2f}x"
                     if row["onnxruntime"] else "n/a")
            print(f"| {kind} | {batch} | {' | '.join(cells)} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
