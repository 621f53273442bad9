"""The Graph interpreter: one walk over an `ExecutionPlan`, with hooks backends override.

`Interpreter.run(leaves)` binds the inputs, reads the bound state and checks the entry
guards (`ExecutionPlan.read_state`), runs every step (`run_step` -> `run_node`, then the
step's guards via `check_guard`), and only then writes back and builds the outputs, so a
failed guard leaves no side effects. In the style of torch.fx's `Interpreter`, a backend
is a subclass overriding hooks:

- `Interpreter` itself runs each node's `op.kernel(xp)` on raw arrays (the fast path that
  `graph(*args)` takes);
- `tracer.nested.DispatchInterpreter` runs each node through eager dispatch, for autograd
  and for a tracer listening;
- the jit's generated replay (`jit.executable`) is generated from the same plan's fields.

A node with subgraphs (a fused `Kernel`, or the `If`/`While` nodes of `tracer.control`
that `jit.script` makes) is run by `run_subgraph_node`; a Kernel binds its body's
parameters to the node's reads and runs the body's steps in the same environment; control
flow (`tracer.control.run_control`) chooses one branch or repeats the body, running
each step with the same `run_node`, so every backend runs loops too.

>>> import eager, tracer
>>> g = tracer.trace(lambda x: x.tanh() * 2, eager.zeros(2))
>>> g(eager.tensor([0., 100.])).tolist()
[0.0, 2.0]
>>> class Counting(Interpreter):
...     def run_node(self, step, env):
...         self.seen.append(step.node.op.name)
...         return super().run_node(step, env)
>>> counting = Counting(g); counting.seen = []
>>> counting.run([eager.ones(2)]).shape, counting.seen
((2,), ['tanh', 'mul'])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from eager.autograd.grad_mode import is_grad_enabled
from eager.dispatch import get_hook
from kernels.errors import EagerError
from tracer.control import CONTROL_OPS, run_control
from tracer.errors import GuardFailure
from tracer.graph import Graph, Guard
from tracer.plan import NodeStep, check_guard

_ndarray = np.ndarray


def run(graph: Graph, args: tuple, kwargs: dict) -> Any:
    """Interpret `graph` on new arguments: through eager dispatch when eager would return
    outputs with autograd history or a tracer is listening, else on raw arrays."""
    plan = graph.execution_plan()
    leaves = plan.check_args(args, kwargs)
    differentiable = plan.differentiable and is_grad_enabled()
    if differentiable or get_hook() is not None:
        from tracer.nested import DispatchInterpreter

        return DispatchInterpreter(graph, differentiable).run(leaves)
    return Interpreter(graph).run(leaves)


class Interpreter:
    """Runs a graph's `ExecutionPlan` on arrays (see the module docstring for the hooks)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.plan = graph.execution_plan()

    def run(self, leaves: list) -> Any:
        """Run on the flattened argument leaves (already checked against the signature)."""
        env = self.bind_inputs(leaves)
        step, run_step = None, self.run_step
        try:
            for step in self.plan.steps:
                run_step(step, env)
        except (GuardFailure, EagerError):
            raise
        except Exception as exc:  # noqa: BLE001  (any backend error becomes a named one)
            raise self.explain(step, exc) from None
        self.write_back(env, leaves)
        return self.outputs(env, leaves)

    def bind_inputs(self, leaves: list) -> list:
        """A fresh environment with arguments, bound state and literals; entry guards."""
        plan = self.plan
        env = plan.node_template.copy()
        for arg in plan.args:
            leaf = leaves[arg.leaf]
            env[arg.slot] = leaf._data if arg.tensor else leaf
        plan.read_state(env, leaves)
        return env

    def run_step(self, step: NodeStep, env: list) -> None:
        """Run one step, check the guards on what it computed, drop dead values."""
        if step.bodies:
            self.run_subgraph_node(step, env)
        else:
            result = env[step.out] = self.run_node(step, env)
            for guard in step.guards:
                self.check_guard(guard, result)
        for slot in step.frees:
            env[slot] = None

    def run_node(self, step: NodeStep, env: list) -> Any:
        """The value of one primitive node."""
        result = step.fn(*[env[s] for s in step.slots], **step.attrs)
        if step.on_cpu and type(result) is not _ndarray:
            result = np.asarray(result)
        return result

    def run_subgraph_node(self, step: NodeStep, env: list) -> None:
        """Run a node with subgraphs. A fused `Kernel` has one: bind its parameters to the
        node's reads, run its steps. `If`/`While` choose or repeat bodies."""
        if step.node.op.name in CONTROL_OPS:
            run_control(self, step, env)
            return
        for body in step.bodies:
            for param, read in body.params:
                env[param] = env[read]
            for inner in body.steps:
                self.run_step(inner, env)

    def explain(self, step: NodeStep, exc: Exception) -> Exception:
        """The error to raise for a kernel that failed: one naming the node and its line."""
        return self.plan.explain(step.node, exc)

    def check_guard(self, guard: Guard, value: Any) -> None:
        """Raise GuardFailure when the host read `guard` would now differ."""
        check_guard(guard, value)

    def write_back(self, env: list, leaves: list) -> None:
        """Perform the write-backs (only after every guard passed)."""
        self.plan.write_back(env, leaves)

    def outputs(self, env: list, leaves: list) -> Any:
        """The outputs in the structure the traced function returned."""
        return self.plan.outputs(env, leaves)


__all__ = ["Interpreter", "run"]
