"""The on-disk cache of compiled kernel libraries, verified before anything is loaded.

An entry for a kernel key `K` is two files in `cache_dir()`:

- `ej_K-<hash>.so`: the library, named by the first 16 hex digits of its own sha256;
- `ej_K.json`: the manifest, naming the sha256 of the C source the library was built from,
  the library's size and sha256, and the compiler's version line.

The manifest is written last and atomically (temporary file, then rename), so it is the
commit point: a library without a manifest is never loaded, and an entry whose manifest
is unreadable, was built from another source, or whose library is missing or of another
size or content raises `DamagedEntry`, so the caller rebuilds it instead of loading bytes
that could crash the process (a truncated file makes `dlopen` die with SIGBUS) or compute
the wrong thing (another kernel's library). Builds happen in a temporary folder of the
cache (see `kernels.tempfiles`); a killed build leaves nothing that a later build does not
remove.

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> lookup(folder, "k1", source_hash("int x;")) is None   # nothing cached yet
True
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
from typing import NamedTuple

from kernels import tempfiles

FORMAT = "eager-jit kernel cache"
VERSION = 1
_MANIFEST_LIMIT = 1 << 16


class DamagedEntry(Exception):
    """A cache entry that exists but does not check out; `reason` says why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class Entry(NamedTuple):
    """A verified cache entry: the library's path and the compiler that built it."""

    library: str
    compiler: str


def cache_dir() -> str:
    """`$XDG_CACHE_HOME/eager-jit`, else `~/.cache/eager-jit`.

    >>> cache_dir().endswith("eager-jit")
    True
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "eager-jit")


def source_hash(source: str) -> str:
    """The sha256 (hex) of a C source, as the manifest records it.

    >>> source_hash("")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(source.encode()).hexdigest()


def manifest_path(directory: str, key: str) -> str:
    """Where the manifest of entry `key` lives."""
    return os.path.join(directory, f"ej_{key}.json")


def _library_path(directory: str, key: str, digest: str) -> str:
    return os.path.join(directory, f"ej_{key}-{digest[:16]}.so")


def _file_digest(path: str) -> tuple[int, str]:
    with open(path, "rb") as f:
        data = f.read()
    return len(data), hashlib.sha256(data).hexdigest()


def lookup(directory: str, key: str, source_sha: str) -> Entry | None:
    """The verified entry `key` built from the source with hash `source_sha`; None when
    there is none. Raises DamagedEntry when an entry exists but does not check out."""
    where = manifest_path(directory, key)
    try:
        with open(where, "rb") as f:
            raw = f.read(_MANIFEST_LIMIT + 1)
    except FileNotFoundError:
        return None
    try:
        manifest = json.loads(raw.decode())
    except (UnicodeDecodeError, ValueError):
        raise DamagedEntry(where, f"the manifest is not valid JSON ({len(raw)} bytes)") from None
    if not _well_formed(manifest, key):
        raise DamagedEntry(where, "the manifest is not one this version of eager-jit wrote")
    if manifest["source_sha256"] != source_sha:
        raise DamagedEntry(where, "the manifest belongs to another kernel's source")
    library = _library_path(directory, key, manifest["library_sha256"])
    try:
        size, digest = _file_digest(library)
    except OSError as exc:
        raise DamagedEntry(library, f"the library cannot be read ({exc.strerror})") from None
    if size != manifest["library_size"]:
        raise DamagedEntry(library, f"the library has {size} bytes, the manifest says "
                                    f"{manifest['library_size']} (truncated or replaced)")
    if digest != manifest["library_sha256"]:
        raise DamagedEntry(library, "the library's sha256 differs from the manifest's "
                                    "(corrupted or replaced)")
    return Entry(library, manifest["compiler"])


def _well_formed(manifest, key: str) -> bool:
    if not isinstance(manifest, dict):
        return False
    texts = ("source_sha256", "library_sha256", "compiler")
    return (manifest.get("format") == FORMAT and manifest.get("version") == VERSION
            and manifest.get("key") == key
            and all(isinstance(manifest.get(name), str) for name in texts)
            and len(manifest["library_sha256"]) == 64
            and all(c in "0123456789abcdef" for c in manifest["library_sha256"])
            and type(manifest.get("library_size")) is int)


def commit(directory: str, key: str, source_sha: str, built: str, compiler: str) -> str:
    """Move the checked library `built` into the cache as entry `key`; return its path.

    The library is renamed into place first, then the manifest is written to a temporary
    file and renamed over the old one, so readers see the old entry or the new one, whole.
    Libraries of an older entry for `key` are removed.
    """
    size, digest = _file_digest(built)
    library = _library_path(directory, key, digest)
    os.replace(built, library)
    manifest = {"format": FORMAT, "version": VERSION, "key": key, "source_sha256": source_sha,
                "library_sha256": digest, "library_size": size, "compiler": compiler}
    tmp = tempfiles.temp_name(directory, ".json")
    try:
        with open(tmp, "w") as f:
            json.dump(manifest, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, manifest_path(directory, key))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for old in glob.glob(os.path.join(glob.escape(directory), f"ej_{key}-*.so")):
        if old != library:
            _remove(old)
    return library


def discard(directory: str, key: str) -> None:
    """Remove entry `key` (its manifest and libraries), e.g. after DamagedEntry."""
    _remove(manifest_path(directory, key))
    for old in glob.glob(os.path.join(glob.escape(directory), f"ej_{key}-*.so")):
        _remove(old)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# Cache folders swept of stale temporaries by this process: a big cache takes ~0.1 s to
# list, and a temporary only goes stale when its process ends, so once is enough.
_swept: set[str] = set()


def new_build_dir(directory: str) -> str:
    """A fresh temporary folder in the cache for one compiler run (the stale ones of
    ended processes removed on the first build in each folder).

    >>> import shutil, tempfile
    >>> folder = new_build_dir(tempfile.mkdtemp())
    >>> os.path.isdir(folder); shutil.rmtree(folder)
    True
    """
    os.makedirs(directory, exist_ok=True)
    if directory not in _swept:
        tempfiles.remove_stale(directory)
        _swept.add(directory)
    path = tempfiles.temp_name(directory)
    os.mkdir(path)
    return path
