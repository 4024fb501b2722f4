"""One writer per conversation: with several server processes on one Redis, the sends of
a conversation are written by one process, so that they share its transactions.

Every send takes the conversation's row lock and holds it through its commit's WAL flush
(docs/architecture.md, "Numbers"). One process puts the sends of all its sockets that wait
for the database into one transaction (batching.py); two processes writing one room would
each take the lock and flush in turn, two flushes a round with smaller batches. So the
process holding a conversation's lease in Redis writes its sends, and the others forward
theirs to its hub channel and relay its answer:

    <layer prefix>:w:<conversation id>   string   the writer's hub channel, PX LEASE_MS

A process takes a free lease with its first send (one script: taken, or who has it),
renews the leases it wrote under about once a second, and believes another process's
lease for OWNER_CACHE_SECONDS: in the steady state a send costs no Redis call beyond the
forward and its answer.

Correctness never depends on this. The database row lock orders the seqs whoever writes;
sends are idempotent by (sender, client_id). A forward that gets no answer within
PARLEY["WRITER_TIMEOUT"] seconds (the writer died, a deploy, Redis dropped a message) is
written by the forwarding process itself; if the writer did write it after all, the
second write finds it by its client_id and answers with the original. The forwarder also
takes the lease over from a writer that did not answer. Without Redis (one process, the
in-memory layer) every send goes straight to the local batcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from datetime import datetime
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

from parley.chat import events as ev
from parley.chat.models import Membership, Message
from parley.common import counts
from parley.common.errors import DomainError
from parley.common.outage import refusal
from parley.events.protocol import Sender
from parley.realtime.batching import get_batcher
from parley.realtime.delivery import deferred_instance
from parley.realtime.hub import Hub, get_hub
from parley.realtime.loops import per_loop
from parley.realtime.wire import DONE, SEND, WriterDone, WriterSend

log = logging.getLogger(__name__)

LEASE_MS = 5000
RENEW_SECONDS = 1.0  # leases written under since the last round are renewed this often
TRUST_OWN_SECONDS = 2.0  # our own lease, since it was taken or renewed (< LEASE_MS)
OWNER_CACHE_SECONDS = 1.0  # another process's lease

# The lease for ARGV[2] if it is free or held by ARGV[1] (ARGV[2] itself: a look-up, which
# also extends it; a writer that did not answer: a take-over). Returns the holder.
_CLAIM = """
local held = redis.call('GET', KEYS[1])
if held == false or held == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
    return ARGV[2]
end
return held
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class _NoAnswer(Exception):
    """The writer did not answer a forward in time: write it here, and take the lease."""


class _NotWritten(Exception):
    """The writer answered that its batch failed as a whole (its database connection
    broke): write it here."""


class ForwardedError(DomainError):
    """A DomainError the writer's process raised for a forwarded send: same code,
    message and details, so the client gets the same error frame."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None) -> None:
        super().__init__(message, **(details or {}))
        self.code = code


class Writer:
    """Routes this event loop's sends to the writer of their conversation. One per loop."""

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.enabled = (
            bool(settings.REDIS_URL)
            and settings.PARLEY.get("SINGLE_WRITER", True)
            and self.layer is not None
            and not isinstance(self.layer, InMemoryChannelLayer)
        )
        config = settings.CHANNEL_LAYERS.get("default", {}).get("CONFIG", {})
        self.prefix = f"{config.get('prefix', 'parley')}:w"
        self.timeout = settings.PARLEY.get("WRITER_TIMEOUT", 1.0)
        self.hub: Hub | None = None
        self._redis: Any = None
        self._scripts: dict[str, Any] = {}
        self._owners: dict[int, tuple[str, float]] = {}  # conversation → (writer, until)
        self._leases: dict[int, float] = {}  # conversation → when our lease ends, at most
        self._lookups: dict[int, asyncio.Future[str]] = {}
        self._waiting: dict[str, asyncio.Future[WriterDone]] = {}
        self._written: set[int] = set()  # conversations written here since the last renewal
        self._ids = itertools.count()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._renewer: asyncio.Task[None] | None = None
        self.draining = False  # stopping: takes no lease (drain.py)
        counts.gauge("writer_leases", "Conversations this process writes.", self._leases.__len__)
        # for tests and profiles
        self.forwarded = 0
        self.served = 0
        self.fell_back = 0

    async def message_send(
        self, membership: Membership, body: str, client_id: str
    ) -> tuple[Message, bool]:
        """`SendBatcher.message_send`, by whichever process writes the conversation. Raises the
        same DomainErrors."""
        if not self.enabled:
            return await get_batcher().message_send(membership, body, client_id)
        me = await self._attach()
        cid = membership.conversation_id
        owner = await self._owner(cid, me)
        if owner != me:
            try:
                return await self._forward(owner, membership, body, client_id)
            except _NoAnswer:
                self.fell_back += 1
                if self.draining:
                    self._owners.pop(cid, None)
                else:
                    await self._take_over(cid, owner, me)
            except _NotWritten:
                self.fell_back += 1
        self._written.add(cid)
        return await get_batcher().message_send(membership, body, client_id)

    async def _attach(self) -> str:
        hub = self.hub
        if hub is None or hub.channel is None:
            hub = self.hub = get_hub()
            await hub.start()
            hub.handlers[SEND] = self._serve
            hub.handlers[DONE] = self._answered
        assert hub.channel is not None
        if self._renewer is None:
            self._renewer = asyncio.get_running_loop().create_task(self._renew())
        return hub.channel

    @property
    def redis(self) -> Any:
        if self._redis is None:  # this writer belongs to one event loop, and so does this
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(
                settings.REDIS_URL, socket_timeout=5, health_check_interval=30
            )
            for name, source in (("claim", _CLAIM), ("renew", _RENEW), ("release", _RELEASE)):
                self._scripts[name] = self._redis.register_script(source)
        return self._redis

    async def _claim(self, cid: int, holder: str, me: str) -> str:
        """Take the lease of `cid` if it is free or `holder` has it; who has it now."""
        self.redis  # noqa: B018  (registers the scripts)
        owner = await self._scripts["claim"](keys=[self._key(cid)], args=[holder, me, LEASE_MS])
        return owner.decode() if isinstance(owner, bytes) else str(owner)

    def _key(self, cid: int) -> str:
        return f"{self.prefix}:{cid}"

    # -- whose conversation ----------------------------------------------------------------

    async def _owner(self, cid: int, me: str) -> str:
        """The writer of `cid`: cached, else taken if free, else whoever holds it. One
        look-up per conversation at a time."""
        entry = self._owners.get(cid)
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        lookup = self._lookups.get(cid)
        if lookup is None:
            lookup = self._lookups[cid] = asyncio.ensure_future(self._look_up(cid, me))
            lookup.add_done_callback(lambda _: self._lookups.pop(cid, None))
        return await asyncio.shield(lookup)

    async def _look_up(self, cid: int, me: str) -> str:
        try:
            if self.draining:  # read who writes it, take nothing: written here if nobody
                held = await self.redis.get(self._key(cid))
                owner = held.decode() if held else me
                self._owners[cid] = (owner, time.monotonic() + OWNER_CACHE_SECONDS)
                return owner
            owner = await self._claim(cid, me, me)
        except Exception:
            log.warning("could not read the writer of conversation %s; writing here", cid)
            self._owners[cid] = (me, time.monotonic() + OWNER_CACHE_SECONDS)
            return me
        self._remember(cid, owner, me)
        return owner

    def _remember(self, cid: int, owner: str, me: str) -> None:
        now = time.monotonic()
        if owner == me:
            self._owners[cid] = (me, now + TRUST_OWN_SECONDS)
            self._leases[cid] = now + LEASE_MS / 1000
        else:
            self._owners[cid] = (owner, now + OWNER_CACHE_SECONDS)
            self._leases.pop(cid, None)

    async def _take_over(self, cid: int, silent: str, me: str) -> None:
        """`silent` did not answer: the lease is ours unless someone else has it by now."""
        self._owners.pop(cid, None)
        with contextlib.suppress(Exception):
            self._remember(cid, await self._claim(cid, silent, me), me)

    async def _renew(self) -> None:
        """Keep the leases of the conversations written here since the last round; one
        that is no longer ours is forgotten, and the next send looks it up."""
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            written, self._written = self._written, set()
            self._forget_expired()
            me = self.hub.channel if self.hub is not None else None
            if not written or me is None:
                continue
            try:
                pipe = self.redis.pipeline(transaction=False)
                for cid in written:
                    await self._scripts["renew"](
                        keys=[self._key(cid)], args=[me, LEASE_MS], client=pipe
                    )
                kept = await pipe.execute()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("could not renew the writer leases")
                continue
            for cid, ok in zip(written, kept, strict=True):
                if ok:
                    self._remember(cid, me, me)
                else:
                    self._leases.pop(cid, None)
                    if self._owners.get(cid, ("",))[0] == me:
                        del self._owners[cid]

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for cid in [c for c, (_, until) in self._owners.items() if until <= now]:
            del self._owners[cid]
        for cid in [c for c, until in self._leases.items() if until <= now]:
            del self._leases[cid]

    async def release(self) -> None:
        """Give up this process's leases (shutting down): the other processes take them
        at their next look-up instead of waiting for them to expire."""
        me = self.hub.channel if self.hub is not None else None
        if self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None
        mine = list(self._leases)
        self._owners.clear()
        self._leases.clear()
        if not mine or me is None:
            return
        pipe = self.redis.pipeline(transaction=False)
        for cid in mine:
            await self._scripts["release"](keys=[self._key(cid)], args=[me], client=pipe)
        with contextlib.suppress(Exception):
            await pipe.execute()

    async def drain(self, timeout: float = 2.0) -> None:
        """Stopping (drain.py): give up the leases now and take none from here on. The
        other processes claim them at their next look-up, at most OWNER_CACHE_SECONDS
        later; meanwhile their forwards are still served here, and this process's
        remaining sockets forward to the new writers or write here while nobody has one."""
        if not self.enabled:
            return
        self.draining = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.release(), timeout)

    async def settle(self, timeout: float) -> None:
        """Wait, `timeout` seconds at most, for the sends other processes forwarded here
        to be written and answered (stopping: drain.py)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=max(0.0, timeout))

    # -- forwarding ------------------------------------------------------------------------

    async def _forward(
        self, owner: str, membership: Membership, body: str, client_id: str
    ) -> tuple[Message, bool]:
        assert self.hub is not None and self.hub.channel is not None
        request = str(next(self._ids))
        answer: asyncio.Future[WriterDone] = asyncio.get_running_loop().create_future()
        self._waiting[request] = answer
        self.forwarded += 1
        counts.gateway.writer_forwards += 1
        forward = WriterSend(
            type=SEND,
            reply_to=self.hub.channel,
            request=request,
            membership=membership.pk,
            conversation=membership.conversation_id,
            user=membership.user_id,
            body=body,
            client_id=client_id,
            sender=ev.member_sender(membership).model_dump(),
        )
        try:
            await self.layer.send(owner, forward)
            reply = await asyncio.wait_for(answer, self.timeout)
        except TimeoutError:
            counts.gateway.writer_timeouts += 1
            raise _NoAnswer() from None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the layer could not take it
            raise _NoAnswer() from exc
        finally:
            self._waiting.pop(request, None)
        return _result(reply, membership, client_id)

    def _answered(self, message: WriterDone) -> None:
        """Hub handler: the writer's answer to one of our forwards."""
        answer = self._waiting.get(message.get("request", ""))
        if answer is not None and not answer.done():
            answer.set_result(message)

    def _serve(self, message: WriterSend) -> None:
        """Hub handler: another process forwarded a send to us."""
        self.served += 1
        counts.gateway.writer_served += 1
        task = asyncio.get_running_loop().create_task(self._write_for(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write_for(self, request: WriterSend) -> None:
        cid = request["conversation"]
        membership = deferred_instance(
            Membership,
            {
                "id": request["membership"],
                "conversation_id": cid,
                "user_id": request["user"],
                "left_at": None,  # as the forwarder's socket knows it; the INSERT re-checks
            },
        )
        sender = Sender(**request["sender"])
        reply = WriterDone(type=DONE, request=request["request"])
        self._written.add(cid)
        try:
            message, created = await get_batcher().message_send(
                membership, request["body"], request["client_id"], sender
            )
        except DomainError as exc:
            reply |= {
                "error": exc.code,
                "error_message": exc.message,
                "error_details": exc.details or None,
            }
        except Exception as exc:  # the batch failed as a whole: the forwarder writes it
            if refusal(exc, refused=False) is None:  # an outage is logged there
                log.warning("could not write a forwarded send: %r", exc)
            reply["not_written"] = True
        else:
            reply |= {
                "message": message.pk,
                "seq": message.seq,
                "body": message.body,
                "created_at": message.created_at.isoformat(),
                "deleted_at": message.deleted_at.isoformat() if message.deleted_at else None,
                "edited_at": message.edited_at.isoformat() if message.edited_at else None,
                "attachments": message.attachments,
                "created": created,
            }
        try:
            await self.layer.send(request["reply_to"], reply)
        except Exception:  # the forwarder writes it after its timeout, and finds it
            log.warning("could not answer a forwarded send")


def _result(reply: WriterDone, membership: Membership, client_id: str) -> tuple[Message, bool]:
    """A forward's answer as `SendBatcher.message_send` would have returned or raised it."""
    if "error" in reply:
        raise ForwardedError(reply["error"], reply["error_message"], reply.get("error_details"))
    if reply.get("not_written"):
        raise _NotWritten()
    deleted_at, edited_at = reply["deleted_at"], reply.get("edited_at")
    # Every field that message_out reads: a deferred one would be a query from the loop.
    message: Message = deferred_instance(  # as loaded from the database: stored, not new
        Message,
        {
            "id": reply["message"],
            "conversation_id": membership.conversation_id,
            "seq": reply["seq"],
            "sender_id": membership.pk,
            "client_id": client_id,
            "body": reply["body"],
            "created_at": datetime.fromisoformat(reply["created_at"]),
            "deleted_at": datetime.fromisoformat(deleted_at) if deleted_at else None,
            "edited_at": datetime.fromisoformat(edited_at) if edited_at else None,
            "attachments": reply.get("attachments"),
        },
    )
    message.sender = membership
    return message, reply["created"]


get_writer = per_loop(Writer)


async def release_leases(timeout: float = 2.0) -> None:
    """Shutting down: give up the leases of this event loop's writer (`Writer.release`),
    waiting for Redis no longer than `timeout`."""
    writer = get_writer()
    if writer.enabled:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.release(), timeout)
