"""Group reads for connects: the handshakes of this process that are waiting for the
database are looked up together, in one thread hop (and the token ones in one statement);
and the `last_seen` stamps of people whose last socket closed, in one UPDATE.

Every connect needs one database call (`auth.connect_state`: who, what they follow, where
each stream stands), and all of the gateway's database work runs on one thread. In a
connect storm each call used to pay its own hop onto that thread (executor, futures, and
`close_old_connections` before and after) and, on PostgreSQL, its own round trip. Here a
hop takes *everything queued at the moment it starts*, as `batching.py` does for sends:
nothing waits for a batch to fill, so a lone connect is one hop and one statement, as
before, and at most one hop waits behind the one running.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from parley.accounts.models import User
from parley.realtime.auth import connect_states
from parley.realtime.db import HopBatcher, per_loop

MAX_BATCH = 200  # handshakes per hop (and bound parameters per statement)


class ConnectBatcher(HopBatcher[dict[str, Any], Any]):
    """One per event loop (`get_connector`); `batches` counts the database calls."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        super().__init__(max_batch)

    async def state(self, scope: dict[str, Any]) -> Any:
        """`auth.connect_state(scope)`, read with whatever other connects are waiting.
        Raises what this handshake's own lookup raised."""
        return await self.submit(scope)

    def work(self, scopes: list[dict[str, Any]]) -> tuple[list[Any], None]:
        return connect_states(scopes), None


get_connector = per_loop(ConnectBatcher)


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
