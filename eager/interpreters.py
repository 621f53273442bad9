"""The per-thread interpreter stack: who listens to the op stream, grad mode, jit switch.

Eager evaluation is the bottom of the stack and always runs the op. Interpreters pushed
above it (a tracer, a jit recording) are told about every op that runs while they are on
the stack, innermost first, so a trace inside a trace is seen by both. The pattern is
JAX's autodidax interpreter stack; here staging works by running eagerly under a
listener, so every interpreter above eager listens rather than evaluates.

Each thread, and each asyncio task, has its own stack, grad mode and jit-disabled depth:
they live in context variables, so a trace in one thread records only that thread's ops
and never changes what another thread computes. The values are tuples, bools, ints and
interpreters the context pushed itself; every change sets a new value, so no two
contexts share a mutable object.

>>> class Names(DispatchHook):
...     def __init__(self): self.ops = []
...     def record(self, op, inputs, attrs, out): self.ops.append(op.name)
>>> import eager
>>> outer, inner = Names(), Names()
>>> with interpreting(outer):
...     a = eager.ones(2) + 1
...     with interpreting(inner):
...         b = a * 2
>>> outer.ops, inner.ops, listener() is None
(['full', 'add', 'mul'], ['mul'], True)
>>> grad_enabled(), swap_grad_enabled(False), grad_enabled(), swap_grad_enabled(True)
(True, True, False, False)
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any


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
        """Code read `tensor.grad` and got `grad` (a Tensor or None)."""

    def grad_write(self, tensor, grad) -> None:
        """Code or autograd set `tensor.grad = grad` (a Tensor or None)."""


class _FanOut(DispatchHook):
    """Tells every interpreter of a nested stack, innermost first."""

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


_stack: ContextVar[tuple] = ContextVar("eager_interpreter_stack", default=())
# What dispatch tells about each op, derived from the stack whenever it changes: None
# (eager only), the top interpreter, or a fan-out to all of them. Dispatch reads it on
# every op, so it has a variable of its own.
_listener: ContextVar[DispatchHook | None] = ContextVar("eager_listener", default=None)
# Grad mode flips on every `no_grad` block and is read on every op that needs grad.
_grad: ContextVar[bool] = ContextVar("eager_grad_enabled", default=True)
_jit_disabled: ContextVar[int] = ContextVar("eager_jit_disabled", default=0)

# The bound `get` methods themselves: these are read on hot paths.
listener = _listener.get
stack = _stack.get
grad_enabled = _grad.get
jit_disabled_depth = _jit_disabled.get


def _set_stack(interpreters: tuple) -> None:
    _stack.set(interpreters)
    if not interpreters:
        _listener.set(None)
    elif len(interpreters) == 1:
        _listener.set(interpreters[0])
    else:
        _listener.set(_FanOut(interpreters[::-1]))


@contextlib.contextmanager
def interpreting(interpreter: DispatchHook) -> Iterator[DispatchHook]:
    """Push `interpreter` on this context's stack for the block; it hears every op run
    inside it, along with any interpreters already on the stack.

    >>> with interpreting(DispatchHook()) as hook:
    ...     listener() is hook, stack() == (hook,)
    (True, True)
    >>> listener(), stack()
    (None, ())
    """
    _set_stack(_stack.get() + (interpreter,))
    try:
        yield interpreter
    finally:
        # Remove this interpreter only, wherever it is: a block that was not nested
        # inside this one must not pop someone else's.
        _set_stack(tuple(x for x in _stack.get() if x is not interpreter))


def replace_stack(hook: DispatchHook | None) -> DispatchHook | None:
    """Make `hook` (or nothing) this context's whole stack; return the hook it replaces.

    >>> hook = DispatchHook()
    >>> previous = replace_stack(hook)
    >>> listener() is hook, replace_stack(previous) is hook, listener() is previous
    (True, True, True)
    """
    previous = _listener.get()
    _set_stack(() if hook is None else (hook,))
    return previous


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

    >>> swap_jit_disabled(1), jit_disabled_depth(), swap_jit_disabled(0)
    (0, 1, 1)
    """
    previous = _jit_disabled.get()
    _jit_disabled.set(depth)
    return previous


__all__ = ["DispatchHook", "grad_enabled", "interpreting", "jit_disabled_depth", "listener",
           "replace_stack", "stack", "swap_grad_enabled", "swap_jit_disabled"]
