"""Tensors whose memory is shared between processes (`Tensor.share_memory_()`,
`Module.share_memory()`), as pytorch/examples `mnist_hogwild` needs: the parent moves
its parameters into shared memory, child processes train the same model, and their
in-place updates are what the parent reads afterwards.

A shared tensor's array lies in a memory-mapped file (in /dev/shm where there is one,
so it never touches a disk), one file per tensor, removed when the creating process no
longer holds the array. Sending the tensor to another process (`multiprocessing.Process`
arguments under "spawn" or "forkserver", a multiprocessing `Queue`) sends the file's name
and the array's layout, and the receiver maps the same memory; under "fork" the mapping
is inherited. Other tensors sent that way are copied by value. Plain `pickle` still
refuses tensors (use `eager.save`).

>>> import eager
>>> t = eager.zeros(3).share_memory_()
>>> t.is_shared(), t.tolist()
(True, [0.0, 0.0, 0.0])
"""
from __future__ import annotations

import mmap
import os
import tempfile
import weakref

import numpy as np

_SHM_DIR = "/dev/shm"
_PREFIX = "eager-shared-"

# file path -> (address of its first byte in this process, length in bytes)
_segments: dict[str, tuple[int, int]] = {}
# file path -> the whole mapped file as a uint8 array, for segments this process attached
_attached: dict[str, np.ndarray] = {}


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def _map(path: str, nbytes: int) -> np.ndarray:
    with open(path, "r+b") as f:
        mapped = mmap.mmap(f.fileno(), nbytes) if nbytes else None
    whole = np.frombuffer(mapped, np.uint8) if mapped is not None else np.zeros(0, np.uint8)
    _segments[path] = (_address(whole), nbytes)
    return whole


def _forget(path: str, owner: int) -> None:
    _segments.pop(path, None)
    if os.getpid() != owner:   # a forked child dropping its inherited copy
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def shared_copy(array: np.ndarray) -> np.ndarray:
    """A C-ordered copy of `array` in a new shared segment (removed once the copy and
    every view of it are gone from this process).

    >>> import numpy as np
    >>> shared_copy(np.arange(3.0)).tolist()
    [0.0, 1.0, 2.0]
    """
    folder = _SHM_DIR if os.path.isdir(_SHM_DIR) else tempfile.gettempdir()
    fd, path = tempfile.mkstemp(prefix=_PREFIX, dir=folder)
    try:
        os.ftruncate(fd, max(array.nbytes, 1))
    finally:
        os.close(fd)
    whole = _map(path, max(array.nbytes, 1))
    out = whole[:array.nbytes].view(array.dtype).reshape(array.shape)
    out[...] = array
    weakref.finalize(whole, _forget, path, os.getpid())
    return out


def location(array) -> tuple[str, int] | None:
    """(segment file, byte offset) of `array`'s first element when it lies in a shared
    segment this process holds, else None."""
    if not isinstance(array, np.ndarray):
        return None
    start = _address(array)
    for path, (base, nbytes) in _segments.items():
        if base <= start < base + nbytes:
            return path, start - base
    return None


def attach(path: str, offset: int, shape: tuple, dtype: str, strides: tuple) -> np.ndarray:
    """The array at `offset` in the shared segment `path`, mapped into this process (once
    per segment) so that writes reach every process that maps it."""
    whole = _attached.get(path)
    if whole is None:
        whole = _attached[path] = _map(path, os.path.getsize(path))
    return np.ndarray(shape, np.dtype(dtype), buffer=whole, offset=offset, strides=strides)
