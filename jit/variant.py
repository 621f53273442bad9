"""One compiled variant of a jitted function: the traced graph, the optimized graph, the
executable, and the flags that decide how a call replays it.

`Variant.replay` gives the call's `Outcome` as a value (on a hit the result, else a
`Miss`: a failed guard with its `GuardFailure`, busy, a replay error, or `RUN_EAGERLY`),
so the caller matches on it instead of catching exceptions.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from eager.tensor import Tensor
from jit.executable import RUN_EAGERLY, Busy, Executable, Miss, Outcome, RunEagerly
from jit.observe import convert_outputs, observe, site_of
from jit.passes import PassReport, optimize
from tracer.graph import Graph
from tracer.plan import tensor_at


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
    run: Callable | None = None  # the executable's replay: leaves -> Outcome
    random_inputs: list = field(default_factory=list)  # generator sources, when they matter
    python_state: tuple | None = None  # the globals/closure values read (jit.python_state)
    read_outputs: dict = field(default_factory=dict)   # output leaf -> the read it returns
    ambiguous_reads: set = field(default_factory=set)  # sites never made observations
    convert: dict = field(default_factory=dict)        # output leaf -> read to apply
    captured_args: tuple = ()   # (leaf, tensor): arguments that were captured tensors too

    def compile(self, disable: tuple[str, ...], check: bool, observed=frozenset()) -> None:
        """Optimize and compile the traced graph, without the guards at the `observed`
        host-read sites (`jit.observe`); set the per-call flags."""
        start = time.perf_counter()
        graph = self.traced
        sites = {site_of(g) for g in graph.guards} & set(observed)
        if sites:
            graph, self.convert = observe(graph, sites, self.read_outputs)
        self.graph, self.report = optimize(graph, disable)
        self.executable = Executable(self.graph, plan_memory="memory" not in disable)
        self.compile_seconds = time.perf_counter() - start
        self.checks_left = 3 if check else 0
        self.writes_inputs = any(wb.slot == "data" and wb.target.kind == "arg"
                                 for wb in self.graph.writebacks)
        self.run = self.executable.replay
        nodes = self.graph.nodes
        if any(n.op.kind == "random" for n in nodes) and (self.graph.guards or any(
                n.op.kind == "index" or n.op.dynamic_shape for n in nodes)):
            plan = self.executable.plan
            self.random_inputs = [plan.source_of(v) for v in self.graph.inputs
                                  if not v.is_tensor]
        self.update_plain()

    def same_captured_args(self, leaves: list) -> bool:
        """Whether this call passes the captured tensors where the traced call did (the
        graph reads them through the argument)."""
        return all(leaves[i] is t for i, t in self.captured_args)

    def captured_ids(self) -> tuple:
        """`captured_args` by identity, to compare two variants."""
        return tuple((i, id(t)) for i, t in self.captured_args)

    def update_plain(self) -> None:
        """The fast path applies when there is nothing to check or save per call."""
        self.plain = not (self.writes_inputs or self.checks_left or self.random_inputs
                          or self.convert)

    def replay(self, leaves: list, args: tuple, kwargs: dict, name: str) -> Outcome | RunEagerly:
        """Replay this call (the fast path is `self.run(leaves)` when `plain`): compare
        with eager while checks are left (`jit(check=True)`, raising JitCheckError named
        after `name`), and restore random generators when the replay did not complete."""
        if self.plain:
            return self.run(leaves)
        if self.executable is None or (self.writes_inputs and aliased(leaves)):
            return RUN_EAGERLY
        if self.checks_left:
            from jit.check import compare_with_reference

            self.checks_left -= 1
            self.update_plain()
            return compare_with_reference(self, leaves, args, kwargs, name)
        # Random draws made before a failed guard must not count: the fallback (or the
        # next variant) draws them again from the same state, as eager would.
        saved = [(g, g.get_state()) for g in self.generators(leaves)]
        outcome = self.run(leaves)
        if isinstance(outcome, Miss):
            if type(outcome) is not Busy:
                for generator, state in saved:
                    generator.set_state(state)
            return outcome
        return convert_outputs(outcome, self.convert) if self.convert else outcome

    def generators(self, leaves) -> list:
        """The cpu generators this replay draws from, when a later failure could waste
        draws (the graph draws random numbers and has guards or fallible steps)."""
        gens = [tensor_at(source, leaves) for source in self.random_inputs]
        return [g for g in gens if g.device == "cpu"]


def aliased(leaves) -> bool:
    """Whether two tensor arguments share memory (the same tensor, or views of one base)."""
    roots = [id(x) if x._base is None else id(x._base) for x in leaves if type(x) is Tensor]
    return len(set(roots)) != len(roots)
