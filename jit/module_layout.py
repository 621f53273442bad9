"""What a trace binds of an `eager.nn.Module` tree, as one flat tuple: every module's
training flag and the identity of each of its parameters, buffers and submodules.

A graph holds the tensors it traced by reference, so `model.fc.weight = nn.Parameter(...)`
or `model.act = nn.Tanh()` after tracing must retrace; comparing two layouts (one tuple
compare) tells. `layout_names` names each entry, for the retrace's log line.

>>> from eager import nn
>>> model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
>>> before = module_layout(model)
>>> model[0].weight = nn.Parameter(model[0].weight.detach().clone())
>>> [n for n, a, b in zip(layout_names(model), before, module_layout(model)) if a != b]
['.0.weight']
"""
from __future__ import annotations

from eager.nn import Module


def module_layout(module: Module) -> tuple:
    """What a trace bound of a module tree: every module's training flag and the identity
    of each parameter, buffer and submodule, in one walk (a flat tuple, one compare)."""
    out: list = []
    stack = [module]
    seen = {id(module)}
    while stack:
        d = stack.pop().__dict__
        out.append(d["_training"])
        out.extend(map(id, d["_parameters"].values()))
        out.extend(map(id, d["_buffers"].values()))
        children = d["_modules"]
        out.extend(map(id, children.values()))
        for m in reversed(children.values()):
            if m is not None and id(m) not in seen:   # shared or cyclic submodules: once
                seen.add(id(m))
                stack.append(m)
    return tuple(out)


def layout_names(module: Module) -> list[str]:
    """The name of each entry of `module_layout(module)`, in its order."""
    out: list[str] = []
    stack = [("", module)]
    seen = {id(module)}
    while stack:
        prefix, m = stack.pop()
        d = m.__dict__
        out.append(f"{prefix}.training")
        for table in ("_parameters", "_buffers", "_modules"):
            out += [f"{prefix}.{name}" for name in d[table]]
        for name, c in reversed(d["_modules"].items()):
            if c is not None and id(c) not in seen:
                seen.add(id(c))
                stack.append((f"{prefix}.{name}", c))
    return out
