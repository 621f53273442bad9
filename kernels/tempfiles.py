"""Temporary files and folders that a killed process can leave, and their cleanup.

Atomic writes build a file under a temporary name beside its target and rename it into
place. A process killed before the rename (SIGKILL, power loss) leaves that temporary
behind, so every temporary gets a name that says whose it is: `.ej-tmp-<host>-<pid>-...`.
`remove_stale` deletes the ones whose process is gone; those of other machines (a cache
or checkpoint folder on a network file system) and of live processes are left alone.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> name = temp_name(folder, ".eager")
>>> os.path.basename(name).startswith(PREFIX), is_stale(name)
(True, False)
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
import shutil
import socket

PREFIX = ".ej-tmp-"
_PATTERN = re.compile(r"\.ej-tmp-([0-9a-f]{8})-(\d+)-[0-9a-f]{8}")


@functools.cache
def _host() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def temp_name(directory: str, suffix: str = "") -> str:
    """A fresh temporary path in `directory` named after this host and process.

    >>> temp_name("/tmp", ".so").endswith(".so")
    True
    """
    return os.path.join(directory, f"{PREFIX}{_host()}-{os.getpid()}-"
                                    f"{secrets.token_hex(4)}{suffix}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def is_stale(path: str) -> bool:
    """Whether `path` is a temporary of ours whose process (on this host) has ended.

    >>> is_stale("/tmp/ordinary-file"), is_stale(f"/tmp/{PREFIX}{_host()}-999999999-00000000")
    (False, True)
    """
    match = _PATTERN.match(os.path.basename(path))
    if match is None or match.group(1) != _host():
        return False
    pid = int(match.group(2))
    return pid != os.getpid() and not _alive(pid)


def remove_stale(directory: str) -> list[str]:
    """Delete the stale temporaries in `directory`; return the names removed.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> open(os.path.join(folder, f"{PREFIX}{_host()}-999999999-0000abcd"), "w").close()
    >>> remove_stale(folder), os.listdir(folder)
    (['.ej-tmp-...-999999999-0000abcd'], [])
    """
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for name in names:
        path = os.path.join(directory, name)
        if not name.startswith(PREFIX) or not is_stale(path):
            continue
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except FileNotFoundError:
            pass  # another process cleaned it first
        except OSError:
            continue
        removed.append(name)
    return removed
