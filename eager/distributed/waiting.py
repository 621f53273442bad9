"""Waiting on a non-blocking request with a deadline, so a dead peer cannot hang us.

MPI advances a non-blocking collective only inside calls such as Test(), so the loop
polls without pause, as MPI's own blocking wait does. Past a few milliseconds (longer
than a 4 MB all-reduce on one machine) it yields the CPU once every few hundred polls,
so an oversubscribed machine, more ranks than cores, keeps moving; yielding from the
start would hand a busy machine's CPU away in the middle of every large message. Only a
wait past a second, when a peer is clearly late, sleeps between polls.

>>> class Done:
...     def Test(self): return True
>>> poll_until_done(Done(), 1.0, lambda: "never")
"""
from __future__ import annotations

import time
from collections.abc import Callable

from eager.distributed.errors import CollectiveTimeoutError, DistributedError

_POLLS_PER_YIELD = 256
_SPIN_FOR_S = 0.004
_YIELD_FOR_S = 1.0


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
    while not test():
        polls += 1
        if polls % _POLLS_PER_YIELD:
            continue
        now = time.monotonic()
        if deadline is not None and now > deadline:
            raise CollectiveTimeoutError(
                f"{describe()} did not complete within {timeout:g} s: a peer rank died, "
                "hangs, or called a different collective; raise the limit with "
                "eager.distributed.init(timeout=...) if a peer is merely slow")
        waited = now - start
        if waited > _SPIN_FOR_S:
            time.sleep(0 if waited < _YIELD_FOR_S else 0.001)
