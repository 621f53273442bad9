"""`Node`: one recorded op in the define-by-run graph, with what backward needs."""
from __future__ import annotations

from kernels.errors import AutogradError
from kernels.opdef import Rest

OUT = -1
"""Position that stands for a node's output in a rule's list of saved values."""


class Node:
    """The op, its inputs and attributes, where each input's gradient goes, and the
    version of every tensor input at record time.

    `edges[i]` is fixed when the op runs: the node that produced input i, the input itself
    when it is a leaf that requires grad, or None. Backward follows these edges, not the
    inputs' current `_node`, so an in-place op on an input later (which gives that tensor
    a new node) does not reroute gradients of earlier uses.

    A node does not reference its output tensor (output -> node -> output would be a
    reference cycle, and even a weak reference costs a fifth of a small op). Backward
    finds the output where it is used, among the inputs of later nodes or the tensors
    `backward` started from, and lends it to the rule as `node.out`. `out_data` keeps
    the output's array (no cycle: an array does not know its tensor), for pictures.

    >>> import eager
    >>> x = eager.tensor([1.0, 2.0], requires_grad=True)
    >>> node = (x * 3.0).grad_fn
    >>> node.name, node.edges[0] is x, node.edges[1], node.out_data.shape
    ('MulBackward', True, None, (2,))
    """

    __slots__ = (
        "_lent_out",
        "attrs",
        "edges",
        "inputs",
        "op",
        "out_data",
        "out_version",
        "versions",
    )

    def __init__(self, op, inputs: tuple, attrs: dict, out) -> None:
        raise TypeError("nodes are recorded by eager.autograd.node.record(op, inputs, attrs, "
                        "out)")

    def set_output(self, out) -> None:
        """Make `out` (at its current version) the tensor this node produced."""
        self.out_data = out._data
        base = out._base
        self.out_version = out._version if base is None else base._version

    @property
    def name(self) -> str:
        """PyTorch-style name of the backward function, e.g. "MulBackward"."""
        return "".join(part.capitalize() for part in self.op.name.split("_")) + "Backward"

    @property
    def out(self):
        """The tensor this node produced; backward lends it to the node's rule."""
        out = self._lent_out
        if out is None:
            raise AutogradError(f"{self.name}: the output tensor is only available to the "
                                "backward rule while backward runs")
        return out

    def lend_output(self, out) -> None:
        """Give the rule access to the output tensor (None takes it back)."""
        self._lent_out = out

    def saved_positions(self, reads: tuple | None) -> set:
        """The values (input positions, OUT) the backward rule reads for the inputs that
        want a gradient. `reads[i]` lists what the gradient of input i needs (input
        positions, OUT for the output, Rest(k) for every input from k on); None means
        everything."""
        if reads is None:
            return set(range(len(self.inputs))) | {OUT}
        saved = set()
        for i, edge in enumerate(self.edges):
            if edge is not None and i < len(reads):
                for p in reads[i]:
                    if type(p) is Rest:
                        saved.update(range(p.start, len(self.inputs)))
                    else:
                        saved.add(p)
        return saved

    def check_versions(self, reads: tuple | None = None, needs: list | None = None) -> None:
        """Raise if a value the backward rule is about to read (see saved_positions) was
        modified in place after this op recorded it. `needs` (which inputs want a
        gradient, as backward computes it anyway) may be given to save recomputing it."""
        inputs = self.inputs
        if inputs is None:
            raise AutogradError(
                f"{self.name}: trying to backward through the graph a second time (or directly "
                "access saved tensors after they have already been freed); pass "
                "retain_graph=True to the first backward() if you need to")
        if needs is None:
            needs = [e is not None for e in self.edges]
        # Which values a rule reads depends only on the rule, which inputs want a gradient
        # and how many inputs there are: worked out once per combination, not per node.
        key = (reads, tuple(needs), len(inputs))
        saved = _saved_for.get(key)
        if saved is None:
            saved = _saved_for[key] = tuple(sorted(self.saved_positions(reads)))
        versions = self.versions
        for position in saved:
            if position == OUT:
                x, recorded = self._lent_out, self.out_version
            elif position < len(inputs):
                x, recorded = inputs[position], versions[position]
            else:
                continue
            if recorded is None or x is None:
                continue
            now = x._version if x._base is None else x._base._version
            if now != recorded:
                from eager.ops.inplace import written_by

                what = "its output" if position == OUT else f"input {position}"
                writer = written_by(x)
                raise AutogradError(
                    f"{self.name}: {what} (shape {tuple(x.shape)}), needed for the gradient, "
                    f"was modified by an in-place operation (version {recorded} -> {now})"
                    f"{', last by ' + writer if writer else ''}; use an out-of-place op or "
                    ".clone() it first")

    def replace_input(self, position: int, x) -> None:
        """Make `x` (at its current version) the saved value of input `position`; the
        gradient still flows along the edge recorded when the op ran."""
        inputs, versions = list(self.inputs), list(self.versions)
        inputs[position] = x
        versions[position] = x._version if x._base is None else x._base._version
        self.inputs, self.versions = tuple(inputs), versions

    def release(self) -> None:
        """Free saved inputs after backward (retain_graph=False)."""
        self.inputs = None
        self.attrs = None
        self.edges = None

    def __repr__(self) -> str:
        return f"<{self.name}>"


def record(op, inputs: tuple, attrs: dict, out) -> Node:
    """The node for `out = op(*inputs, **attrs)`, as dispatch records it.

    A plain function filling a bare Node: it runs once per op with grad on, and skipping
    the class call machinery is a measurable part of that cost.

    >>> import eager
    >>> from kernels import OPS
    >>> x = eager.tensor([1.0], requires_grad=True)
    >>> out = x * 2
    >>> record(OPS["mul"], (x, 2), {}, out).edges
    [tensor([1.], requires_grad=True), None]
    """
    node = _new_node(Node)
    node.op = op
    node.inputs = inputs
    node.attrs = attrs
    if len(inputs) == 2 and type(inputs[0]) is Tensor is type(inputs[1]):
        # Two tensors, unrolled: the most common node by far.
        a, b = inputs
        node.edges = (a._node or (a if a._requires_grad else None),
                      b._node or (b if b._requires_grad else None))
        node.versions = (a._version if a._base is None else a._base._version,
                         b._version if b._base is None else b._base._version)
    else:
        edges = []
        versions = []
        for x in inputs:
            if type(x) is Tensor:
                edges.append(x._node or (x if x._requires_grad else None))
                versions.append(x._version if x._base is None else x._base._version)
            else:
                edges.append(None)
                versions.append(None)
        node.edges = edges
        node.versions = versions
    node.out_data = out._data
    base = out._base
    node.out_version = 0 if base is None else base._version
    node._lent_out = None
    return node


_new_node = object.__new__
# (reads, needs, number of inputs) -> the positions check_versions looks at.
_saved_for: dict[tuple, tuple] = {}

from eager.tensor import Tensor
