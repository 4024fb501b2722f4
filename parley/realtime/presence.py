"""Who is online, and how many members of each conversation are, across server processes.

Each process counts its own sockets in memory. Without Redis that is the whole truth (one
process). With REDIS_URL every process also mirrors its counts into Redis hashes named
after the process, which expire unless the process refreshes them: a process that is
killed stops counting within PRESENCE_TTL seconds, with nobody cleaning up after it.

    parley:pr:procs            sorted set  process id -> expiry time
    parley:pr:<proc>:u         hash        participant key -> sockets on that process
    parley:pr:<proc>:c:<cid>   hash        participant key -> sockets on that process

A process that dies without disconnecting its sockets (SIGKILL, a crash) stops counting
once its `procs` entry expires; the next live process to heartbeat removes the entry,
reads the dead process's user hash and announces its people offline (`bury_dead`).
The prefix is PARLEY["PRESENCE_PREFIX"].

A participant key is "u<user id>" or "v<visitor id>". The sockets from one client address
are counted the same way, under "a<address>" in the user hash, for the cap on sockets per
address: `arrive` tells a new socket its place among its participant's and its address's
sockets on all live processes (consumers.py closes the one over a cap). Who hears that
someone came online or went offline is presence_news.py's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NamedTuple

from django.conf import settings

from parley.common import counts
from parley.common.intervallog import IntervalLog
from parley.common.outage import refusal

log = logging.getLogger(__name__)

# REST answers without presence while Redis is down: said once per interval.
_unreachable_log = IntervalLog(log, "presence unavailable")


def _unreachable(exc: Exception) -> None:
    _unreachable_log.failed(exc, "REST answers show nobody online")


PREFIX = "parley:pr"
ADDRESS = "a"  # the key prefix of a client address's sockets

# Told the participant keys of people who were online only on a process that died
# (presence_news.participants_gone: the policy of who hears it lives there).
GoneHandler = Callable[[set[str]], Awaitable[None]]

# (participant key, conversation ids, count its sockets elsewhere, answer: that count)
_Request = tuple[str, list[int], bool, "asyncio.Future[int]"]


class Arrival(NamedTuple):
    """What `arrive` tells a new socket."""

    came_online: bool  # the participant's first socket on any live process
    place: int  # its place among the participant's sockets on all live processes: N+1th
    address_place: int  # and among the sockets from its address (0: not counted)


def _add_counts(found: Counter[str], keys: list[str], values: list[bytes | None]) -> None:
    """Add one process's socket counts of `keys` (HMGET's answer) to `found`."""
    for key, value in zip(keys, values, strict=True):
        if value:
            found[key] += int(value)


def _union_sizes(cids: list[int], procs: int, replies: list[list[bytes]]) -> dict[int, int]:
    """Per conversation, how many participants any live process counts (the replies are
    each process's keys of each conversation, conversation by conversation)."""
    chunks = iter(replies)
    found: dict[int, int] = {}
    for cid in cids:
        keys: set[bytes] = set()
        for _ in range(procs):
            keys.update(next(chunks))
        found[cid] = len(keys)
    return found


class LocalPresence:
    """This process's sockets. Also the whole answer when there is one process."""

    def __init__(self) -> None:
        self.users: Counter[str] = Counter()
        self.conversations: defaultdict[int, Counter[str]] = defaultdict(Counter)
        counts.gauge("online_here", "People with a socket on this process.", self._online_here)

    def _online_here(self) -> int:
        # Read by a scrape on another thread: list() copies the items at once (in C,
        # under the GIL), so a socket arriving meanwhile cannot break the iteration.
        users = list(self.users.items())
        return sum(1 for key, n in users if n > 0 and not key.startswith(ADDRESS))

    async def connect(self, key: str, conversations: Iterable[int]) -> bool:
        """Count a socket. Returns whether the participant just came online."""
        return (await self.arrive(key, conversations)).came_online

    async def arrive(
        self, key: str, conversations: Iterable[int], address: str | None = None
    ) -> Arrival:
        """Count a socket of participant `key` (and of its client `address`, an
        `address_key`): whether the participant just came online, and the socket's place
        among the participant's (and the address's) sockets on every live process.

        The places are counted after this socket's own count is published, and each
        process's sockets are numbered in the order they arrive: of two sockets racing
        for the last free place, at least one sees the other, so the sockets over a cap
        are never all admitted (at worst both are refused and retry)."""
        conversations = list(conversations)
        self.users[key] += 1
        for cid in conversations:
            self.conversations[cid][key] += 1
        place = self.users[key]
        address_place = 0
        if address is not None:
            self.users[address] += 1
            address_place = self.users[address]
        # Both counts go out in the same batch (one round trip); the socket that took the
        # count from 0 announces, whatever other sockets of the participant connect while
        # it waits (two tabs at once: one announcement).
        asked = self._request(key, conversations, check=True)
        address_asked = self._request(address, [], check=True) if address is not None else None
        try:
            elsewhere = await asked
        finally:  # the same batch answers both, or fails both
            if address_asked is not None:
                address_place += await address_asked
        return Arrival(place == 1 and not elsewhere, place + elsewhere, address_place)

    async def disconnect(
        self, key: str, conversations: Iterable[int], address: str | None = None
    ) -> bool:
        """Forget a socket (and its address's count). Returns whether the participant just
        went offline."""
        conversations = list(conversations)
        self._decrement(self.users, key)
        for cid in conversations:
            counter = self.conversations.get(cid)
            if counter is not None:
                self._decrement(counter, key)
                if not counter:
                    del self.conversations[cid]
        address_told = None
        if address is not None:
            self._decrement(self.users, address)
            address_told = self._request(address, [], check=False)
        # Back by the time Redis answers: the new socket announces, this one stays quiet.
        last = key not in self.users
        try:
            elsewhere = await self._sync(key, conversations, check=last)
        finally:
            if address_told is not None:
                await address_told
        return last and key not in self.users and not elsewhere

    async def join(self, key: str, cid: int) -> None:
        self.conversations[cid][key] += 1
        await self._sync(key, [cid], check=False)

    async def leave(self, key: str, cid: int) -> None:
        counter = self.conversations.get(cid)
        if counter is not None:
            self._decrement(counter, key)
            if not counter:
                del self.conversations[cid]
        await self._sync(key, [cid], check=False)

    async def count(self, cid: int) -> int:
        return len(self.conversations.get(cid, ()))

    async def counts(self, cids: Iterable[int]) -> dict[int, int]:
        """`count` of each conversation, all at once."""
        return self.counts_sync(cids)

    def counts_sync(self, cids: Iterable[int]) -> dict[int, int]:
        """`counts` for synchronous code (REST views): what the websocket's `online`
        frames say, without reading who the members are."""
        return {cid: len(self.conversations.get(cid, ())) for cid in cids}

    async def online(self, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if k in self.users}

    def online_sync(self, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if k in self.users}

    async def start(self, on_gone: GoneHandler | None = None) -> None:
        """Start counting across processes; `on_gone` hears of the people a dead
        process had online (None: buried without telling anyone)."""
        return None

    async def stop(self) -> None:
        return None

    @staticmethod
    def _decrement(counter: Counter[str], key: str) -> None:
        counter[key] -= 1
        if counter[key] <= 0:
            del counter[key]

    async def _sync(self, key: str, conversations: list[int], *, check: bool) -> int:
        """Publish this process's counts of `key` (in `conversations`); when `check`,
        how many sockets `key` has on the other processes. One process: nothing to do."""
        return 0

    def _request(self, key: str, conversations: list[int], *, check: bool) -> Any:
        """`_sync` as an awaitable that joins the next batch at once (so that several
        go out together without a task each)."""
        return self._sync(key, conversations, check=check)


class RedisPresence(LocalPresence):
    """LocalPresence mirrored into Redis so that every process sees every socket.

    redis.asyncio connections belong to the event loop that opened them, so each loop
    gets its own client (one loop per process in production; tests run many).
    """

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis

        self.url = url
        self.prefix = settings.PARLEY.get("PRESENCE_PREFIX", PREFIX)
        self.proc = uuid.uuid4().hex[:12]
        self._clients: dict[asyncio.AbstractEventLoop, object] = {}
        self.sync_redis = redis.Redis.from_url(url, socket_timeout=5)
        self._redis_errors = redis.RedisError
        self.ttl = settings.PARLEY["PRESENCE_TTL"]
        self.interval = settings.PARLEY["PRESENCE_HEARTBEAT"]
        self._task: asyncio.Task[None] | None = None
        # Per event loop: mirror and check requests waiting for the next pipeline.
        self._pending: dict[asyncio.AbstractEventLoop, list[_Request]] = {}
        self._flushing: set[asyncio.AbstractEventLoop] = set()
        self._others: list[str] = []  # the other live processes at the last look
        self.on_gone: GoneHandler | None = None

    @property
    def redis(self):  # type: ignore[no-untyped-def]
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for old in [lp for lp in self._clients if lp.is_closed()]:
                del self._clients[old]
            client = self._clients[loop] = aioredis.from_url(
                self.url, socket_timeout=5, health_check_interval=30
            )
        return client

    def _procs_key(self) -> str:
        return f"{self.prefix}:procs"

    def _ukey(self, proc: str) -> str:
        return f"{self.prefix}:{proc}:u"

    def _ckey(self, proc: str, cid: int) -> str:
        return f"{self.prefix}:{proc}:c:{cid}"

    @property
    def _key_ttl(self) -> int:
        # A process counts until its entry in `procs` expires (ttl); its hashes live
        # longer, so the process that buries it can still read whom it had online.
        return self.ttl * 2 + 1

    async def start(self, on_gone: GoneHandler | None = None) -> None:
        if on_gone is not None:
            self.on_gone = on_gone
        task = self._task
        if task is None or task.done() or task.get_loop().is_closed():
            self._task = None
            await self._heartbeat_once()
            self._task = asyncio.get_running_loop().create_task(self._heartbeat())

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._heartbeat_once()
                await self.bury_dead()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if refusal(exc, refused=False) is None:  # an outage is logged there
                    log.exception("presence heartbeat failed")

    async def _heartbeat_once(self) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(self._procs_key(), {self.proc: time.time() + self.ttl})
        pipe.expire(self._ukey(self.proc), self._key_ttl)
        for cid in self.conversations:
            pipe.expire(self._ckey(self.proc, cid), self._key_ttl)
        await pipe.execute()

    async def bury_dead(self) -> set[str]:
        """Forget processes that stopped refreshing (killed) and announce the people who
        were online only there as offline. Exactly one live process buries each dead one
        (the one whose ZREM removes it). Returns the participant keys that went offline."""
        client = self.redis
        dead = await client.zrangebyscore(self._procs_key(), 0, time.time())
        gone: set[str] = set()
        for raw in dead:
            proc = raw.decode()
            if proc == self.proc or not await client.zrem(self._procs_key(), proc):
                continue
            keys = {k.decode() for k in await client.hkeys(self._ukey(proc))}
            await client.delete(self._ukey(proc))
            gone |= {k for k in keys if not k.startswith(ADDRESS)}
        if gone:
            gone -= await self.online(gone)
        if gone and self.on_gone is not None:
            await self.on_gone(gone)
        return gone

    async def _sync(self, key: str, conversations: list[int], *, check: bool) -> int:
        return await self._request(key, conversations, check=check)

    def _request(self, key: str, conversations: list[int], *, check: bool) -> Any:
        """Joins the batch of whatever other sockets of this loop connect, disconnect,
        join or leave meanwhile: one pipeline, one round trip, for all of them (a second
        one only when a process appeared since the last). Batches go one at a time, each
        writing the counts as they are when it goes: Redis ends with the latest ones.
        Returns the future of the answer (joined to the batch already)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        pending = self._pending.get(loop)
        if pending is None:
            for old in [lp for lp in self._pending if lp.is_closed()]:
                del self._pending[old]
            pending = self._pending[loop] = []
        pending.append((key, conversations, check, future))
        if len(pending) == 1 and loop not in self._flushing:
            self._flushing.add(loop)
            loop.create_task(self._flush(loop))
        return future

    async def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while batch := self._pending.get(loop):
                self._pending[loop] = []
                try:
                    found: dict[str, int] | BaseException = await self._exchange(batch)
                except Exception as exc:
                    found = exc
                for key, _, check, future in batch:
                    if future.done():
                        continue
                    if isinstance(found, BaseException):
                        future.set_exception(found)
                    else:
                        future.set_result(found.get(key, 0) if check else 0)
        finally:
            self._flushing.discard(loop)

    async def _exchange(self, batch: list[_Request]) -> dict[str, int]:
        """Mirror the counts of a batch's participants and count the sockets that those
        to check have on the other live processes (only those with some)."""
        pipe = self.redis.pipeline(transaction=False)
        ukey = self._ukey(self.proc)
        keys = list(dict.fromkeys(key for key, *_ in batch))
        for key in keys:
            n = self.users.get(key, 0)
            if n:
                pipe.hset(ukey, key, n)
            else:
                pipe.hdel(ukey, key)
        pipe.expire(ukey, self._key_ttl)
        pairs = dict.fromkeys((cid, key) for key, cids, *_ in batch for cid in cids)
        for cid, key in pairs:
            m = self.conversations[cid].get(key, 0) if cid in self.conversations else 0
            if m:
                pipe.hset(self._ckey(self.proc, cid), key, m)
            else:
                pipe.hdel(self._ckey(self.proc, cid), key)
        for cid in dict.fromkeys(cid for cid, _ in pairs):
            pipe.expire(self._ckey(self.proc, cid), self._key_ttl)
        checked = list(dict.fromkeys(key for key, _, check, _ in batch if check))
        # The processes seen last time are asked in the same round trip as the list of
        # live ones; only a process that appeared since needs a second one.
        asked = self._others if checked else []
        pipe.zrangebyscore(self._procs_key(), time.time(), "+inf")
        for proc in asked:
            pipe.hmget(self._ukey(proc), checked)
        results = await pipe.execute()
        answers = results[len(results) - len(asked) :] if asked else []
        live = [p.decode() for p in results[len(results) - len(asked) - 1]]
        self._others = [p for p in live if p != self.proc]
        found: Counter[str] = Counter()
        if not checked:
            return found
        for proc, values in zip(asked, answers, strict=True):
            if proc in self._others:
                _add_counts(found, checked, values)
        new = [p for p in self._others if p not in asked]
        if new:
            pipe = self.redis.pipeline(transaction=False)
            for proc in new:
                pipe.hmget(self._ukey(proc), checked)
            for values in await pipe.execute():
                _add_counts(found, checked, values)
        return found

    async def _procs(self) -> list[str]:
        procs = await self.redis.zrangebyscore(self._procs_key(), time.time(), "+inf")
        return [p.decode() for p in procs]

    async def count(self, cid: int) -> int:
        return (await self.counts([cid]))[cid]

    async def counts(self, cids: Iterable[int]) -> dict[int, int]:
        """Two round trips for any number of conversations (the live processes, then
        every process's hash of each conversation)."""
        cids = list(dict.fromkeys(cids))
        if not cids:
            return {}
        procs = await self._procs()
        pipe = self.redis.pipeline(transaction=False)
        self._ask_counts(pipe, cids, procs)
        return _union_sizes(cids, len(procs), await pipe.execute())

    def counts_sync(self, cids: Iterable[int]) -> dict[int, int]:
        """`counts` for synchronous code (REST views), on the synchronous client. With
        Redis down, nobody is counted: the REST answer still comes (docs/operations.md)."""
        cids = list(dict.fromkeys(cids))
        if not cids:
            return {}
        try:
            return self._counts_sync(cids)
        except (self._redis_errors, OSError) as exc:
            _unreachable(exc)
            return dict.fromkeys(cids, 0)

    def _counts_sync(self, cids: list[int]) -> dict[int, int]:
        procs = [
            p.decode()
            for p in self.sync_redis.zrangebyscore(self._procs_key(), time.time(), "+inf")
        ]
        pipe = self.sync_redis.pipeline(transaction=False)
        self._ask_counts(pipe, cids, procs)
        return _union_sizes(cids, len(procs), pipe.execute())

    def _ask_counts(self, pipe: object, cids: list[int], procs: list[str]) -> None:
        for cid in cids:
            for proc in procs:
                pipe.hkeys(self._ckey(proc, cid))  # type: ignore[attr-defined]

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
        """Who of `keys` is online, for REST views; with Redis down, nobody is."""
        keys = list(keys)
        if not keys:
            return set()
        try:
            return self._online_sync(keys)
        except (self._redis_errors, OSError) as exc:
            _unreachable(exc)
            return set()

    def _online_sync(self, keys: list[str]) -> set[str]:
        procs = [
            p.decode()
            for p in self.sync_redis.zrangebyscore(self._procs_key(), time.time(), "+inf")
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
            self._task = None


_presence: LocalPresence | None = None


def current_presence() -> LocalPresence | None:
    """This process's presence if it was made (tests stop it), without making it."""
    return _presence


def reset_presence() -> None:
    """Forget this process's presence (tests: each starts from nothing)."""
    global _presence
    _presence = None


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


def address_key(address: str) -> str:
    return f"{ADDRESS}{address}"
