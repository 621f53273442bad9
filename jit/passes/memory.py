"""Memory planning: give fused kernels' outputs reusable buffers, chosen by liveness.

A value computed by a fused kernel that never leaves the graph (not an output, not a
`.grad`, not the base of a view that leaves) is written into a buffer allocated once per
compiled graph. When a value's last reader has run, its buffer is free for a later value
of the same or smaller size. Values that leave the graph get fresh memory on every call,
so a result never changes under the caller when the function runs again.

>>> plan = plan_buffers([(0, [(10, 400)]), (1, [(11, 400)]), (2, [(12, 400)])],
...                     last_use={10: 1, 11: 2, 12: 3}, escaping=set())
>>> plan.slot_of[10] == plan.slot_of[12], plan.bytes_before, plan.bytes_after
(True, 1200, 800)
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BufferPlan:
    """Value id -> slot; slot sizes; total bytes without (`before`) and with reuse."""

    slot_of: dict[int, int] = field(default_factory=dict)
    slot_bytes: list[int] = field(default_factory=list)
    bytes_before: int = 0

    @property
    def bytes_after(self) -> int:
        """Bytes held by the pooled buffers."""
        return sum(self.slot_bytes)


def plan_buffers(steps: list[tuple[int, list[tuple[int, int]]]], last_use: dict[int, int],
                 escaping: set[int]) -> BufferPlan:
    """Assign slots to `(step index, [(value id, nbytes), ...])` outputs in program order.

    `last_use[v]` is the index of the last step reading v (or of v's views); a slot is
    free again after that step. Escaping values get no slot.
    """
    plan = BufferPlan()
    free: list[int] = []
    releases: dict[int, list[int]] = {}
    for index, outputs in steps:
        for vid, nbytes in outputs:
            if vid in escaping:
                continue
            plan.bytes_before += nbytes
            fits = [s for s in free if plan.slot_bytes[s] >= nbytes]
            if fits:
                slot = min(fits, key=lambda s: plan.slot_bytes[s])
                free.remove(slot)
            else:
                slot = len(plan.slot_bytes)
                plan.slot_bytes.append(nbytes)
            plan.slot_of[vid] = slot
            releases.setdefault(max(last_use.get(vid, index), index), []).append(slot)
        free.extend(releases.pop(index, []))
    return plan
