"""Group reads for connects: the handshakes of this process that are waiting for the
database are looked up together, in one thread hop (and the token ones in one statement);
the `last_seen` stamps of people whose last socket closed, in one UPDATE; and the
`last_used_at` of API tokens that opened sockets, in one UPDATE a few seconds later.

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
import logging
from typing import Any

from django.utils import timezone

from parley.accounts.models import User
from parley.accounts.tokens import stamp_used_ids
from parley.common.outage import refusal
from parley.realtime.auth import connect_states
from parley.realtime.db import HopBatcher, database_sync_to_async
from parley.realtime.loops import per_loop

log = logging.getLogger(__name__)

MAX_BATCH = 200  # handshakes per hop (and bound parameters per statement)


class ConnectBatcher(HopBatcher[dict[str, Any], Any]):
    """One per event loop (`get_connector`); `batches` counts the database calls."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        super().__init__(max_batch)

    async def state(self, scope: dict[str, Any]) -> Any:
        """`auth.connect_state(scope)`, read with whatever other connects are waiting.
        Raises what this handshake's own lookup raised."""
        return await self.submit(scope)

    def work(self, scopes: list[dict[str, Any]]) -> tuple[list[Any], list[int]]:
        used: list[int] = []
        return connect_states(scopes, used), used

    async def after(self, used: list[int]) -> None:
        if used:
            get_token_uses().add(used)


get_connector = per_loop(ConnectBatcher)


class TokenUses:
    """`last_used_at` of API tokens whose sockets connected, written a few seconds later
    in one UPDATE for all of them, outside any connect: a token connect stays one database
    call of one statement, and a reconnect storm of bots is one write, not one each. The
    connect statement only reports a token whose stored use is over a minute old
    (tokens.LAST_USED_EVERY), so a token costs at most one write a minute. A process that
    stops before writing loses those stamps: "last used" is approximate by design."""

    DELAY = 5.0

    def __init__(self) -> None:
        self.pending: set[int] = set()
        self.task: asyncio.Task[None] | None = None

    def add(self, token_ids: list[int]) -> None:
        self.pending.update(token_ids)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._write_soon())

    async def _write_soon(self) -> None:
        await asyncio.sleep(self.DELAY)
        await self.flush()

    async def flush(self) -> None:
        ids, self.pending = sorted(self.pending), set()
        if ids:
            try:
                await database_sync_to_async(stamp_used_ids)(ids)
            except Exception as exc:
                if refusal(exc, refused=False) is not None:
                    return  # the database is down (logged once there); the stamps can go
                log.exception("could not write the last use of %d API tokens", len(ids))


get_token_uses = per_loop(TokenUses)


class SeenBatcher(HopBatcher[int, Any]):
    """`last_seen` for people going offline, stamped together: when a deploy or a network
    failure closes thousands of sockets at once, each of them would otherwise take its
    own thread hop and UPDATE. One per event loop (`get_seen_stamper`)."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        super().__init__(max_batch)

    async def stamp(self, user_id: int) -> Any:
        """Set the user's `last_seen` to now; returns the time written."""
        return await self.submit(user_id)

    def work(self, user_ids: list[int]) -> tuple[list[Any], None]:
        now = timezone.now()
        User.objects.filter(pk__in=set(user_ids)).update(last_seen=now)
        return [now] * len(user_ids), None


get_seen_stamper = per_loop(SeenBatcher)
