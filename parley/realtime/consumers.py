"""The websocket gateway at /ws/: one socket per tab, all of the user's conversations.

The consumer parses and authorizes each frame, calls a chat service, and answers with an
`ack` or a typed `error`; it knows no business rules. Outbound events reach it from the
process hub (hub.py) and leave through its Delivery (delivery.py). What it re-implements
of Channels is lean_consumer.py's; who hears of its coming and going, presence_news.py's.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from django.conf import settings
from django.utils import timezone

from parley.accounts.models import User
from parley.chat import events as ev
from parley.chat import selectors, services
from parley.chat.models import Membership
from parley.common import connected, counts
from parley.common.errors import DomainError
from parley.common.outage import refusal
from parley.events import protocol as p
from parley.events.outgoing import (
    CLOSE,
    VIEWERS,
    Outgoing,
    conversation_group,
    outgoing,
    user_group,
)
from parley.events.protocol import ProtocolError, encode, parse_command, request_id_of
from parley.files import services as files_services
from parley.realtime.caps import counted_address, over_cap
from parley.realtime.connecting import get_connector
from parley.realtime.db import database_sync_to_async
from parley.realtime.delivery import CLOSE_TRY_AGAIN_LATER, Delivery
from parley.realtime.drain import CLOSE_RECONNECT, get_drain
from parley.realtime.hub import get_hub
from parley.realtime.lean_consumer import LeanWebsocketConsumer
from parley.realtime.online import get_online_counts
from parley.realtime.presence import get_presence, user_key
from parley.realtime.presence_news import came_online, participants_gone, went_offline
from parley.realtime.publish import publish, run_captured
from parley.realtime.writer import get_writer

log = logging.getLogger(__name__)
_hooks_running: set[asyncio.Task[None]] = set()

CLOSE_UNAUTHENTICATED = 4401
CLOSE_SESSION_ENDED = 4403
CLOSE_TOO_MANY_SOCKETS = 4429  # over PARLEY["SOCKETS_PER_USER"] or ["SOCKETS_PER_IP"]


def take_frame(due: float, rate: float, burst: float) -> tuple[float, float]:
    """A token bucket of `burst` frames refilled at `rate` per second, kept as one number
    per socket: `due`, when the bucket will be full again (a bucket with `tokens` at time
    `now` is full at now + (burst - tokens) / rate). Returns (0, the new due) if a frame
    may pass, else (the seconds until it may, due unchanged)."""
    now = time.monotonic()
    due = max(due, now)
    wait = due + 1 / rate - now - burst / rate  # > 0: fewer than one token in the bucket
    if wait > 0:
        return wait, due
    return 0.0, due + 1 / rate


def hello_limits() -> dict[str, int | float]:
    """The limits a `hello` tells the client."""
    return {
        "message_max_length": settings.PARLEY["MESSAGE_MAX_LENGTH"],
        "frame_max_bytes": settings.PARLEY["FRAME_MAX_BYTES"],
        "frame_rate": settings.PARLEY["FRAME_RATE"],
        "frame_burst": settings.PARLEY["FRAME_BURST"],
        "resume_max_events": settings.PARLEY["RESUME_MAX_EVENTS"],
        "unread_cap": selectors.unread_cap(),
        # Attachments (docs/files.md): a client can refuse a file before uploading it.
        "max_file_bytes": settings.PARLEY["FILES"]["MAX_FILE_BYTES"],
        "max_message_file_bytes": settings.PARLEY["FILES"]["MAX_MESSAGE_BYTES"],
        "max_files_per_message": settings.PARLEY["FILES"]["MAX_PER_MESSAGE"],
    }


def _fresh_membership(membership_id: int) -> Membership:
    return Membership.objects.select_related("conversation", "user").get(pk=membership_id)


class ChatConsumer(LeanWebsocketConsumer):
    user: User
    delivery: Delivery
    # Per-socket state starts as these class defaults (an idle socket keeps no copies).
    open_conversations: set[int] | frozenset[int] = frozenset()  # a set once one is opened
    frames_due = 0.0  # when the frame rate bucket is full again (take_frame)
    address: str | None = None  # the presence key it counts under for its client address
    refused = False  # over a cap: closed at once, never announced
    busy = False  # carrying out a frame (frames are handled one at a time)
    moving = False  # asked to reconnect elsewhere (drain.py): closed once not busy

    def _gone(self, exc: BaseException | None = None) -> None:
        super()._gone(exc)
        delivery = getattr(self, "delivery", None)
        if delivery is not None:
            delivery.closed = True
        drain = get_drain.current()
        if drain is not None:
            drain.closed(self)

    def _opened(self) -> None:
        """Accepted and counted: from here on, disconnect() undoes what connect did, and
        a drain or a rebalancing may ask the socket to move."""
        self.connected = True
        counts.gateway.sockets_opened += 1
        get_drain().opened(self)

    def move(self) -> None:
        """Reconnect elsewhere (drain.py): close with 4012 now, or, if a frame is being
        carried out, as soon as it has been answered, so that no command goes unanswered."""
        if self.gone or self.moving:
            return
        self.moving = True
        if not self.busy:
            task = asyncio.get_running_loop().create_task(self.close(code=CLOSE_RECONNECT))
            _hooks_running.add(task)
            task.add_done_callback(_hooks_running.discard)

    def _groups(self) -> list[str]:
        """The layer groups this socket follows: mine and each of my conversations'."""
        return [user_group(self.user.pk)] + [
            conversation_group(c) for c in self.delivery.memberships
        ]

    async def connect(self) -> None:
        # One statement: who, what they follow, where each stream stands; read in one
        # thread hop with the other connects waiting for the database (connecting.py).
        try:
            state = await get_connector().state(self.scope)
        except Exception as exc:
            if refusal(exc) is None:
                raise
            # Not a refused handshake (the client would take it for a bad credential):
            # the socket opens and closes at once with "try again later".
            await self.accept()
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        if state is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # what `services.sockets_close` closes by: the session key or the API token
        user, self.credential, members, expires_at = state
        if expires_at is not None:  # a token's socket ends with the token
            self.expiry = asyncio.get_running_loop().call_later(
                max(0.0, (expires_at - timezone.now()).total_seconds()), self._expired
            )
        self.user = user
        self.key = user_key(user.pk)
        self.delivery = Delivery(self, user.pk)
        self.delivery.user_position = user.last_event_seq
        await self._follow(members)

    async def _follow(self, members: list[tuple[Any, int]]) -> None:
        """Follow these memberships from the seqs read at connect, then start the socket
        (`_start`); the subscriptions are undone if starting fails."""
        for member, seq in members:
            member.position = seq
            self.delivery.memberships[member.conversation_id] = member
        self.hub = get_hub()
        # The positions were read before subscribing. What was committed in between is
        # still delivered: what this process's hub already handed to the group's other
        # sockets is caught up from the database as the socket subscribes (Hub.subscribe),
        # what the layer brings from now on is routed to it, and what the layer did not
        # bring (a group this process had not joined yet) comes with the stream's next
        # event or the hub's next head check (docs/architecture.md, "Delivery").
        await self.hub.subscribe(self, self._groups())
        try:
            await self._start()
        except BaseException:
            self._gone()
            await self.hub.unsubscribe(self, self._groups())
            raise

    async def _start(self) -> None:
        user = self.user
        await self.accept()
        await self.send(
            encode(
                p.Hello(
                    user=ev.user_sender(user),
                    user_seq=self.delivery.user_position,
                    limits=hello_limits(),
                )
            )
        )
        presence = get_presence()
        await presence.start(on_gone=participants_gone)
        address = counted_address(self.scope)
        if address is not None:  # kept only when counted: the class default says None
            self.address = address
        arrival = await presence.arrive(self.key, list(self.delivery.memberships), address)
        self._opened()
        if over_cap(arrival):
            counts.refused("sockets")
            self.refused = True
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        get_online_counts().changed(self.delivery.memberships)
        if arrival.came_online:
            await came_online(user, self._conversations())
            # Support queues: every conversation that could wait for this user has them
            # as a member (a widget's team is in all its open conversations), so those
            # without one cost no database hop (tests/realtime/test_connect_cost.py).
            support = any(m.kind == "support" for m in self.delivery.memberships.values())
            if support and connected.watches_arrivals():
                task = asyncio.get_running_loop().create_task(self._came_online())
                _hooks_running.add(task)  # a task nobody holds may be collected mid-way
                task.add_done_callback(_hooks_running.discard)

    async def _came_online(self) -> None:
        try:
            await self._call(connected.came_online, user_id=self.user.pk)
        except Exception as exc:
            if refusal(exc) is None:
                log.exception("a came-online hook failed")

    def _expired(self) -> None:
        self.delivery.closed = True
        asyncio.get_running_loop().create_task(self.close(code=CLOSE_SESSION_ENDED))

    async def disconnect(self, code: int) -> None:
        self._gone()
        expiry = getattr(self, "expiry", None)
        if expiry is not None:
            expiry.cancel()
        if not getattr(self, "connected", False):
            return
        self.connected = False
        counts.gateway.sockets_closed += 1
        self.delivery.closed = True
        await self.hub.unsubscribe(self, self._groups())
        presence = get_presence()
        cids = list(self.delivery.memberships)
        if await presence.disconnect(self.key, cids, address=self.address) and not self.refused:
            await went_offline(self.user, self._conversations())
        get_online_counts().changed(cids)

    async def close_with(self, code: int) -> None:
        await self.close(code=code)

    # -- events from the hub ---------------------------------------------------------------

    def on_hub_event(self, event: Outgoing) -> None:
        control = event.control
        if event.user_seq is not None:
            self.delivery.push(
                ("u", event.user_seq, event.text, control, event.conversation, event.seq)
            )
        elif event.seq is not None:
            self.delivery.push(("c", event.conversation, event.seq, event.text))
        elif control == CLOSE:
            if event.session is None or event.session == self.credential:
                self.delivery.closed = True
                asyncio.get_running_loop().create_task(self.close(code=CLOSE_SESSION_ENDED))
        elif control == VIEWERS:
            if event.conversation in self.open_conversations:
                self.delivery.push(event.text)
        else:
            self.delivery.push(event.text)

    def catch_up(self, group: str, head: int) -> None:
        kind, _, ident = group.partition(".")
        self.delivery.catch_up(None if kind == "u" else int(ident), head)

    async def membership_changed(self, cid: int, joined: bool) -> None:
        group = conversation_group(cid)
        presence = get_presence()
        # Delivery has already added or removed the membership, so a disconnect meanwhile
        # unsubscribes from what `_groups()` says now.
        if joined:
            await self.hub.subscribe(self, [group])
            await presence.join(self.key, cid)
        else:
            await self.hub.unsubscribe(self, [group])
            if cid in self.open_conversations:
                self.open_conversations.discard(cid)  # type: ignore[union-attr]
            await presence.leave(self.key, cid)
        get_online_counts().changed([cid])

    def _conversations(self) -> list[tuple[int, str]]:
        """(id, kind) of each of my conversations: whom my presence concerns."""
        return [(c, m.kind) for c, m in self.delivery.memberships.items()]

    # -- frames from the client ------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.moving:
            # Sent before the client read our close frame: not carried out. The client
            # counts it unanswered and sends it again on its new socket (a message.send
            # with the same client_id: stored once).
            return
        request_id = None
        counts.gateway.frames_in += 1
        self.busy = True
        try:
            wait, self.frames_due = take_frame(
                self.frames_due, settings.PARLEY["FRAME_RATE"], settings.PARLEY["FRAME_BURST"]
            )
            if wait:
                counts.refused("frames")
                raise ProtocolError(
                    "rate_limited",
                    f"Too many frames; try again in {wait:.1f} s.",
                    request_id_of(text_data, max_bytes=settings.PARLEY["FRAME_MAX_BYTES"]),
                    retry_after=math.ceil(wait * 100) / 100,  # up: retrying then succeeds
                )
            if text_data is None:
                raise ProtocolError("binary_not_supported", "Frames are JSON text.")
            command = parse_command(text_data, max_bytes=settings.PARLEY["FRAME_MAX_BYTES"])
            request_id = command.id
            if not self.delivery.live and not isinstance(command, p.Resume):
                self.delivery.go_live()
            handler = getattr(self, "on_" + command.type.replace(".", "_"))
            await handler(command)
        except ProtocolError as exc:
            await self._error(exc.request_id or request_id, exc.code, exc.message, exc.details)
        except DomainError as exc:
            await self._error(request_id, exc.code, exc.message, exc.details)
        except Exception as exc:
            error = refusal(exc)  # the database is unavailable: retry, not a bug
            if error is not None:
                await self._error(request_id, error.code, error.message, error.details)
                return
            log.exception("a frame failed")
            await self._error(request_id, "internal_error", "The server could not do that.")
        finally:
            self.busy = False
            if self.moving:  # asked to move while this frame was carried out: answered now
                await self.close(code=CLOSE_RECONNECT)

    async def _error(
        self, request_id: str | None, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        await self.send(
            encode(p.Error(re=request_id, code=code, message=message, details=details or None))
        )

    def _sender(self) -> p.Sender:
        """Who this socket's frames are from."""
        return ev.user_sender(self.user)

    def _membership(self, cid: int) -> Membership:
        """My active membership of a conversation, as the model instance services take
        (built from the small record the socket keeps), or ConversationNotFound."""
        member = self.delivery.memberships.get(cid)
        if member is None:
            from parley.chat.errors import ConversationNotFound

            raise ConversationNotFound()
        return member.model(self.user)

    async def _call(self, service: Any, **kwargs: Any) -> Any:
        result, events = await database_sync_to_async(run_captured)(service, **kwargs)
        await publish(events)
        return result

    async def on_message_send(self, command: p.SendMessage) -> None:
        received = time.perf_counter()  # for the ack latency (counts.ack_seconds)
        counts.gateway.sends += 1
        membership = self._membership(command.conversation)
        if command.attachments:
            # With files: written here, with its uploads locked and linked in the same
            # transaction (parley/files/services.py), not batched with plain sends.
            message, _ = await self._call(
                files_services.message_send_with_files,
                membership=membership,
                body=command.body,
                client_id=command.client_id,
                upload_ids=command.attachments,
            )
        else:
            # Written together with the other sends waiting for the database, by the
            # process that writes this conversation (writer.py; this one, without Redis).
            message, _ = await get_writer().message_send(
                membership, command.body, command.client_id
            )
        sender = self._sender() if message.sender_id == membership.pk else None
        await self.send(encode(p.Ack(re=command.id, message=ev.message_out(message, sender))))
        counts.ack_seconds.observe(time.perf_counter() - received)

    async def on_typing(self, command: p.Typing) -> None:
        self._membership(command.conversation)
        event = p.TypingEvent(
            conversation=command.conversation, who=self._sender(), active=command.active
        )
        await publish([outgoing(conversation_group(command.conversation), event)])
        if command.id:
            await self.send(encode(p.Ack(re=command.id)))

    async def on_receipt(self, command: p.MarkReceipt) -> None:
        membership = self._membership(command.conversation)
        moved = await self._call(
            services.receipt_mark, membership=membership, kind=command.kind, seq=command.seq
        )
        if command.id:
            await self.send(encode(p.Ack(re=command.id, result={"moved": moved})))

    async def on_message_delete(self, command: p.DeleteMessage) -> None:
        membership = await database_sync_to_async(_fresh_membership)(
            self._membership(command.conversation).pk
        )
        if command.scope == "everyone":
            seq = await self._call(
                services.message_delete_for_everyone, membership=membership, seq=command.seq
            )
            result: dict[str, Any] = {"seq": seq}
        else:
            await self._call(services.message_delete_for_me, membership=membership, seq=command.seq)
            result = {}
        await self.send(encode(p.Ack(re=command.id, result=result)))

    async def on_message_edit(self, command: p.EditMessage) -> None:
        # The socket's record of my membership is enough (the service re-checks it under
        # the conversation's lock): one database hop, not two (bench scenario 8).
        membership = self._membership(command.conversation)
        seq = await self._call(
            services.message_edit, membership=membership, seq=command.seq, body=command.body
        )
        await self.send(encode(p.Ack(re=command.id, result={"seq": seq})))

    async def on_reaction_add(self, command: p.AddReaction) -> None:
        await self._react(command, services.reaction_add)

    async def on_reaction_remove(self, command: p.RemoveReaction) -> None:
        await self._react(command, services.reaction_remove)

    async def _react(self, command: p.AddReaction | p.RemoveReaction, service: Any) -> None:
        membership = self._membership(command.conversation)  # as for an edit
        seq = await self._call(service, membership=membership, seq=command.seq, emoji=command.emoji)
        await self.send(encode(p.Ack(re=command.id, result={"seq": seq})))

    async def on_history_clear(self, command: p.ClearHistory) -> None:
        membership = await database_sync_to_async(_fresh_membership)(
            self._membership(command.conversation).pk
        )
        through = await self._call(services.history_clear, membership=membership)
        await self.send(encode(p.Ack(re=command.id, result={"through_seq": through})))

    async def on_message_pin(self, command: p.PinMessage) -> None:
        membership = self._membership(command.conversation)
        seq = await self._call(services.message_pin, membership=membership, seq=command.seq)
        await self.send(encode(p.Ack(re=command.id, result={"seq": seq})))

    async def on_message_unpin(self, command: p.UnpinMessage) -> None:
        membership = self._membership(command.conversation)
        seq = await self._call(services.message_unpin, membership=membership, seq=command.seq)
        await self.send(encode(p.Ack(re=command.id, result={"seq": seq})))

    async def on_unread_mark(self, command: p.MarkUnread) -> None:
        membership = self._membership(command.conversation)
        read_seq, unread = await self._call(
            services.conversation_mark_unread, membership=membership, seq=command.seq
        )
        await self.send(
            encode(p.Ack(re=command.id, result={"read_seq": read_seq, "unread": unread}))
        )

    async def on_conversation_open(self, command: p.OpenConversation) -> None:
        self._membership(command.conversation)
        if not isinstance(self.open_conversations, set):
            self.open_conversations = set()
        self.open_conversations.add(command.conversation)
        count = await get_presence().count(command.conversation)
        await self.send(encode(p.OnlineCount(conversation=command.conversation, count=count)))
        if command.id:
            await self.send(encode(p.Ack(re=command.id)))

    async def on_conversation_close(self, command: p.CloseConversation) -> None:
        if command.conversation in self.open_conversations:
            self.open_conversations.discard(command.conversation)  # type: ignore[union-attr]
        if command.id:
            await self.send(encode(p.Ack(re=command.id)))

    async def on_resume(self, command: p.Resume) -> None:
        self.delivery.push_front(("resume", command))
        self.delivery.go_live()

    async def on_ping(self, command: p.Ping) -> None:
        await self.send(encode(p.Pong(re=command.id)))

    async def on_support_handoff(self, command: p.SupportHandoff) -> None:
        from parley.chat.errors import NotAllowed

        raise NotAllowed("Only a support visitor asks for a person.")

    async def on_support_rate(self, command: p.SupportRate) -> None:
        from parley.chat.errors import NotAllowed

        raise NotAllowed("Only a support visitor rates their conversation.")
