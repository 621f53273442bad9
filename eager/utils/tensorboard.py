"""`eager.utils.tensorboard.SummaryWriter`: scalars for TensorBoard, as `torch.utils.
tensorboard` writes them, without needing the tensorboard or protobuf packages.

The writer appends records to `<log_dir>/events.out.tfevents.<time>.<host>.<pid>.<n>`:
each record is TFRecord framing (length, masked CRC-32C of the length, the bytes, masked
CRC-32C of the bytes) around an `Event` protocol buffer encoded by hand (wall_time, step,
and a `Summary` holding one tagged `simple_value`), which TensorBoard reads as it reads
torch's files.

>>> import os, tempfile
>>> from eager.utils.tensorboard import SummaryWriter
>>> with SummaryWriter(tempfile.mkdtemp()) as writer:
...     writer.add_scalar("Loss/train", 0.25, 10)
>>> os.path.basename(writer.file_name).startswith("events.out.tfevents.")
True
"""
from __future__ import annotations

import datetime
import itertools
import os
import socket
import struct
import time
from typing import Any, Self

from kernels.errors import ArgumentError

__all__ = ["SummaryWriter", "crc32c"]

_CRC32C_TABLE = []
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ (0x82F63B78 if _crc & 1 else 0)
    _CRC32C_TABLE.append(_crc)
_FILE_NUMBERS = itertools.count()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum TFRecord files use.

    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    """
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # protobuf writes a negative int64 as its 64-bit two's complement
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _event(wall_time: float, step: int | None = None, *, file_version: str | None = None,
           tag: str | None = None, value: float | None = None) -> bytes:
    out = _varint(1 << 3 | 1) + struct.pack("<d", wall_time)
    if step is not None:
        out += _varint(2 << 3) + _varint(step)
    if file_version is not None:
        out += _length_delimited(3, file_version.encode())
    if tag is not None:
        summary_value = _length_delimited(1, tag.encode()) + _varint(2 << 3 | 5) + \
            struct.pack("<f", value)
        out += _length_delimited(5, _length_delimited(1, summary_value))
    return out


def _record(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", _masked_crc(length)) + data + \
        struct.pack("<I", _masked_crc(data))


class SummaryWriter:
    """Write scalars to an event file under `log_dir` (default `runs/<date>_<host>`
    plus `comment`), as torch's `SummaryWriter`. Records are buffered and written by
    `flush()`, every `flush_secs` seconds, every `max_queue` records, and on `close()`."""

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        if log_dir is None:
            stamp = datetime.datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_FILE_NUMBERS)}{filename_suffix}")
        self.file_name = os.path.join(self.log_dir, name)
        self.max_queue, self.flush_secs = max_queue, flush_secs
        self._pending = [_record(_event(time.time(), file_version="brain.Event:2"))]
        self._last_flush = time.monotonic()
        self._closed = False
        self.flush()

    def get_logdir(self) -> str:
        """The folder the event file is in."""
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """Record `scalar_value` (a number or a one-element tensor) under `tag` at step
        `global_step`."""
        if self._closed:
            raise ArgumentError(f"SummaryWriter.add_scalar: the writer for {self.log_dir!r} "
                                "is closed")
        if not isinstance(tag, str):
            raise ArgumentError(f"SummaryWriter.add_scalar: tag must be a str, got "
                                f"{type(tag).__name__}")
        value = float(scalar_value.item() if hasattr(scalar_value, "item") else scalar_value)
        step = None if global_step is None else int(global_step)
        wall = time.time() if walltime is None else float(walltime)
        self._pending.append(_record(_event(wall, step, tag=tag, value=value)))
        if len(self._pending) >= self.max_queue or \
                time.monotonic() - self._last_flush >= self.flush_secs:
            self.flush()

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any],
                    global_step: int | None = None, walltime: float | None = None) -> None:
        """Record several scalars at once, each under `main_tag/name` (torch writes them
        to sub-folders; here they share the one file, which TensorBoard shows alike)."""
        for name, value in tag_scalar_dict.items():
            self.add_scalar(f"{main_tag}/{name}", value, global_step, walltime)

    def flush(self) -> None:
        """Write the buffered records to the event file."""
        if self._pending:
            with open(self.file_name, "ab") as f:
                f.write(b"".join(self._pending))
            self._pending = []
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Flush and stop accepting records."""
        if not self._closed:
            self.flush()
            self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
