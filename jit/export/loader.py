"""`load_exported(out_dir)`: an exported model's built library, callable from Python.

The library is loaded through cffi (ABI mode: no compiler needed once `libmodel.so`
exists; it is built with `make` when missing). Calls take eager tensors or numpy arrays
of the exported dtypes and shapes and return eager tensors, so tests compare the C code
with eager directly.

>>> import eager, tempfile
>>> import jit
>>> out = jit.export(lambda x: (x * 2.0).tanh(), (eager.zeros(3, device="cpu"),),
...                  tempfile.mkdtemp())
>>> load_exported(out)(eager.zeros(3)).tolist()
[0.0, 0.0, 0.0]
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from typing import Any

import numpy as np

import eager
from jit.export.errors import ExportError

_DECLARATIONS = """
int model_load(const char *path);
void model_free(void);
typedef struct model_ctx model_ctx;
model_ctx *model_ctx_new(void);
void model_ctx_free(model_ctx *ctx);
int model_run_ctx(model_ctx *ctx, const void *const *in, void *const *out);
const char *model_last_error(void);
"""


class ExportedModel:
    """The model in `out_dir`: `model(*inputs)` runs `model_run` once (thread safe: each
    thread gets its own context)."""

    def __init__(self, out_dir: str, lib, ffi, spec: dict) -> None:
        self.out_dir = out_dir
        self.inputs = spec["inputs"]
        self.outputs = spec["outputs"]
        self._lib, self._ffi = lib, ffi
        self._local = threading.local()

    def _context(self):
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:
            ctx = self._lib.model_ctx_new()
            if ctx == self._ffi.NULL:
                raise MemoryError("load_exported: model_ctx_new: out of memory")
            ctx = self._local.ctx = self._ffi.gc(ctx, self._lib.model_ctx_free)
        return ctx

    def __call__(self, *args: Any) -> Any:
        """Run the model on `args` (one per exported input); one tensor or a tuple."""
        if len(args) != len(self.inputs):
            raise ExportError(f"exported model in {self.out_dir}: takes {len(self.inputs)} "
                              f"input(s) ({[i['name'] for i in self.inputs]}), got {len(args)}")
        arrays = []
        for arg, want in zip(args, self.inputs):
            a = arg.detach().numpy() if isinstance(arg, eager.Tensor) else np.asarray(arg)
            if list(a.shape) != want["shape"] or a.dtype.name != want["dtype"]:
                raise ExportError(f"exported model in {self.out_dir}: input `{want['name']}` "
                                  f"must be {want['dtype']}{want['shape']}, got "
                                  f"{a.dtype.name}{list(a.shape)}")
            arrays.append(np.ascontiguousarray(a))
        outs = [np.empty(o["shape"], np.dtype(o["dtype"])) for o in self.outputs]
        ffi = self._ffi
        in_ptrs = ffi.new("const void *[]", [ffi.from_buffer(a) for a in arrays] or [ffi.NULL])
        out_ptrs = ffi.new("void *[]", [ffi.from_buffer(o, require_writable=True)
                                         for o in outs])
        rc = self._lib.model_run_ctx(self._context(), in_ptrs, out_ptrs)
        if rc != 0:
            raise ExportError(ffi.string(self._lib.model_last_error()).decode())
        tensors = tuple(eager.tensor(o, device="cpu") for o in outs)
        return tensors[0] if len(tensors) == 1 else tensors


def load_exported(out_dir: str) -> ExportedModel:
    """Load the model `jit.export` wrote to `out_dir` with the weights in
    `out_dir/weights.bin`, running `make libmodel.so` there first (a no-op when the
    library is up to date; skipped without `make` when the library exists).

    Every call loads a private copy of the library, so two loaded models (or a model
    re-exported into the same directory) never share weights. Raises `ExportError` when
    the build or the weights check fails, with the loader's message.
    """
    from cffi import FFI

    try:
        with open(os.path.join(out_dir, "model.json")) as f:
            spec = json.load(f)
    except (OSError, ValueError) as exc:
        raise ExportError(f"load_exported: {out_dir} holds no readable model.json ({exc}); "
                          "is it a directory jit.export wrote?") from None
    lib_path = os.path.join(out_dir, "libmodel.so")
    if shutil.which("make") is None:
        if not os.path.exists(lib_path):
            raise ExportError(f"load_exported: {lib_path} is not built and `make` is not on "
                              f"PATH; build it with `make -C {out_dir}` where a C compiler is")
    else:
        done = subprocess.run(["make", "-s", "libmodel.so"], cwd=out_dir, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise ExportError(f"load_exported: building {lib_path} failed:\n{done.stderr}")
    ffi = FFI()
    ffi.cdef(_DECLARATIONS)
    # dlopen returns the already-loaded handle for a path it has seen; a private copy
    # gives this model its own weights.
    fd, private = tempfile.mkstemp(suffix=".so", prefix="eager-jit-model-")
    try:
        with os.fdopen(fd, "wb") as dst, open(lib_path, "rb") as src:
            shutil.copyfileobj(src, dst)
        lib = ffi.dlopen(private)
    finally:
        os.unlink(private)
    rc = lib.model_load(os.path.join(out_dir, "weights.bin").encode())
    if rc != 0:
        raise ExportError(f"load_exported: {ffi.string(lib.model_last_error()).decode()}")
    return ExportedModel(out_dir, lib, ffi, spec)
