"""Group commit for `message.send`: the sends of every socket of this process that are
waiting for the database are written together, in one transaction and one thread hop.

All of the gateway's database work runs on one thread (`database_sync_to_async` is
thread-sensitive), so sends queue for it anyway. Instead of one hop, one transaction and
one commit each, a hop takes *everything queued at the moment it starts* and hands it to
`message_send_many`: each send keeps its own seq (per conversation in arrival order), its
own idempotency and its own error. Nothing waits for a batch to fill: under light load a
batch is one send, and at most one hop is queued behind the one running, so a send never
waits for more than the write in progress. Events are published after the commit, in seq
order, and only then are the senders answered.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from dataclasses import dataclass

from parley.chat.models import Membership, Message
from parley.chat.services.messages import SendRequest, SendResult, message_send_many
from parley.realtime.db import database_sync_to_async
from parley.realtime.publish import Outgoing, capture, publish

MAX_BATCH = 200  # sends per transaction; the rest go in the next one


_Written = tuple[list[SendResult], list[Outgoing]]


@dataclass(slots=True)
class _Pending:
    request: SendRequest
    future: asyncio.Future[tuple[Message, bool]]


class SendBatcher:
    """One per event loop (`get_batcher`)."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self._queue: deque[_Pending] = deque()  # appended on the loop, taken on the DB thread
        self._hop_waiting = False  # a hop is queued for the DB thread and has not taken yet
        self._pump: asyncio.Task[None] | None = None
        self.batches = 0  # transactions written (for tests and profiles)

    async def send(self, membership: Membership, body: str, client_id: str) -> tuple[Message, bool]:
        """`message_send`, written with whatever other sends are waiting. Raises the
        same DomainErrors."""
        future: asyncio.Future[tuple[Message, bool]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(SendRequest(membership, body, client_id), future))
        if self._pump is None:
            self._pump = asyncio.get_running_loop().create_task(self._run())
        try:
            return await asyncio.shield(future)  # a closing socket must not fail a batch
        except asyncio.CancelledError:
            future.add_done_callback(_retrieve)  # nobody is left to read its outcome
            raise

    def _take(self) -> list[_Pending]:
        # On the DB thread, when the hop starts: whatever is queued now joins.
        self._hop_waiting = False
        batch = []
        while self._queue and len(batch) < self.max_batch:
            batch.append(self._queue.popleft())
        return batch

    def _write(self, taken: list[_Pending]) -> _Written:
        taken += self._take()
        if not taken:
            return [], []
        with capture() as events:
            results = message_send_many([p.request for p in taken])
        self.batches += 1
        return results, events

    def _hop(self) -> tuple[list[_Pending], asyncio.Future[_Written]]:
        self._hop_waiting = True
        taken: list[_Pending] = []
        hop = asyncio.ensure_future(database_sync_to_async(self._write)(taken))
        return taken, hop

    async def _run(self) -> None:
        """Keep one hop queued behind the one running while sends wait; publish each
        batch's events in order, then answer its senders."""
        current = self._hop()
        try:
            while current is not None:
                taken, hop = current
                try:
                    results, events = await hop
                except Exception as exc:  # the transaction failed as a whole
                    results, events = [exc] * len(taken), []
                current = self._hop() if self._queue and not self._hop_waiting else None
                await publish(events)
                for pending, result in zip(taken, results, strict=True):
                    _settle(pending.future, result)
                if current is None and self._queue:
                    current = self._hop()
        except BaseException as exc:  # cancelled with the loop: nobody is left to answer
            while self._queue:
                _settle(self._queue.popleft().future, exc)
            raise
        finally:
            self._pump = None


def _retrieve(future: asyncio.Future[tuple[Message, bool]]) -> None:
    if not future.cancelled():
        future.exception()


def _settle(future: asyncio.Future[tuple[Message, bool]], result: object) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)  # type: ignore[arg-type]


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SendBatcher] = (
    weakref.WeakKeyDictionary()
)


def get_batcher() -> SendBatcher:
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = SendBatcher()
    return batcher
