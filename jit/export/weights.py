"""The weights file an exported model loads: a small, fully checkable binary format.

Layout (little-endian):

    offset 0   magic  b"EJWEIGHT"
           8   u32    version (1)
          12   u32    tensor count
          16   u64    data offset (start of the data region, a multiple of 64)
          24   u64    data size in bytes
          32   count entries of 88 bytes:
                 u32 dtype code (DTYPE_CODES), u32 ndim (<= MAX_NDIM),
                 u64 offset into the data region (a multiple of 64), u64 size in bytes,
                 i64 dims[MAX_NDIM] (unused dims 0)
               zero padding up to the data offset, then the data region
    end - 8    u64    CRC-32 (zlib polynomial) of every byte before it

The C loader (`runtime/weights.c`) checks every field against the tensors the model was
compiled for, and the checksum, before any tensor is used.

>>> import numpy as np, io
>>> blob = encode([np.ones((2, 3), np.float32)])
>>> blob[:8], len(blob) % 8, checksum(blob[:-8]) == int.from_bytes(blob[-8:], "little")
(b'EJWEIGHT', 0, True)
"""
from __future__ import annotations

import os
import struct
import zlib

import numpy as np

MAGIC = b"EJWEIGHT"
VERSION = 1
MAX_NDIM = 8
ALIGN = 64
HEADER = struct.Struct("<8sIIQQ")
ENTRY = struct.Struct(f"<IIQQ{MAX_NDIM}q")
DTYPE_CODES = {"float32": 1, "float64": 2, "int64": 3, "int32": 4, "int16": 5, "int8": 6,
               "uint8": 7, "bool": 8}


def checksum(data: bytes) -> int:
    """CRC-32 (zlib's polynomial) of `data`: the checksum the C loader recomputes.

    >>> hex(checksum(b"123456789"))
    '0xcbf43926'
    """
    return zlib.crc32(data)


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def encode(arrays: list[np.ndarray]) -> bytes:
    """The file's bytes for `arrays`, in order."""
    entries, chunks, offset = [], [], 0
    for a in arrays:
        a = np.ascontiguousarray(a)
        if a.dtype.name not in DTYPE_CODES or a.ndim > MAX_NDIM:
            raise ValueError(f"weights: cannot store a {a.dtype.name} tensor of rank {a.ndim}")
        data = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        dims = list(a.shape) + [0] * (MAX_NDIM - a.ndim)
        entries.append(ENTRY.pack(DTYPE_CODES[a.dtype.name], a.ndim, offset, len(data), *dims))
        chunks.append(data + b"\0" * (_align(len(data)) - len(data)))
        offset += _align(len(data))
    data_offset = _align(HEADER.size + ENTRY.size * len(arrays))
    head = HEADER.pack(MAGIC, VERSION, len(arrays), data_offset, offset) + b"".join(entries)
    body = head + b"\0" * (data_offset - len(head)) + b"".join(chunks)
    return body + struct.pack("<Q", checksum(body))


def write(path: str, arrays: list[np.ndarray]) -> None:
    """Write the weights file atomically (temp file, then rename)."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(encode(arrays))
    os.replace(tmp, path)
