"""Moving sockets off a process: all of them when it stops (the drain), some of them when
it holds more than its share (rebalancing).

A socket asked to move is closed with CLOSE_RECONNECT (4012) once the command it is
carrying out has been answered (its `ack` or `error`: never silence), and the client
reconnects at once, through the load balancer, to another process, and resumes
(docs/protocol.md, "Connecting"). Nothing else changes for it: resume is exact whichever
process it reaches.

- **Drain** (`Drain.run`, started by parley/shutdown.py on SIGTERM): the process no longer
  takes new sockets (the server stops listening), gives up its writer leases
  (writer.py, `Writer.drain`), and asks each socket to move at its own random moment
  within PARLEY_DRAIN_SECONDS, so that its clients arrive at the other processes spread
  over that window instead of all in the same instant. It waits for them to be gone, then
  for the sends other processes forwarded to it and the events on their way to the
  layer, at most PARLEY_DRAIN_TIMEOUT seconds in all.
- **Rebalancing** (`Drain.shed`): after a rolling restart the last process restarted is
  empty and the first holds everyone, because each drained process's clients could only
  go to the processes still up. A process holding clearly more than the average of the
  live processes asks its excess to move, spread the same way; the load balancer
  (nginx's `least_conn`) sends them to the emptier processes (parley/realtime/balance.py
  decides when).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Protocol

from parley.common import counts
from parley.realtime.loops import per_loop

log = logging.getLogger(__name__)

# "Reconnect now, to any process, and resume": the server is stopping or moving load.
CLOSE_RECONNECT = 4012


class Movable(Protocol):
    def move(self) -> None:
        """Close with CLOSE_RECONNECT once the command being carried out is answered."""


class Drain:
    """This event loop's open gateway sockets, and moving them away. One per loop."""

    def __init__(self) -> None:
        self.sockets: set[Movable] = set()
        self.draining = False
        self.window_ends = 0.0  # loop time by which every socket has been asked to move
        self.moved = 0  # sockets asked to move, for tests and the log
        counts.gauge("draining", "1 while this process is stopping (draining).", self._flag)

    def _flag(self) -> float:
        return 1.0 if self.draining else 0.0

    def opened(self, socket: Movable) -> None:
        self.sockets.add(socket)
        if self.draining:  # a late arrival (the listener closes a moment after SIGTERM)
            self._ask_later(socket, self.window_ends)

    def closed(self, socket: Movable) -> None:
        self.sockets.discard(socket)

    def _ask_later(self, socket: Movable, by: float) -> None:
        loop = asyncio.get_running_loop()
        delay = random.uniform(0.0, max(0.0, by - loop.time()))
        loop.call_later(delay, self._ask, socket)

    def _ask(self, socket: Movable) -> None:
        if socket in self.sockets:
            self.moved += 1
            counts.gateway.sockets_moved += 1
            socket.move()

    def shed(self, n: int, window: float) -> int:
        """Ask `n` sockets (chosen at random) to move, each at a random moment within
        `window` seconds. Returns how many were asked."""
        if self.draining or n <= 0:
            return 0
        chosen = random.sample(list(self.sockets), min(n, len(self.sockets)))
        by = asyncio.get_running_loop().time() + window
        for socket in chosen:
            self._ask_later(socket, by)
        return len(chosen)

    async def run(self, window: float, timeout: float) -> int:
        """Stop: ask every socket to move within `window` seconds and wait until they are
        gone, `timeout` seconds at most. Returns how many were still open then."""
        from parley.realtime.hub import get_hub
        from parley.realtime.writer import get_writer

        loop = asyncio.get_running_loop()
        started = loop.time()
        self.draining = True
        self.window_ends = started + window
        on_arrival = len(self.sockets)
        for socket in list(self.sockets):
            self._ask_later(socket, self.window_ends)
        await get_writer().drain()
        while self.sockets and loop.time() - started < timeout:
            await asyncio.sleep(0.05)
        left = len(self.sockets)
        # What this process still owes the others: answers to the sends they forwarded to
        # it, and the events it published that are still on their way to the layer.
        await get_writer().settle(timeout - (loop.time() - started))
        hub = get_hub.current()
        if hub is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    hub.outbox.flush(), max(0.1, timeout - (loop.time() - started))
                )
        log.info(
            "drained: %d sockets asked to reconnect elsewhere in %.1f s, %d still open",
            on_arrival,
            loop.time() - started,
            left,
        )
        return left


get_drain = per_loop(Drain)
