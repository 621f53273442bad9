"""Compile a C source file to a shared library once, cache it on disk, load it with cffi.

The library file is named by a hash of the source, the compiler's version line, the flags
and the CPU, so a changed compiler or machine never loads a stale build. Writes are
atomic (build to a temporary name, then rename), so concurrent processes never see half a
file. Loaded libraries are kept for the life of the process: unloading code that may
have started threads is unsafe, and reloading costs time.

Flags: `-O2 -ftree-vectorize -march=native -fno-math-errno -fno-trapping-math` let gcc
vectorize the loops and math; never `-ffast-math`, which would turn on flush-to-zero for
the whole process (numpy's results would change) and break NaN handling.

>>> lib = load_library("int ej_add1(int x) { return x + 1; }", "int ej_add1(int);")
>>> lib.ej_add1(41)
42
"""
from __future__ import annotations

import functools
import hashlib
import os
import platform
import shlex
import subprocess
import tempfile
import warnings

# -O2 with gcc's full vectorizer gives the kernels the same speed as -O3 (measured on W2
# and an Adam update) at a third of the compile time on graphs with many kernels.
FLAGS = ("-O2", "-ftree-vectorize", "-fvect-cost-model=dynamic", "-march=native",
         "-fno-math-errno", "-fno-trapping-math", "-fPIC", "-shared")


class CompilerUnavailable(RuntimeError):
    """No working C compiler: callers fall back to the numpy kernels."""


class CompileError(RuntimeError):
    """The compiler rejected generated code (a bug in codegen, reported with the source)."""


def cache_dir() -> str:
    """`$XDG_CACHE_HOME/eager-jit`, else `~/.cache/eager-jit`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "eager-jit")


def compiler_command() -> list[str]:
    """The C compiler to run: `$CC` if set, else `cc`."""
    return shlex.split(os.environ.get("CC") or "cc")


@functools.cache
def _compiler_version(command: tuple[str, ...]) -> str:
    try:
        done = subprocess.run([*command, "--version"], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise CompilerUnavailable(f"C compiler {' '.join(command)!r} cannot run: {exc}") from None
    if done.returncode != 0:
        raise CompilerUnavailable(f"C compiler {' '.join(command)!r} failed: {done.stderr.strip()}")
    return done.stdout.splitlines()[0] if done.stdout else ""


@functools.cache
def _cpu_identity() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags"))][:2]
    except OSError:
        lines = []
    return platform.machine() + platform.processor() + "".join(lines)


def library_path(source: str) -> str:
    """Where the library built from `source` lives in the cache (may not exist yet)."""
    command = tuple(compiler_command())
    key = "\n".join([source, _compiler_version(command), " ".join(FLAGS), _cpu_identity()])
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return os.path.join(cache_dir(), f"ej_{digest}.so")


stats = {"builds": 0, "disk_hits": 0}


def build(source: str) -> str:
    """Compile `source` into the cache unless it is already there; return the .so path.

    `stats` counts compiler runs ("builds") and libraries found on disk ("disk_hits").
    """
    path = library_path(source)
    if os.path.exists(path):
        stats["disk_hits"] += 1
        return path
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, c_file = tempfile.mkstemp(suffix=".c", dir=directory)
    tmp_so = c_file[:-2] + ".so.tmp"
    try:
        with os.fdopen(fd, "w") as f:
            f.write(source)
        done = subprocess.run([*compiler_command(), *FLAGS, c_file, "-o", tmp_so, "-lm"],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise CompileError(f"generated C failed to compile:\n{done.stderr}\n--- source ---\n"
                               f"{source}")
        os.replace(tmp_so, path)
        stats["builds"] += 1
    finally:
        for leftover in (c_file, tmp_so):
            if os.path.exists(leftover):
                os.remove(leftover)
    return path


_loaded: dict[str, object] = {}


def load_library(source: str, declarations: str, ffi=None):
    """Build (or find in the cache) and load `source`; `declarations` are its prototypes.

    Pass an `ffi` whose cdef already declares them to skip parsing (cffi's C parser costs
    about a millisecond per declaration). Raises CompilerUnavailable when no compiler
    works and the library is not cached.
    """
    lib = _loaded.get(library_path(source))
    if lib is None:
        path = build(source)
        lib = _loaded[path] = (ffi or _ffi(declarations)).dlopen(path)
    return lib


def _ffi(declarations: str):
    from cffi import FFI

    ffi = FFI()
    ffi.cdef(declarations)
    return ffi


_warned = False


def warn_no_compiler(reason: Exception) -> None:
    """Warn once per process that compiled kernels are off and numpy serves instead."""
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(f"eager-jit: cannot build compiled kernels ({reason}); jitted code runs "
                      "the numpy kernels instead (correct, but slower). Install gcc or set CC, "
                      "and make sure $XDG_CACHE_HOME or ~/.cache is writable.",
                      RuntimeWarning, stacklevel=3)
