"""jit.export (standalone C), jit.load_exported and jit.export_onnx against eager.

Each model is exported and built once per module (fixtures); `model_cli` runs as a
subprocess in an environment without Python on PATH. Broken weights files are fed to a
sanitizer build (`make SANITIZE=1`), so an out-of-bounds read would fail the test.
"""
from __future__ import annotations

import shutil
import subprocess
import threading

import numpy as np
import pytest

import eager
import eager.nn.functional as F
import jit
from eager import nn
from jit.demo import build_model

needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc)")


class NormGeluSoftmax(nn.Module):
    """LayerNorm, Linear, GELU (tanh form) and softmax: the transformer block's pieces."""

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(16)
        self.proj = nn.Linear(16, 12)

    def forward(self, x):
        h = self.proj(self.norm(x))
        gelu = 0.5 * h * (1.0 + ((h + 0.044715 * h ** 3) * 0.7978845608).tanh())
        return F.softmax(gelu, dim=-1)


def _models():
    eager.manual_seed(0)
    return {
        "mlp": (build_model("mlp"), eager.randn(3, 64, device="cpu")),
        "cnn": (build_model("cnn"), eager.randn(2, 1, 8, 8, device="cpu")),
        "norm": (NormGeluSoftmax(), eager.randn(5, 16, device="cpu")),
    }


def _make(directory, *args: str) -> None:
    done = subprocess.run(["make", "-s", *args], cwd=directory, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def models():
    """name -> (model in eval mode, example input, eager output)."""
    out = {}
    for name, (model, x) in _models().items():
        model.to("cpu").eval()
        with eager.no_grad():
            out[name] = (model, x, model(x).numpy())
    return out


@pytest.fixture(scope="module")
def exported(models, tmp_path_factory):
    """name -> (model, example input, eager output, built export directory)."""
    if shutil.which("cc") is None:
        pytest.skip("no C compiler (cc)")
    out = {}
    for name, (model, x, expected) in models.items():
        directory = tmp_path_factory.mktemp(name)
        jit.export(model, (x,), str(directory))
        _make(directory)
        out[name] = (model, x, expected, directory)
    return out


@pytest.fixture(scope="module")
def sanitized(exported, tmp_path_factory):
    """A copy of the MLP export built with -fsanitize=address,undefined."""
    directory = tmp_path_factory.mktemp("sanitized")
    source = exported["mlp"][3]
    for name in ("model.c", "model.h", "model_cli.c", "Makefile", "weights.bin"):
        shutil.copy(source / name, directory / name)
    _make(directory, "SANITIZE=1", "model_cli")
    return directory


def _run_cli(directory, *args, cwd=None):
    """model_cli in an environment with no Python (nor anything else) on PATH."""
    empty = directory / "empty_path"
    empty.mkdir(exist_ok=True)
    env = {"PATH": str(empty), "ASAN_OPTIONS": "detect_leaks=1"}
    return subprocess.run([str(directory / "model_cli"), *map(str, args)], cwd=cwd or directory,
                          env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("name", ["mlp", "cnn", "norm"])
def test_model_cli_matches_eager(exported, name, tmp_path):
    _, x, expected, directory = exported[name]
    np.save(tmp_path / "x.npy", x.numpy())
    done = _run_cli(directory, directory / "weights.bin", tmp_path / "x.npy", tmp_path / "y.npy")
    assert done.returncode == 0, done.stderr
    got = np.load(tmp_path / "y.npy")
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["mlp", "cnn", "norm"])
def test_load_exported_equals_eager(exported, name):
    model, x, expected, directory = exported[name]
    run = jit.load_exported(str(directory))
    np.testing.assert_allclose(run(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    eager.manual_seed(7)
    other = eager.randn(*x.shape, device="cpu")    # new data, same weights
    with eager.no_grad():
        np.testing.assert_allclose(run(other).numpy(), model(other).numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_exported_weights_are_frozen_at_export_time(exported):
    model, x, expected, directory = exported["mlp"]
    run = jit.load_exported(str(directory))
    with eager.no_grad():
        model[0].weight.mul_(2.0)
        changed = model(x).numpy()
        model[0].weight.mul_(0.5)
    assert not np.allclose(changed, expected)
    np.testing.assert_allclose(run(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_load_exported_is_thread_safe(exported):
    model, x, _, directory = exported["cnn"]
    run = jit.load_exported(str(directory))
    eager.manual_seed(3)
    inputs = [eager.randn(*x.shape, device="cpu") for _ in range(4)]
    with eager.no_grad():
        wanted = [model(t).numpy() for t in inputs]
    errors = []

    def worker(k):
        for _ in range(20):
            if not np.allclose(run(inputs[k]).numpy(), wanted[k], rtol=1e-5, atol=1e-6):
                errors.append(k)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_load_exported_rejects_wrong_input(exported):
    directory = exported["mlp"][3]
    run = jit.load_exported(str(directory))
    with pytest.raises(jit.ExportError, match=r"must be float32\[3, 64\], got float32\[4, 64\]"):
        run(np.zeros((4, 64), np.float32))


def test_bench_prints_latency(exported, tmp_path):
    _, x, _, directory = exported["mlp"]
    np.save(tmp_path / "x.npy", x.numpy())
    done = _run_cli(directory, "--bench", 5, directory / "weights.bin", tmp_path / "x.npy",
                    tmp_path / "y.npy")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("latency_us median ") and "runs 5" in done.stdout


def test_header_documents_shapes_and_dtypes(exported):
    header = (exported["cnn"][3] / "model.h").read_text()
    assert "#define MODEL_INPUT0_SHAPE {2, 1, 8, 8}" in header
    assert "#define MODEL_OUTPUT0_DTYPE MODEL_FLOAT32" in header
    assert "int model_run(const void *const *in, void *const *out);" in header


def _broken_weights(kind: str, good: bytes, foreign: bytes) -> bytes:
    if kind == "truncated":
        return good[: len(good) // 2]
    if kind == "empty":
        return b""
    if kind == "bitflip":
        data = bytearray(good)
        data[len(data) - 20] ^= 0x10   # inside the last tensor's data
        return bytes(data)
    if kind == "bad_table":
        data = bytearray(good)
        data[32 + 16] = 0xFF           # first tensor's size field: far past the file
        return bytes(data)
    if kind == "foreign":
        return b"\x89PNG\r\n\x1a\n" + good[8:]
    return foreign                     # another model's weights (checksum is fine)


@pytest.mark.parametrize("kind, message", [
    ("truncated", "checksum mismatch"), ("empty", "too short"), ("bitflip", "checksum mismatch"),
    ("bad_table", "checksum mismatch"), ("foreign", "bad magic"),
    ("other_model", "weights of another model"),
])
def test_broken_weights_fail_cleanly_under_sanitizers(sanitized, exported, tmp_path, kind,
                                                      message):
    good = (sanitized / "weights.bin").read_bytes()
    foreign = (exported["cnn"][3] / "weights.bin").read_bytes()
    (tmp_path / "w.bin").write_bytes(_broken_weights(kind, good, foreign))
    np.save(tmp_path / "x.npy", exported["mlp"][1].numpy())
    done = _run_cli(sanitized, tmp_path / "w.bin", tmp_path / "x.npy", tmp_path / "y.npy")
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Sanitizer" not in done.stderr and "runtime error" not in done.stderr
    assert not (tmp_path / "y.npy").exists()


def test_sanitized_build_runs_clean(sanitized, exported, tmp_path):
    _, x, expected, _ = exported["mlp"]
    np.save(tmp_path / "x.npy", x.numpy())
    done = _run_cli(sanitized, sanitized / "weights.bin", tmp_path / "x.npy", tmp_path / "y.npy")
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, rtol=1e-5, atol=1e-6)


def test_table_entry_past_the_file_is_refused_even_with_a_valid_checksum(sanitized, tmp_path):
    from jit.export.weights import checksum
    data = bytearray((sanitized / "weights.bin").read_bytes())
    data[32 + 16:32 + 24] = (1 << 40).to_bytes(8, "little")   # tensor 0's byte size
    data[-8:] = checksum(bytes(data[:-8])).to_bytes(8, "little")
    (tmp_path / "w.bin").write_bytes(bytes(data))
    np.save(tmp_path / "x.npy", np.zeros((3, 64), np.float32))
    done = _run_cli(sanitized, tmp_path / "w.bin", tmp_path / "x.npy", tmp_path / "y.npy")
    assert done.returncode == 2 and "outside the data region" in done.stderr, done.stderr
    assert "Sanitizer" not in done.stderr


def test_missing_weights_and_bad_npy(sanitized, tmp_path):
    done = _run_cli(sanitized, tmp_path / "nope.bin", tmp_path / "x.npy", tmp_path / "y.npy")
    assert done.returncode == 2 and "cannot open" in done.stderr
    np.save(tmp_path / "x.npy", np.zeros((3, 65), np.float32))
    done = _run_cli(sanitized, sanitized / "weights.bin", tmp_path / "x.npy", tmp_path / "y.npy")
    assert done.returncode == 3 and "of shape (3, 64)" in done.stderr
    done = _run_cli(sanitized, sanitized / "weights.bin")
    assert done.returncode == 1 and "usage" in done.stderr


def test_load_exported_reports_corrupt_weights(exported, tmp_path):
    directory = tmp_path / "copy"
    shutil.copytree(exported["mlp"][3], directory)
    (directory / "libmodel.so").unlink()      # a fresh path: dlopen must not reuse a handle
    data = bytearray((directory / "weights.bin").read_bytes())
    data[200] ^= 1
    (directory / "weights.bin").write_bytes(bytes(data))
    with pytest.raises(jit.ExportError, match="checksum mismatch"):
        jit.load_exported(str(directory))


@needs_cc
def test_integer_indexing_and_several_outputs(tmp_path):
    table = eager.arange(20, dtype=eager.float32, device="cpu").reshape(5, 4)

    def fn(x, idx):
        return table[idx] + x, x[:, idx[:2]].exp()

    x = eager.ones(3, 4, device="cpu")
    idx = eager.tensor([3, -1, 0], device="cpu")
    jit.export(fn, (x, idx), str(tmp_path))
    run = jit.load_exported(str(tmp_path))
    for got, want in zip(run(x, idx), fn(x, idx)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    with pytest.raises(jit.ExportError, match="index 7 is out of range"):
        run(x, eager.tensor([7, 0, 0], device="cpu"))


@pytest.mark.parametrize("name", ["mlp", "cnn", "norm"])
def test_onnx_export_matches_eager(models, name, tmp_path):
    onnx = pytest.importorskip("onnx")
    model, x, expected = models[name]
    path = jit.export_onnx(model, (x,), str(tmp_path / "m.onnx"))
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version >= 17
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_onnx_refuses_op_without_counterpart(tmp_path):
    pytest.importorskip("onnx")
    with pytest.raises(jit.ExportError, match=r"'bitwise_invert' has no ONNX counterpart.*"
                                              r"test_export\.py"):
        jit.export_onnx(lambda x: ~x, (eager.tensor([1, 2], device="cpu"),),
                        str(tmp_path / "m.onnx"))


def _data_dependent(x):
    if x.sum() > 0:
        return x
    return -x


_state = eager.zeros(3, device="cpu")


def _updates_state(x):
    _state.add_(1.0)
    return x * _state


@pytest.mark.parametrize("fn, message", [
    (lambda x: eager.argsort(x, axis=-1), r"no C loop for op 'argsort'.*test_export\.py"),
    (_data_dependent, r"reads a tensor value on the host.*test_export\.py"),
    (_updates_state, r"updates a tensor in place.*test_export\.py"),
    (nn.Dropout(0.5), r"random op in node .*uniform|random op in node"),
])
def test_unexportable_graphs_raise_export_error(fn, message, tmp_path):
    with pytest.raises(jit.ExportError, match=message):
        jit.export(fn, (eager.ones(4, 3, device="cpu"),), str(tmp_path))


def test_names_on_the_decorator_and_the_package():
    from jit import jit as decorator
    assert decorator.export is jit.export and decorator.load_exported is jit.load_exported
    assert decorator.export_onnx is jit.export_onnx and decorator.ExportError is jit.ExportError
    assert issubclass(jit.ExportError, ValueError)


def test_module_in_train_mode_with_dropout_is_refused_but_eval_exports(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    with pytest.raises(jit.ExportError, match="model.eval()"):
        jit.export(model, (eager.ones(1, 4, device="cpu"),), str(tmp_path))
    model.eval()
    jit.export(model, (eager.ones(1, 4, device="cpu"),), str(tmp_path))
    assert (tmp_path / "model.c").exists()


def _cblas_available(tmp_path) -> bool:
    probe = tmp_path / "probe.c"
    probe.write_text("#include <cblas.h>\nint main(void) { return 0; }\n")
    done = subprocess.run(["cc", str(probe), "-o", str(tmp_path / "probe"), "-lopenblas"],
                          capture_output=True, check=False)
    return done.returncode == 0


def test_blas_build_matches_eager(exported, tmp_path):
    if not _cblas_available(tmp_path):
        pytest.skip("no CBLAS (cblas.h and -lopenblas) to link")
    _, x, expected, source = exported["cnn"]
    directory = tmp_path / "blas"
    shutil.copytree(source, directory)
    _make(directory, "clean")
    _make(directory, "BLAS=1", "model_cli")
    np.save(tmp_path / "x.npy", x.numpy())
    done = _run_cli(directory, directory / "weights.bin", tmp_path / "x.npy", tmp_path / "y.npy")
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, rtol=1e-5, atol=1e-6)


def _movement_and_reductions(x, y):
    return (x.flip((0,)), x[::-1, 1::2], eager.concat([x, y.T], axis=0), x.T @ y.T,
            eager.pad(x, ((1, 0), (2, 1)), value=3.0), x.reshape(4, 3).permute(1, 0) * 2,
            y.sum(axis=0, keepdims=True) + x.max(axis=1, keepdims=True),
            eager.argmax(x, axis=1), x.unsqueeze(0).expand(2, 3, 4).sum(axis=0), x[1],
            x[:, 2:3], eager.logical_and(x > 0, y.T < 0.5))


@needs_cc
def test_movement_ops_and_reductions_in_c_and_onnx(tmp_path):
    """Ops on arguments (nothing folds away): every movement loop, arg-reduction and a
    bool output, in C and in onnxruntime."""
    eager.manual_seed(1)
    x, y = eager.randn(3, 4, device="cpu"), eager.randn(4, 3, device="cpu")
    expected = [t.numpy() for t in _movement_and_reductions(x, y)]
    jit.export(_movement_and_reductions, (x, y), str(tmp_path))
    got = jit.load_exported(str(tmp_path))(x, y)
    for g, want in zip(got, expected):
        assert g.numpy().dtype == want.dtype
        np.testing.assert_allclose(g.numpy(), want, rtol=1e-6, atol=1e-6)
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    path = jit.export_onnx(_movement_and_reductions, (x, y), str(tmp_path / "m.onnx"))
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    outs = session.run(None, {i.name: v.numpy() for i, v in zip(session.get_inputs(), (x, y))})
    for g, want in zip(outs, expected):
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-6)


@needs_cc
def test_reexport_into_the_same_directory_loads_the_new_model(tmp_path):
    x = eager.ones(2, 3, device="cpu")
    jit.export(lambda t: t * 2.0, (x,), str(tmp_path))
    first = jit.load_exported(str(tmp_path))
    jit.export(lambda t: t + 5.0, (x,), str(tmp_path))
    second = jit.load_exported(str(tmp_path))
    assert first(x).tolist() == [[2.0] * 3] * 2       # each load has its own library
    assert second(x).tolist() == [[6.0] * 3] * 2


def test_dtype_without_a_c_type_is_refused(tmp_path):
    with pytest.raises(jit.ExportError, match="float16, which has no C type"):
        jit.export(lambda t: t * 2, (eager.ones(2, dtype=eager.float16, device="cpu"),),
                   str(tmp_path))


def _matmuls(a, b, c, d, v):
    return a @ b, c @ d, v @ b, (a @ b)[:, :10] @ b[:10, :], a @ b[:, :5], b.T @ v


@needs_cc
def test_matmul_shapes_through_every_gemm_path(tmp_path):
    """Row blocks of 4 and a remainder, wide and narrow (< 16 columns) B, batch dims
    broadcast, and 1-D operands, against numpy's matmul."""
    eager.manual_seed(2)
    args = (eager.randn(6, 33, device="cpu"), eager.randn(33, 150, device="cpu"),
            eager.randn(2, 1, 5, 7, device="cpu"), eager.randn(3, 7, 20, device="cpu"),
            eager.randn(33, device="cpu"))
    jit.export(_matmuls, args, str(tmp_path))
    got = jit.load_exported(str(tmp_path))(*args)
    for g, want in zip(got, _matmuls(*args)):
        assert g.shape == want.shape
        np.testing.assert_allclose(g.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["cnn", "norm"])
def test_sanitized_builds_of_every_loop_kind_run_clean(exported, name, tmp_path):
    """im2col indexing, padding, pooling reductions, normalization: no sanitizer report."""
    _, x, expected, source = exported[name]
    directory = tmp_path / "asan"
    shutil.copytree(source, directory)
    _make(directory, "clean")
    _make(directory, "SANITIZE=1", "model_cli")
    np.save(tmp_path / "x.npy", x.numpy())
    done = _run_cli(directory, directory / "weights.bin", tmp_path / "x.npy", tmp_path / "y.npy")
    assert done.returncode == 0 and "Sanitizer" not in done.stderr, done.stderr
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, rtol=1e-5, atol=1e-6)


_gate = eager.ones(3, device="cpu")


def _checks_a_weight(x):
    if _gate.sum() > 0:       # a host read of bound state: decided once the weights freeze
        return x * _gate
    return x


def test_guards_on_frozen_weights_are_settled_at_export(tmp_path):
    x = eager.full((2, 3), 2.0, device="cpu")
    jit.export(_checks_a_weight, (x,), str(tmp_path))
    assert "guard" not in (tmp_path / "model.c").read_text()
    if shutil.which("cc") is not None:
        assert jit.load_exported(str(tmp_path))(x).tolist() == [[2.0] * 3] * 2


@pytest.mark.skipif(not hasattr(nn, "TransformerEncoderLayer"), reason="no transformer in nn")
def test_transformer_encoder_exports_to_c_and_onnx(tmp_path):
    eager.manual_seed(4)
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32,
                                       activation="gelu", batch_first=True)
    encoder = nn.TransformerEncoder(layer, num_layers=2).to("cpu").eval()
    x = eager.randn(2, 5, 16, device="cpu")
    with eager.no_grad():
        expected = encoder(x).numpy()
    if shutil.which("cc") is not None:
        jit.export(encoder, (x,), str(tmp_path))
        got = jit.load_exported(str(tmp_path))(x).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    path = jit.export_onnx(encoder, (x,), str(tmp_path / "m.onnx"))
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_load_exported_of_a_directory_without_an_export(tmp_path):
    with pytest.raises(jit.ExportError, match="no readable model.json"):
        jit.load_exported(str(tmp_path))
