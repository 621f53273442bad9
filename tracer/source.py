"""Where things come from, for messages and labels: the user's source line running now,
and readable names for the tensors a function reaches through its scope.

>>> import eager
>>> w = eager.ones(2)
>>> names = names_in_scope(lambda x: x * w)
>>> names[id(w)]
'w'
"""
from __future__ import annotations

import linecache
import os
import sys
import types
from collections.abc import Callable
from typing import Any

from eager.random import Generator
from eager.tensor import Tensor


def names_in_scope(fn: Callable, limit: int = 2000) -> dict[int, str]:
    """Readable names for the tensors and generators `fn` can reach through its closure,
    the globals it mentions and `self` (`w`, `params[1]`, `self.fc.weight`), by object id.
    Used only to label bound inputs; the search is shallow and capped at `limit` objects."""
    names: dict[int, str] = {}
    owner = getattr(fn, "__self__", None)
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        owner, code = fn, getattr(type(fn).__call__, "__code__", None)
        fn = type(fn).__call__
    if code is None:
        return names
    scope: list[tuple[str, Any]] = [("self", owner)] if owner is not None else []
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            scope.append((name, cell.cell_contents))
        except ValueError:
            continue
    module_globals = getattr(fn, "__globals__", {})
    scope += [(name, module_globals[name]) for name in code.co_names if name in module_globals]
    budget = [limit]
    for name, obj in scope:
        try:
            _collect_names(name, obj, names, 3, budget)
        except Exception:  # noqa: BLE001, S112  (labels are cosmetic; user objects may raise)
            continue
    return names


_NOT_CONTAINERS = (str, bytes, int, float, type, types.ModuleType, types.FunctionType,
                   types.BuiltinFunctionType, types.MethodType)


def _collect_names(name: str, obj: Any, names: dict, depth: int, budget: list) -> None:
    budget[0] -= 1
    if budget[0] < 0 or isinstance(obj, _NOT_CONTAINERS):
        return
    if type(obj) is Tensor or isinstance(obj, Generator):
        names.setdefault(id(obj), name)
        return
    if depth == 0:
        return
    if isinstance(obj, (list, tuple)):
        for i, x in enumerate(obj[:100]):
            _collect_names(f"{name}[{i}]", x, names, depth - 1, budget)
    elif isinstance(obj, dict):
        for i, (k, x) in enumerate(list(obj.items())[:100]):
            key = repr(k) if isinstance(k, (str, int, float, bool)) else f"#{i}"
            _collect_names(f"{name}[{key}]", x, names, depth - 1, budget)
    elif hasattr(obj, "named_parameters"):
        for pname, p in obj.named_parameters():
            names.setdefault(id(p), f"{name}.{pname}")
    if hasattr(obj, "__dict__"):
        for attr, x in list(vars(obj).items())[:100]:
            _collect_names(f"{name}.{attr}", x, names, depth - 1, budget)


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PACKAGES = tuple(os.path.join(_ROOT, pkg) + os.sep for pkg in ("eager", "kernels", "tracer", "jit"))
_internal_files: dict[str, bool] = {}
_where_cache: dict[tuple, str] = {}


def source_where() -> str:
    """`file.py:12: source line` of the user's code running now, or "".

    The same frame `eager.dispatch.user_frame` finds, with the per-file decision and the
    text cached: the tracer asks once per recorded op."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        internal = _internal_files.get(filename)
        if internal is None:
            path = os.path.abspath(filename)
            internal = _internal_files[filename] = (path.startswith(_PACKAGES)
                                                    or "importlib" in path)
        if not internal:
            break
        frame = frame.f_back
    if frame is None:
        return ""
    key = (frame.f_code, frame.f_lineno)
    where = _where_cache.get(key)
    if where is None:
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        where = _where_cache[key] = f"{os.path.basename(frame.f_code.co_filename)}:" \
                                    f"{frame.f_lineno}: {line}"
    return where
