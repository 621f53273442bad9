"""One buffer per state key for a whole parameter group (PyTorch's "foreach" update).

An optimizer that updates each parameter separately runs a dozen small ops per parameter
per step; a GPT with 30 parameter tensors spends most of its optimizer time dispatching
them. `FlatState` lays a group's parameters end to end: every state key (exp_avg, ...)
is one 1-d buffer, and each parameter's state tensor is a view into it, so
`optimizer.state[p]` still reads, saves and loads per parameter while a step updates all
of them with a few ops over the buffers. Everything is eager ops, so a traced or jitted
step records the same few ops (and write-backs into the buffers).

>>> import eager
>>> a, b = eager.ones(2, requires_grad=True), eager.ones(1, 3, requires_grad=True)
>>> states = [{"m": eager.zeros(2)}, {"m": eager.zeros(1, 3)}]
>>> flat = FlatState.over([a, b], states)
>>> with eager.no_grad():
...     flat.buffers["m"] += flat.concat([eager.ones(2), eager.full((1, 3), 2.0)])
>>> states[1]["m"].tolist(), flat.buffers["m"].shape
([[2.0, 2.0, 2.0]], (5,))
"""
from __future__ import annotations

from collections.abc import Sequence

from eager.creation import zeros
from eager.dispatch import apply
from eager.interpreters import listener
from eager.ops.shape import concat, reshape
from eager.tensor import Tensor
from kernels import OPS

_reshape, _slice = OPS["reshape"], OPS["slice"]


class FlatState:
    """The parameters of one group laid end to end, and their state in flat buffers.

    `buffers[key]` holds every parameter's `state[key]`: per-element state (the shape of
    the parameter) is a slice of length numel, per-parameter scalars (a step count) are
    one element each."""

    def __init__(self, params: list[Tensor], bounds: list[tuple[int, int]],
                 buffers: dict[str, Tensor]) -> None:
        self.params = params
        self.bounds = bounds
        self.buffers = buffers

    @classmethod
    def over(cls, params: Sequence[Tensor], states: Sequence[dict[str, Tensor]]
             ) -> FlatState | None:
        """Move the state tensors of `params` (one dict per parameter, as `init_state`
        made them) into flat buffers and point `states` at views of them; None (states
        untouched) when the parameters differ in dtype or device or the states in keys.

        >>> import eager
        >>> p = eager.zeros(2, requires_grad=True)
        >>> FlatState.over([p, p.double()], [{}, {}]) is None
        True
        """
        params = list(params)
        if not params or not states:
            return None
        first = params[0]
        keys = tuple(states[0])
        if any(p.dtype != first.dtype or p._device != first._device for p in params) or \
                any(tuple(s) != keys for s in states):
            return None
        bounds, end = [], 0
        for p in params:
            bounds.append((end, end + p.numel()))
            end += p.numel()
        buffers = {}
        for key in keys:
            values = [s[key] for s in states]
            if all(v.shape == () for v in values):
                length, views = len(params), None
            elif all(v.shape == p.shape for v, p in zip(values, params)):
                length, views = end, bounds
            else:
                return None
            if any(v.dtype != first.dtype or v._device != first._device for v in values):
                return None
            buffers[key] = (length, views)
        flat = cls(params, bounds, {})
        for key, (length, views) in buffers.items():
            buffer = zeros(length, dtype=first.dtype, device=first._device)
            for i, state in enumerate(states):
                old = state[key]
                view = buffer[i] if views is None else reshape(
                    buffer[views[i][0]:views[i][1]], old.shape)
                view._data[...] = old._data
                state[key] = view
            flat.buffers[key] = buffer
        return flat

    def concat(self, tensors: Sequence[Tensor]) -> Tensor:
        """tensors (one per parameter, each of its parameter's shape) end to end."""
        # The shapes are known to fit: dispatch reshape directly (its public spelling
        # validates the shape argument, a tenth of the cost of an optimizer step).
        return concat([apply(_reshape, t, shape=(t._data.size,))
                       if t._data.flags.c_contiguous else t.reshape(-1) for t in tensors])

    def pieces(self, flat: Tensor) -> list[Tensor]:
        """The inverse of concat: views of `flat` in the shapes of the parameters."""
        return [apply(_reshape, apply(_slice, flat, key=(("s", start, stop, None),)),
                      shape=p._data.shape)
                for p, (start, stop) in zip(self.params, self.bounds)]

    def in_lockstep(self, key: str = "step") -> bool:
        """Whether every parameter's `state[key]` scalar holds the same value (a guard
        when traced). A group whose parameters all got gradients at every step is."""
        counts = self.buffers[key]
        if listener() is None:   # nothing records it: no guard to leave, read the array
            return bool((counts._data == counts._data[0]).all())
        return bool((counts == counts[0]).all())


__all__ = ["FlatState"]
