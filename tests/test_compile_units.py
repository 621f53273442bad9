"""A big generated C file is compiled as several translation units at once (one per core
the process may use) and linked into one library: same kernels, same cache entry, same
errors and time limit as one compiler run."""
import os
import shutil
import stat

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernels import TensorSpec, float32
from kernels.codegen import compiler, cpu
from kernels.codegen.group import ElementwiseGroup, Step

needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
OPS = {"neg": np.negative, "sin": np.sin, "cos": np.cos, "exp": np.exp, "tanh": np.tanh,
       "abs": np.abs, "sqrt": np.sqrt}


@given(st.lists(st.integers(0, 50), min_size=1, max_size=12), st.integers(1, 6),
       st.integers(1, 60))
def test_units_hold_every_piece_once_in_order_behind_the_preamble(lengths, jobs, min_chars):
    pieces = [f"<{i}:" + "x" * n + ">" for i, n in enumerate(lengths)]
    source = "PRE" + "".join(compiler.UNIT_BREAK + p for p in pieces)
    old, compiler.MIN_UNIT_CHARS = compiler.MIN_UNIT_CHARS, min_chars
    try:
        units = compiler.translation_units(source, jobs)
    finally:
        compiler.MIN_UNIT_CHARS = old
    assert 1 <= len(units) <= min(jobs, len(pieces))
    assert len(units) == 1 or len(source) // min_chars >= len(units)
    back = []
    for unit in units:
        assert unit.startswith("PRE")
        back += unit.split(compiler.UNIT_BREAK)[1:]
    assert back == pieces
    assert all(unit.split(compiler.UNIT_BREAK)[1:] for unit in units)


def test_a_small_source_stays_one_file():
    source = "PRE" + compiler.UNIT_BREAK + "a" + compiler.UNIT_BREAK + "b"
    assert compiler.translation_units(source, 8) == [source]


def _groups(n: int = 1000) -> list[ElementwiseGroup]:
    return [ElementwiseGroup((TensorSpec((n,), float32),), (Step(op, (("in", 0),), float32),),
                             (0,), (n,)) for op in OPS]


@pytest.fixture
def split_three_ways(monkeypatch, tmp_path):
    """A fresh cache, three compiler jobs, and every source big enough to split."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(compiler, "compile_jobs", lambda: 3)
    monkeypatch.setattr(compiler, "MIN_UNIT_CHARS", 1)
    monkeypatch.setattr(compiler, "_loaded", {})
    runs = []
    real = compiler._run_all

    def counting(command, arg_lists, cwd=None):
        runs.append(arg_lists)
        return real(command, arg_lists, cwd)

    monkeypatch.setattr(compiler, "_run_all", counting)
    return runs


@needs_cc
def test_kernels_of_every_unit_run_from_one_library(split_three_ways):
    kernels = cpu.compile_groups(_groups())
    compiles, link = split_three_ways[-2:]
    assert len(compiles) == 3 and all("-c" in args for args in compiles)
    assert len(link) == 1 and sum(a.endswith(".o") for a in link[0]) == 3
    x = np.linspace(0.1, 3, 1000, dtype=np.float32)
    for kernel, reference in zip(kernels, OPS.values()):
        assert kernel.compiled
        out = np.empty_like(x)
        kernel.run([x], [out])
        np.testing.assert_allclose(out, reference(x), rtol=2e-6, atol=1e-6)


@needs_cc
def test_the_cache_entry_does_not_depend_on_how_many_units_built_it(split_three_ways,
                                                                    monkeypatch):
    cpu.compile_groups(_groups())
    built = compiler.stats["builds"]
    monkeypatch.setattr(compiler, "compile_jobs", lambda: 1)
    monkeypatch.setattr(compiler, "_loaded", {})
    kernels = cpu.compile_groups(_groups())
    assert compiler.stats["builds"] == built and all(k.compiled for k in kernels)


@needs_cc
def test_an_error_in_one_unit_is_a_compile_error_with_that_units_source(split_three_ways):
    source = ("int ej_one(void);\n" + compiler.UNIT_BREAK + "int ej_one(void) { return 1; }\n"
              + compiler.UNIT_BREAK + "int ej_two(void) { return undeclared_name; }\n")
    with pytest.raises(compiler.CompileError, match="undeclared_name") as info:
        compiler.load_library(source, "int ej_one(void);")
    assert "ej_one(void) { return 1; }" not in str(info.value)
    folder = compiler.cache_dir()
    assert not [n for n in os.listdir(folder) if n.endswith(".so")]


def test_a_hanging_unit_stops_every_compiler_process(split_three_ways, monkeypatch, tmp_path):
    pids = tmp_path / "pids"
    script = tmp_path / "cc"
    script.write_text('#!/bin/sh\nif [ "$1" = "--version" ]; then echo "slow cc 1"; exit 0; fi\n'
                      f'echo $$ >> {pids}\nexec sleep 60\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("CC", str(script))
    monkeypatch.setenv(compiler.TIMEOUT_VARIABLE, "1")
    monkeypatch.setattr(compiler, "_hung", {})
    source = "".join(compiler.UNIT_BREAK + f"int ej_f{i}(void) {{ return {i}; }}\n"
                     for i in range(3))
    with pytest.raises(compiler.CompilerUnavailable, match="did not finish within 1 s"):
        compiler.load_library(source, "int ej_f0(void);")
    started = pids.read_text().split()
    assert len(started) == 3
    for pid in started:
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
