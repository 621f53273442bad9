"""eager.save / eager.load: round trips, atomic writes, and files that must be refused."""
import errno
import json
import os
import signal
import stat
import subprocess
import sys
import time
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


# --- saving under faults -------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KILLED_SAVE = r"""
import sys, time, zipfile
import eager
import eager.atomic_write
if sys.argv[3] == "named":
    eager.atomic_write._PROC_FDS = "/no/such/folder"   # force a named temporary
real = zipfile.ZipFile.writestr
calls = [0]
def slow(self, *args, **kwargs):
    calls[0] += 1
    real(self, *args, **kwargs)
    if calls[0] == 3:   # the manifest and one tensor are written, more are to come
        print("writing", flush=True)
        time.sleep(60)
zipfile.ZipFile.writestr = slow
value = float(sys.argv[2])
eager.save({"w": [eager.full((1 << 20,), value) for _ in range(4)], "v": value}, sys.argv[1])
"""


def _kill_mid_save(path, value: float, mode: str = "nameless") -> None:
    child = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(path), str(value), mode],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "writing\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL


def test_saves_killed_mid_write_leave_nothing_and_the_old_file_intact(tmp_path):
    path = tmp_path / "ckpt.eager"
    eager.save({"v": 1.0}, path)
    for attempt in range(4):
        _kill_mid_save(path, 10.0 + attempt)
        assert os.listdir(tmp_path) == ["ckpt.eager"]
        assert eager.load(path) == {"v": 1.0}


def test_temporaries_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    """Where a temporary must have a name while it is written, the next save to the same
    folder removes those of processes that no longer run."""
    path = tmp_path / "ckpt.eager"
    eager.save({"v": 1.0}, path)
    for attempt in range(3):
        _kill_mid_save(path, 10.0 + attempt, mode="named")
        assert eager.load(path) == {"v": 1.0}
        # each save removed the temporary of the one killed before it
        (leftover,) = [n for n in os.listdir(tmp_path) if n != "ckpt.eager"]
        assert leftover.startswith(".ej-tmp-") and leftover.endswith(".partial")
    eager.save({"v": 2.0}, path)
    assert os.listdir(tmp_path) == ["ckpt.eager"]
    assert eager.load(path) == {"v": 2.0}


SAVING_LOOP = r"""
import sys
import eager
big = {"w": [eager.full((1 << 20,), 5.0) for _ in range(4)], "v": 5.0}
print("saving", flush=True)
while True:
    eager.save(big, sys.argv[1])
"""


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45])
def test_saves_killed_at_any_moment_leave_a_loadable_file(tmp_path, delay):
    path = tmp_path / "ckpt.eager"
    eager.save({"v": 1.0}, path)
    child = subprocess.Popen([sys.executable, "-c", SAVING_LOOP, str(path)], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "saving\n"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    back = eager.load(path)
    assert back["v"] in (1.0, 5.0)
    if back["v"] == 5.0:
        assert all(t.tolist()[::100000] == [5.0] * 11 for t in back["w"])
    eager.save({"v": 3.0}, path)
    assert os.listdir(tmp_path) == ["ckpt.eager"]


def test_overwriting_keeps_the_file_mode_and_new_files_follow_the_umask(tmp_path):
    path = tmp_path / "ckpt.eager"
    eager.save({"v": 1}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask
    os.chmod(path, 0o640)
    eager.save({"v": 2}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert eager.load(path) == {"v": 2}


def test_saving_through_a_symlink_writes_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "ckpt.eager"
    eager.save({"v": 1}, target)
    link = tmp_path / "latest.eager"
    link.symlink_to(os.path.join("real", "ckpt.eager"))
    eager.save({"v": 2}, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "ckpt.eager")
    assert eager.load(target) == {"v": 2}
    dangling = tmp_path / "next.eager"
    dangling.symlink_to(tmp_path / "real" / "new.eager")
    eager.save({"v": 3}, dangling)
    assert dangling.is_symlink() and eager.load(tmp_path / "real" / "new.eager") == {"v": 3}
    assert sorted(os.listdir(tmp_path / "real")) == ["ckpt.eager", "new.eager"]


def test_file_system_errors_are_save_errors_naming_the_path_and_cause(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-folder" / "ckpt.eager"
    with pytest.raises(eager.SaveError, match=r"no-such-folder.*No such file or directory"):
        eager.save({"v": 1}, missing)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(eager.SaveError, match="a-folder.*Is a directory") as info:
        eager.save({"v": 1}, folder)
    assert isinstance(info.value, OSError)   # code that caught OSError still does

    path = tmp_path / "ckpt.eager"
    eager.save({"v": 1}, path)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", disk_full)
    with pytest.raises(eager.SaveError, match="ckpt.eager.*No space left on device"):
        eager.save({"t": eager.ones(3)}, path)
    monkeypatch.undo()
    assert eager.load(path) == {"v": 1}
    assert sorted(os.listdir(tmp_path)) == ["a-folder", "ckpt.eager"]


def test_too_deep_or_cyclic_objects_are_save_errors(tmp_path):
    deep: list = []
    for _ in range(150):
        deep = [deep]
    with pytest.raises(eager.SaveError, match="nested more than 100"):
        eager.save(deep, tmp_path / "deep.eager")
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(eager.SaveError, match="contains itself"):
        eager.save({"c": cycle}, tmp_path / "cycle.eager")
    assert os.listdir(tmp_path) == []


# --- crafted manifests ---------------------------------------------------------------

def _with_manifest(tmp_path, manifest: str | dict, name: str = "crafted.eager"):
    """A checkpoint whose tensors/0.npy is float32[4] and whose manifest is `manifest`."""
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", manifest if isinstance(manifest, str)
                    else json.dumps(manifest))
        with zf.open("tensors/0.npy", "w") as f:
            np.save(f, np.arange(4, dtype=np.float32))
    return path


def _root(root) -> dict:
    return {"format": "eager-jit checkpoint", "version": 1, "root": root}


GOOD_TENSOR = {"tensor": 0, "dtype": "float32", "shape": [4], "device": "cpu"}


@pytest.mark.parametrize("manifest,match", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply|corrupt"),
    (json.dumps(_root(None)).replace("null", '{"list": [' * 300 + "]}" * 300),
     "more than 100 deep|nested too deeply"),
    (_root({**GOOD_TENSOR, "shape": [10**30]}), "has .* bytes but the manifest says"),
    (_root({**GOOD_TENSOR, "shape": [2**62, 2**62]}), "bytes but the manifest says"),
    (_root({"tensor": 0, "dtype": "float32", "shape": [4]}), "keys"),
    (_root({**GOOD_TENSOR, "tensor": "0"}), "not a tensor number"),
    (_root({**GOOD_TENSOR, "tensor": True}), "not a tensor number"),
    (json.dumps(_root({**GOOD_TENSOR, "tensor": 12345})).replace("12345", "1" * 5000),
     "corrupt"),
    (_root({**GOOD_TENSOR, "dtype": ["float32"]}), "dtype"),
    (_root({**GOOD_TENSOR, "shape": "4"}), "shape"),
    (_root({**GOOD_TENSOR, "shape": [4.0]}), "shape"),
    (_root({**GOOD_TENSOR, "device": "tpu"}), "device"),
    (_root({**GOOD_TENSOR, "requires_grad": "yes"}), "requires_grad"),
    (_root({"dict": [["k"]]}), r"\[key, value\] pair"),
    (_root({"dict": [[["unhashable"], 1]]}), r"\[key, value\] pair"),
    (_root({"dict": {"k": 1}}), "unknown entry"),
    (_root({"list": 3}), "unknown entry"),
    (_root({"list": [], "tuple": []}), "unknown entry"),
    (_root([1, 2]), "unknown entry"),
    ({"format": "eager-jit checkpoint", "version": 1}, "no 'root'"),
    ({"format": "eager-jit checkpoint", "version": True, "root": 1}, "version True"),
    ("[]", "not an eager checkpoint"),
])
def test_crafted_manifests_raise_load_error(tmp_path, manifest, match):
    with pytest.raises(eager.LoadError, match=match):
        eager.load(_with_manifest(tmp_path, manifest))


_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**70),
                          st.floats(allow_nan=False), st.text(max_size=4))
_tensor_fields = {
    "tensor": st.sampled_from([0, 1, -1, "0", 0.5, True, None, [0], 2**64]),
    "dtype": st.sampled_from(["float32", "float64", "int8", "object", "", 3, None, {}]),
    "shape": st.one_of(st.just([4]), st.just([2, 2]), st.just([]), st.just("4"),
                       st.lists(st.one_of(st.integers(-2, 2**80), st.floats(), st.booleans(),
                                          st.none()), max_size=4)),
    "device": st.sampled_from(["cpu", "tpu", "", 0, None, ["cpu"]]),
    "requires_grad": st.sampled_from([True, False, 1, "yes", None]),
}
_tensor_nodes = st.fixed_dictionaries(
    {}, optional={**_tensor_fields, "extra": _json_scalars}).map(
    lambda d: {**d, "tensor": d.get("tensor", 0)} if d else {"tensor": 0})
_kinds = st.sampled_from(["list", "tuple", "dict", "tensor", "other"])
_nodes = st.recursive(
    st.one_of(_json_scalars, _tensor_nodes),
    lambda kids: st.one_of(
        st.builds(lambda kind, items: {kind: items}, _kinds,
                  st.one_of(st.lists(kids, max_size=3),
                            st.lists(st.lists(kids, max_size=3), max_size=3), kids)),
        st.dictionaries(st.one_of(_kinds, st.text(max_size=3)), kids, max_size=3),
        st.lists(kids, max_size=3)),
    max_leaves=12)
_manifests = st.one_of(
    _nodes.map(_root),
    st.fixed_dictionaries({}, optional={"format": st.sampled_from(["eager-jit checkpoint", 1]),
                                        "version": st.sampled_from([1, 1.0, "1", None]),
                                        "root": _nodes}),
    _nodes)


@settings(max_examples=150, deadline=None)
@given(_manifests)
def test_fuzzed_manifests_load_or_raise_load_error(tmp_path_factory, manifest):
    path = _with_manifest(tmp_path_factory.mktemp("fuzz"), manifest)
    try:
        back = eager.load(path)
    except eager.LoadError:
        return
    assert isinstance(back, (dict, list, tuple, eager.Tensor, *_SCALAR_TYPES))


_SCALAR_TYPES = (bool, int, float, str, type(None))


def test_an_npy_header_declaring_a_huge_shape_is_refused_before_allocating(tmp_path):
    path = _with_manifest(tmp_path, _root(GOOD_TENSOR))
    with zipfile.ZipFile(path) as zf:
        member = zf.read("tensors/0.npy")
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }"
    header += b" " * (len(member) - 10 - 16 - len(header) - 1) + b"\n"
    crafted = member[:8] + len(header).to_bytes(2, "little") + header + member[-16:]
    assert len(crafted) == len(member)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(_root(GOOD_TENSOR)))
        zf.writestr("tensors/0.npy", crafted)
    with pytest.raises(eager.LoadError, match=r"holds float32\[1000000000000\] but the "
                                              r"manifest says float32\[4\]"):
        eager.load(path)


def test_a_tensor_referenced_twice_loads_as_two_tensors(tmp_path):
    back = eager.load(_with_manifest(tmp_path, _root({"list": [GOOD_TENSOR, GOOD_TENSOR]})))
    assert [t.tolist() for t in back] == [[0.0, 1.0, 2.0, 3.0]] * 2
    back[0][0] = 9.0
    assert back[1].tolist()[0] == 0.0
