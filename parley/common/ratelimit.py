"""Per-user limits on actions any signed-in user can repeat, counted in the cache.

Each limit in PARLEY["RATE_LIMITS"] is "amount/period": at most `amount` in each period,
the periods counted from the epoch (fixed windows), so a key is one integer per user per
period. In production the cache is Redis, shared by every server process, and a count is
one INCR there: concurrent requests cannot slip past a limit by all reading the same
count (a read-then-write sliding log, as DRF's throttles keep, can). Without Redis each
process counts alone, which is what development runs. A fixed window lets someone spend
one window's allowance at its end and the next one's at once: at most twice `amount` in a
short span, then `amount` per period.

The websocket's per-socket frame bucket (parley/realtime/consumers.py, `take_frame`) lives
in the socket's own memory; allauth's account limits are its own. This module is for the
REST actions of the chat (docs/accounts.md, "Looking people up").
"""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from parley.common.errors import RateLimited

_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """ "100/h" -> (100, 3600), "10/5m" -> (10, 300); empty or None: no limit."""
    if not rate:
        return None
    match = _RATE.match(rate)
    if match is None or match.group(3) not in _UNITS:
        raise ImproperlyConfigured(f"A rate is amount/period like 100/h or 10/5m, not {rate!r}")
    amount, count, unit = match.groups()
    return int(amount), int(count or 1) * _UNITS[unit]


def limit_of(action: str) -> tuple[int, int] | None:
    """(amount, seconds) of an action's limit in PARLEY["RATE_LIMITS"], None if unlimited."""
    return parse_rate(settings.PARLEY["RATE_LIMITS"].get(action))


def _count(key: str, cost: int, period: int) -> int:
    """Add `cost` to the count at `key` (made for one period) and return the new count."""
    if cache.add(key, cost, timeout=period):
        return cost
    try:
        return cache.incr(key, cost)
    except ValueError:  # it expired between the two calls: the window is over
        cache.set(key, cost, timeout=period)
        return cost


def take(ident: object, **costs: int) -> None:
    """Count `costs` (action -> how many) against `ident`'s limits.

    Raises RateLimited (with the seconds until every refusing window is over) and counts
    nothing when any of them would go over its amount.
    """
    now = time.time()
    counted: list[tuple[str, int]] = []
    wait = 0.0
    for action, cost in costs.items():
        limit = limit_of(action)
        if limit is None or cost <= 0:
            continue
        amount, period = limit
        window = int(now // period)
        key = f"rl:{action}:{ident}:{window}"
        counted.append((key, cost))
        if _count(key, cost, period) > amount:
            wait = max(wait, (window + 1) * period - now)
    if wait:
        for key, cost in counted:
            try:
                cache.decr(key, cost)
            except ValueError:  # expired meanwhile: nothing left to take back
                pass
        raise RateLimited(wait)
