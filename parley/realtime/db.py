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
and the next hop checks and replaces it.
"""

from __future__ import annotations

import time
from typing import Any

from asgiref.sync import SyncToAsync
from django.db import close_old_connections, connections

HEALTH_TRUST_SECONDS = 1.0


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
        else:
            conn.parley_answered_at = None


class GatewayHop(SyncToAsync):
    """`database_sync_to_async` for the gateway: stale connections are closed before and
    after each call as Channels does, and a connection that answered within the last
    HEALTH_TRUST_SECONDS skips its health check."""

    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        close_old_connections()
        _trust_recently_used()
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            _stamp_answered()
            close_old_connections()


database_sync_to_async = GatewayHop
