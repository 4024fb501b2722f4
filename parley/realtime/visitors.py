"""The gateway's door for support widget visitors: /ws/widget/<key>/.

A visitor's socket is the gateway's socket (`ChatConsumer`): the same frames, the same
delivery, resume, receipts and typing, over the same services. What differs is who is on
it and what they may do:

* **Who.** The visitor token (parley/support/visitors.py), never a session cookie. A
  browser cannot set headers on a websocket and the token must not go in a URL, so it
  travels as a second subprotocol of the handshake, `t.<token>` (with `.` for the
  token's `:`, which a subprotocol may not contain), beside `parley.visitor`, which the
  server picks. The handshake's Origin must be the server's own (the widget's frame),
  as for a signed-in browser's socket.
* **What they follow.** Their own support conversation and nothing else: no user stream,
  no presence of others. The team sees theirs: `presence` with the visitor's id goes to
  their conversation when their first socket opens and when their last one closes. A
  visitor's socket opens once they have a conversation (their first message goes over
  HTTP, `POST /widget/<key>/messages`, which makes it).
* **What they may do.** Send, read receipts, typing, resume, ping. Deleting and clearing
  are the team's (`not_allowed`).
* **How many.** A visitor, and the visitors of one client address, hold a few sockets at
  most (parley/realtime/caps.py, `visitor_over_cap`); the next is closed with 4429.
"""

from __future__ import annotations

from typing import Any

from parley.chat import errors as chat_errors
from parley.chat import events as ev
from parley.chat.models import Membership, Visitor
from parley.common import counts, ratelimit
from parley.common.outage import refusal
from parley.events import protocol as p
from parley.events.outgoing import conversation_group
from parley.events.protocol import encode
from parley.realtime.caps import visitor_counted_address, visitor_over_cap
from parley.realtime.consumers import (
    CLOSE_TOO_MANY_SOCKETS,
    CLOSE_UNAUTHENTICATED,
    ChatConsumer,
    hello_limits,
)
from parley.realtime.db import database_sync_to_async
from parley.realtime.delivery import CLOSE_TRY_AGAIN_LATER, Delivery, SocketMembership
from parley.realtime.online import get_online_counts
from parley.realtime.origins import handshake_origin_allowed
from parley.realtime.presence import get_presence, visitor_key
from parley.realtime.presence_news import participants_gone, visitor_came, visitor_left
from parley.realtime.writer import get_writer

VISITOR_PROTOCOL = "parley.visitor"
TOKEN_PROTOCOL_PREFIX = "t."
WIDGET_PATH = "ws/widget/"  # + the widget's public key + "/"


def widget_key(path: str) -> str | None:
    """`<key>` of `ws/widget/<key>/` (the path relative to the root), else None."""
    if not path.startswith(WIDGET_PATH) or not path.endswith("/"):
        return None
    key = path[len(WIDGET_PATH) : -1]
    return key if key and "/" not in key and len(key) <= 40 else None


def token_of(scope: dict[str, Any]) -> str | None:
    """The visitor token from the handshake's subprotocols, if it offers ours."""
    offered = scope.get("subprotocols") or []
    if VISITOR_PROTOCOL not in offered:
        return None
    for protocol in offered:
        if protocol.startswith(TOKEN_PROTOCOL_PREFIX):
            return protocol[len(TOKEN_PROTOCOL_PREFIX) :].replace(".", ":")
    return None


def visitor_state(
    key: str, token: str
) -> tuple[Visitor, list[tuple[SocketMembership, int]]] | None:
    """The visitor this token names on this widget and their active memberships with
    their conversations' seqs, or None (unknown widget, bad token, an anonymous visitor
    where the widget wants identified ones, or a visitor with no conversation yet)."""
    from parley.support import selectors, visitors
    from parley.support.errors import InvalidVisitorToken

    widget = selectors.widget_by_key(key)
    if widget is None:
        return None
    try:
        identity = visitors.read(token, widget)
    except InvalidVisitorToken:
        return None
    if widget.require_identity and not identity.verified:
        return None
    visitor = Visitor.objects.filter(
        pk=identity.visitor_id, support_conversations__widget=widget
    ).first()
    if visitor is None:
        return None
    rows = Membership.objects.filter(visitor=visitor, left_at__isnull=True).values_list(
        *SocketMembership.FIELDS, "conversation__last_seq"
    )
    return visitor, [(SocketMembership(*row[:5]), row[5]) for row in rows]


class VisitorConsumer(ChatConsumer):
    visitor: Visitor

    async def connect(self) -> None:
        key = widget_key(self.scope["path"].lstrip("/"))
        token = token_of(self.scope)
        if key is None or token is None or not handshake_origin_allowed(self.scope):
            await self.close()  # before accepting: the server refuses the handshake (403)
            return
        try:
            state = await database_sync_to_async(visitor_state)(key, token)
        except Exception as exc:
            if refusal(exc) is None:
                raise
            await self.accept(VISITOR_PROTOCOL)
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        if state is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.visitor, members = state
        self.credential = None
        self.key = visitor_key(self.visitor.pk)
        self.delivery = Delivery(self, None)  # no user stream: their conversation only
        await self._follow(members)

    def _groups(self) -> list[str]:
        return [conversation_group(c) for c in self.delivery.memberships]

    async def _start(self) -> None:
        await self.accept(VISITOR_PROTOCOL)
        sender = ev.visitor_sender(self.visitor)
        await self.send(encode(p.Hello(user=sender, user_seq=0, limits=hello_limits())))
        presence = get_presence()
        await presence.start(on_gone=participants_gone)
        address = visitor_counted_address(self.scope)
        if address is not None:
            self.address = address
        arrival = await presence.arrive(self.key, list(self.delivery.memberships), address)
        self._opened()
        if visitor_over_cap(arrival):
            counts.refused("sockets")
            self.refused = True
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        get_online_counts().changed(self.delivery.memberships)
        if arrival.came_online:
            await visitor_came(self.visitor.pk, list(self.delivery.memberships))

    async def disconnect(self, code: int) -> None:
        self._gone()
        if not getattr(self, "connected", False):
            return
        self.connected = False
        self.delivery.closed = True
        await self.hub.unsubscribe(self, self._groups())
        cids = list(self.delivery.memberships)
        went_offline = await get_presence().disconnect(self.key, cids, address=self.address)
        if went_offline and not self.refused:
            await visitor_left(self.visitor.pk, cids)
        get_online_counts().changed(cids)

    def _sender(self) -> p.Sender:
        return ev.visitor_sender(self.visitor)

    def _membership(self, cid: int) -> Membership:
        member = self.delivery.memberships.get(cid)
        if member is None:
            raise chat_errors.ConversationNotFound()
        membership = member.model()
        membership.visitor_id = self.visitor.pk
        membership.visitor = self.visitor
        return membership

    async def on_message_send(self, command: p.SendMessage) -> None:
        membership = self._membership(command.conversation)
        if command.attachments:
            # Visitors have no uploads (docs/files.md): refused, never sent without them.
            from parley.chat.errors import NotAllowed

            raise NotAllowed("Files cannot be sent from the support widget.")
        # A visitor's messages count against one limit whichever door they come through
        # (the HTTP send counts the same, parley/support/visitor_views.py): anyone on the
        # web may open a visitor socket, and a few sockets would multiply the frame rate.
        await database_sync_to_async(ratelimit.take)(
            f"visitor:{self.visitor.pk}", what="messages", widget_messages=1
        )
        message, _ = await get_writer().message_send(membership, command.body, command.client_id)
        # The widget's bot answers before the ack, also a retry's: a process that dies
        # before the bot answered never acknowledged the message, so the visitor's client
        # sends it again and the bot answers then (parley/support/services/bot.py).
        from parley.support.services.bot import bot_answer_or_log, bot_known_off

        if not bot_known_off(message.conversation_id):  # no hop when the bot is off
            await self._call(
                bot_answer_or_log, conversation_id=message.conversation_id, seq=message.seq
            )
        sender = self._sender() if message.sender_id == membership.pk else None
        await self.send(encode(p.Ack(re=command.id, message=ev.message_out(message, sender))))

    async def on_support_handoff(self, command: p.SupportHandoff) -> None:
        from parley.support.models import SupportConversation
        from parley.support.services import handoff_request

        self._membership(command.conversation)
        support = await database_sync_to_async(
            SupportConversation.objects.select_related("widget", "conversation").get
        )(pk=command.conversation)
        await self._call(handoff_request, support=support)
        await self.send(encode(p.Ack(re=command.id, result={"waiting": True})))

    async def on_support_rate(self, command: p.SupportRate) -> None:
        from parley.support.models import SupportConversation
        from parley.support.services import rating_set

        self._membership(command.conversation)
        support = await database_sync_to_async(
            SupportConversation.objects.select_related("widget").get
        )(pk=command.conversation)
        saved = await self._call(
            rating_set, support=support, score=command.score, comment=command.comment
        )
        await self.send(encode(p.Ack(re=command.id, result={"score": saved.score})))

    async def on_message_delete(self, command: p.DeleteMessage) -> None:
        raise chat_errors.NotAllowed("Visitors cannot delete messages.")

    async def on_history_clear(self, command: p.ClearHistory) -> None:
        raise chat_errors.NotAllowed("Visitors cannot clear the history.")

    async def on_message_edit(self, command: p.EditMessage) -> None:
        raise chat_errors.NotAllowed("Visitors cannot edit messages.")

    async def on_reaction_add(self, command: p.AddReaction) -> None:
        raise chat_errors.NotAllowed("Visitors cannot react to messages.")

    async def on_reaction_remove(self, command: p.RemoveReaction) -> None:
        raise chat_errors.NotAllowed("Visitors cannot react to messages.")

    async def on_message_pin(self, command: p.PinMessage) -> None:
        raise chat_errors.NotAllowed("Visitors cannot pin messages.")

    async def on_message_unpin(self, command: p.UnpinMessage) -> None:
        raise chat_errors.NotAllowed("Visitors cannot pin messages.")

    async def on_unread_mark(self, command: p.MarkUnread) -> None:
        raise chat_errors.NotAllowed("Visitors cannot mark their conversation unread.")
