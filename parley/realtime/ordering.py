"""The hub's reorder buffer: each stream's events handed on in seq order.

Events of one stream published by different processes reach the layer slightly out of
order (seq 8 from one process may overtake seq 7 from another). An event that comes
early is held up to REORDER_HOLD_SECONDS for the ones before it, so that the sockets do
not each run to the database to fill a "gap" that closes a millisecond later; when they
do not come, what is held goes on in order and each socket fills the hole itself
(delivery.py). Events without a seq (typing, presence, counts) go on at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from parley.common import counts
from parley.events.outgoing import Outgoing

REORDER_HOLD_SECONDS = 0.1


class InOrder:
    """Per stream (a group with a seq): the highest seq seen, the next to hand on, and
    the early ones held. `deliver(group, event)` hands an event on."""

    def __init__(self, deliver: Callable[[str, Outgoing], None]) -> None:
        self.deliver = deliver
        self.seen: dict[str, int] = {}  # highest seq the layer brought (or caught up to)
        self.next_seq: dict[str, int] = {}  # per stream: the seq to hand on next
        self.held: dict[str, dict[int, Outgoing]] = {}  # early events, by seq
        self._release_timers: dict[str, asyncio.TimerHandle] = {}
        self._holding_since: dict[str, float] = {}  # per stream: when its first was held

    def put(self, group: str, event: Outgoing) -> None:
        seq = event.user_seq if event.user_seq is not None else event.seq
        if seq is None:
            self.deliver(group, event)
            return
        if seq > self.seen.get(group, -1):
            self.seen[group] = seq
        expected = self.next_seq.get(group)
        if expected is None or seq == expected:
            self.deliver(group, event)
            self.next_seq[group] = seq + 1
            self._deliver_held(group)
        elif seq < expected:
            self.deliver(group, event)  # a late duplicate: sockets drop what they sent
        else:
            counts.gateway.reorder_holds += 1
            self.held.setdefault(group, {})[seq] = event
            if group not in self._release_timers:
                self._holding_since[group] = time.monotonic()
                self._release_timers[group] = asyncio.get_running_loop().call_later(
                    REORDER_HOLD_SECONDS, self.release, group
                )

    def held_for(self) -> float:
        """Seconds the longest-held event has waited now (0: none held)."""
        since = list(self._holding_since.values())
        return max(0.0, time.monotonic() - min(since)) if since else 0.0

    def _waited(self, group: str) -> None:
        since = self._holding_since.pop(group, None)
        if since is not None:
            counts.reorder_wait_seconds.observe(time.monotonic() - since)

    def held_count(self) -> int:
        """Events held now (read by a metrics scrape on another thread: list() copies the
        values at once)."""
        return sum(map(len, list(self.held.values())))

    def _deliver_held(self, group: str) -> None:
        held = self.held.get(group)
        while held and self.next_seq[group] in held:
            seq = self.next_seq[group]
            self.deliver(group, held.pop(seq))
            self.next_seq[group] = seq + 1
        if not held:
            self.forget(group, keep_next=True)

    def release(self, group: str) -> None:
        """The events before the held ones did not come: hand on what is held, in order;
        each socket fills the hole from the database."""
        self._release_timers.pop(group, None)
        self._waited(group)
        held = self.held.pop(group, {})
        counts.gateway.reorder_releases += bool(held)
        for seq in sorted(held):
            self.deliver(group, held[seq])
            self.next_seq[group] = seq + 1

    def caught_up(self, group: str, head: int) -> None:
        """The database says the stream stands at `head` and its sockets were told to catch
        up to it: what is held up to there goes on, and nothing up to `head` is awaited."""
        self.seen[group] = head
        if self.next_seq.get(group, 0) <= head:
            self.release(group)
            self.next_seq[group] = max(self.next_seq.get(group, 0), head + 1)

    def forget(self, group: str, *, keep_next: bool = False) -> None:
        """Drop what is held for `group` (and, unless `keep_next`, where it stands)."""
        self.held.pop(group, None)
        self._waited(group)
        timer = self._release_timers.pop(group, None)
        if timer is not None:
            timer.cancel()
        if not keep_next:
            self.next_seq.pop(group, None)
            self.seen.pop(group, None)
