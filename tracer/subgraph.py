"""Nodes that run subgraphs. Today: `Kernel`, a fused group as one call node (the fusion
pass makes them, lowering compiles each into one generated kernel). Next: the `If` and
`While` nodes `jit.script` will add. Everything generic code needs is on the node:
`inputs` (reads), `outs` (writes), `subgraphs`, an `op` with a name and kind "call", and
`with_inputs`; `Graph.verify`, printing, `tracer.walk`, the passes and the interpreter
(`Interpreter.run_subgraph_node`) handle any such node.
"""
from __future__ import annotations

from dataclasses import dataclass

from tracer.graph import Graph, Node, Value


@dataclass(frozen=True)
class CallOp:
    """The op of a node that runs a subgraph. It has the fields generic code reads off an
    `OpDef` (name, kind "call", arity, is_view, dynamic_shape) but no kernel of its own:
    interpreters run the subgraph. It is not in `kernels.OPS`."""

    name: str
    kind: str = "call"
    arity: int = -1
    is_view: bool = False
    dynamic_shape: bool = False


KERNEL = CallOp("kernel")


@dataclass(eq=False)
class Kernel:
    """A fused call node: `outs = kernel(*inputs)` runs `body`, a Graph of its own.

    `inputs` are the Values the kernel reads from the enclosing graph (explicit reads); the
    body's "arg" inputs are its parameters, bound to `inputs` in order; the body's outputs, a
    tuple of Values defined by its nodes, are what the kernel writes (`outs`): the only body
    Values the enclosing graph may read. Every id comes from the enclosing graph's counter,
    so one environment serves both. The fusion pass makes these (one per fused group) and
    lowering compiles each into one generated kernel; the reference interpreter just runs
    the body. Control flow (`If`/`While` for `jit.script`) will be further nodes with
    `subgraphs`; verify, print, walk and the interpreter handle such nodes generically.

    >>> import eager, tracer
    >>> g = tracer.trace(lambda x: (x * 2.0).exp() + 1.0, eager.ones(2))
    >>> k = Kernel.of(g, g.nodes, [g.nodes[-1].out])
    >>> g.nodes = [k]
    >>> print(g.verify())
    graph(x: %0 f32[2]) {
      %3: f32[2] = kernel(%4 = %0) {
        %1: f32[2] = mul %4 2.0
        %2: f32[2] = exp %1
        %3: f32[2] = add %2 1.0
      }
      return %3
    }
    >>> g(eager.zeros(2)).tolist()
    [2.0, 2.0]
    """

    inputs: tuple
    body: Graph
    where: str = ""
    op = KERNEL

    @classmethod
    def of(cls, graph: Graph, members: list[Node], writes: list[Value]) -> Kernel:
        """Wrap `members` (nodes of `graph`, in order) into one Kernel node; `writes` are
        the member outputs read outside the group. Parameters get fresh ids of `graph`."""
        made = {n.out.id for n in members}
        reads: dict[int, Value] = {}
        for node in members:
            for x in node.inputs:
                if isinstance(x, Value) and x.id not in made and x.id not in reads:
                    reads[x.id] = x
        params = {vid: graph.new_value(x.shape, x.dtype, x.device, "arg", label=x.label)
                  for vid, x in reads.items()}
        nodes = [n.with_inputs(tuple(params.get(x.id, x) if isinstance(x, Value) else x
                                     for x in n.inputs)) for n in members]
        body = Graph("kernel", list(params.values()), nodes, tuple(writes),
                     in_tree=(tuple(params.values()), {}), _next_id=graph._next_id)
        return cls(tuple(reads.values()), body, members[0].where)

    @property
    def attrs(self) -> dict:
        """No attributes: what the kernel does is its body."""
        return {}

    @property
    def outs(self) -> tuple[Value, ...]:
        """The body Values the kernel writes for the enclosing graph."""
        return tuple(self.body.outputs)

    @property
    def subgraphs(self) -> tuple[Graph, ...]:
        """The body."""
        return (self.body,)

    def with_inputs(self, inputs: tuple) -> Kernel:
        """The same kernel reading `inputs` (each bound to the same parameter)."""
        return Kernel(tuple(inputs), self.body, self.where)

    def __str__(self) -> str:
        outs = ", ".join(f"{v!r}: {v.type_str}" for v in self.outs)
        binds = ", ".join(f"{p!r} = {x!r}" for p, x in zip(self.body.inputs, self.inputs))
        return f"{outs} = kernel({binds})"
