"""The per-thread interpreter stack: who listens to the op stream, grad mode, jit switch.

Eager evaluation is the bottom of the stack and always runs the op. Interpreters pushed
above it (a tracer, a jit recording) are told about every op that runs while they are on
the stack, innermost first, so a trace inside a trace is seen by both. This is the shape
of JAX's autodidax stack, where staging happens by running eagerly under a listener.

Each thread, and each asyncio task, has its own stack, grad mode and jit-disabled depth:
they live in context variables, so a trace in one thread records only that thread's ops
and never changes what another thread computes. The values are immutable (a `State`
tuple, a bool); every change sets a new one, so no two contexts share a mutable object.
Grad mode has a variable of its own because `no_grad` blocks flip it far more often
than interpreters are pushed.

>>> class Names(DispatchHook):
...     def __init__(self): self.ops = []
...     def record(self, op, inputs, attrs, out): self.ops.append(op.name)
>>> import eager
>>> outer, inner = Names(), Names()
>>> with interpreting(outer):
...     a = eager.ones(2) + 1
...     with interpreting(inner):
...         b = a * 2
>>> outer.ops, inner.ops, current().hook is None
(['full', 'add', 'mul'], ['mul'], True)
>>> grad_enabled(), swap_grad_enabled(False), grad_enabled(), swap_grad_enabled(True)
(True, True, False, False)
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, NamedTuple


class DispatchHook:
    """What a listener on the op stream (the tracer) is told. Methods default to no-ops."""

    def record(self, op, inputs: tuple, attrs: dict, out) -> None:
        """An op ran: `out = op(*inputs, **attrs)`."""

    def inplace(self, target, value) -> None:
        """`target`'s contents were replaced by `value` (an in-place op or setitem)."""

    def host_read(self, tensor, kind: str, value: Any) -> None:
        """Python read a tensor's value (`bool`, `item`, `numpy`, ...): a guard."""

    def constant(self, tensor) -> None:
        """A tensor was made from host data (eager.tensor, asarray, from numpy)."""

    def alias(self, out, source) -> None:
        """`out` holds the same value as `source` (detach, requires_grad_)."""

    def grad_read(self, tensor, grad) -> None:
        """Code read `tensor.grad` and got `grad` (a Tensor)."""

    def grad_write(self, tensor, grad) -> None:
        """Code or autograd set `tensor.grad = grad` (a Tensor or None)."""


class _FanOut(DispatchHook):
    """Tells every interpreter of a nested stack, innermost first."""

    __slots__ = ("hooks",)

    def __init__(self, hooks: tuple) -> None:
        self.hooks = hooks

    def record(self, op, inputs, attrs, out) -> None:
        for h in self.hooks:
            h.record(op, inputs, attrs, out)

    def inplace(self, target, value) -> None:
        for h in self.hooks:
            h.inplace(target, value)

    def host_read(self, tensor, kind, value) -> None:
        for h in self.hooks:
            h.host_read(tensor, kind, value)

    def constant(self, tensor) -> None:
        for h in self.hooks:
            h.constant(tensor)

    def alias(self, out, source) -> None:
        for h in self.hooks:
            h.alias(out, source)

    def grad_read(self, tensor, grad) -> None:
        for h in self.hooks:
            h.grad_read(tensor, grad)

    def grad_write(self, tensor, grad) -> None:
        for h in self.hooks:
            h.grad_write(tensor, grad)


class State(NamedTuple):
    """One context's interpreters. Build it with `make_state`, which keeps `hook` and
    `replays` consistent with the other fields."""

    stack: tuple           # interpreters above eager, outermost first
    hook: Any              # what dispatch tells: None (eager only), the top, or a fan-out
    jit_disabled: int      # depth of `jit.disabled()` blocks
    replays: bool          # jitted functions may replay: no listener and jit not disabled


def make_state(stack: tuple, jit_disabled: int) -> State:
    """A `State` whose derived fields match `stack` and `jit_disabled`.

    >>> make_state((), 0).replays, make_state((), 1).replays
    (True, False)
    """
    if not stack:
        hook = None
    elif len(stack) == 1:
        hook = stack[0]
    else:
        hook = _FanOut(stack[::-1])
    return State(stack, hook, jit_disabled, hook is None and not jit_disabled)


# Shared by every context that has not changed its state: safe, since a State is a tuple
# of immutable values and changes always set a new one.
_EAGER_ONLY = make_state((), 0)
_state: ContextVar[State] = ContextVar("eager_interpreters", default=_EAGER_ONLY)
_grad: ContextVar[bool] = ContextVar("eager_grad_enabled", default=True)

# The bound methods themselves: dispatch reads the state on every op, and grad mode on
# every op whose inputs require grad.
current = _state.get
grad_enabled = _grad.get


@contextlib.contextmanager
def interpreting(interpreter: DispatchHook) -> Iterator[DispatchHook]:
    """Push `interpreter` on this context's stack for the block; it hears every op run
    inside it, along with any interpreters already on the stack.

    >>> with interpreting(DispatchHook()) as hook:
    ...     current().hook is hook
    True
    >>> current().stack
    ()
    """
    s = current()
    _state.set(make_state(s.stack + (interpreter,), s.jit_disabled))
    try:
        yield interpreter
    finally:
        # Remove this interpreter only: the jit depth may have been changed (and will be
        # restored) by a block that is not nested inside this one.
        s = current()
        _state.set(make_state(tuple(x for x in s.stack if x is not interpreter),
                              s.jit_disabled))


def replace_stack(hook: DispatchHook | None) -> DispatchHook | None:
    """Make `hook` (or nothing) this context's whole stack; return the hook it replaces.

    >>> hook = DispatchHook()
    >>> previous = replace_stack(hook)
    >>> current().hook is hook, replace_stack(previous) is hook, current().hook is previous
    (True, True, True)
    """
    s = current()
    _state.set(make_state(() if hook is None else (hook,), s.jit_disabled))
    return s.hook


def swap_grad_enabled(mode: bool) -> bool:
    """Set this context's grad mode; return the previous mode.

    >>> swap_grad_enabled(False), swap_grad_enabled(True)
    (True, False)
    """
    previous = _grad.get()
    _grad.set(mode)
    return previous


def swap_jit_disabled(depth: int) -> int:
    """Set this context's `jit.disabled()` depth; return the previous depth.

    >>> swap_jit_disabled(1), current().replays, swap_jit_disabled(0)
    (0, False, 1)
    """
    s = current()
    _state.set(make_state(s.stack, depth))
    return s.jit_disabled


__all__ = ["DispatchHook", "State", "current", "grad_enabled", "interpreting", "make_state",
           "replace_stack", "swap_grad_enabled", "swap_jit_disabled"]
