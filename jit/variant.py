"""One compiled variant of a jitted function: the traced graph, the optimized graph, the
executable, and the flags that decide how a call replays it.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from eager.tensor import Tensor
from jit.executable import Executable
from jit.passes import PassReport, optimize
from tracer.graph import Graph


@dataclass
class Variant:
    """One traced signature (and guard outcome): its graphs, report and executable."""

    traced: Graph
    graph: Graph | None = None
    executable: Executable | None = None
    report: list[PassReport] = field(default_factory=list)
    eager_reason: str = ""
    compile_seconds: float = 0.0
    checks_left: int = 0
    fn: Callable | None = None
    writes_inputs: bool = False
    plain: bool = False        # compiled, nothing to check per call: the fast path
    run: Callable | None = None
    random_inputs: list = field(default_factory=list)  # generator resolvers, when they matter

    def compile(self, disable: tuple[str, ...], check: bool) -> None:
        """Optimize and compile the traced graph; set the per-call flags."""
        start = time.perf_counter()
        self.graph, groups, self.report = optimize(self.traced, disable)
        self.executable = Executable(self.graph, groups, plan_memory="memory" not in disable)
        self.compile_seconds = time.perf_counter() - start
        self.checks_left = 3 if check else 0
        self.writes_inputs = any(wb.slot == "data" and wb.target.kind == "arg"
                                 for wb in self.graph.writebacks)
        self.run = self.executable._run
        nodes = self.graph.nodes
        if any(n.op.kind == "random" for n in nodes) and (self.graph.guards or any(
                n.op.kind == "index" or n.op.dynamic_shape for n in nodes)):
            state = self.executable.state
            self.random_inputs = [state._resolver(v) for v in self.graph.inputs
                                  if not v.is_tensor]
        self.update_plain()

    def update_plain(self) -> None:
        """The fast path applies when there is nothing to check or save per call."""
        self.plain = not (self.writes_inputs or self.checks_left or self.random_inputs)

    def generators(self, leaves) -> list:
        """The cpu generators this replay draws from, when a later failure could waste
        draws (the graph draws random numbers and has guards or fallible steps)."""
        state = self.executable.state
        gens = [state._tensor_of(r, leaves) for r in self.random_inputs]
        return [g for g in gens if g.device == "cpu"]


def restore(saved: list) -> None:
    for generator, state in saved:
        generator.set_state(state)


def aliased(leaves) -> bool:
    """Whether two tensor arguments share memory (the same tensor, or views of one base)."""
    roots = [id(x) if x._base is None else id(x._base) for x in leaves if type(x) is Tensor]
    return len(set(roots)) != len(roots)
