"""Compile a C source file to a shared library once, cache it on disk, load it with cffi.

Entries are found by a hash of the source, the compiler command, the flags and the CPU,
and checked against their manifest before they are loaded (`disk_cache`): a damaged entry
(truncated, bit-flipped, another kernel's library, zero length) is rebuilt with one
warning per process, and a verified entry is used even when no compiler is installed.
When a compiler is there and its version line differs from the one that built the entry,
the entry is rebuilt, so a changed compiler or machine never serves a stale build.

The compiler runs in a temporary folder of the cache with a time limit
(`EAGER_JIT_COMPILE_TIMEOUT` seconds, default 120); its output must be a complete shared
library that loads before it is renamed into the cache, so a hanging or broken compiler
leaves nothing behind and callers fall back to the numpy kernels. Loaded libraries are
kept for the life of the process: unloading code that may have started threads is
unsafe, and reloading costs time.

Flags: `-O2 -ftree-vectorize -march=native -fno-math-errno -fno-trapping-math` let gcc
vectorize the loops and math (`-mno-red-zone` on x86-64 works around a gcc 12 bug, below); never `-ffast-math`, which would turn on flush-to-zero for
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
import shutil
import signal
import subprocess
import time
import warnings

from kernels.codegen import disk_cache, libcheck
from kernels.codegen.disk_cache import cache_dir

__all__ = ["FLAGS", "TIMEOUT_VARIABLE", "UNIT_BREAK", "CompileError", "CompilerUnavailable",
           "cache_dir", "compile_jobs", "compile_timeout", "compiler_command", "load_library",
           "stats", "translation_units", "warn_no_compiler"]

# -O2 with gcc's full vectorizer gives the kernels the same speed as -O3 (measured on W2
# and an Adam update) at a third of the compile time on graphs with many kernels.
# -mno-red-zone on x86-64: gcc 12 (Debian 12.2) places a per-row scratch array of a
# kernel with a stack-passed argument in the red zone at an 8-byte offset, then loads it
# with an aligned vector move (`vmovdqa`), which faults: a jitted cross-entropy step
# crashed on its first replay. Without the red zone gcc reserves and aligns the frame.
_X86_64 = platform.machine().lower() in ("x86_64", "amd64")
FLAGS = ("-O2", "-ftree-vectorize", "-fvect-cost-model=dynamic", "-march=native",
         "-fno-math-errno", "-fno-trapping-math", *(("-mno-red-zone",) if _X86_64 else ()),
         "-fPIC", "-shared")
TIMEOUT_VARIABLE = "EAGER_JIT_COMPILE_TIMEOUT"
# Where a generated source may be cut into C files compiled at once (`translation_units`).
UNIT_BREAK = "\n/* ej: unit */\n"
# A C file of a big source holds at least this much (one compiler start is ~25 ms).
MIN_UNIT_CHARS = 12_000
DEFAULT_TIMEOUT_S = 120.0


class CompilerUnavailable(RuntimeError):
    """No working C compiler: callers fall back to the numpy kernels."""


class CompileError(RuntimeError):
    """The compiler rejected generated code (a bug in codegen, reported with the source)."""


def compiler_command() -> list[str]:
    """The C compiler to run: `$CC` if set, else `cc`.

    >>> isinstance(compiler_command(), list)
    True
    """
    return shlex.split(os.environ.get("CC") or "cc")


def compile_timeout() -> float:
    """Seconds one compiler run may take: `$EAGER_JIT_COMPILE_TIMEOUT`, default 120.

    >>> compile_timeout() > 0
    True
    """
    text = os.environ.get(TIMEOUT_VARIABLE)
    if not text:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        warnings.warn(f"eager-jit: {TIMEOUT_VARIABLE}={text!r} is not a positive number of "
                      f"seconds; using {DEFAULT_TIMEOUT_S:g}", RuntimeWarning, stacklevel=2)
        return DEFAULT_TIMEOUT_S
    return value


# Compilers that timed out in this process: every later kernel would wait as long again.
_hung: dict[tuple[str, ...], CompilerUnavailable] = {}


def _resolved() -> tuple[str, ...]:
    command = compiler_command()
    found = shutil.which(command[0]) if command else None
    if found is None:
        raise CompilerUnavailable(f"C compiler {' '.join(command)!r} not found on PATH")
    resolved = (found, *command[1:])
    if resolved in _hung:
        raise _hung[resolved]
    return resolved


def _run(command: tuple[str, ...], args: list[str], cwd: str | None = None
         ) -> subprocess.CompletedProcess:
    """Run the compiler once with the time limit (`_run_all`)."""
    return _run_all(command, [args], cwd)[0]


def _run_all(command: tuple[str, ...], arg_lists: list[list[str]], cwd: str | None = None
             ) -> list[subprocess.CompletedProcess]:
    """Run the compiler once per argument list, all at once, within one time limit; on
    timeout kill every process group (cc1, as, ld keep the pipes open otherwise) and
    remember the compiler as hung."""
    deadline = time.monotonic() + compile_timeout()
    procs: list[subprocess.Popen] = []
    try:
        for args in arg_lists:
            try:
                procs.append(subprocess.Popen([*command, *args], cwd=cwd,
                                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                              text=True, start_new_session=True))
            except OSError as exc:
                raise CompilerUnavailable(f"C compiler {command[0]!r} cannot run: {exc}"
                                          ) from None
        done = []
        for proc in procs:
            out, err = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
            done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        return done
    except subprocess.TimeoutExpired:
        for proc in procs:
            _kill_group(proc)
        _hung[command] = CompilerUnavailable(
            f"C compiler {command[0]!r} did not finish within {compile_timeout():g} s and "
            f"was stopped; set {TIMEOUT_VARIABLE} to allow it longer")
        raise _hung[command] from None
    except BaseException:
        for proc in procs:  # their own sessions do not see the Ctrl-C that stopped us
            _kill_group(proc)
        raise


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.returncode is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


@functools.cache
def _compiler_version(command: tuple[str, ...]) -> str:
    done = _run(command, ["--version"])
    if done.returncode != 0:
        raise CompilerUnavailable(f"C compiler {command[0]!r} failed: {done.stderr.strip()}")
    return done.stdout.splitlines()[0] if done.stdout else ""


@functools.cache
def _cpu_identity() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags"))][:2]
    except OSError:
        lines = []
    return platform.machine() + platform.processor() + "".join(lines)


def _entry_key(source: str) -> str:
    key = "\n".join([source, " ".join(compiler_command()), " ".join(FLAGS), _cpu_identity()])
    return hashlib.sha256(key.encode()).hexdigest()[:24]


stats = {"builds": 0, "disk_hits": 0, "damaged": 0}
_loaded: dict[tuple[str, str], object] = {}  # (cache folder, entry key) -> library


def load_library(source: str, declarations: str, ffi=None):
    """Load `source` from the cache (verified) or build it; `declarations` are its prototypes.

    Pass an `ffi` whose cdef already declares them to skip parsing (cffi's C parser costs
    about a millisecond per declaration). Raises CompilerUnavailable when no compiler
    works (missing, hung past the time limit, writing no usable library) and no verified
    library is cached, CompileError when the compiler rejects the source, OSError when
    the cache folder is not writable. `stats` counts compiler runs ("builds"), verified
    libraries found on disk ("disk_hits") and damaged entries found ("damaged").
    """
    directory, key = cache_dir(), _entry_key(source)
    lib = _loaded.get((directory, key))
    if lib is None:
        lib = _load_or_build(directory, key, source, ffi or _ffi(declarations))
        _loaded[directory, key] = lib
    return lib


def _load_or_build(directory: str, key: str, source: str, ffi):
    source_sha = disk_cache.source_hash(source)
    try:
        command = _resolved()
        version, unavailable = _compiler_version(command), None
    except CompilerUnavailable as exc:
        command, version, unavailable = None, None, exc
    try:
        entry = disk_cache.lookup(directory, key, source_sha)
    except disk_cache.DamagedEntry as exc:
        stats["damaged"] += 1
        _warn_damaged(exc)
        disk_cache.discard(directory, key)
        entry = None
    if entry is not None and (version is None or entry.compiler == version):
        lib = ffi.dlopen(entry.library)
        stats["disk_hits"] += 1
        return lib
    if unavailable is not None:
        raise unavailable
    return _build(directory, key, source, source_sha, command, version, ffi)


def _build(directory: str, key: str, source: str, source_sha: str,
           command: tuple[str, ...], version: str, ffi):
    build_dir = disk_cache.new_build_dir(directory)
    try:
        _compile_units(command, translation_units(source, compile_jobs()), build_dir)
        built = os.path.join(build_dir, "kernel.so")
        if not os.path.exists(built):
            raise CompilerUnavailable(f"C compiler {command[0]!r} reported success but wrote "
                                      "no library")
        wrong = libcheck.problem(built)
        if wrong is not None:
            raise CompilerUnavailable(f"C compiler {command[0]!r} wrote {wrong}; nothing was "
                                      "cached")
        try:
            lib = ffi.dlopen(built)
        except OSError as exc:
            raise CompilerUnavailable(f"C compiler {command[0]!r} wrote a library that does "
                                      f"not load ({exc}); nothing was cached") from None
        disk_cache.commit(directory, key, source_sha, built, version)
        stats["builds"] += 1
        return lib
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)


def compile_jobs() -> int:
    """Compiler processes run at once: the cores this process may run on (its CPU
    affinity, so a process pinned to one core compiles on that core)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def translation_units(source: str, jobs: int) -> list[str]:
    """`source` cut at its `UNIT_BREAK` marks into at most `jobs` C files of about equal
    length, each starting with the text before the first mark (its static helpers).
    Sources shorter than MIN_UNIT_CHARS per unit stay whole: another compiler process
    costs more than it saves there.

    >>> big = "h" + (UNIT_BREAK + "x" * MIN_UNIT_CHARS) * 3
    >>> [len(translation_units(big, jobs)) for jobs in (1, 2, 4)]
    [1, 2, 3]
    >>> translation_units("h" + UNIT_BREAK + "a", 2) == ["h" + UNIT_BREAK + "a"]
    True
    """
    preamble, *pieces = source.split(UNIT_BREAK)
    count = min(jobs, len(pieces), len(source) // MIN_UNIT_CHARS)
    if count <= 1:
        return [source]
    target = sum(map(len, pieces)) / count
    units: list[list[str]] = [[]]
    filled = 0
    for i, piece in enumerate(pieces):
        still_to_open = count - len(units)
        if units[-1] and still_to_open and (filled + len(piece) / 2 > target * len(units)
                                            or len(pieces) - i <= still_to_open):
            units.append([])
        units[-1].append(piece)
        filled += len(piece)
    return [preamble + "".join(UNIT_BREAK + piece for piece in unit) for unit in units]


def _compile_units(command: tuple[str, ...], units: list[str], build_dir: str) -> None:
    """Build `kernel.so` in `build_dir` from the C files `units`: one compiler run for
    one file, else every file compiled at once and then linked."""
    names = [f"unit{i}.c" for i in range(len(units))]
    objects = [f"unit{i}.o" for i in range(len(units))]
    for name, text in zip(names, units):
        with open(os.path.join(build_dir, name), "w") as f:
            f.write(text)
    if len(units) == 1:
        runs = [[*FLAGS, names[0], "-o", "kernel.so", "-lm"]]
    else:
        compile_flags = [flag for flag in FLAGS if flag != "-shared"]
        runs = [[*compile_flags, "-c", name, "-o", obj] for name, obj in zip(names, objects)]
    for text, done in zip(units, _run_all(command, runs, cwd=build_dir)):
        if done.returncode != 0:
            raise CompileError(f"generated C failed to compile:\n{done.stderr}\n"
                               f"--- source ---\n{text}")
    if len(units) > 1:
        done = _run(command, [*FLAGS, *objects, "-o", "kernel.so", "-lm"], cwd=build_dir)
        if done.returncode != 0:
            raise CompileError(f"generated C failed to link:\n{done.stderr}")


def _ffi(declarations: str):
    from cffi import FFI

    ffi = FFI()
    ffi.cdef(declarations)
    return ffi


_warned = False
_warned_damaged = False


def warn_no_compiler(reason: Exception) -> None:
    """Warn once per process that compiled kernels are off and numpy serves instead."""
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(f"eager-jit: cannot build compiled kernels ({reason}); jitted code runs "
                      "the numpy kernels instead (correct, but slower). Install gcc or set CC, "
                      "and make sure $XDG_CACHE_HOME or ~/.cache is writable.",
                      RuntimeWarning, stacklevel=3)


def _warn_damaged(exc: disk_cache.DamagedEntry) -> None:
    global _warned_damaged
    if not _warned_damaged:
        _warned_damaged = True
        warnings.warn(f"eager-jit: a cached kernel library failed verification ({exc}); it "
                      "is rebuilt, and so is any other damaged entry, without another "
                      "warning.", RuntimeWarning, stacklevel=5)


class LoopLibrary:
    """A fixed C source (hand-written loops) compiled, or found in the cache, on first use.

    `library()` is the loaded library, or None where no compiler works (callers then use
    their numpy path); `ffi` is the cffi object that declares its functions.
    """

    def __init__(self, source: str, declarations: str):
        self._source, self._declarations = source, declarations
        self._loaded = False
        self._lib = None
        self.ffi = None

    def library(self):
        """The compiled library, or None without a working compiler."""
        if not self._loaded:
            from cffi import FFI

            ffi = FFI()
            ffi.cdef(self._declarations)
            try:
                self._lib = load_library(self._source, self._declarations, ffi)
            except (CompilerUnavailable, CompileError, OSError):
                self._lib = None
            self.ffi = ffi
            self._loaded = True
        return self._lib
