"""`Node`: one recorded op in the define-by-run graph, with what backward needs."""
from __future__ import annotations

import weakref

from kernels.errors import AutogradError


def _version_of(x):
    """The in-place version counter of a tensor (kept on the base of a view), else None."""
    base = getattr(x, "_base", False)
    if base is False:
        return None
    return x._version if base is None else base._version


class Node:
    """The op, its inputs and attributes, a weak reference to its output, and the version
    of every tensor input at record time (to detect in-place changes before backward).

    The output is held weakly so that output -> node -> output is not a reference cycle;
    whenever backward reaches a node, a later node (or the caller) still holds its output.
    """

    __slots__ = ("op", "inputs", "attrs", "_out", "versions", "out_version")

    def __init__(self, op, inputs, attrs, out) -> None:
        self.op = op
        self.inputs = inputs
        self.attrs = attrs
        self._out = weakref.ref(out)
        self.versions = tuple(_version_of(x) for x in inputs)
        self.out_version = _version_of(out)

    @property
    def name(self) -> str:
        """PyTorch-style name of the backward function, e.g. "MulBackward"."""
        return "".join(part.capitalize() for part in self.op.name.split("_")) + "Backward"

    @property
    def out(self):
        """The tensor this node produced."""
        out = self._out()
        if out is None:
            raise AutogradError(f"{self.name}: the output of this op was freed before backward")
        return out

    def check_versions(self) -> None:
        """Raise if any input was modified in place after this op recorded it."""
        if self.inputs is None:
            raise AutogradError(
                f"{self.name}: trying to backward through the graph a second time (or directly "
                "access saved tensors after they have already been freed); pass "
                "retain_graph=True to the first backward() if you need to")
        out = self._out()
        pairs = zip(self.inputs + (out,), self.versions + (self.out_version,))
        for x, saved in pairs:
            if saved is not None and _version_of(x) != saved:
                raise AutogradError(
                    f"{self.name}: a tensor of shape {tuple(x.shape)} needed for gradient "
                    f"computation was modified by an in-place operation (version {saved} -> "
                    f"{_version_of(x)}); use an out-of-place op or .clone() it first")

    def release(self) -> None:
        """Free saved inputs after backward (retain_graph=False)."""
        self.inputs = None
        self.attrs = None

    def __repr__(self) -> str:
        return f"<{self.name}>"
