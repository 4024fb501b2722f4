"""Per-user limits on actions any signed-in user can repeat, counted in the cache.

Each limit in PARLEY["RATE_LIMITS"] is "amount/period". The count is one integer per user
per period (periods counted from the epoch), and an action passes while this period's
count plus the previous period's, weighted by how much of the previous period is still
within the last `period` seconds, stays within `amount`: a sliding window estimated from
two fixed ones. So a period's end is no moment to spend two allowances at once; someone
who spends a whole allowance in a burst gets about `amount` per period from then on.

In production the cache is Redis, shared by every server process, and adding to a count is
one INCR there, whose answer includes every concurrent request's: parallel requests cannot
slip past a limit by all reading the same count (as a read-then-write log, DRF's
throttles, can). Without Redis each process counts alone, which is what development runs.

The websocket's per-socket frame bucket (parley/realtime/consumers.py, `take_frame`) lives
in the socket's own memory; allauth's account limits are its own. This module is for the
REST actions of the chat (docs/accounts.md, "Looking people up").
"""

from __future__ import annotations

import math
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from parley.common import counts
from parley.common.errors import RateLimited

_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """(amount, seconds) of a rate: "100/h" is (100, 3600), "10/5m" (10, 300); empty or
    None: no limit."""
    if not rate:
        return None
    match = _RATE.match(rate)
    period = int(match.group(2) or 1) * _UNITS.get(match.group(3), 0) if match else 0
    if match is None or period <= 0:
        raise ImproperlyConfigured(f"A rate is amount/period like 100/h or 10/5m, not {rate!r}")
    return int(match.group(1)), period


def limit_of(action: str) -> tuple[int, int] | None:
    """(amount, seconds) of an action's limit in PARLEY["RATE_LIMITS"], None if unlimited."""
    return parse_rate(settings.PARLEY["RATE_LIMITS"].get(action))


def _count(key: str, cost: int, timeout: int) -> int:
    """Add `cost` to the count at `key` and return the new count."""
    if cache.add(key, cost, timeout=timeout):
        return cost
    try:
        return cache.incr(key, cost)
    except ValueError:  # it expired between the two calls
        cache.set(key, cost, timeout=timeout)
        return cost


def _wait(amount: int, cost: int, count: int, previous: int, elapsed: float, period: int) -> float:
    """Seconds until `cost` more fits beside `count` (this period's, without it) and
    `previous` (the last period's), `elapsed` seconds into this period."""
    if count + cost <= amount:  # the previous period must weigh less
        needed = 1 - (amount - count - cost) / previous
        return needed * period - elapsed
    if cost > amount:  # never fits: the next period, at least
        return 2 * period - elapsed
    # In the next period, this one's count takes the previous one's place.
    return period - elapsed + (1 - (amount - cost) / count) * period


def take(ident: object, what: str = "requests", **costs: int) -> None:
    """Count `costs` (action -> how many) against `ident`'s limits.

    Raises RateLimited ("Too many {what}; try again in N s.", N the seconds until all of
    them would pass) and counts nothing when any of them would go over its amount.
    """
    now = time.time()
    counted: list[tuple[str, int]] = []
    wait = 0.0
    for action, cost in costs.items():
        limit = limit_of(action)
        if limit is None or cost <= 0:
            continue
        amount, period = limit
        window, elapsed = divmod(now, period)
        key = f"rl:{action}:{ident}:{int(window)}"
        count = _count(key, cost, 2 * period)  # read as the previous one in the next period
        counted.append((key, cost))
        previous = cache.get(f"rl:{action}:{ident}:{int(window) - 1}", 0)
        if count + previous * (1 - elapsed / period) > amount:
            counts.refused(action)
            wait = max(wait, _wait(amount, cost, count - cost, previous, elapsed, period))
    if wait:
        for key, cost in counted:
            try:
                cache.decr(key, cost)
            except ValueError:  # expired meanwhile: nothing left to take back
                pass
        seconds = max(1, math.ceil(wait))
        raise RateLimited(seconds, f"Too many {what}; try again in {seconds} s.")
