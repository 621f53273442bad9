"""`eager.save` / `eager.load`: nested dicts, lists and tuples of tensors and plain values
(model and optimizer state dicts), in a zip file that is not pickle.

Layout: `manifest.json` describes the object tree, with each tensor replaced by a
reference to `tensors/<n>.npy` (plain `.npy` arrays, read with allow_pickle=False).
Writes are atomic: a temporary file in the same directory is renamed over the target,
so a crash never leaves a half-written checkpoint. Loading checks the format marker, each
member's CRC and every tensor's dtype and shape against the manifest, and returns nothing
unless everything checks out.

>>> import eager, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.eager")
>>> eager.save({"w": eager.ones(2), "step": 3, "betas": (0.9, 0.99)}, path)
>>> eager.load(path)
{'w': tensor([1., 1.]), 'step': 3, 'betas': (0.9, 0.99)}
"""
from __future__ import annotations

import io
import json
import os
import struct
import tempfile
import zipfile
import zlib
from typing import Any

import numpy as np

from eager.tensor import Tensor
from kernels.errors import EagerError

FORMAT = "eager-jit checkpoint"
VERSION = 1
_MANIFEST = "manifest.json"
_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64")
_SCALARS = (bool, int, float, str, type(None))


class SaveError(EagerError, TypeError):
    """`eager.save` was given something it cannot store (an object that is not a tensor,
    a number, a string, None, or a dict/list/tuple of those)."""


class LoadError(EagerError, ValueError):
    """`eager.load` was given a file that is not a complete eager checkpoint (truncated,
    corrupt, or some other format)."""


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write `obj` to `path` atomically (temp file in the same directory, then rename).

    >>> import eager, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "model.eager")
    >>> eager.save(eager.nn.Linear(2, 1).state_dict(), path)
    >>> sorted(eager.load(path))
    ['bias', 'weight']
    """
    arrays: list[np.ndarray] = []
    manifest = {"format": FORMAT, "version": VERSION, "root": _encode(obj, arrays, "obj")}
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".eager", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
                zf.writestr(_MANIFEST, json.dumps(manifest, allow_nan=True))
                for i, array in enumerate(arrays):
                    buffer = io.BytesIO()
                    np.lib.format.write_array(buffer, array, allow_pickle=False)
                    zf.writestr(f"tensors/{i}.npy", buffer.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _encode(obj: Any, arrays: list, where: str) -> Any:
    if isinstance(obj, Tensor):
        data = obj._data if obj.device == "cpu" else obj._data.get()
        arrays.append(data)
        return {"tensor": len(arrays) - 1, "dtype": data.dtype.name, "shape": list(data.shape),
                "device": obj.device, "requires_grad": obj.requires_grad}
    if type(obj) in _SCALARS:
        return obj
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": items}
    if isinstance(obj, dict):
        pairs = []
        for key, value in obj.items():
            if type(key) not in _SCALARS:
                raise SaveError(f"save: dict key {key!r} at {where} is a "
                                f"{type(key).__name__}; keys must be str, int, float, bool "
                                "or None")
            pairs.append([key, _encode(value, arrays, f"{where}[{key!r}]")])
        return {"dict": pairs}
    raise SaveError(f"save: cannot store a {type(obj).__name__} at {where}; a checkpoint "
                    "holds tensors, numbers, strings, None and dicts/lists/tuples of them")


def load(path: str | os.PathLike, device: str | None = None) -> Any:
    """Read an object written by `save`. Tensors go back to the device they were saved
    from, or to `device` when given (e.g. "cpu" for a checkpoint saved on a GPU).

    >>> import eager, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.eager")
    >>> eager.save([eager.arange(3)], path)
    >>> eager.load(path, device="cpu")[0].tolist()
    [0, 1, 2]
    """
    path = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = _read_manifest(zf, path)
            arrays = {}
            for name in zf.namelist():
                if name.startswith("tensors/"):
                    with zf.open(name) as member:
                        arrays[name] = np.lib.format.read_array(
                            io.BytesIO(member.read()), allow_pickle=False)
    except (LoadError, FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            KeyError, struct.error, zlib.error, NotImplementedError) as exc:
        raise LoadError(f"load: {path!r} is not a readable eager checkpoint "
                        f"({type(exc).__name__}: {exc}); it may be truncated or corrupt"
                        ) from None
    return _decode(manifest["root"], arrays, device, path)


def _read_manifest(zf: zipfile.ZipFile, path: str) -> dict:
    if _MANIFEST not in zf.namelist():
        raise LoadError(f"load: {path!r} is a zip file but not an eager checkpoint (no "
                        f"{_MANIFEST}); write checkpoints with eager.save")
    try:
        manifest = json.loads(zf.read(_MANIFEST).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LoadError(f"load: the manifest of {path!r} is corrupt ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise LoadError(f"load: {path!r} is not an eager checkpoint (format marker "
                        f"{manifest.get('format') if isinstance(manifest, dict) else None!r})")
    if manifest.get("version") != VERSION:
        raise LoadError(f"load: {path!r} has checkpoint version {manifest.get('version')!r}; "
                        f"this eager-jit reads version {VERSION}")
    return manifest


def _decode(node: Any, arrays: dict, device: str | None, path: str) -> Any:
    if type(node) in _SCALARS:
        return node
    if not isinstance(node, dict) or len(node) == 0:
        raise LoadError(f"load: the manifest of {path!r} holds an unknown entry {node!r}")
    if "tensor" in node:
        return _decode_tensor(node, arrays, device, path)
    if "list" in node:
        return [_decode(v, arrays, device, path) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, arrays, device, path) for v in node["tuple"])
    if "dict" in node:
        return {key: _decode(value, arrays, device, path) for key, value in node["dict"]}
    raise LoadError(f"load: the manifest of {path!r} holds an unknown entry {node!r}")


def _decode_tensor(node: dict, arrays: dict, device: str | None, path: str) -> Tensor:
    from eager.creation import asarray

    name = f"tensors/{node['tensor']}.npy"
    array = arrays.get(name)
    if array is None:
        raise LoadError(f"load: {path!r} is missing {name}; the file is incomplete")
    if node["dtype"] not in _DTYPES or array.dtype.name != node["dtype"] or \
            list(array.shape) != list(node["shape"]):
        raise LoadError(f"load: {name} in {path!r} holds {array.dtype.name}{list(array.shape)} "
                        f"but the manifest says {node['dtype']}{node['shape']}")
    out = asarray(array, device=device or node["device"])
    return out.requires_grad_() if node.get("requires_grad") else out
