"""Rebalancing: a process holding clearly more sockets than the others moves its excess.

A drained process's clients can only go to the processes still up, so after a rolling
restart the process restarted first holds nearly everyone and the last one almost nobody
(with two processes: all of them on one). Sockets live for hours; the load balancer's
`least_conn` only places new ones. So every PARLEY_BALANCE_SECONDS each process compares
its sockets with the others' (what each reported for the status page,
parley/common/processes.py) and, when it holds more than TOLERANCE above the average
and at least MIN_EXCESS sockets over it, asks that excess to reconnect (drain.py,
`Drain.shed`), spread over PARLEY_DRAIN_SECONDS; the load balancer sends them to the
emptier processes.

The others' figures are up to a heartbeat old, so an excess counts only once it is still
there by reports every other process made after it was first seen (a process that has
just taken many new sockets is not taken for an empty one). Nothing is done while a
process is draining (its clients are on the move), nor, after a move, until every
process has reported twice since.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from django.conf import settings

from parley.common import processes
from parley.realtime.drain import get_drain

log = logging.getLogger(__name__)

TOLERANCE = 0.2  # above the average by more than this share
MIN_EXCESS = 10  # and by at least this many sockets


def excess(mine: int, reports: list[dict[str, Any]], me: str, now: float) -> tuple[int, float]:
    """How many sockets this process should move, given the processes' last reports, and
    when the oldest of the others' reports was made (0 when nothing is to be moved)."""
    fresh = [r for r in reports if now - r.get("at", 0) <= 2 * processes.HEARTBEAT_SECONDS + 1]
    if any(r.get("draining") for r in fresh):
        return 0, 0.0  # a restart is under way: the counts are moving
    others = [r for r in fresh if r.get("id") != me]
    if not others:
        return 0, 0.0
    counts = [int(r.get("sockets_open", 0)) for r in others]
    mean = (mine + sum(counts)) / (len(counts) + 1)
    over = mine - mean
    if over < MIN_EXCESS or mine <= mean * (1 + TOLERANCE):
        return 0, 0.0
    return int(over), min(r.get("at", 0) for r in others)


async def keep_balanced() -> None:
    """Every PARLEY_BALANCE_SECONDS, move this process's excess (the ASGI lifespan runs it
    until shutdown; 0 turns it off)."""
    every = float(settings.PARLEY["BALANCE_SECONDS"])
    if every <= 0:
        return
    quiet_until = 0.0
    seen_since: float | None = None  # wall time an excess was first seen
    while True:
        await asyncio.sleep(every)
        if time.monotonic() < quiet_until:
            continue
        drain = get_drain()
        if drain.draining:
            return
        with contextlib.suppress(Exception):  # the cache down: try at the next round
            reports = await asyncio.to_thread(processes.processes)
            now = time.time()
            n, reported = excess(len(drain.sockets), reports, processes.PROCESS_ID, now)
            if not n:
                seen_since = None
            elif seen_since is None:
                seen_since = now
            elif reported > seen_since:  # confirmed by reports made since
                window = float(settings.PARLEY["DRAIN_SECONDS"])
                moved = drain.shed(n, window)
                log.info("rebalancing: %d of %d sockets asked to move", moved, len(drain.sockets))
                quiet_until = time.monotonic() + window + 2 * processes.HEARTBEAT_SECONDS
                seen_since = None
