"""`eager.save` / `eager.load`: nested dicts, lists and tuples of tensors and plain values
(model and optimizer state dicts), in a zip file that is not pickle.

Layout: `manifest.json` describes the object tree, with each tensor replaced by a
reference to `tensors/<n>.npy` (plain `.npy` arrays, read with allow_pickle=False).
Writes are atomic (`eager.atomic_write`): a killed save leaves the old file intact and no
temporary behind, a symlink is written through, and an overwritten file keeps its mode.
Loading checks the format marker, the shape of every manifest entry, each member's CRC,
and every tensor's dtype, shape and byte count against the manifest before reading it,
and returns nothing unless everything checks out: a crafted or damaged file raises
LoadError, never another error or an allocation the file's bytes do not back.

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
import zipfile
import zlib
from typing import Any, BinaryIO

import numpy as np

from eager.atomic_write import write_atomically
from eager.tensor import Tensor
from kernels.dtypes import bfloat16
from kernels.errors import EagerError

FORMAT = "eager-jit checkpoint"
VERSION = 1
_MANIFEST = "manifest.json"
_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "complex64", "complex128")
# `.npy` has no bfloat16 (numpy would write an anonymous 2-byte void): its bits are stored
# as uint16, and the manifest's dtype says how to read them back.
_BITS = {"bfloat16": "uint16"} if bfloat16 is not None else {}
_SCALARS = (bool, int, float, str, type(None))
_DEVICES = ("cpu", "cuda")
MAX_DEPTH = 100  # containers inside containers; deeper (or cyclic) objects are refused
_MAX_MANIFEST_BYTES = 1 << 28
_MAX_NPY_HEADER = (1 << 16) + 12
_TENSOR_KEYS = {"tensor", "dtype", "shape", "device"}


class SaveError(EagerError, TypeError, OSError):
    """`eager.save` could not write the checkpoint: it was given something it cannot store
    (not a tensor, number, string, None, or a dict/list/tuple of those; a TypeError), or
    the file system refused (a missing or read-only folder, a full disk; an OSError)."""


class LoadError(EagerError, ValueError):
    """`eager.load` was given a file that is not a complete eager checkpoint (truncated,
    corrupt, or some other format)."""


def save(obj: Any, f: str | os.PathLike | BinaryIO) -> None:
    """Write `obj` to the path `f` atomically: it ends up holding the old checkpoint or the
    new one, whole, even if the process is killed, and no temporary file is left behind.
    A symlink is written through to its target; an existing file keeps its mode. `f` may
    also be a binary file object open for writing (`io.BytesIO`, `open(p, "wb")`), which
    gets the whole checkpoint in one write. Raises SaveError for an object that cannot be
    stored (a whole Module or optimizer among them: save its `state_dict()`) or a file
    that cannot be written.

    >>> import eager, io, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "model.eager")
    >>> eager.save(eager.nn.Linear(2, 1).state_dict(), path)
    >>> sorted(eager.load(path))
    ['bias', 'weight']
    >>> buffer = io.BytesIO(); eager.save({"step": 3}, buffer); _ = buffer.seek(0)
    >>> eager.load(buffer)
    {'step': 3}

    Numpy arrays (of the dtypes above) are stored too and load back as numpy arrays.
    """
    arrays: list[np.ndarray] = []
    manifest = {"format": FORMAT, "version": VERSION, "root": _encode(obj, arrays, "obj", 0)}
    text = json.dumps(manifest, allow_nan=True)

    def write(f) -> None:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr(_MANIFEST, text)
            for i, array in enumerate(arrays):
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, array, allow_pickle=False)
                zf.writestr(f"tensors/{i}.npy", buffer.getvalue())

    if _is_file_object(f, "write"):
        buffer = io.BytesIO()
        write(buffer)
        try:
            f.write(buffer.getvalue())
        except (OSError, ValueError) as exc:  # ValueError: a closed file
            raise SaveError(f"save: cannot write to the file object {f!r}: {exc}") from exc
        return
    path = f
    try:
        write_atomically(path, write)
    except OSError as exc:
        via = f" (the symlink's target {os.path.realpath(path)!r})" if os.path.islink(path) else ""
        raise SaveError(f"save: cannot write {os.fspath(path)!r}{via}: "
                        f"{exc.strerror or exc}; the old file, if any, is unchanged") from exc


def _is_file_object(f: Any, method: str) -> bool:
    return not isinstance(f, (str, bytes, os.PathLike)) and callable(getattr(f, method, None))


def _encode(obj: Any, arrays: list, where: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise SaveError(f"save: {where} is nested more than {MAX_DEPTH} containers deep "
                        "(or contains itself); a checkpoint holds at most that depth")
    if isinstance(obj, Tensor):
        name = obj.dtype.name
        if name not in _DTYPES and name not in _BITS:
            raise SaveError(f"save: the {name} tensor at {where} cannot be stored; "
                            f"a checkpoint holds {', '.join(_DTYPES + tuple(_BITS))}: save "
                            f"x.float() and convert back with .to(eager.{name}) after loading")
        data = obj._data if obj.device == "cpu" else obj._data.get()
        arrays.append(data.view(_BITS[name]) if name in _BITS else data)
        return {"tensor": len(arrays) - 1, "dtype": name, "shape": list(data.shape),
                "device": obj.device, "requires_grad": obj.requires_grad}
    if type(obj) in _SCALARS:
        return obj
    if type(obj) is np.ndarray and obj.dtype.name in _DTYPES:
        # A numpy array (a data file written with torch.save) comes back as numpy.
        arrays.append(obj)
        return {"ndarray": len(arrays) - 1, "dtype": obj.dtype.name, "shape": list(obj.shape)}
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": items}
    if isinstance(obj, dict):
        pairs = []
        for key, value in obj.items():
            if type(key) not in _SCALARS:
                raise SaveError(f"save: dict key {key!r} at {where} is a "
                                f"{type(key).__name__}; keys must be str, int, float, bool "
                                "or None")
            pairs.append([key, _encode(value, arrays, f"{where}[{key!r}]", depth + 1)])
        return {"dict": pairs}
    if callable(getattr(obj, "state_dict", None)):
        what = _stateful_kind(obj)
        raise SaveError(f"save: cannot store the {type(obj).__name__} {what}at {where}; "
                        "eager checkpoints hold data, never pickled objects: save its "
                        "state_dict() instead (eager.save(obj.state_dict(), path)), and "
                        "restore it with load_state_dict(eager.load(path)) on a new one")
    raise SaveError(f"save: cannot store a {type(obj).__name__} at {where}; a checkpoint "
                    "holds tensors, numpy arrays, numbers, strings, None and dicts/lists/tuples of them")


def _stateful_kind(obj: Any) -> str:
    from eager.nn import Module
    from eager.optim.optimizer import Optimizer

    if isinstance(obj, Module):
        return "(a Module) "
    if isinstance(obj, Optimizer):
        return "(an optimizer) "
    return ""


def load(f: str | os.PathLike | BinaryIO, device: str | None = None, *,
         map_location: Any = None, weights_only: bool | None = None) -> Any:
    """Read an object written by `save` from a path or a binary file object open for
    reading. Tensors go back to the device they were saved from, or to `device` when
    given (e.g. "cpu" for a checkpoint saved on a GPU); PyTorch's `map_location` (a
    device or device string) means the same. `weights_only` is accepted: a checkpoint
    only ever holds data.

    >>> import eager, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.eager")
    >>> eager.save([eager.arange(3)], path)
    >>> eager.load(path, map_location=eager.device("cpu"))[0].tolist()
    [0, 1, 2]
    """
    if map_location is not None:
        if device is not None or not isinstance(map_location, str):
            raise LoadError(f"load: map_location must be a device or device string (got "
                            f"{map_location!r}{' and device=' + repr(device) if device else ''}"
                            "); remapping with a dict or function is not supported")
        device = map_location
    if device is not None:
        from eager.device import check_device

        device = check_device(device, "load")
    source: Any
    if _is_file_object(f, "read"):
        source, path = f, f"<file object {getattr(f, 'name', type(f).__name__)}>"
        if not (callable(getattr(f, "seekable", None)) and f.seekable()):
            source = io.BytesIO(f.read())
    else:
        source = path = os.fspath(f)
    try:
        with zipfile.ZipFile(source) as zf:
            manifest = _read_manifest(zf, path)
            return _decode(manifest["root"], _Reader(zf, path), device, 0)
    except (LoadError, FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            KeyError, struct.error, zlib.error, NotImplementedError,
            RuntimeError) as exc:   # RuntimeError: zipfile on a bit flip marking "encrypted"
        raise LoadError(f"load: {path!r} is not a readable eager checkpoint "
                        f"({type(exc).__name__}: {exc}); it may be truncated or corrupt"
                        ) from None


def _read_manifest(zf: zipfile.ZipFile, path: str) -> dict:
    if _MANIFEST not in zf.namelist():
        raise LoadError(f"load: {path!r} is a zip file but not an eager checkpoint (no "
                        f"{_MANIFEST}); write checkpoints with eager.save")
    if zf.getinfo(_MANIFEST).file_size > _MAX_MANIFEST_BYTES:
        raise LoadError(f"load: the manifest of {path!r} declares "
                        f"{zf.getinfo(_MANIFEST).file_size} bytes, more than any checkpoint's")
    try:
        manifest = json.loads(zf.read(_MANIFEST).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise LoadError(f"load: the manifest of {path!r} is corrupt ({exc})") from None
    except RecursionError:
        raise LoadError(f"load: the manifest of {path!r} is nested too deeply to be one "
                        "eager.save wrote") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise LoadError(f"load: {path!r} is not an eager checkpoint (format marker "
                        f"{manifest.get('format') if isinstance(manifest, dict) else None!r})")
    version = manifest.get("version")
    if type(version) is not int or version != VERSION:
        raise LoadError(f"load: {path!r} has checkpoint version {version!r}; "
                        f"this eager-jit reads version {VERSION}")
    if "root" not in manifest:
        raise LoadError(f"load: the manifest of {path!r} has no 'root' entry")
    return manifest


def _short(node: Any) -> str:
    text = repr(node)
    return text if len(text) <= 80 else text[:77] + "..."


class _Reader:
    """Reads the tensors a manifest refers to, each once, after checking that the member's
    size matches the dtype and shape the manifest declares."""

    def __init__(self, zf: zipfile.ZipFile, path: str) -> None:
        self.zf, self.path = zf, path
        self.arrays: dict[int, np.ndarray] = {}

    def bad(self, message: str) -> LoadError:
        return LoadError(f"load: the manifest of {self.path!r} {message}")

    def array(self, index: int, dtype: str, shape: list[int]) -> np.ndarray:
        stored = _BITS.get(dtype, dtype)
        if index in self.arrays:
            array = self.arrays[index]
        else:
            array = self.arrays[index] = self._read(f"tensors/{index}.npy", stored, shape,
                                                    dtype)
        if array.dtype.name != stored or list(array.shape) != shape:
            raise LoadError(f"load: tensors/{index}.npy in {self.path!r} holds "
                            f"{array.dtype.name}{list(array.shape)} but the manifest says "
                            f"{dtype}{shape}")
        return array.view(bfloat16) if dtype in _BITS else array

    def _read(self, name: str, dtype: str, shape: list[int], said: str) -> np.ndarray:
        """Member `name` as a `dtype` array of `shape`; `said` is the manifest's dtype
        (bfloat16 is stored as its uint16 bits)."""
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise LoadError(f"load: {self.path!r} is missing {name}; the file is incomplete"
                            ) from None
        nbytes = np.dtype(dtype).itemsize * _product(shape)
        if not nbytes <= info.file_size <= nbytes + _MAX_NPY_HEADER:
            raise LoadError(f"load: {name} in {self.path!r} has {info.file_size} bytes but "
                            f"the manifest says {said}{shape} ({nbytes} bytes of data)")
        data = self.zf.read(name)
        header = io.BytesIO(data)
        major, _ = np.lib.format.read_magic(header)
        read_header = {1: np.lib.format.read_array_header_1_0,
                       2: np.lib.format.read_array_header_2_0}.get(major)
        if read_header is None:
            raise LoadError(f"load: {name} in {self.path!r} is .npy version {major}; "
                            "eager.save writes version 1")
        found_shape, _, found_dtype = read_header(header)
        if found_dtype.name != dtype or list(found_shape) != shape \
                or len(data) - header.tell() != nbytes:
            raise LoadError(f"load: {name} in {self.path!r} holds "
                            f"{found_dtype.name}{list(found_shape)} but the manifest says "
                            f"{said}{shape}")
        return np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)


def _product(shape: list[int]) -> int:
    total = 1
    for n in shape:
        total *= n
    return total


def _decode(node: Any, reader: _Reader, device: str | None, depth: int) -> Any:
    if type(node) in _SCALARS:
        return node
    if depth > MAX_DEPTH:
        raise reader.bad(f"nests entries more than {MAX_DEPTH} deep; eager.save never does")
    if not isinstance(node, dict) or not node:
        raise reader.bad(f"holds an unknown entry {_short(node)}")
    if "tensor" in node:
        return _decode_tensor(node, reader, device)
    if "ndarray" in node:
        if set(node) != {"ndarray", "dtype", "shape"}:
            raise reader.bad(f"holds an array entry with keys {sorted(node)}; expected "
                             "['dtype', 'ndarray', 'shape']")
        fields = {"tensor": node["ndarray"], "dtype": node["dtype"], "shape": node["shape"],
                  "device": "cpu"}
        return _decode_tensor(fields, reader, "cpu").numpy()
    if len(node) != 1:
        raise reader.bad(f"holds an unknown entry {_short(node)}")
    ((kind, items),) = node.items()
    if kind not in ("list", "tuple", "dict") or not isinstance(items, list):
        raise reader.bad(f"holds an unknown entry {_short(node)}")
    if kind == "dict":
        out = {}
        for pair in items:
            if not isinstance(pair, list) or len(pair) != 2 or type(pair[0]) not in _SCALARS:
                raise reader.bad(f"holds a dict item {_short(pair)} that is not a "
                                 "[key, value] pair with a plain key")
            out[pair[0]] = _decode(pair[1], reader, device, depth + 1)
        return out
    values = [_decode(v, reader, device, depth + 1) for v in items]
    return values if kind == "list" else tuple(values)


def _decode_tensor(node: dict, reader: _Reader, device: str | None) -> Tensor:
    from eager.creation import asarray

    keys = set(node)
    if not _TENSOR_KEYS <= keys <= _TENSOR_KEYS | {"requires_grad"}:
        raise reader.bad(f"holds a tensor entry with keys {sorted(keys)}; expected "
                         f"{sorted(_TENSOR_KEYS)} and optionally 'requires_grad'")
    index, dtype, shape = node["tensor"], node["dtype"], node["shape"]
    if type(index) is not int or index < 0:
        raise reader.bad(f"refers to tensor {_short(index)}, not a tensor number")
    if dtype == "bfloat16" and not _BITS:
        raise reader.bad(f"gives tensor {index} the dtype bfloat16, which needs the "
                         "ml_dtypes package (pip install ml_dtypes)")
    if type(dtype) is not str or (dtype not in _DTYPES and dtype not in _BITS):
        raise reader.bad(f"gives tensor {index} the dtype {_short(dtype)}; a checkpoint "
                         f"holds {', '.join(_DTYPES + tuple(_BITS))}")
    if not isinstance(shape, list) or len(shape) > 64 or \
            any(type(n) is not int or n < 0 for n in shape):
        raise reader.bad(f"gives tensor {index} the shape {_short(shape)}, not a list of "
                         "sizes")
    if node["device"] not in _DEVICES or type(node.get("requires_grad", False)) is not bool:
        raise reader.bad(f"gives tensor {index} the device {_short(node['device'])} and "
                         f"requires_grad {_short(node.get('requires_grad'))}")
    out = asarray(reader.array(index, dtype, shape), device=device or node["device"])
    return out.requires_grad_() if node.get("requires_grad") else out
