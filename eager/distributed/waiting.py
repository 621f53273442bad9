"""Waiting on a non-blocking request with a deadline, so a dead peer cannot hang us.

MPI advances a non-blocking collective only inside calls such as Test(), so the loop
polls without pause, as MPI's own blocking wait does, and like that wait (MPICH yields
every 1000 polls by default, MPIR_CVAR_POLLS_BEFORE_YIELD) it hands the CPU over with
sched_yield every 1024 polls: on a machine with more busy processes than cores the
peer rank, or whatever else the reduction waits on, then gets to run instead of our
spinning out its time slice. With nothing else runnable the yield returns at once. The
clock is read every 256 polls, for the deadline; only a wait past a second, when a
peer is clearly late, sleeps between polls.

>>> class Done:
...     def Test(self): return True
>>> poll_until_done(Done(), 1.0, lambda: "never")
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable

from eager.distributed.errors import CollectiveTimeoutError, DistributedError

_POLLS_PER_CLOCK = 256
_CLOCKS_PER_YIELD = 4
_YIELD_FOR_S = 1.0
_yield = getattr(os, "sched_yield", lambda: time.sleep(0))    # no sched_yield on Windows


def poll_until_done(request, timeout: float | None, describe: Callable[[], str]) -> None:
    """Drive `request.Test()` until it is true; past `timeout` seconds raise
    CollectiveTimeoutError with `describe()` (what was being waited for) in the message."""
    try:
        _poll(request.Test, timeout, describe)
    except (DistributedError, KeyboardInterrupt):
        raise
    except Exception as exc:  # MPI may report a lost peer as its own error
        raise DistributedError(f"{describe()} failed: {type(exc).__name__}: {exc}; a peer "
                               "rank has probably died") from exc


def _poll(test, timeout: float | None, describe: Callable[[], str]) -> None:
    if test():
        return
    start = time.monotonic()
    deadline = None if timeout is None else start + timeout
    polls = 0
    clocks = 0
    while not test():
        polls += 1
        if polls % _POLLS_PER_CLOCK:
            continue
        now = time.monotonic()
        if deadline is not None and now > deadline:
            raise CollectiveTimeoutError(
                f"{describe()} did not complete within {timeout:g} s: a peer rank died, "
                "hangs, or called a different collective; raise the limit with "
                "eager.distributed.init(timeout=...) if a peer is merely slow")
        clocks += 1
        if now - start > _YIELD_FOR_S:
            time.sleep(0.001)
        elif clocks % _CLOCKS_PER_YIELD == 0:
            _yield()
