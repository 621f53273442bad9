"""Is a file a complete shared library? Checked before `dlopen`, which maps the file and
dies with SIGBUS when a segment lies past its end (a truncated library).

For ELF (Linux and the BSDs) the header must describe a shared object whose program and
section headers, and every segment, lie inside the file. Elsewhere only the magic number
is checked.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "junk.so")
>>> with open(path, "wb") as f:
...     _ = f.write(b"not a library")
>>> problem(path)
'a file that is not a shared library (it starts with 6e6f74206120)'
"""
from __future__ import annotations

import struct
import sys

_ELF = b"\x7fELF"
_MACHO = (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
_ET_DYN = 3
# Offsets of e_type, e_phoff, e_shoff, e_phentsize, e_phnum, e_shentsize, e_shnum, and of
# p_offset and p_filesz in a program header, for 32- and 64-bit ELF.
_LAYOUT = {1: ("I", 16, 28, 32, 42, 44, 46, 48, 4, 16, 52),
           2: ("Q", 16, 32, 40, 54, 56, 58, 60, 8, 32, 64)}


def problem(path: str) -> str | None:
    """None when `path` looks like a complete shared library, else what is wrong with it."""
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return "an empty file"
    if data[:4] == _ELF:
        return _elf_problem(data)
    if sys.platform == "darwin" and data[:4] in _MACHO:
        return None
    return f"a file that is not a shared library (it starts with {data[:6].hex()})"


def _elf_problem(data: bytes) -> str | None:
    size = len(data)
    if size < 52 or data[4] not in _LAYOUT or data[5] not in (1, 2):
        return f"a damaged ELF header ({size} bytes)"
    word, e_type, phoff, shoff, phentsize, phnum, shentsize, shnum, p_off, p_size, header = \
        _LAYOUT[data[4]]
    if size < header:
        return f"a damaged ELF header ({size} bytes)"
    end = "<" if data[5] == 1 else ">"

    def read(fmt: str, at: int) -> int:
        return struct.unpack_from(end + fmt, data, at)[0]

    if read("H", e_type) != _ET_DYN:
        return "an ELF file that is not a shared object"
    tables = [(read(word, phoff), read("H", phentsize) * read("H", phnum)),
              (read(word, shoff), read("H", shentsize) * read("H", shnum))]
    if any(start + length > size for start, length in tables):
        return f"a truncated ELF file ({size} bytes; its headers lie past the end)"
    start, entry, count = tables[0][0], read("H", phentsize), read("H", phnum)
    if count and entry < p_size + struct.calcsize(word):
        return f"a damaged ELF header ({size} bytes)"
    for k in range(count):
        at = start + k * entry
        if read(word, at + p_off) + read(word, at + p_size) > size:
            return f"a truncated ELF file ({size} bytes; a segment lies past the end)"
    return None
