"""CPU kernels for fused groups: one C file per graph, compiled once, called through cffi.

`compile_groups` renders every group of a graph into one source file (one compiler run,
~100 ms cold, a few ms from the disk cache) and returns one `CpuKernel` per group. A
kernel writes into output buffers the caller provides, so replay can reuse buffers. Big
groups are split across threads (cffi releases the GIL during the call); small ones run
in the calling thread, where a thread hand-off would cost more than the work.

Libraries come from the verified disk cache (`compiler`), which also serves them when no
compiler is installed. Without a working compiler and a cached library, every kernel runs
the ops' numpy kernels instead (one warning per process), so results stay correct.

>>> import numpy as np
>>> from kernels import TensorSpec, float32
>>> from kernels.codegen.group import ElementwiseGroup, Step
>>> g = ElementwiseGroup((TensorSpec((3,), float32),),
...                      (Step("neg", (("in", 0),), float32),), (0,), (3,))
>>> (k,) = compile_groups([g])
>>> out = np.empty(3, np.float32); k.run([np.ones(3, np.float32)], [out]); out.tolist()
[-1.0, -1.0, -1.0]
"""
from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from kernels.codegen import c_render
from kernels.codegen.compiler import (
    UNIT_BREAK,
    CompilerUnavailable,
    load_library,
    warn_no_compiler,
)
from kernels.codegen.fastmath import preamble
from kernels.codegen.group import ElementwiseGroup, ReduceGroup, RowGroup, evaluate
from kernels.shapes import size_of
from kernels.threads import kernel_threads

PARALLEL_MIN_ELEMENTS = 1 << 18
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_from_buffer = None


def _get_pool(threads: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size < threads:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="eager-jit")
        _pool_size = threads
    return _pool


def _forget_pool_after_fork() -> None:
    # A forked child (a DataLoader worker) has none of the parent's pool threads: a pool
    # it inherited would queue work that never runs.
    global _pool, _pool_size
    _pool, _pool_size = None, 0


os.register_at_fork(after_in_child=_forget_pool_after_fork)


class CpuKernel:
    """A compiled group: `run(inputs, outputs)` fills `outputs` (C-contiguous arrays)."""

    compiled = True

    def __init__(self, group: ElementwiseGroup | ReduceGroup | RowGroup, fn) -> None:
        self.group = group
        self.fn = fn  # the C function: fn(*input_ptrs, *output_ptrs, start, stop)
        self.extent = c_render.outer_extent(group)
        full = group.prologue.shape if isinstance(group, ReduceGroup) else group.shape
        numel = size_of(full)
        self._parallel = numel >= PARALLEL_MIN_ELEMENTS and self.extent > 1
        # [(start, stop)] per thread for groups worth splitting (one range while the
        # setting is 1 thread, so callers still route them through run()), else None.
        self.chunks = None
        self._chunks_for = 0      # the thread count `chunks` was split for
        if self._parallel:
            self._split(kernel_threads())
        self._empty = numel == 0

    def _split(self, threads: int) -> None:
        # Re-split when `eager.set_num_threads` changed the count since the last call.
        self._chunks_for = threads
        threads = max(1, min(threads, self.extent))
        bounds = [self.extent * t // threads for t in range(threads + 1)]
        self.chunks = list(itertools.pairwise(bounds))

    def run(self, inputs: list, outputs: list) -> None:
        """Compute the group from `inputs` into `outputs`."""
        if self._empty:
            return
        fb = _from_buffer
        args = [fb(a if a.flags.c_contiguous else np.ascontiguousarray(a)) for a in inputs]
        args += [fb(o, require_writable=True) for o in outputs]
        if self._parallel and self._chunks_for != kernel_threads():
            self._split(kernel_threads())
        if self.chunks is None or len(self.chunks) == 1:
            self.fn(*args, 0, self.extent)
            return
        fn = self.fn
        pool = _get_pool(len(self.chunks))
        futures = [pool.submit(fn, *args, lo, hi) for lo, hi in self.chunks[1:]]
        lo, hi = self.chunks[0]
        fn(*args, lo, hi)
        for fut in futures:
            fut.result()


class NumpyKernel:
    """The fallback: the same group run with the ops' numpy kernels."""

    compiled = False

    def __init__(self, group: ElementwiseGroup | ReduceGroup | RowGroup) -> None:
        self.group = group

    def run(self, inputs: list, outputs: list) -> None:
        """Compute the group from `inputs` into `outputs`."""
        for out, value in zip(outputs, evaluate(self.group, inputs, np)):
            np.copyto(out, value)


TABLE_DECLARATION = "void *ej_table(int);"


def source_for(groups: list[ElementwiseGroup | ReduceGroup | RowGroup]) -> tuple[str, str]:
    """The C file for `groups` (functions k0, k1, ...) and its cffi declarations.

    Besides the kernels the file exports `ej_table(i)`, the address of group i's kernel,
    so every library is loaded through one declaration parsed once per process. Groups
    whose code is identical share one function: a flat loop does not depend on its length
    (the caller passes it), so e.g. the same optimizer update on every parameter is
    compiled once.
    """
    bodies: list[str] = []
    index_of: dict[str, int] = {}
    table = []
    for g in groups:
        body = c_render.render(g, "KERNEL_NAME")
        if body not in index_of:
            index_of[body] = len(bodies)
            bodies.append(body.replace("KERNEL_NAME", f"k{len(bodies)}", 1))
        table.append(f"(void *)k{index_of[body]}")
    # The kernels may be compiled in several translation units at once (`UNIT_BREAK`):
    # the table names each through its prototype, its signature line.
    prototypes = "".join(body.split("{", 1)[0].rstrip() + ";\n" for body in bodies)
    bodies.append(f"{prototypes}void *ej_table(int i) {{\n"
                  f"    static void *const t[] = {{{', '.join(table)}}};\n    return t[i];\n}}\n")
    return (preamble() + c_render.helpers(groups) + "\n"
            + "".join(UNIT_BREAK + body for body in bodies)), TABLE_DECLARATION


def compile_groups(groups: list[ElementwiseGroup | ReduceGroup | RowGroup]
                   ) -> list[CpuKernel | NumpyKernel]:
    """One kernel per group, all compiled in one C file (numpy fallback without a compiler)."""
    global _from_buffer
    if not groups:
        return []
    source, decls = source_for(groups)
    ffi = _shared_ffi()
    try:
        lib = load_library(source, decls, ffi)
    except (CompilerUnavailable, OSError) as exc:  # no compiler, or no writable cache dir
        warn_no_compiler(exc)
        return [NumpyKernel(g) for g in groups]
    _from_buffer = ffi.from_buffer
    _declare_arities(ffi, {_arity(g) for g in groups})
    return [CpuKernel(g, ffi.cast(f"ej_fn{_arity(g)}", lib.ej_table(i)))
            for i, g in enumerate(groups)]


_ffi_instance = None
_declared_arities: set[int] = set()
# Threads compiling at once must share one FFI and see each typedef declared on it.
_ffi_lock = threading.Lock()


def _shared_ffi():
    global _ffi_instance
    with _ffi_lock:
        if _ffi_instance is None:
            from cffi import FFI

            ffi = FFI()
            ffi.cdef(TABLE_DECLARATION)
            _ffi_instance = ffi
    return _ffi_instance


def _arity(group) -> int:
    """Pointer arguments of a group's kernel: its inputs and outputs."""
    return len(group.inputs) + (1 if isinstance(group, ReduceGroup) else len(group.outputs))


def _declare_arities(ffi, arities: set[int]) -> None:
    """Declare `ej_fnN`, pointer to void(void * x N, int64_t, int64_t), for each new N, in
    one cdef: each cdef call runs the C parser (tens of ms), so not one per arity."""
    with _ffi_lock:
        new = sorted(arities - _declared_arities)
        if new:
            ffi.cdef("\n".join(f"typedef void (*ej_fn{n})({'void *, ' * n}int64_t, int64_t);"
                               for n in new))
            _declared_arities.update(new)
