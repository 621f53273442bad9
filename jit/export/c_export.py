"""`export(fn_or_module, example_args, out_dir)`: the model as standalone C.

Writes into `out_dir`: `model.h`, `model.c`, `model_cli.c`, `Makefile`, `weights.bin`
and `model.json` (what `load_exported` reads: input/output dtypes and shapes). `make`
there builds `libmodel.so` and `model_cli` with only a C compiler and libm.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from jit.export import weights
from jit.export.c_model import input_names, render_header, render_source, runtime_file
from jit.export.makefile import makefile
from jit.export.prepare import inference_graph
from jit.export.program import plan_program
from kernels.codegen.compiler import FLAGS
from tracer.graph import Graph

BUILD_FLAGS = " ".join(f for f in FLAGS if f not in ("-shared", "-fPIC"))


def export(fn_or_module: Callable, example_args: Sequence[Any] | Any, out_dir: str) -> str:
    """Write the C sources, Makefile and weights serving `fn_or_module` at the shapes and
    dtypes of `example_args`; returns `out_dir`. Build with `make -C out_dir`.

    Tensors the function reads from modules or closures are frozen at their current values
    into `weights.bin`. Raises `jit.ExportError` for a graph that needs guards, write-backs
    or random ops, or an op without a C loop, naming the node and the source line.

    >>> import eager, tempfile, os
    >>> from eager import nn
    >>> d = export(nn.Linear(3, 2), (eager.ones(1, 3),), tempfile.mkdtemp())
    >>> sorted(os.listdir(d))
    ['Makefile', 'model.c', 'model.h', 'model.json', 'model_cli.c', 'weights.bin']
    """
    graph = inference_graph(fn_or_module, example_args)
    program = plan_program(graph)
    title = getattr(fn_or_module, "__qualname__", type(fn_or_module).__name__)
    os.makedirs(out_dir, exist_ok=True)
    files = {
        "model.h": render_header(graph, title),
        "model.c": render_source(graph, program),
        "model_cli.c": runtime_file("model_cli.c"),
        "Makefile": makefile(BUILD_FLAGS),
        "model.json": json.dumps(manifest(graph), indent=1) + "\n",
    }
    for name, text in files.items():
        _write_text(os.path.join(out_dir, name), text)
    weights.write(os.path.join(out_dir, "weights.bin"),
                  [np.asarray(v.data) for v in graph.consts])
    return out_dir


def manifest(graph: Graph) -> dict:
    """Names, dtypes and shapes of the inputs and outputs."""
    def describe(v, name):
        return {"name": name, "dtype": v.dtype.name, "shape": list(v.shape)}
    return {"format": "eager-jit export", "version": 1,
            "inputs": [describe(v, n) for v, n in zip(graph.args, input_names(graph))],
            "outputs": [describe(v, f"output{k}") for k, v in enumerate(graph.output_values())]}


def _write_text(path: str, text: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
