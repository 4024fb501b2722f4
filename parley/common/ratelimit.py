"""A sliding-window limit kept in the cache, for services that refuse too frequent calls.

Each key holds the timestamps of its recent hits, newest first (as allauth's rate limits
do): a full window frees up when its oldest counted hit leaves it. Two processes hitting
the same key at the same instant may both get through; a limit here bounds cost, it is
not an exact count.
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache

from parley.common.errors import RateLimited


def consume(key: str, *, amount: int, period: float, what: str = "requests") -> None:
    """Count one hit on `key`, or raise RateLimited ("Too many {what}; try again in N s.",
    nothing counted) when `amount` hits were already counted in the last `period` s."""
    now = time.time()
    hits = [t for t in cache.get(key, []) if t > now - period][:amount]
    if len(hits) >= amount:
        seconds = max(1, math.ceil(hits[amount - 1] + period - now))
        raise RateLimited(seconds, f"Too many {what}; try again in {seconds} s.")
    cache.set(key, [now, *hits], timeout=int(period) + 1)
