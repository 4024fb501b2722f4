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

from typing import Any

from parley.chat.models import Membership, Message
from parley.chat.services.messages import SendRequest, message_send_many
from parley.events.protocol import Sender
from parley.realtime.db import HopBatcher
from parley.realtime.loops import per_loop
from parley.realtime.publish import publish, run_captured

MAX_BATCH = 200  # sends per transaction; the rest go in the next one


class SendBatcher(HopBatcher[SendRequest, tuple[Message, bool]]):
    """One per event loop (`get_batcher`); `batches` counts the transactions written."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        super().__init__(max_batch)

    async def message_send(
        self, membership: Membership, body: str, client_id: str, sender: Sender | None = None
    ) -> tuple[Message, bool]:
        """`message_send`, written with whatever other sends are waiting. Raises the
        same DomainErrors."""
        return await self.submit(SendRequest(membership, body, client_id, sender))

    def work(self, requests: list[SendRequest]) -> tuple[list[Any], list[Any]]:
        return run_captured(message_send_many, requests)

    async def after(self, events: list[Any]) -> None:
        await publish(events)  # in seq order, before the senders are answered


get_batcher = per_loop(SendBatcher)
