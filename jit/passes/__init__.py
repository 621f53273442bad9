"""The optimization pipeline: small passes, each `Graph -> Graph`, the result verified.

`optimize(graph, disable=...)` runs, in order: `simplify` (algebraic identities),
`fold` (constant folding), `cse` (common subexpressions), `dce` (dead code) and `fuse`
(elementwise fusion, with reductions over the last axis as row kernels, into `Kernel`
nodes, each holding its group as a subgraph; then `remat`). Memory
planning runs when the graph is compiled (`jit.executable`). Node counts in the report
count primitive nodes, inside kernels too. Any pass can be switched off by name for
teaching and debugging, e.g. `jit(fn, disable=("fuse",))`.

>>> import eager, tracer
>>> g = tracer.trace(lambda x: (x * 1.0).exp() + (x * 1.0).exp(), eager.ones(3))
>>> _, report = optimize(g)
>>> [(r.name, r.nodes_before, r.nodes_after) for r in report]
[('simplify', 5, 3), ('fold', 3, 3), ('cse', 3, 2), ('dce', 2, 2), ('fuse', 2, 2)]
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jit.passes.cse import cse
from jit.passes.dce import dce
from jit.passes.fold import fold_constants
from jit.passes.fusion import fuse, fusion_groups
from jit.passes.simplify import simplify
from tracer.errors import GraphError
from tracer.graph import Graph, walk

PASSES: dict[str, Callable[[Graph], Graph]] = {
    "simplify": simplify, "fold": fold_constants, "cse": cse, "dce": dce, "fuse": fuse,
}
ALL_PASSES = tuple(PASSES) + ("memory",)


@dataclass
class PassReport:
    """What one pass did: node counts before and after, and a note (e.g. fused groups)."""

    name: str
    nodes_before: int
    nodes_after: int
    note: str = ""

    def __str__(self) -> str:
        text = f"{self.name:9s} {self.nodes_before:4d} -> {self.nodes_after:4d} nodes"
        return f"{text}  {self.note}" if self.note else text


def check_pass_names(disable) -> tuple[str, ...]:
    """Validate pass names given to `disable`; ValueError lists the known ones."""
    disable = (disable,) if isinstance(disable, str) else tuple(disable)
    unknown = [name for name in disable if name not in ALL_PASSES]
    if unknown:
        raise ValueError(f"unknown pass name(s) {unknown}; the passes are {list(ALL_PASSES)}")
    return disable


def count_nodes(graph: Graph) -> int:
    """Primitive nodes of `graph`, those inside subgraphs (fused kernels) included."""
    return sum(1 for node in walk(graph) if not node.subgraphs)


def optimize(graph: Graph, disable=()) -> tuple[Graph, list[PassReport]]:
    """Run the enabled passes; return the optimized graph and a report per pass.

    The result is verified once (verifying after every pass took a fifth of the
    compile time of a training step); when that fails, the passes run again, each
    verified, so the error names the pass that broke the graph.
    """
    disable = check_pass_names(disable)
    try:
        optimized, report = _run_passes(graph, disable, each=False)
        return optimized.verify(), report
    except GraphError:
        return _run_passes(graph, disable, each=True)


def _run_passes(graph: Graph, disable: tuple[str, ...], each: bool
                ) -> tuple[Graph, list[PassReport]]:
    report = []
    for name, run in PASSES.items():
        if name in disable:
            continue
        before = count_nodes(graph)
        graph = run(graph)
        if each:
            try:
                graph.verify()
            except GraphError as exc:
                raise GraphError(f"optimize: pass {name!r} made a malformed graph: {exc}") \
                    from None
        note = ""
        if name == "fuse":
            sizes = [len(g) for g in fusion_groups(graph)]
            note = f"{len(sizes)} fused group(s) of sizes {sizes}" if sizes else "no groups"
        report.append(PassReport(name, before, count_nodes(graph), note))
    return graph, report


__all__ = [
    "ALL_PASSES",
    "PASSES",
    "PassReport",
    "count_nodes",
    "cse",
    "dce",
    "fold_constants",
    "fuse",
    "fusion_groups",
    "optimize",
    "simplify",
]
