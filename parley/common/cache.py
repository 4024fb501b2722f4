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
from typing import Any

from django.core.cache.backends.redis import RedisCache

from parley.common.intervallog import IntervalLog

log = logging.getLogger("parley.cache")


class FailOpenRedisCache(RedisCache):
    outage = IntervalLog(log, "cache unavailable")

    def _try(self, call: Any, default: Any, *args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            result = call(*args, **kwargs)
        except (redis.RedisError, OSError) as exc:
            self.outage.failed(exc, "answering as an empty cache: its limits are not enforced")
            return default
        self.outage.ok()
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
