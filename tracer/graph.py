"""The static Graph IR: what one traced run of a function did, as data.

A `Graph` is a straight-line program in SSA form over the primitive ops of `kernels.OPS`:

- `inputs`: every `Value` the program reads from outside, in a fixed order. Each has a
  `kind`:
    * "arg"   — a tensor (or Generator) passed as an argument; `in_tree` says where it sits
      in the nested arguments.
    * "ref"   — state bound by reference and read afresh on every replay: a closure or
      module tensor (`ref` is the Tensor), an RNG (`ref` is the eager Generator), or the
      `.grad` slot of another input tensor (`ref` is `GradOf(owner_value)`).
    * "const" — a tensor made from host data while tracing (`data` holds a private copy).
- `nodes`: `Node(op, inputs, attrs, out, where)`; `inputs` are Values defined earlier or
  Python scalar literals, `attrs` are the op's keyword attributes, `out` is a new Value
  ("node" kind) with its shape, dtype and device, and `requires_grad` telling whether
  eager autograd recorded it. `where` is the user's source line. A node may also run
  subgraphs (`node.subgraphs`, reading `node.inputs` and defining `node.outs`): a fused
  `tracer.subgraph.Kernel` today, control flow for `jit.script` next; `walk(graph)`
  visits nodes inside them too.
- `outputs`: the function's result as a nested structure (tuple/list/dict) whose leaves
  are Values or Python literals.
- `writebacks`: `WriteBack(target, value, slot)` side effects done after the nodes run:
  slot "data" copies `value` into the tensor behind input `target` (in-place updates of
  arguments and bound tensors, including writes through views); slot "grad" sets that
  tensor's `.grad` to `value` (None clears it).
- `guards`: `Guard(value, kind, expected, where)` host reads made while tracing (`bool`,
  `item`, `tolist`, `numpy`, a data-dependent `shape`, or `grad_defined` for whether a
  `.grad` slot held a tensor on entry). A replay checks each one and raises
  `GuardFailure` when the data would have sent Python down a different path.
- `in_tree`: the arguments as `(args, kwargs)` with every tensor leaf replaced by its
  "arg" Value; other leaves are static Python values a replay must match.

Every Value has a unique integer `id`, dense from 0, printed as `%id`. `print(graph)`
gives one line per node, jaxpr style, each guard right after the node whose value it
reads; `graph.verify()` (`tracer.verify`) checks well-formedness (SSA, definitions
before uses, each node's shape/dtype equal to its OpDef's `infer` rule, subgraphs) and is
what every pass should call. `graph(*args)` interprets the program with the same
kernels eager uses (see `tracer.interpreter`); `graph.to_dot()` draws it.

>>> import eager, tracer
>>> g = tracer.trace(lambda x: (x * 2.0).sum(), eager.ones(3))
>>> print(g)
graph(x: %0 f32[3]) {
  %1: f32[3] = mul %0 2.0
  %2: f32[] = sum %1 axis=(0,) keepdims=False
  return %2
}
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kernels import OPS, OpDef, TensorSpec
from tracer.pytree import flatten

if TYPE_CHECKING:
    from tracer.plan import ExecutionPlan

_SHORT_DTYPES = {"float16": "f16", "float32": "f32", "float64": "f64", "int8": "i8",
                 "int16": "i16", "int32": "i32", "int64": "i64", "uint8": "u8", "uint16": "u16",
                 "uint32": "u32", "uint64": "u64", "complex64": "c64", "complex128": "c128",
                 "bool": "b8"}
INPUT_KINDS = ("arg", "ref", "const")


def short_type(shape: tuple[int, ...] | None, dtype: np.dtype | None) -> str:
    """`f32[2,3]` for a tensor type; `rng` for a non-tensor (Generator) value.

    >>> short_type((2, 3), np.dtype("float32"))
    'f32[2,3]'
    """
    if dtype is None:
        return "rng"
    name = _SHORT_DTYPES.get(dtype.name, dtype.name)
    return f"{name}[{','.join(str(d) for d in shape)}]"


@dataclass(frozen=True)
class GradOf:
    """What a "ref" Value reads for a `.grad` slot: the gradient of input `owner`."""

    owner: Value


@dataclass(eq=False)
class Value:
    """One SSA value. Tensors have shape/dtype; a Generator value has both None."""

    id: int
    shape: tuple[int, ...] | None
    dtype: np.dtype | None
    device: str
    kind: str = "node"
    label: str = ""
    ref: Any = None
    data: Any = None
    requires_grad: bool = False

    @property
    def is_tensor(self) -> bool:
        """False only for generator values."""
        return self.dtype is not None

    @property
    def spec(self) -> TensorSpec | None:
        """The Value's TensorSpec (None for a generator)."""
        return None if self.dtype is None else TensorSpec(self.shape, self.dtype)

    @property
    def type_str(self) -> str:
        """`f32[2,3]` or `rng`."""
        return short_type(self.shape, self.dtype)

    def __repr__(self) -> str:
        return f"%{self.id}"


@dataclass(eq=False)
class Node:
    """`out = op(*inputs, **attrs)`; inputs are Values or Python scalar literals."""

    op: OpDef
    inputs: tuple
    attrs: dict
    out: Value
    where: str = ""

    @property
    def outs(self) -> tuple[Value, ...]:
        """The Values this node defines (one for a primitive op)."""
        return (self.out,)

    @property
    def subgraphs(self) -> tuple[Graph, ...]:
        """Graphs this node runs (none for a primitive op; see `tracer.subgraph`)."""
        return ()

    def with_inputs(self, inputs: tuple) -> Node:
        """The same node reading `inputs` instead (what passes use to rewrite uses)."""
        return Node(self.op, tuple(inputs), self.attrs, self.out, self.where)

    def __str__(self) -> str:
        parts = [self.op.name] + [format_operand(x) for x in self.inputs]
        parts += [f"{k}={format_attr(v)}" for k, v in self.attrs.items()]
        return f"{self.out!r}: {self.out.type_str} = {' '.join(parts)}"


def walk(graph: Graph) -> Iterator[Node]:
    """Every node of `graph` in program order, each node before the nodes of its subgraphs.

    >>> import eager, tracer
    >>> g = tracer.trace(lambda x: x.exp() * 2.0, eager.ones(2))
    >>> [n.op.name for n in walk(g)]
    ['exp', 'mul']
    """
    for node in graph.nodes:
        yield node
        for sub in node.subgraphs:
            yield from walk(sub)


@dataclass(eq=False)
class WriteBack:
    """After the nodes: store `value` into input `target`'s data, or its `.grad` slot."""

    target: Value
    value: Value | None
    slot: str = "data"

    def __str__(self) -> str:
        dest = f"{self.target!r}" if self.slot == "data" else f"grad({self.target!r})"
        return f"{dest} <- {self.value!r}" if self.value is not None else f"{dest} <- None"

    __repr__ = __str__


@dataclass(eq=False)
class Guard:
    """A host read made while tracing: replay requires `kind` of `value` to equal
    `expected` (for "grad_defined", whether input `value`'s `.grad` holds a tensor)."""

    value: Value
    kind: str
    expected: Any
    where: str = ""

    def __str__(self) -> str:
        expected = self.expected
        if isinstance(expected, np.ndarray):
            expected = expected.tolist()
        text = repr(expected)
        if len(text) > 40:
            text = text[:37] + "..."
        line = f"guard {self.kind}({self.value!r}) == {text}"
        return f"{line}  # {self.where}" if self.where else line

    __repr__ = __str__


def format_operand(x: Any) -> str:
    """`%3` for a Value, the literal's repr otherwise."""
    return repr(x)


def format_attr(v: Any) -> str:
    """Attributes print compactly: dtypes by name, tuples without spaces."""
    if isinstance(v, np.dtype):
        return v.name
    if isinstance(v, tuple):
        return "(" + ",".join(format_attr(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    return repr(v)


@dataclass(eq=False)
class Graph:
    """A traced program: inputs, nodes, outputs, write-backs and guards (see module doc)."""

    name: str = "graph"
    inputs: list[Value] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    outputs: Any = None
    writebacks: list[WriteBack] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)
    in_tree: Any = ((), {})
    arg_names: tuple = ()
    _next_id: int = 0
    _plan: Any = field(default=None, repr=False)

    # ---- building -------------------------------------------------------------------
    def new_value(self, shape, dtype, device: str, kind: str = "node", **extra: Any) -> Value:
        """A fresh Value with the next id (not yet added anywhere)."""
        value = Value(self._next_id, None if shape is None else tuple(shape),
                      None if dtype is None else np.dtype(dtype), device, kind, **extra)
        self._next_id += 1
        self._plan = None
        return value

    def add_input(self, kind: str, shape, dtype, device: str, **extra: Any) -> Value:
        """Append an input Value of kind "arg", "ref" or "const" and return it."""
        value = self.new_value(shape, dtype, device, kind, **extra)
        self.inputs.append(value)
        return value

    def add_node(self, op: OpDef | str, inputs: tuple, attrs: dict, shape, dtype,
                 device: str, where: str = "") -> Value:
        """Append `op(*inputs, **attrs)` with the given output type; return its Value."""
        op = OPS[op] if isinstance(op, str) else op
        out = self.new_value(shape, dtype, device)
        self.nodes.append(Node(op, tuple(inputs), dict(attrs), out, where))
        return out

    def invalidate(self) -> None:
        """Forget the cached execution plan after editing the graph in place."""
        self._plan = None

    def execution_plan(self) -> ExecutionPlan:
        """The graph's `tracer.plan.ExecutionPlan` (verifies; built once, then cached)."""
        if self._plan is None:
            from tracer.plan import ExecutionPlan

            self._plan = ExecutionPlan(self)
        return self._plan

    # ---- views ----------------------------------------------------------------------
    @property
    def args(self) -> list[Value]:
        """Input Values passed as arguments, in `in_tree` leaf order."""
        return [v for v in self.inputs if v.kind == "arg"]

    @property
    def refs(self) -> list[Value]:
        """Input Values bound by reference (tensors, generators, grad slots)."""
        return [v for v in self.inputs if v.kind == "ref"]

    @property
    def consts(self) -> list[Value]:
        """Input Values holding host-data constants."""
        return [v for v in self.inputs if v.kind == "const"]

    def output_values(self) -> list[Value]:
        """The Values among the (flattened) outputs."""
        return [x for x in flatten(self.outputs)[0] if isinstance(x, Value)]

    def values(self) -> Iterator[Value]:
        """Every Value the graph defines at its top level: inputs, then node outputs."""
        yield from self.inputs
        for node in self.nodes:
            yield from node.outs

    def producers(self) -> dict[int, Node]:
        """Map from Value id to the (top-level) node that defines it."""
        return {v.id: node for node in self.nodes for v in node.outs}

    def users(self) -> dict[int, list[Node]]:
        """Map from Value id to the nodes that read it (each node once, in order)."""
        out: dict[int, list[Node]] = {}
        for node in self.nodes:
            for x in node.inputs:
                if isinstance(x, Value):
                    readers = out.setdefault(x.id, [])
                    if not readers or readers[-1] is not node:
                        readers.append(node)
        return out

    # ---- text -----------------------------------------------------------------------
    def signature(self) -> str:
        """The arguments the graph expects, e.g. `(x: f32[3], {'lr': 0.1})`."""
        from tracer.signature import describe_signature

        return describe_signature(self.in_tree, self.arg_names)

    def __str__(self) -> str:
        from tracer.signature import describe_args

        lines = [f"{self.name}({describe_args(self.in_tree, self.arg_names)}) {{"]
        for v in self.inputs:
            if v.kind == "ref":
                what = f" = grad({v.ref.owner!r})" if isinstance(v.ref, GradOf) else ""
                label = f"  # {v.label}" if v.label else ""
                lines.append(f"  ref {v!r}: {v.type_str}{what}{label}")
            elif v.kind == "const":
                lines.append(f"  const {v!r}: {v.type_str}{_const_preview(v.data)}")
        # Each guard prints where a replay checks it: entry guards after the inputs, the
        # others right after the node producing the value they read.
        guards_of: dict[int, list[Guard]] = {}
        for guard in self.guards:
            guards_of.setdefault(guard.value.id, []).append(guard)
        lines += [f"  {guard}" for v in self.inputs for guard in guards_of.get(v.id, ())]
        for node in self.nodes:
            _node_lines(node, "  ", lines)
            lines += [f"  {guard}" for v in node.outs for guard in guards_of.get(v.id, ())]
        lines += [f"  {wb}" for wb in self.writebacks]
        lines.append(f"  return {_format_outputs(self.outputs)}")
        lines.append("}")
        return "\n".join(lines)

    __repr__ = __str__

    # ---- checking -------------------------------------------------------------------
    def verify(self) -> Graph:
        """Check the graph is well formed; raise GraphError naming the first problem.

        Checks: unique ids, input kinds, SSA (each Value defined once, before use), known
        ops and arities, every node's shape and dtype equal to its OpDef's `infer` rule,
        outputs, guards and write-backs referring to defined Values of matching types.
        Messages are only formatted on failure, so verifying stays cheap.

        >>> import eager, tracer
        >>> g = tracer.trace(lambda x: x.exp(), eager.ones(2))
        >>> g.nodes[0].out.shape = (3,)
        >>> g.verify()
        Traceback (most recent call last):
        ...
        tracer.errors.GraphError: node 0 (%1: f32[3] = exp %0): output is f32[3] but exp's rule gives f32[2]
        """
        from tracer.verify import verify_graph

        verify_graph(self)
        return self

    # ---- running and drawing ----------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the graph on new arguments with the same kernels eager uses.

        Checks the arguments against the traced signature, checks guards (raising
        `GuardFailure`), performs write-backs, and returns the outputs as Tensors. Runs
        through eager dispatch instead when outputs must carry autograd history or a
        tracer is listening (see `tracer.nested`).

        >>> import eager, tracer
        >>> g = tracer.trace(lambda x, y: {"sum": x + y}, eager.ones(2), eager.ones(2))
        >>> g(eager.zeros(2), eager.full((2,), 3.))["sum"].tolist()
        [3.0, 3.0]
        """
        from tracer.interpreter import run

        return run(self, args, kwargs)

    def to_dot(self) -> str:
        """Graphviz source of the graph: inputs, params, consts and outputs styled apart.

        >>> import eager, tracer
        >>> print(tracer.trace(lambda x: x.exp(), eager.ones(2)).to_dot())  # doctest: +ELLIPSIS
        digraph "graph" {
        ...
          v1 [label="exp\\nf32[2]" shape=box style=rounded...
          v0 -> v1;
        ...
        """
        from tracer.picture import graph_to_dot

        return graph_to_dot(self)

    def render(self, path: str) -> str:
        """Write a picture (format from the suffix: .svg, .png, .pdf) with Graphviz `dot`;
        raises GraphvizNotFound when `dot` is not installed. Returns the path.

        >>> import eager, tracer, tempfile, os
        >>> g = tracer.trace(lambda x: x.exp(), eager.ones(2))
        >>> path = os.path.join(tempfile.mkdtemp(), "exp.svg")
        >>> try:
        ...     _ = g.render(path)
        ... except tracer.GraphvizNotFound:
        ...     pass
        """
        from tracer.picture import render

        return render(self.to_dot(), path)

    def _repr_svg_(self) -> str | None:
        from tracer.picture import svg_or_none

        return svg_or_none(self.to_dot())


def _node_lines(node: Node, indent: str, lines: list[str]) -> None:
    if hasattr(node, "format_lines"):  # control flow prints its sections (tracer.control)
        node.format_lines(indent, lines, _node_lines)
        return
    if not node.subgraphs:
        lines.append(f"{indent}{node}")
        return
    lines.append(f"{indent}{node} {{")
    for sub in node.subgraphs:
        for inner in sub.nodes:
            _node_lines(inner, indent + "  ", lines)
    lines.append(f"{indent}}}")


def _const_preview(data) -> str:
    if data is None or data.size > 6:
        return ""
    host = data if isinstance(data, np.ndarray) else data.get()
    return f" = {host.tolist()!r}"


def _format_outputs(outputs: Any) -> str:
    from tracer.pytree import describe

    leaves, treedef = flatten(outputs)
    return describe(treedef, [repr(x) for x in leaves])
