"""Django's Redis cache, failing open while Redis is down.

What Parley keeps in the cache are counts: rate limits (allauth's, DRF's throttles,
parley/common/ratelimit.py). Without this, a Redis outage made every request that counts
something answer 500: logins, REST sends, the conversation list. The database holds
everything that matters, so during an outage the cache answers as an empty one would
(nothing counted, nothing stored) and the request goes on; the outage is logged once
per interval, not once per request. The price, said in docs/operations.md: while Redis
is down, the limits kept in it are not enforced.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache

log = logging.getLogger("parley.cache")

LOG_EVERY = 10.0  # seconds between two warnings of one outage


class FailOpenRedisCache(RedisCache):
    _failing_since: float | None = None
    _logged_at = 0.0
    _refused = 0

    def _down(self, exc: Exception) -> None:
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        self._refused += 1
        if now - self._logged_at >= LOG_EVERY:
            log.warning(
                "cache unavailable (%s): answering as an empty cache, limits kept in it are "
                "not enforced (%d calls since the last warning)",
                type(exc).__name__,
                self._refused,
            )
            self._logged_at, self._refused = now, 0

    def _up(self) -> None:
        if self._failing_since is not None:
            log.info("cache available again after %.0f s", time.monotonic() - self._failing_since)
            self._failing_since = None

    def _try(self, call: Any, default: Any, *args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            result = call(*args, **kwargs)
        except (redis.RedisError, OSError) as exc:
            self._down(exc)
            return default
        self._up()
        return result

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._try(super().get, default, key, default, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._try(super().get_many, {}, keys, version)

    def set(self, *args: Any, **kwargs: Any) -> None:
        self._try(super().set, None, *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._try(super().set_many, [], *args, **kwargs)

    def add(self, *args: Any, **kwargs: Any) -> Any:
        # As if the key were new: a count starts from what this call adds.
        return self._try(super().add, True, *args, **kwargs)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        return self._try(super().incr, delta, key, delta, version)

    def decr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        return self._try(super().decr, 0, key, delta, version)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._try(super().delete, False, *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._try(super().touch, False, *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> Any:
        return self._try(super().has_key, False, *args, **kwargs)
