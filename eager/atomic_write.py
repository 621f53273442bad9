"""Replace a file so that it always holds either its old content or the new, whole.

The new content goes to a temporary file in the target's folder, is flushed to disk and
renamed over the target. On Linux the temporary has no name while it is written
(`O_TMPFILE`), so a process killed mid-write (SIGKILL) leaves nothing; it gets a name
(`kernels.tempfiles`) only for the instant between linking and renaming, and temporaries
that a killed process left are removed by the next write to the same folder. A symlink
is written through (its target is replaced, the link stays), and an existing file keeps
its permission bits; a new one gets the usual `0o666` less the umask.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
>>> write_atomically(path, lambda f: f.write(b"hello"))
>>> open(path).read(), os.listdir(os.path.dirname(path))
('hello', ['notes.txt'])
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import BinaryIO

from kernels import tempfiles

_PROC_FDS = "/proc/self/fd"


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Call `write(f)` on a temporary file, then rename it over `path` (through symlinks).

    Raises OSError (the folder is missing or read-only, the disk is full, `path` is a
    folder, ...); the target is then unchanged and no temporary is left.
    """
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    tempfiles.remove_stale(directory)
    fd, named = _open_temporary(directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
            if named is None:
                named = _give_name(f.fileno(), directory)
        os.replace(named, target)
        named = None
    finally:
        if named is not None and os.path.lexists(named):
            os.unlink(named)
    _sync_folder(directory)


def _open_temporary(directory: str) -> tuple[int, str | None]:
    """An open temporary file: nameless where the system allows it (then None)."""
    if hasattr(os, "O_TMPFILE") and os.path.isdir(_PROC_FDS):
        try:
            return os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o666), None
        except OSError:
            pass  # a file system without O_TMPFILE support: use a named temporary
    named = tempfiles.temp_name(directory, ".partial")
    return os.open(named, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), named


def _give_name(fd: int, directory: str) -> str:
    named = tempfiles.temp_name(directory, ".partial")
    proc = os.open(_PROC_FDS, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N names an O_TMPFILE file.
        os.link(str(fd), named, src_dir_fd=proc, follow_symlinks=True)
    finally:
        os.close(proc)
    return named


def _sync_folder(directory: str) -> None:
    """Make the rename itself durable; not every system lets a folder be fsynced."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
