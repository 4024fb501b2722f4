"""Group reads for connects: the handshakes of this process that are waiting for the
database are looked up together, in one thread hop (and the token ones in one statement).

Every connect needs one database call (`auth.connect_state`: who, what they follow, where
each stream stands), and all of the gateway's database work runs on one thread. In a
connect storm each call used to pay its own hop onto that thread (executor, futures, and
`close_old_connections` before and after) and, on PostgreSQL, its own round trip. Here a
hop takes *everything queued at the moment it starts*, as `batching.py` does for sends:
nothing waits for a batch to fill, so a lone connect is one hop and one statement, as
before, and at most one hop waits behind the one running.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any

from parley.realtime.auth import connect_states
from parley.realtime.db import database_sync_to_async

MAX_BATCH = 200  # handshakes per hop (and bound parameters per statement)


@dataclass(slots=True)
class _Pending:
    scope: dict[str, Any]
    future: asyncio.Future[Any]


class ConnectBatcher:
    """One per event loop (`get_connector`)."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self._queue: deque[_Pending] = deque()  # appended on the loop, taken on the DB thread
        self._hop_waiting = False  # a hop is queued for the DB thread and has not taken yet
        self._pump: asyncio.Task[None] | None = None
        self.hops = 0  # database calls made (for tests and profiles)

    async def state(self, scope: dict[str, Any]) -> Any:
        """`auth.connect_state(scope)`, read with whatever other connects are waiting.
        Raises what this handshake's own lookup raised."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(scope, future))
        if self._pump is None:
            self._pump = asyncio.get_running_loop().create_task(self._run())
        # Cancelling this caller cancels only its own future: the batch skips it.
        return await future

    def _take(self) -> list[_Pending]:
        # On the DB thread, when the hop starts: whatever is queued now joins.
        self._hop_waiting = False
        batch = []
        while self._queue and len(batch) < self.max_batch:
            batch.append(self._queue.popleft())
        return batch

    def _read(self, taken: list[_Pending]) -> list[Any]:
        taken += self._take()
        if not taken:
            return []
        self.hops += 1
        return connect_states([p.scope for p in taken])

    def _hop(self) -> tuple[list[_Pending], asyncio.Future[list[Any]]]:
        self._hop_waiting = True
        taken: list[_Pending] = []
        hop = asyncio.ensure_future(database_sync_to_async(self._read)(taken))
        return taken, hop

    async def _run(self) -> None:
        """Keep one hop queued behind the one running while connects wait; answer each
        batch as it comes back."""
        current: tuple[list[_Pending], asyncio.Future[list[Any]]] | None = self._hop()
        try:
            while current is not None:
                taken, hop = current
                try:
                    results = await hop
                except Exception as exc:  # the hop itself failed (no connection...)
                    results = [exc] * len(taken)
                current = self._hop() if self._queue and not self._hop_waiting else None
                for pending, result in zip(taken, results, strict=True):
                    _settle(pending.future, result)
                if current is None and self._queue:
                    current = self._hop()
        except BaseException as exc:  # cancelled with the loop: nobody is left to answer
            for pending in (current[0] if current else []) + list(self._queue):
                _settle(pending.future, exc)
            self._queue.clear()
            raise
        finally:
            self._pump = None


def _settle(future: asyncio.Future[Any], result: object) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


_connectors: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ConnectBatcher] = (
    weakref.WeakKeyDictionary()
)


def get_connector() -> ConnectBatcher:
    loop = asyncio.get_running_loop()
    connector = _connectors.get(loop)
    if connector is None:
        connector = _connectors[loop] = ConnectBatcher()
    return connector
