"""The backward pass of a scripted `While` as loops over checkpoints: O(n) body trips
for a loop of n <= C² trips, with every shape static whatever n is.

The reverse pass needs, for k = n, ..., 1, the carried values after k - 1 trips. Stacking
all n of them would give the trip count as a dimension; recomputing each from the
initial values costs n(n-1)/2 trips. Here they come from two levels of C checkpoint
slots, a buffer of shape (C, *shape) per carried value (C from a memory budget, see
`slot_count`):

- count: the forward loop again with a trip counter, giving n;
- store checkpoints: the forward loop again, writing the carried values after
  0, s, 2s, ... trips into the slots, s = ceil(n / C);
- reverse segments: for each segment of s trips, last first, read its checkpoint, store
  the values after every s2 = ceil(L / C) trips of its L trips in a second buffer (the
  same store loop), then for each trip of the segment, last first, recompute it from the
  nearest slot (fewer than s2 trips) and pull the gradient back through it with the
  body's vector-Jacobian product; the invariants' gradients sum over the trips.

Body trips beyond the n vector-Jacobian products: n to count, fewer than n for each
level of checkpoints, and n(s2 - 1)/2 recomputing, zero while n <= C². Slots are read
and written with `jit.script.slots` (clamped tensor indices, no host read), so each of
these loops is one graph node and a jitted training step replays one graph.

>>> import eager
>>> from jit.script import script
>>> @script
... def powers(x, r):
...     i = eager.tensor(0)
...     while i < 5:
...         x = x * r
...         i = i + 1
...     return x
>>> x = eager.tensor([1.0, 2.0], requires_grad=True)
>>> r = eager.tensor(2.0, requires_grad=True)
>>> powers(x, r).sum().backward()
>>> x.grad.tolist(), r.grad.item()   # d/dx = r**5, d/dr = 5 r**4 (1 + 2)
([32.0, 32.0], 240.0)
"""
from __future__ import annotations

import math
import weakref

import numpy as np

from eager.creation import zeros, zeros_like
from eager.ops.elementwise import minimum
from eager.tensor import Tensor
from jit.script.backward import make_loop, pull_back, run_body, run_unit, straight_graph
from jit.script.slots import read_slot, write_slot
from tracer.control import While

MAX_SLOTS = 32
MIN_SLOTS = 2
SLOT_BUDGET_BYTES = 64 * 2 ** 20


def slot_count(state_bytes: int) -> int:
    """Checkpoint slots per level for carried values of `state_bytes` bytes in all: as
    many as fit in `SLOT_BUDGET_BYTES`, within [MIN_SLOTS, MAX_SLOTS].

    >>> slot_count(16), slot_count(2 ** 22), slot_count(2 ** 30)
    (32, 16, 2)
    """
    return max(MIN_SLOTS, min(MAX_SLOTS, SLOT_BUDGET_BYTES // max(state_bytes, 1)))


def _floating(t: Tensor) -> bool:
    return t.dtype.kind == "f"


def _int(example: Tensor) -> Tensor:
    return zeros((), dtype=np.int64, device=example._device)


def _quotient(a: Tensor, b) -> Tensor:
    # Through float64, which the C loops have (integer floor division they have not):
    # exact for counts below 2**53, where a / b rounds to the integer q only if it is q.
    return a.astype(np.float64) / b


def _ceil_div(a: Tensor, b) -> Tensor:
    return _quotient(a, b).ceil().astype(np.int64)


def _floor_div(a: Tensor, b) -> Tensor:
    return _quotient(a, b).floor().astype(np.int64)


class LoopBackward:
    """The loops one forward `While` needs for its backward pass (module doc)."""

    def __init__(self, node: While, inputs: list[Tensor]) -> None:
        self.node = node
        c = self.c = node.carried
        self.carried_f = [k for k in range(c) if _floating(inputs[k])]
        self.inv_f = [i for i in range(len(inputs) - c) if _floating(inputs[c + i])]
        x0, inv = list(inputs[:c]), list(inputs[c:])
        self.slots = slot_count(sum(math.prod(t.shape) * t.dtype.itemsize for t in x0))
        i = _int(inputs[0])
        buffers = self.blank_buffers(x0)
        gs = [inputs[k] for k in self.carried_f]
        ginv = [inputs[c + j] for j in self.inv_f]
        self.count = make_loop("count trips", self._count_cond, self._count_body,
                               [i, *x0], inv)
        self.advance = make_loop("advance trips", self._advance_cond, self._advance_body,
                                 [i, *x0], inv)
        self.store = make_loop("store checkpoints", self._store_cond, self._store_body,
                               [i, *x0, *buffers], [i, i, *inv])
        self.segment = make_loop("reverse segment", self._segment_cond, self._segment_body,
                                 [i, *gs, *ginv], [*buffers, i, *inv])
        self.reverse = make_loop("reverse segments", self._reverse_cond,
                                 self._reverse_body, [i, *gs, *ginv], [*buffers, i, i, *inv])
        # Counting, the first checkpoints and the reverse loop as one unit: one C call.
        from jit.script.function import Compiled

        whole = straight_graph("loop backward", self._whole, [*gs, *inputs])
        whole.in_tree = (tuple(whole.inputs), {})
        self.whole = Compiled(whole.verify())

    def blank_buffers(self, x: list[Tensor]) -> list[Tensor]:
        """One zero buffer of `slots` slots per carried value."""
        return [zeros((self.slots, *t.shape), dtype=t.dtype, device=t._device) for t in x]

    # count: carried (i, *x), invariants inv
    def _count_cond(self, i, *rest):
        return run_body(self.node.cond, list(rest))[0]

    def _count_body(self, i, *rest):
        return [i + 1, *run_body(self.node.body, list(rest))]

    # advance: carried (j, *x), invariants inv; j counts the trips left
    @staticmethod
    def _advance_cond(j, *rest):
        return j > 0

    def _advance_body(self, j, *rest):
        return [j - 1, *run_body(self.node.body, list(rest))]

    # store: carried (m, *x, *buffers), invariants (count, stride, *inv)
    def _store_cond(self, m, *rest):
        return m < rest[2 * self.c]

    def _store_body(self, m, *rest):
        c = self.c
        x, buffers, count, stride, inv = (rest[:c], rest[c:2 * c], rest[2 * c],
                                          rest[2 * c + 1], list(rest[2 * c + 2:]))
        buffers = [write_slot(b, m, t) for b, t in zip(buffers, x)]
        trips = (m + 1 < count).astype(np.int64) * stride   # none after the last slot
        x = run_unit(self.advance, [trips, *x, *inv])[1:]
        return [m + 1, *x, *buffers]

    def _store(self, x: list, buffers: list, count: Tensor, stride: Tensor,
               inv: list) -> list[Tensor]:
        """Buffers holding the values after 0, stride, 2 stride, ... trips from `x` in
        their first `count` slots."""
        result = run_unit(self.store, [zeros_like(count), *x, *buffers, count, stride, *inv])
        return result[1 + self.c:]

    # segment: carried (t, *g, *ginv), invariants (*buffers, stride, *inv); t trips left
    @staticmethod
    def _segment_cond(t, *rest):
        return t > 0

    def _segment_body(self, t, *rest):
        nf, nv, c = len(self.carried_f), len(self.inv_f), self.c
        g, ginv = list(rest[:nf]), list(rest[nf:nf + nv])
        buffers, stride, inv = rest[nf + nv:nf + nv + c], rest[nf + nv + c], \
            list(rest[nf + nv + c + 1:])
        before = t - 1
        slot = _floor_div(before, stride)
        x = [read_slot(b, slot) for b in buffers]
        x = run_unit(self.advance, [before - slot * stride, *x, *inv])[1:]
        dx, dinv = self._pull_back(list(x), inv, g)
        return [before, *dx, *(a + b for a, b in zip(ginv, dinv))]

    # reverse: carried (m, *g, *ginv), invariants (*buffers, stride, n, *inv)
    @staticmethod
    def _reverse_cond(m, *rest):
        return m > 0

    def _reverse_body(self, m, *rest):
        nf, nv, c = len(self.carried_f), len(self.inv_f), self.c
        g = rest[:nf + nv]   # the carried and the invariants' gradients
        buffers = list(rest[nf + nv:nf + nv + c])
        stride, n, inv = rest[nf + nv + c], rest[nf + nv + c + 1], list(rest[nf + nv + c + 2:])
        before = m - 1
        x = [read_slot(b, before) for b in buffers]
        length = minimum(n - before * stride, stride)
        inner = _ceil_div(length, self.slots)
        # The level-1 buffers serve as blanks: the store overwrites every slot it fills.
        segment = self._store(x, buffers, _ceil_div(length, inner), inner, inv)
        result = run_unit(self.segment, [length, *g, *segment, inner, *inv])
        return [before, *result[1:]]

    def _pull_back(self, x: list, inv: list, g: list) -> tuple[list, list]:
        """The body's vector-Jacobian product at carried values `x`."""
        wanted = self.carried_f + [self.c + j for j in self.inv_f]
        grads = pull_back(self.node.body, x + inv, self.carried_f, wanted, g)
        nf = len(self.carried_f)
        return grads[:nf], grads[nf:]

    def _whole(self, *args) -> tuple:
        """(*g, *inputs) -> the gradients of the floating carried values and invariants,
        for the gradients `g` of the floating carried outputs."""
        nf, c = len(self.carried_f), self.c
        g, x0, inv = list(args[:nf]), list(args[nf:nf + c]), list(args[nf + c:])
        n = run_unit(self.count, [_int(x0[0]), *x0, *inv])[0]
        stride = _ceil_div(n, self.slots).clip(1, None)
        segments = _ceil_div(n, stride)
        buffers = self._store(x0, self.blank_buffers(x0), segments, stride, inv)
        ginv = [zeros_like(inv[j]) for j in self.inv_f]
        return tuple(run_unit(self.reverse, [segments, *g, *ginv, *buffers, stride, n,
                                             *inv])[1:])

    def gradients(self, inputs: list[Tensor], grads: tuple) -> list:
        """One gradient (or None) per input of the forward loop."""
        g = [zeros_like(inputs[k]) if grads[k] is None else grads[k] for k in self.carried_f]
        result = run_unit(self.whole, [*g, *inputs])
        out: list = [None] * len(inputs)
        for k, value in zip(self.carried_f, result):
            out[k] = value
        for j, value in zip(self.inv_f, result[len(g):]):
            out[self.c + j] = value
        return out


_BACKWARDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def backward_of(node: While, inputs: list[Tensor]) -> LoopBackward:
    """The backward loops of `node` (its input types never change: built once)."""
    found = _BACKWARDS.get(node)
    if found is None:
        found = _BACKWARDS[node] = LoopBackward(node, inputs)
    return found


__all__ = ["MAX_SLOTS", "LoopBackward", "backward_of", "slot_count"]
