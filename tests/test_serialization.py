"""eager.save / eager.load: round trips, atomic writes, and files that must be refused."""
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eager
import eager.nn.functional as F
from eager import nn, optim


def test_round_trip_of_nested_values_and_every_dtype(tmp_path):
    tensors = {name: eager.tensor(np.arange(6).reshape(2, 3)).astype(getattr(eager, name))
               for name in ["bool", "int8", "int16", "int32", "int64", "uint8", "float16",
                            "float32", "float64"]}
    obj = {"tensors": tensors, "scalar": eager.tensor(2.5), "empty": eager.zeros(0, 3),
           "view": eager.arange(12.0).reshape(3, 4).T[1:],
           1: [None, True, 3, 0.5, "text", (1, 2)], "nested": {"deep": [{"x": 1}]},
           "grad": eager.ones(2, requires_grad=True)}
    path = tmp_path / "obj.eager"
    eager.save(obj, path)
    back = eager.load(path)
    assert list(back) == list(obj)
    for name, t in tensors.items():
        assert back["tensors"][name].dtype == t.dtype
        assert back["tensors"][name].tolist() == t.tolist()
    assert back["scalar"].shape == () and back["scalar"].item() == 2.5
    assert back["empty"].shape == (0, 3)
    assert back["view"].tolist() == obj["view"].tolist()
    assert back[1] == [None, True, 3, 0.5, "text", (1, 2)]
    assert back["nested"] == {"deep": [{"x": 1}]}
    assert back["grad"].requires_grad and back["grad"].is_leaf


def test_save_refuses_unsupported_objects_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "ckpt.eager"
    eager.save({"ok": eager.ones(1)}, path)
    with pytest.raises(eager.SaveError, match=r"cannot store a set at obj\['bad'\]\[1\]"):
        eager.save({"bad": [1, {2}]}, path)
    with pytest.raises(eager.SaveError, match="dict key"):
        eager.save({(1, 2): 3}, path)
    assert eager.load(path)["ok"].tolist() == [1.0]
    assert os.listdir(tmp_path) == ["ckpt.eager"]   # no temp file left behind


def test_save_is_atomic_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.eager"
    eager.save({"v": 1}, path)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np.lib.format, "write_array", crash)
    with pytest.raises(KeyboardInterrupt):
        eager.save({"v": 2, "t": eager.ones(3)}, path)
    monkeypatch.undo()
    assert eager.load(path) == {"v": 1}
    assert os.listdir(tmp_path) == ["ckpt.eager"]


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "ckpt.eager"
    eager.save({"w": eager.arange(1000.0), "step": 7}, path)
    return path


def test_truncated_file_is_refused(checkpoint):
    data = checkpoint.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        checkpoint.write_bytes(data[:cut])
        with pytest.raises(eager.LoadError, match="not a readable eager checkpoint"):
            eager.load(checkpoint)


def test_corrupted_tensor_bytes_fail_the_checksum(checkpoint):
    data = bytearray(checkpoint.read_bytes())
    at = data.index(np.arange(1000.0, dtype=np.float32)[500:502].tobytes())
    data[at] ^= 0xFF
    checkpoint.write_bytes(bytes(data))
    with pytest.raises(eager.LoadError, match="truncated or corrupt"):
        eager.load(checkpoint)


_ORIGINAL = {"w": np.arange(50, dtype=np.float32).reshape(5, 10), "meta": {"step": 3}}


def _saved_bytes() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "c.eager")
        eager.save({"w": eager.tensor(_ORIGINAL["w"]), "meta": _ORIGINAL["meta"]}, path)
        with open(path, "rb") as f:
            return f.read()


_BYTES = _saved_bytes()


@settings(max_examples=60, deadline=None)
@given(st.one_of(
    st.tuples(st.just("truncate"), st.integers(0, len(_BYTES) - 1)),
    st.tuples(st.just("flip"), st.integers(0, len(_BYTES) - 1), st.integers(1, 255))))
def test_damaged_files_raise_load_error_or_load_exactly(tmp_path_factory, damage):
    data = bytearray(_BYTES)
    if damage[0] == "truncate":
        data = data[:damage[1]]
    else:
        data[damage[1]] ^= damage[2]
    path = tmp_path_factory.mktemp("damaged") / "c.eager"
    path.write_bytes(bytes(data))
    try:
        back = eager.load(path)
    except eager.LoadError:
        return
    # Some bytes (timestamps, unused header fields) do not affect the content.
    assert back["meta"] == _ORIGINAL["meta"]
    assert np.array_equal(back["w"].numpy(), _ORIGINAL["w"])
    assert back["w"].dtype == eager.float32


def test_foreign_files_are_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(eager.LoadError, match="not a readable eager checkpoint"):
        eager.load(text)
    npz = tmp_path / "arrays.npz"
    np.savez(npz, a=np.ones(3))
    with pytest.raises(eager.LoadError, match="zip file but not an eager checkpoint"):
        eager.load(npz)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "something else"}))
    with pytest.raises(eager.LoadError, match="not an eager checkpoint"):
        eager.load(other)
    with pytest.raises(FileNotFoundError):
        eager.load(tmp_path / "missing.eager")


def test_manifest_and_arrays_must_agree(tmp_path):
    path = tmp_path / "bad.eager"
    manifest = {"format": "eager-jit checkpoint", "version": 1,
                "root": {"tensor": 0, "dtype": "float32", "shape": [5], "device": "cpu",
                         "requires_grad": False}}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
    with pytest.raises(eager.LoadError, match="missing tensors/0.npy"):
        eager.load(path)
    with zipfile.ZipFile(path, "a") as zf, zf.open("tensors/0.npy", "w") as f:
        np.save(f, np.zeros(4, np.float32))
    with pytest.raises(eager.LoadError, match=r"holds float32\[4\] but the manifest says "
                                              r"float32\[5\]"):
        eager.load(path)
    manifest["version"] = 99
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
    with pytest.raises(eager.LoadError, match="version 99"):
        eager.load(path)


def test_pickled_object_arrays_are_never_loaded(tmp_path):
    path = tmp_path / "evil.eager"
    manifest = {"format": "eager-jit checkpoint", "version": 1,
                "root": {"tensor": 0, "dtype": "object", "shape": [1], "device": "cpu"}}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        with zf.open("tensors/0.npy", "w") as f:
            np.save(f, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(eager.LoadError):
        eager.load(path)


def _training_setup():
    eager.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = optim.Adam(model.parameters(), lr=0.02)
    return model, opt


def _step(model, opt, x, y):
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()


def test_resumed_training_matches_uninterrupted_training(tmp_path):
    eager.manual_seed(1)
    batches = [(eager.randn(8, 6), eager.randint(0, 3, (8,))) for _ in range(6)]
    model, opt = _training_setup()
    for x, y in batches[:4]:
        _step(model, opt, x, y)
    path = tmp_path / "resume.eager"
    eager.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 4}, path)
    uninterrupted = [_step(model, opt, x, y) for x, y in batches[4:]]

    eager.manual_seed(123)   # a different initialisation, overwritten by the checkpoint
    fresh = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.5)
    ckpt = eager.load(path)
    fresh.load_state_dict(ckpt["model"])
    fresh_opt.load_state_dict(ckpt["optimizer"])
    resumed = [_step(fresh, fresh_opt, x, y) for x, y in batches[4:]]
    assert ckpt["epoch"] == 4
    assert resumed == uninterrupted


@pytest.mark.gpu
def test_cuda_checkpoint_loads_on_cpu(tmp_path):
    path = tmp_path / "gpu.eager"
    eager.save({"w": eager.arange(4.0, device="cuda")}, path)
    assert eager.load(path)["w"].device == "cuda"
    back = eager.load(path, device="cpu")["w"]
    assert back.device == "cpu" and back.tolist() == [0.0, 1.0, 2.0, 3.0]
