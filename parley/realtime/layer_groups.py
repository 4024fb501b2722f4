"""Which channel-layer group carries a stream, and the log of a layer that is down.

A conversation's events travel in its own layer group (`c.<id>`). User streams share
USER_BUCKETS layer groups ("ub.<user id % USER_BUCKETS>"): a process joins a bucket for
its first socket of any user in it, so a connect storm costs a handful of layer
subscriptions instead of one per user (docs/architecture.md).
"""

from __future__ import annotations

import logging

from parley.common.intervallog import IntervalLog

log = logging.getLogger("parley.realtime.hub")
# The channel layer (Redis) down: every publish and receive fails until it is back.
layer_outage = IntervalLog(log, "channel layer unavailable")

USER_BUCKETS = 64


def layer_group(group: str) -> str:
    """The layer group that carries `group`: a user stream's bucket, else the group."""
    kind, _, ident = group.partition(".")
    if kind == "u" and ident.isdigit():
        return f"ub.{int(ident) % USER_BUCKETS}"
    return group
