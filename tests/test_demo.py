"""A short end-to-end run of `python -m jit.demo` (few epochs; CI-sized)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from jit import demo
from jit.data import load_digits

pytestmark = pytest.mark.slow


def test_digits_file_is_the_full_dataset():
    images, labels = load_digits()
    assert images.shape == (1797, 64) and labels.shape == (1797,)
    assert images.min() == 0 and images.max() == 16
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_split_is_seeded_and_disjoint():
    a = demo.split_digits(0, "mlp")
    b = demo.split_digits(0, "mlp")
    c = demo.split_digits(1, "cnn")
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert len(a[1]) + len(a[3]) == 1797 and c[0].shape[1:] == (1, 8, 8)
    assert not np.array_equal(a[1], c[1])


def test_the_demo_finds_the_jit_decorator():
    import jit as jit_package

    assert demo.find_jit() == (jit_package.jit, "")


def test_short_mlp_run_learns_saves_and_plots(tmp_path, capsys, monkeypatch):
    from jit import jit

    jitted = []

    def recording_jit(fn):
        jitted.append(jit(fn))
        return jitted[-1]

    monkeypatch.setattr(demo, "find_jit", lambda: (recording_jit, ""))
    result = demo.main(["--epochs", "3", "--quiet", "--out", str(tmp_path), "--seed", "2"])
    eager_run = result["eager"]
    assert eager_run.accuracy > 0.85            # an untrained model scores about 0.1
    assert eager_run.losses[-1] < eager_run.losses[0] / 3
    assert len(eager_run.losses) == 3 * (1438 // 64)
    assert result["restored_accuracy"] == eager_run.accuracy
    assert os.path.getsize(result["checkpoint"]) > 0
    if result["plot"] is not None:
        with open(result["plot"], "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    out = capsys.readouterr().out
    assert "phase | first step | time/step" in out
    assert "eager |" in out
    assert "speed-up" in out
    jit_run = result["jit"]
    assert jit_run.accuracy > 0.85
    assert np.allclose(jit_run.losses, eager_run.losses, rtol=1e-4, atol=1e-5)
    # The jit half really replayed compiled code: a step that failed to compile would run
    # eagerly and still match eager's losses.
    (step,) = jitted
    info = step.cache_info()
    assert info.variants >= 1 and info.eager_calls == 0
    assert info.hits + info.misses == len(jit_run.losses) and info.hits > info.misses


def test_short_cnn_run_learns(tmp_path):
    result = demo.main(["--model", "cnn", "--epochs", "2", "--quiet", "--no-jit",
                        "--out", str(tmp_path)])
    assert result["eager"].accuracy > 0.7
    assert result["jit"] is None


def test_command_line_help_and_errors():
    root = os.path.dirname(os.path.dirname(os.path.abspath(demo.__file__)))
    env = {**os.environ, "PYTHONPATH": root}
    done = subprocess.run([sys.executable, "-m", "jit.demo", "--help"], capture_output=True,
                          text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0 and "--epochs" in done.stdout and "--model" in done.stdout
    with pytest.raises(SystemExit):
        demo.parse_args(["--epochs", "0"])
    with pytest.raises(SystemExit):
        demo.parse_args(["--model", "resnet"])


def test_without_jit_the_demo_says_so_and_runs_the_eager_half(tmp_path, capsys, monkeypatch):
    import jit as jit_package

    if hasattr(jit_package, "jit"):
        monkeypatch.delattr(jit_package, "jit")
    assert demo.find_jit() == (None, ("jit: not available yet (the jit package does not "
                                     "provide `jit`)"))
    result = demo.main(["--epochs", "1", "--quiet", "--out", str(tmp_path)])
    assert result["jit"] is None
    out = capsys.readouterr().out
    assert "jit: not available yet" in out and "\n jit " not in out


@pytest.mark.gpu
def test_demo_trains_on_cuda(tmp_path):
    result = demo.main(["--device", "cuda", "--epochs", "3", "--quiet", "--out", str(tmp_path)])
    assert result["eager"].accuracy > 0.85
    assert result["restored_accuracy"] == result["eager"].accuracy
