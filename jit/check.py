"""`jit(check=True)`: run a replay and the eager function on the same inputs and compare.

It is a backend of the variant's `ExecutionPlan` like the others: the state it saves is
read off the plan's write-backs and bindings, and the replay is the executable's. The
eager run happens first; the state it changes (tensors written in place, `.grad`
slots, random generators) is saved beforehand and restored afterwards, so the compiled
replay starts from the same state and its side effects are the ones that remain. Python
side effects of the function (prints, appends to lists) do happen twice.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from eager.random import Generator
from eager.tensor import Tensor
from jit.executable import Miss, Outcome
from jit.observe import convert_outputs
from tracer.plan import tensor_at
from tracer.pytree import flatten


def _host(array) -> np.ndarray:
    return array if isinstance(array, np.ndarray) else array.get()


def _touched_state(variant, leaves: list) -> tuple[list[Tensor], list[Generator]]:
    plan = variant.executable.plan
    tensors = {}
    for wb in plan.writebacks:
        t = tensor_at(wb.target, leaves)
        tensors[id(t)] = t
    gens = [v.ref for v in plan.graph.inputs if isinstance(v.ref, Generator)]
    gens += [x for x in leaves if isinstance(x, Generator)]
    return list(tensors.values()), gens


def _snapshot(tensors, gens):
    return ([(t, t._data.copy(), t._grad) for t in tensors],
            [(g, g.get_state()) for g in gens if g.device == "cpu"])


def _restore(saved) -> None:
    tensor_states, gen_states = saved
    for t, data, grad in tensor_states:
        t._data[...] = data
        t._grad = grad
    for g, s in gen_states:
        g.set_state(s)


def _observe(result: Any, tensors: list[Tensor]) -> list[tuple[str, Any]]:
    seen = []
    for i, leaf in enumerate(flatten(result)[0]):
        if type(leaf) is Tensor:
            seen.append((f"output {i}", _host(leaf._data).copy()))
    for j, t in enumerate(tensors):
        seen.append((f"updated tensor {j} {tuple(t.shape)}", _host(t._data).copy()))
        grad = None if t._grad is None else _host(t._grad._data).copy()
        seen.append((f"grad of updated tensor {j}", grad))
    return seen


def compare_with_reference(variant, leaves: list, args: tuple, kwargs: dict,
                           name: str) -> Outcome:
    """Run eagerly, restore state, replay; raise JitCheckError (naming jit(`name`)) on a
    mismatch. A replay that does not complete (a failed guard, ...) is its outcome."""
    tensors, gens = _touched_state(variant, leaves)
    saved = _snapshot(tensors, gens)
    eager_seen = _observe(variant.fn(*args, **kwargs), tensors)
    _restore(saved)
    outcome = variant.executable.replay(leaves)
    if not isinstance(outcome, Miss):
        if variant.convert:
            outcome = convert_outputs(outcome, variant.convert)
        _compare(eager_seen, _observe(outcome, tensors), name)
    return outcome


def _compare(eager_seen: list, replay_seen: list, name: str) -> None:
    from jit.api import JitCheckError

    for (what, want), (_, got) in zip(eager_seen, replay_seen):
        what = f"jit({name}, check=True): {what}"
        if (want is None) != (got is None):
            raise JitCheckError(f"{what}: eager gives {want!r:.40} but the replay {got!r:.40}")
        if want is None:
            continue
        tol = 1e-4 if want.dtype.kind == "f" and want.dtype.itemsize <= 4 else 1e-9
        if want.shape != got.shape or not np.allclose(got, want, rtol=tol, atol=tol,
                                                      equal_nan=True):
            diff = np.max(np.abs(got.astype(np.float64) - want)) if want.shape == got.shape \
                else f"shape {got.shape} vs {want.shape}"
            raise JitCheckError(f"{what} differs from eager (max difference {diff}); the "
                                "function probably depends on something the trace froze "
                                "(a Python value, a closure, a branch)")

