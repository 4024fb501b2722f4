"""Exactly-once, in-order delivery to one socket.

Every durable event carries a seq (per conversation, or per user for the user stream). A
socket remembers the last seq it sent for each stream and, for each event the hub hands
it: drops it if already sent, sends it if it is the next one, and otherwise first fetches
the missing ones from the database. So a message the channel layer dropped still arrives,
in its place, with the next event of its conversation; `resume` replays what a client
missed while it was away.

Events are queued and sent by one short-lived task per socket (its pump), so a slow client never
holds up the hub, and a client too slow to keep up is disconnected (it resumes on
reconnect) instead of growing the queue without bound.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any, Protocol

import orjson
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import DEFERRED

from parley.chat import selectors
from parley.chat.models import Conversation, Membership
from parley.common import counts
from parley.common.errors import Unavailable
from parley.common.outage import refusal
from parley.events import protocol as p
from parley.events.protocol import encode
from parley.realtime.db import database_sync_to_async

log = logging.getLogger(__name__)

MAX_QUEUE = 10000
CLOSE_TOO_SLOW = 4008
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455's "Try Again Later": the database is unavailable


def deferred_instance(model: Any, values: dict[str, Any]) -> Any:
    """A model instance with these attributes set and every other field deferred (read
    from the database if something asks for it: never a made-up value)."""
    return model.from_db(
        DEFAULT_DB_ALIAS,
        list(values),
        [values.get(f.attname, DEFERRED) for f in model._meta.concrete_fields],
    )


class SocketMembership:
    """What a socket keeps of one of its memberships, and where its stream stands.

    A Membership with its conversation and user (what `select_related` loads) is ~2 KB
    per conversation per socket; this is ~100 bytes. `model()` builds the Membership a
    service or selector takes, when a command needs one. `position` is the last seq of
    the conversation this socket sent (kept here rather than in a dict of its own).
    """

    __slots__ = ("id", "conversation_id", "kind", "role", "cleared_through_seq", "position")

    def __init__(
        self,
        id: int,
        conversation_id: int,
        kind: str,
        role: str,
        cleared_through_seq: int,
        position: int = 0,
    ) -> None:
        self.id = id
        self.conversation_id = conversation_id
        self.kind = sys.intern(kind)  # one string object for every "group", "member"
        self.role = sys.intern(role)
        self.cleared_through_seq = cleared_through_seq
        self.position = position

    FIELDS = ("id", "conversation_id", "conversation__kind", "role", "cleared_through_seq")

    def model(self, user: Any = None, user_id: int | None = None) -> Membership:
        """The active membership as a model instance: these fields, its user (when given)
        and its conversation (id and kind) attached, the other fields deferred."""
        membership = deferred_instance(
            Membership,
            {
                "id": self.id,
                "conversation_id": self.conversation_id,
                "user_id": user.pk if user is not None else user_id,
                "visitor_id": None,
                "bot_id": None,
                "role": self.role,
                "cleared_through_seq": self.cleared_through_seq,
                "left_at": None,
            },
        )
        if user is not None:
            membership.user = user
        membership.conversation = deferred_instance(
            Conversation, {"id": self.conversation_id, "kind": self.kind}
        )
        return membership


class Socket(Protocol):
    """What a Delivery writes to (the consumer)."""

    async def send(self, text_data: str) -> None: ...

    async def close_with(self, code: int) -> None: ...

    async def membership_changed(self, cid: int, joined: bool) -> None:
        """Called once the user joined (True) or left a conversation."""


class Delivery:
    """The outbound side of one socket: positions, queue and pump."""

    __slots__ = (
        "socket",
        "user_id",
        "memberships",
        "user_position",
        "live",
        "queue",
        "pump",
        "closed",
        "_fills",
        "_user_fill",
    )

    def __init__(self, socket: Socket, user_id: int | None) -> None:
        # The socket itself rather than three bound methods of it: ~0.2 KB less each.
        self.socket = socket
        self.user_id = user_id
        # conversation id -> my membership and its position (the last seq sent)
        self.memberships: dict[int, SocketMembership] = {}
        self.user_position = 0
        self.live = False
        # Made when something is queued and dropped when the pump has sent it all. A
        # list, not a deque (~0.6 KB each even for one item): a connect storm leaves every
        # socket of a room queueing the others' presence until it resumes, and those
        # queues, freed later, left their memory scattered (docs/performance.md).
        self.queue: list[str | tuple[Any, ...]] | None = None
        # The task that empties the queue onto the socket, while there is something in it.
        self.pump: asyncio.Task[None] | None = None
        self.closed = False
        # conversation id -> seq to catch up to; made when the first fill is queued
        self._fills: dict[int, int] | None = None
        self._user_fill = 0

    async def _send(self, text: str) -> None:
        await self.socket.send(text)

    # -- intake (from the hub, synchronous) ------------------------------------------------

    def push(self, item: str | tuple[Any, ...]) -> None:
        """Queue an item for the pump: the text of a frame to send as it is (no tuple
        around it: an item per socket per event), or a tuple for the pump to act on."""
        if self.closed:
            return
        queue = self.queue
        if queue is None:
            queue = self.queue = []
        elif len(queue) >= MAX_QUEUE:
            log.warning("closing a socket that fell %d events behind", len(queue))
            self.closed = True
            self.queue = None
            asyncio.get_running_loop().create_task(self.socket.close_with(CLOSE_TOO_SLOW))
            return
        queue.append(item)
        self._wake()

    def catch_up(self, cid: int | None, head: int) -> None:
        """The database says a stream (a conversation, or my user stream when `cid` is
        None) stands at `head`: queue a fill if this socket has not sent that far."""
        if cid is None:
            if head > self.user_position and head > self._user_fill:
                first = not self._user_fill
                self._user_fill = head
                if first:
                    self.push(("ufill",))
            return
        member = self.memberships.get(cid)
        fills = self._fills
        if member is None or head <= member.position or (fills and head <= fills.get(cid, 0)):
            return
        if fills is None:
            fills = self._fills = {}
        first = cid not in fills
        fills[cid] = head
        if first:
            self.push(("fill", cid))

    def push_front(self, item: str | tuple[Any, ...]) -> None:
        if self.queue is None:
            self.queue = []
        self.queue.insert(0, item)
        self._wake()

    def go_live(self) -> None:
        self.live = True
        self._wake()

    def _wake(self) -> None:
        if self.live and self.pump is None and self.queue and not self.closed:
            self.pump = asyncio.get_running_loop().create_task(self._pump())

    # -- the pump --------------------------------------------------------------------------

    async def _pump(self) -> None:
        item: str | tuple[Any, ...] | None = None
        try:
            while self.queue and not self.closed:
                item = self.queue.pop(0)  # short but for a slow client (then at most MAX_QUEUE)
                if not self.queue:
                    self.queue = None  # whatever comes while this is sent makes a new one
                if type(item) is str:
                    await self._send(item)
                    continue
                kind = item[0]
                if kind == "c":
                    await self._conversation_event(item[1], item[2], item[3])
                elif kind == "u":
                    await self._user_event(*item[1:])
                elif kind == "resume":
                    await self._resume(item[1])
                elif kind == "fill":
                    upto = self._fills.pop(item[1], 0) if self._fills else 0
                    member = self.memberships.get(item[1])
                    if member is not None and upto > member.position:
                        await self._fill(item[1], upto)
                elif kind == "ufill":
                    upto, self._user_fill = self._user_fill, 0
                    await self._user_catch_up(upto)
        except Exception as exc:
            if not self.closed and (error := refusal(exc)) is not None:
                await self._unavailable(item, error)
            elif not self.closed:  # the socket went away under us
                log.debug("the pump stopped: %r", exc)
            self.closed = True
            self.queue = None
        finally:
            self.pump = None
        self._wake()

    async def _unavailable(self, item: str | tuple[Any, ...] | None, error: Unavailable) -> None:
        """The database did not answer a fill or a resume: what this socket has sent is
        no longer known to be complete, so it is closed with "try again later" and the
        client reconnects and resumes from what it has (a resume is answered first)."""
        if isinstance(item, tuple) and item[0] == "resume":
            await self._send(
                encode(
                    p.Error(
                        re=item[1].id, code=error.code, message=error.message, details=error.details
                    )
                )
            )
        asyncio.get_running_loop().create_task(self.socket.close_with(CLOSE_TRY_AGAIN_LATER))

    async def _conversation_event(self, cid: int, seq: int, text: str) -> None:
        member = self.memberships.get(cid)
        if member is None or seq <= member.position:
            return
        if seq > member.position + 1:
            await self._fill(cid, seq - 1)
        member = self.memberships.get(cid)  # still mine after the fill?
        if member is not None and seq > member.position:
            await self._send(text)
            member.position = seq

    async def _fill(self, cid: int, upto: int) -> None:
        """Send what this socket missed of a conversation, up to and including `upto`."""
        membership = self.memberships.get(cid)
        if membership is None:
            return
        batch = settings.PARLEY["RESUME_MAX_EVENTS"]
        while self.memberships.get(cid) is membership and membership.position < upto:
            events = await database_sync_to_async(selectors.events_after)(
                membership.model(user_id=self.user_id), membership.position, batch
            )
            for seq, text in events:
                if seq > upto:
                    break
                await self._send(text)
            # Hidden or cleared messages leave holes this member does not see: skip them.
            done = len(events) < batch or events[-1][0] >= upto
            membership.position = upto if done else events[-1][0]

    async def _user_event(
        self, user_seq: int, text: str, control: str | None, cid: int | None, seq: int | None
    ) -> None:
        if user_seq <= self.user_position:
            return
        if user_seq > self.user_position + 1:
            await self._user_catch_up(user_seq - 1)
        data = orjson.loads(text)
        await self._apply_user_event(data["type"], data)
        await self._send(text)
        self.user_position = user_seq

    async def _user_catch_up(self, upto: int) -> None:
        """Send my user-stream events after my position, up to and including `upto`."""
        if self.user_id is None:
            return
        limit = settings.PARLEY["RESUME_MAX_EVENTS"]
        while self.user_position < upto:
            missed = await database_sync_to_async(selectors.user_events_after)(
                self.user_id, self.user_position, limit
            )
            for event in missed:
                if event.seq > upto:
                    return
                await self._apply_user_event(event.type, event.payload)
                await self._send(_user_event_text(event))
                self.user_position = event.seq
            if len(missed) < limit:
                return

    async def _apply_user_event(self, type_: str, payload: dict[str, Any]) -> None:
        """Keep this socket's view of my memberships in step with my user stream."""
        if type_ == "conversation.joined":
            summary = payload["conversation"]
            await self._apply_control("joined", summary["id"], summary["last_seq"])
        elif type_ == "conversation.left":
            await self._apply_control("left", payload["conversation"], None)
        elif type_ == "history.cleared":
            membership = self.memberships.get(payload["conversation"])
            if membership is not None:
                membership.cleared_through_seq = max(
                    membership.cleared_through_seq, payload["through_seq"]
                )

    async def _apply_control(self, control: str | None, cid: int | None, seq: int | None) -> None:
        if cid is None or control is None:
            return
        if control == "joined" and cid not in self.memberships:
            membership = await database_sync_to_async(_membership)(self.user_id, cid)
            if membership is not None:
                membership.position = seq or 0
                self.memberships[cid] = membership
                await self.socket.membership_changed(cid, True)
                # What was committed before that subscription never comes through the
                # layer: the first message of a new conversation, sent in the same breath
                # as it was made, often is. Fill it from the database now, not at the
                # hub's next head check (GAP_CHECK_SECONDS later).
                head = await database_sync_to_async(_conversation_head)(cid)
                self.catch_up(cid, head)
        elif control == "left" and cid in self.memberships:
            del self.memberships[cid]
            await self.socket.membership_changed(cid, False)

    async def _resume(self, command: p.Resume) -> None:
        counts.gateway.resumes += 1
        limit = settings.PARLEY["RESUME_MAX_EVENTS"]
        reset: list[int] = []
        user_reset = False
        if command.user_seq is not None and self.user_id is not None:
            current = self.user_position
            if command.user_seq > current:
                user_reset = True
            elif command.user_seq < current:
                missed = await database_sync_to_async(selectors.user_events_after)(
                    self.user_id, command.user_seq, limit + 1
                )
                if len(missed) > limit:
                    user_reset = True
                else:
                    for event in missed:
                        if event.seq > current:
                            break
                        await self._send(_user_event_text(event))
        asked = {int(k): v for k, v in command.conversations.items()}
        not_found: list[int] = []
        for cid, since in asked.items():
            member = self.memberships.get(cid)
            if member is None:
                not_found.append(cid)  # not (or no longer) mine: nothing about it is sent
                continue
            current = member.position
            if since == current:
                continue
            if since > current:
                reset.append(cid)
                continue
            events = await database_sync_to_async(selectors.events_after)(
                member.model(user_id=self.user_id), since, limit + 1
            )
            events = [(s, t) for s, t in events if s <= current]
            if len(events) > limit:
                reset.append(cid)
                continue
            for _, text in events:
                await self._send(text)
        counts.gateway.resume_resets += len(reset) + user_reset
        await self._send(
            encode(
                p.Resumed(
                    re=command.id,
                    conversations={str(c): m.position for c, m in self.memberships.items()},
                    user_seq=self.user_position,
                    reset=reset,
                    user_reset=user_reset,
                    not_found=not_found,
                )
            )
        )


def _membership(user_id: int | None, cid: int) -> SocketMembership | None:
    if user_id is None:
        return None
    row = (
        Membership.objects.filter(user_id=user_id, conversation_id=cid, left_at__isnull=True)
        .values_list(*SocketMembership.FIELDS)
        .first()
    )
    return SocketMembership(*row) if row is not None else None


def _conversation_head(cid: int) -> int:
    return Conversation.objects.filter(pk=cid).values_list("last_seq", flat=True).first() or 0


def _user_event_text(event: Any) -> str:
    from parley.chat.events import user_event_frame

    return encode(user_event_frame(event.type, event.seq, event.payload))
