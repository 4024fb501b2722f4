"""The gateway's hop onto the database thread: Channels' `database_sync_to_async`, without
the health check of a connection that has just answered.

With CONN_HEALTH_CHECKS, Django checks a persistent connection before the first query of
each request, and Channels makes every `database_sync_to_async` call a request. On
PostgreSQL each hop of the gateway (a batch of sends, a batch of connects) therefore began
with a `SELECT 1` round trip, as long as the batch's own statement (docs/performance.md,
"Optimisations"). Here a connection that finished a hop without a connection error less
than HEALTH_TRUST_SECONDS ago is used without the check. If it broke in that second, the
one hop that finds out fails as a whole (nothing is written; its sends and connects get an
error and clients retry, sends being idempotent), Django marks the connection as errored,
and the next hop checks and replaces it. A hop that leaves a connection without errors
tells the outage log that the database answers (parley/common/outage.py).

`HopBatcher` is what the send and connect batchers share: the requests of every socket
that wait for the database thread go in one hop.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from asgiref.sync import SyncToAsync
from django.db import close_old_connections, connections

from parley.common import counts
from parley.common.outage import answered

HEALTH_TRUST_SECONDS = 1.0

Request = TypeVar("Request")
Result = TypeVar("Result")


def _trust_recently_used() -> None:
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        answered = getattr(conn, "parley_answered_at", None)
        if (
            conn.connection is not None
            and not conn.errors_occurred
            and answered is not None
            and now - answered < HEALTH_TRUST_SECONDS
        ):
            conn.health_check_done = True


def _stamp_answered() -> None:
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.errors_occurred:
            conn.parley_answered_at = now
            answered()
        else:
            conn.parley_answered_at = None


def _in_hop(func: Any, /, *args: Any, **kwargs: Any) -> Any:
    """On the database thread: `func` between Channels' closing of stale connections,
    trusting a connection that answered within the last HEALTH_TRUST_SECONDS."""
    GatewayHop.hops += 1
    started = time.perf_counter()
    close_old_connections()
    _trust_recently_used()
    try:
        return func(*args, **kwargs)
    finally:
        _stamp_answered()
        close_old_connections()
        counts.db_hop_seconds.observe(time.perf_counter() - started)


class GatewayHop(SyncToAsync):
    """`database_sync_to_async` for the gateway: stale connections are closed before and
    after each call as Channels does, and a connection that answered within the last
    HEALTH_TRUST_SECONDS skips its health check. The work is wrapped around the function
    itself (asgiref's public constructor), not in an override of its thread handler."""

    hops = 0  # hops this process made (tests and profiles count them)

    def __init__(self, func: Any, thread_sensitive: bool = True) -> None:
        super().__init__(functools.partial(_in_hop, func), thread_sensitive=thread_sensitive)


database_sync_to_async = GatewayHop


@dataclass(slots=True)
class _Pending(Generic[Request, Result]):
    request: Request
    future: asyncio.Future[Result]


class HopBatcher(Generic[Request, Result]):
    """Requests of every socket of this process that wait for the database thread, done
    together in one hop (`batching.py`: sends; `connecting.py`: connects).

    A hop takes *everything queued at the moment it starts* (up to `max_batch`): nothing
    waits for a batch to fill, so under light load a batch is one request, and at most one
    hop is queued behind the one running. Each request gets its own result or exception.
    One per event loop (parley/realtime/loops.py).
    """

    def __init__(self, max_batch: int) -> None:
        self.max_batch = max_batch
        self._queue: deque[_Pending[Request, Result]] = deque()  # appended on the loop
        self._hop_waiting = False  # a hop is queued for the DB thread and has not taken yet
        self._pump: asyncio.Task[None] | None = None
        self.batches = 0  # hops that did work (for tests and profiles)
        self.sizes = counts.batch_sizes(type(self).__name__.removesuffix("Batcher").lower())

    def work(self, requests: list[Request]) -> tuple[list[Result | Exception], Any]:
        """On the database thread: a result or exception per request, and what `after`
        gets (e.g. the events to publish)."""
        raise NotImplementedError

    async def after(self, extra: Any) -> None:
        """On the loop, once a batch is done and before its callers are answered."""

    async def submit(self, request: Request) -> Result:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._queue.append(_Pending(request, future))
        if self._pump is None:
            self._pump = loop.create_task(self._run())
        try:
            return await asyncio.shield(future)  # a caller going away must not fail a batch
        except asyncio.CancelledError:
            future.add_done_callback(_retrieve)  # nobody is left to read its outcome
            raise

    def _take(self, taken: list[_Pending[Request, Result]]) -> tuple[list[Any], Any]:
        # On the DB thread, when the hop starts: whatever is queued now joins.
        self._hop_waiting = False
        while self._queue and len(taken) < self.max_batch:
            taken.append(self._queue.popleft())
        if not taken:
            return [], None
        self.batches += 1
        self.sizes.observe(len(taken))
        return self.work([p.request for p in taken])

    def _hop(self) -> tuple[list[_Pending[Request, Result]], asyncio.Future[Any]]:
        self._hop_waiting = True
        taken: list[_Pending[Request, Result]] = []
        return taken, asyncio.ensure_future(database_sync_to_async(self._take)(taken))

    async def _run(self) -> None:
        """Keep one hop queued behind the one running while requests wait; hand each
        batch to `after`, then answer its callers."""
        current: tuple[list[_Pending[Request, Result]], asyncio.Future[Any]] | None
        current = self._hop()
        try:
            while current is not None:
                taken, hop = current
                try:
                    results, extra = await hop
                except Exception as exc:  # the hop failed as a whole
                    results, extra = [exc] * len(taken), None
                current = self._hop() if self._queue and not self._hop_waiting else None
                if extra is not None:
                    await self.after(extra)
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


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _settle(future: asyncio.Future[Any], result: object) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
