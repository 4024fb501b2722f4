"""Who is online, and how many members of each conversation are, across server processes.

Each process counts its own sockets in memory. Without Redis that is the whole truth (one
process). With REDIS_URL every process also mirrors its counts into Redis hashes named
after the process, which expire unless the process refreshes them: a process that is
killed stops counting within PRESENCE_TTL seconds, with nobody cleaning up after it.

    parley:pr:procs            sorted set  process id -> expiry time
    parley:pr:<proc>:u         hash        participant key -> sockets on that process
    parley:pr:<proc>:c:<cid>   hash        participant key -> sockets on that process

A participant key is "u<user id>" or "v<visitor id>".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.conf import settings

log = logging.getLogger(__name__)

PREFIX = "parley:pr"


class LocalPresence:
    """This process's sockets. Also the whole answer when there is one process."""

    def __init__(self) -> None:
        self.users: Counter[str] = Counter()
        self.conversations: defaultdict[int, Counter[str]] = defaultdict(Counter)

    async def connect(self, key: str, conversations: Iterable[int]) -> bool:
        """Count a socket. Returns whether the participant just came online."""
        self.users[key] += 1
        for cid in conversations:
            self.conversations[cid][key] += 1
        await self._mirror(key, conversations)
        return self.users[key] == 1 and not await self._online_elsewhere(key)

    async def disconnect(self, key: str, conversations: Iterable[int]) -> bool:
        """Forget a socket. Returns whether the participant just went offline."""
        conversations = list(conversations)
        self._decrement(self.users, key)
        for cid in conversations:
            counter = self.conversations.get(cid)
            if counter is not None:
                self._decrement(counter, key)
                if not counter:
                    del self.conversations[cid]
        await self._mirror(key, conversations)
        return key not in self.users and not await self._online_elsewhere(key)

    async def join(self, key: str, cid: int) -> None:
        self.conversations[cid][key] += 1
        await self._mirror(key, [cid])

    async def leave(self, key: str, cid: int) -> None:
        counter = self.conversations.get(cid)
        if counter is not None:
            self._decrement(counter, key)
            if not counter:
                del self.conversations[cid]
        await self._mirror(key, [cid])

    async def count(self, cid: int) -> int:
        return len(self.conversations.get(cid, ()))

    async def online(self, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if k in self.users}

    def online_sync(self, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if k in self.users}

    async def start(self) -> None:
        return None

    @staticmethod
    def _decrement(counter: Counter[str], key: str) -> None:
        counter[key] -= 1
        if counter[key] <= 0:
            del counter[key]

    async def _mirror(self, key: str, conversations: Iterable[int]) -> None:
        return None

    async def _online_elsewhere(self, key: str) -> bool:
        return False


class RedisPresence(LocalPresence):
    def __init__(self, url: str) -> None:
        super().__init__()
        import redis
        import redis.asyncio as aioredis

        self.proc = uuid.uuid4().hex[:12]
        self.redis = aioredis.from_url(url, socket_timeout=5, health_check_interval=30)
        self.sync_redis = redis.Redis.from_url(url, socket_timeout=5)
        self.ttl = settings.PARLEY["PRESENCE_TTL"]
        self.interval = settings.PARLEY["PRESENCE_HEARTBEAT"]
        self._task: asyncio.Task[None] | None = None

    def _ukey(self, proc: str) -> str:
        return f"{PREFIX}:{proc}:u"

    def _ckey(self, proc: str, cid: int) -> str:
        return f"{PREFIX}:{proc}:c:{cid}"

    async def start(self) -> None:
        if self._task is None:
            await self._heartbeat_once()
            self._task = asyncio.get_running_loop().create_task(self._heartbeat())

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._heartbeat_once()
            except Exception:
                log.exception("presence heartbeat failed")

    async def _heartbeat_once(self) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(f"{PREFIX}:procs", {self.proc: time.time() + self.ttl})
        pipe.zremrangebyscore(f"{PREFIX}:procs", 0, time.time())
        pipe.expire(self._ukey(self.proc), self.ttl)
        for cid in self.conversations:
            pipe.expire(self._ckey(self.proc, cid), self.ttl)
        await pipe.execute()

    async def _mirror(self, key: str, conversations: Iterable[int]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        n = self.users.get(key, 0)
        if n:
            pipe.hset(self._ukey(self.proc), key, n)
        else:
            pipe.hdel(self._ukey(self.proc), key)
        pipe.expire(self._ukey(self.proc), self.ttl)
        for cid in conversations:
            ckey = self._ckey(self.proc, cid)
            m = self.conversations.get(cid, Counter()).get(key, 0)
            if m:
                pipe.hset(ckey, key, m)
            else:
                pipe.hdel(ckey, key)
            pipe.expire(ckey, self.ttl)
        await pipe.execute()

    async def _procs(self) -> list[str]:
        procs = await self.redis.zrangebyscore(f"{PREFIX}:procs", time.time(), "+inf")
        return [p.decode() for p in procs]

    async def _online_elsewhere(self, key: str) -> bool:
        pipe = self.redis.pipeline(transaction=False)
        others = [p for p in await self._procs() if p != self.proc]
        for proc in others:
            pipe.hexists(self._ukey(proc), key)
        return any(await pipe.execute()) if others else False

    async def count(self, cid: int) -> int:
        procs = await self._procs()
        pipe = self.redis.pipeline(transaction=False)
        for proc in procs:
            pipe.hkeys(self._ckey(proc, cid))
        keys: set[bytes] = set()
        for chunk in await pipe.execute():
            keys.update(chunk)
        return len(keys)

    async def online(self, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        if not keys:
            return set()
        procs = await self._procs()
        pipe = self.redis.pipeline(transaction=False)
        for proc in procs:
            pipe.hmget(self._ukey(proc), keys)
        found: set[str] = set()
        for values in await pipe.execute():
            found.update(k for k, v in zip(keys, values, strict=True) if v)
        return found

    def online_sync(self, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        if not keys:
            return set()
        procs = [
            p.decode()
            for p in self.sync_redis.zrangebyscore(f"{PREFIX}:procs", time.time(), "+inf")
        ]
        pipe = self.sync_redis.pipeline(transaction=False)
        for proc in procs:
            pipe.hmget(self._ukey(proc), keys)
        found: set[str] = set()
        for values in pipe.execute():
            found.update(k for k, v in zip(keys, values, strict=True) if v)
        return found

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


_presence: LocalPresence | None = None


def get_presence() -> LocalPresence:
    global _presence
    if _presence is None:
        url = settings.REDIS_URL
        _presence = RedisPresence(url) if url else LocalPresence()
    return _presence


def user_key(user_id: int) -> str:
    return f"u{user_id}"


def visitor_key(visitor_id: object) -> str:
    return f"v{visitor_id}"
