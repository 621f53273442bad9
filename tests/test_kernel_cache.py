"""The compiled-kernel disk cache under faults: damaged entries are rebuilt, never loaded.

Each fault is injected into a copy of a warm cache and the kernels are then run in a
fresh process (so a crash, e.g. SIGBUS from mapping a truncated library, fails the test
instead of killing pytest). Every run must give numpy's results and the expected warning.
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kernels import tempfiles
from kernels.codegen import compiler, disk_cache, libcheck

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL_CC = shutil.which("cc")
pytestmark = pytest.mark.skipif(REAL_CC is None, reason="needs a C compiler")

N = 1000
REFERENCE = {"neg": np.negative, "sin": np.sin}
SCRIPT = f"N = {N}\n" + r"""
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("always")
from kernels import TensorSpec, float32
from kernels.codegen import compile_groups, compiler, cpu
from kernels.codegen.group import ElementwiseGroup, Step

x = np.linspace(-3, 3, N, dtype=np.float32)
result = {}
with warnings.catch_warnings(record=True) as caught:
    for op in sys.argv[1:]:
        group = ElementwiseGroup((TensorSpec((N,), float32),),
                                 (Step(op, (("in", 0),), float32),), (0,), (N,))
        start = time.perf_counter()
        (kernel,) = compile_groups([group])
        out = np.empty(N, np.float32)
        kernel.run([x], [out])
        result[op] = {"out": out.tolist(), "compiled": kernel.compiled,
                      "seconds": time.perf_counter() - start,
                      "key": compiler._entry_key(cpu.source_for([group])[0])}
result["warnings"] = [str(w.message) for w in caught]
result["stats"] = compiler.stats
print(json.dumps(result))
"""


def run_kernels(env: dict, *ops: str, timeout: float = 120) -> dict:
    """Run `ops` as compiled kernels in a fresh process; check the results against numpy."""
    done = subprocess.run([sys.executable, "-c", SCRIPT, *ops], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"the kernel process died ({done.returncode}): {done.stderr}"
    result = json.loads(done.stdout)
    x = np.linspace(-3, 3, N, dtype=np.float32)
    for op in ops:
        np.testing.assert_allclose(result[op]["out"], REFERENCE[op](x), rtol=1e-6, atol=1e-6)
    return result


def clean_env(cache: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CC", compiler.TIMEOUT_VARIABLE)}
    return {**env, "XDG_CACHE_HOME": cache, **extra}


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """A cache holding the neg and sin kernels, and their entry keys."""
    cache = str(tmp_path_factory.mktemp("warm"))
    result = run_kernels(clean_env(cache), "neg", "sin")
    assert result["stats"]["builds"] == 2 and not result["warnings"]
    return cache, {op: result[op]["key"] for op in REFERENCE}


@pytest.fixture
def cache(warm, tmp_path):
    """A private copy of the warm cache: (XDG_CACHE_HOME, eager-jit folder, keys)."""
    home = str(tmp_path / "home")
    shutil.copytree(warm[0], home)
    return home, os.path.join(home, "eager-jit"), warm[1]


def library(folder: str, key: str) -> str:
    with open(disk_cache.manifest_path(folder, key)) as f:
        digest = json.load(f)["library_sha256"]
    return os.path.join(folder, f"ej_{key}-{digest[:16]}.so")


def assert_rebuilt(result: dict, folder: str, key: str, source_op: str, why: str) -> None:
    """`source_op`'s kernel was found damaged (one warning naming `why`) and rebuilt."""
    assert result[source_op]["compiled"]
    assert result["stats"]["damaged"] == 1 and result["stats"]["builds"] == 1
    assert len(result["warnings"]) == 1
    assert "failed verification" in result["warnings"][0] and why in result["warnings"][0]
    entry = disk_cache.lookup(folder, key, _source_sha(folder, key))
    assert entry is not None and libcheck.problem(entry.library) is None
    assert not [n for n in os.listdir(folder) if n.startswith(tempfiles.PREFIX)]


def _source_sha(folder: str, key: str) -> str:
    with open(disk_cache.manifest_path(folder, key)) as f:
        return json.load(f)["source_sha256"]


def test_truncated_library_is_rebuilt_instead_of_crashing_the_process(cache):
    home, folder, keys = cache
    path = library(folder, keys["neg"])
    data = Path(path).read_bytes()
    with open(path, "wb") as f:
        f.write(data[:len(data) // 2])
    result = run_kernels(clean_env(home), "neg", "sin")
    assert_rebuilt(result, folder, keys["neg"], "neg", "truncated")
    assert result["stats"]["disk_hits"] == 1   # sin's intact entry is still used
    again = run_kernels(clean_env(home), "neg", "sin")
    assert again["stats"]["disk_hits"] == 2 and not again["warnings"]


@pytest.mark.parametrize("where", [0.001, 0.3, 0.6, 0.999])
def test_bit_flips_in_the_library_are_detected(cache, where):
    home, folder, keys = cache
    path = library(folder, keys["sin"])
    data = bytearray(Path(path).read_bytes())
    at = int(len(data) * where)
    data[at] ^= 0x10
    data[min(at + 7, len(data) - 1)] ^= 0x01
    with open(path, "wb") as f:
        f.write(bytes(data))
    result = run_kernels(clean_env(home), "sin")
    assert_rebuilt(result, folder, keys["sin"], "sin", "sha256")


def test_damaged_manifest_is_detected(cache):
    home, folder, keys = cache
    manifest = disk_cache.manifest_path(folder, keys["neg"])
    data = bytearray(Path(manifest).read_bytes())
    data[len(data) // 2] ^= 0x04
    with open(manifest, "wb") as f:
        f.write(bytes(data))
    result = run_kernels(clean_env(home), "neg")
    assert_rebuilt(result, folder, keys["neg"], "neg", "manifest")


def test_another_kernels_library_in_its_place_is_not_loaded(cache):
    home, folder, keys = cache
    shutil.copyfile(library(folder, keys["sin"]), library(folder, keys["neg"]))
    result = run_kernels(clean_env(home), "neg")
    assert_rebuilt(result, folder, keys["neg"], "neg", "replaced")


def test_another_kernels_whole_entry_in_its_place_is_not_loaded(cache):
    """Library and manifest both copied from sin's entry, with the key rewritten: only
    the source hash in the manifest tells them apart."""
    home, folder, keys = cache
    with open(disk_cache.manifest_path(folder, keys["sin"])) as f:
        manifest = json.load(f)
    os.unlink(library(folder, keys["neg"]))
    shutil.copyfile(library(folder, keys["sin"]),
                    os.path.join(folder, f"ej_{keys['neg']}-{manifest['library_sha256'][:16]}.so"))
    with open(disk_cache.manifest_path(folder, keys["neg"]), "w") as f:
        json.dump({**manifest, "key": keys["neg"]}, f)
    result = run_kernels(clean_env(home), "neg")
    assert_rebuilt(result, folder, keys["neg"], "neg", "another kernel's source")


@pytest.mark.parametrize("which", ["library", "manifest"])
def test_zero_length_entry_is_rebuilt_not_left_to_numpy(cache, which):
    home, folder, keys = cache
    key = keys["neg"]
    path = library(folder, key) if which == "library" else disk_cache.manifest_path(folder, key)
    open(path, "wb").close()
    result = run_kernels(clean_env(home), "neg")
    assert_rebuilt(result, folder, key, "neg", "0 bytes" if which == "library" else "manifest")


def fake_compiler(tmp_path, body: str) -> str:
    """A folder holding a `cc` shell script with `body`; put it first on PATH."""
    folder = tmp_path / "fake-bin"
    folder.mkdir()
    script = folder / "cc"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"


def cache_files(folder: str) -> list[str]:
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.mark.parametrize("hangs_on", ["compile", "version"])
def test_hanging_compiler_times_out_and_numpy_serves(tmp_path, hangs_on):
    pid_file = tmp_path / "cc.pid"
    version = 'echo "fake cc 1.0"; exit 0' if hangs_on == "compile" else ":"
    path = fake_compiler(tmp_path, f'if [ "$1" = "--version" ]; then {version}; fi\n'
                                   f'echo $$ > {pid_file}\nexec sleep 60\n')
    home = str(tmp_path / "home")
    start = time.monotonic()
    result = run_kernels(clean_env(home, PATH=path, EAGER_JIT_COMPILE_TIMEOUT="1"),
                         "neg", "sin")
    assert time.monotonic() - start < 30
    assert not result["neg"]["compiled"] and not result["sin"]["compiled"]
    assert result["sin"]["seconds"] < 0.5   # a compiler that hung once is not waited on again
    (message,) = result["warnings"]
    assert "did not finish within 1 s" in message and compiler.TIMEOUT_VARIABLE in message
    with pytest.raises(ProcessLookupError):   # the hung compiler was killed
        os.kill(int(pid_file.read_text()), 0)
    assert cache_files(os.path.join(home, "eager-jit")) == []


SHOW_VERSION = 'if [ "$1" = "--version" ]; then echo "fake cc 1.0"; exit 0; fi\n'
FIND_OUTPUT = 'out=""; prev=""\nfor a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done\n'


@pytest.mark.parametrize("writes", [
    'head -c 4096 /dev/urandom > "$out"\n',
    'printf "\\177ELF" > "$out"; head -c 4096 /dev/urandom >> "$out"\n',
    f'{REAL_CC} "$@" || exit 1\nhead -c 3000 "$out" > "$out.part"; mv "$out.part" "$out"\n',
], ids=["random-bytes", "elf-magic-then-garbage", "truncated-library"])
def test_compiler_writing_garbage_leaves_nothing_in_the_cache(tmp_path, writes):
    path = fake_compiler(tmp_path, SHOW_VERSION + FIND_OUTPUT + writes)
    home = str(tmp_path / "home")
    result = run_kernels(clean_env(home, PATH=path), "neg")
    assert not result["neg"]["compiled"]
    (message,) = result["warnings"]
    assert "wrote" in message and "nothing was cached" in message
    assert cache_files(os.path.join(home, "eager-jit")) == []


def test_warm_cache_serves_without_a_compiler_on_path(cache, tmp_path):
    home = cache[0]
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run_kernels(clean_env(home, PATH=str(empty)), "neg", "sin")
    assert result["neg"]["compiled"] and result["sin"]["compiled"]
    assert result["stats"]["builds"] == 0 and result["stats"]["disk_hits"] == 2
    assert result["warnings"] == []


def test_damaged_entry_without_a_compiler_falls_back_to_numpy(cache, tmp_path):
    home, folder, keys = cache
    open(library(folder, keys["neg"]), "wb").close()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run_kernels(clean_env(home, PATH=str(empty)), "neg", "sin")
    assert not result["neg"]["compiled"] and result["sin"]["compiled"]
    damaged, missing = result["warnings"]
    assert "failed verification" in damaged and "not found on PATH" in missing


def test_a_different_compiler_version_rebuilds_without_a_warning(cache, tmp_path):
    home, folder, keys = cache
    path = fake_compiler(tmp_path, 'if [ "$1" = "--version" ]; then echo "other cc 9"; '
                                   f'exit 0; fi\nexec {REAL_CC} "$@"\n')
    result = run_kernels(clean_env(home, PATH=path), "neg")
    assert result["neg"]["compiled"] and result["stats"]["builds"] == 1
    assert result["warnings"] == []
    assert disk_cache.lookup(folder, keys["neg"], _source_sha(folder, keys["neg"])).compiler \
        == "other cc 9"
    assert len([n for n in os.listdir(folder) if n.startswith(f"ej_{keys['neg']}")]) == 2


def test_temporaries_of_killed_builds_are_removed_by_the_next_build(tmp_path):
    folder = tmp_path / "eager-jit"
    stale = folder / f"{tempfiles.PREFIX}{tempfiles._host()}-999999999-0badf00d"
    stale.mkdir(parents=True)
    (stale / "kernel.c").write_text("int half_written")
    mine = folder / os.path.basename(tempfiles.temp_name(str(folder), ".json"))
    mine.write_text("{}")   # this process is alive: its temporary stays
    run_kernels(clean_env(str(tmp_path)), "neg")
    names = cache_files(str(folder))
    assert stale.name not in names and mine.name in names
    assert len([n for n in names if n.endswith(".so")]) == 1


def test_truncated_libraries_are_never_taken_for_complete_ones(cache):
    _, folder, keys = cache
    data = Path(library(folder, keys["sin"])).read_bytes()
    probe = os.path.join(folder, "probe.so")
    for cut in range(0, len(data), max(1, len(data) // 200)):
        with open(probe, "wb") as f:
            f.write(data[:cut])
        assert libcheck.problem(probe) is not None, cut


def test_timeout_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv(compiler.TIMEOUT_VARIABLE, "2.5")
    assert compiler.compile_timeout() == 2.5
    monkeypatch.setenv(compiler.TIMEOUT_VARIABLE, "soon")
    with pytest.warns(RuntimeWarning, match="not a positive number"):
        assert compiler.compile_timeout() == compiler.DEFAULT_TIMEOUT_S
