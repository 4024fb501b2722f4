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
  no presence of others. A visitor's socket opens once they have a conversation (their
  first message goes over HTTP, `POST /widget/<key>/messages`, which makes it).
* **What they may do.** Send, read receipts, typing, resume, ping. Deleting and clearing
  are the team's (`not_allowed`).
"""

from __future__ import annotations

from typing import Any

from parley.chat import errors as chat_errors
from parley.chat import events as ev
from parley.chat.models import Membership, Visitor
from parley.common.outage import refusal
from parley.events import protocol as p
from parley.events.outgoing import conversation_group
from parley.events.protocol import encode
from parley.realtime.caps import counted_address, over_cap
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
from parley.realtime.presence_news import participants_gone

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
        presence = get_presence()  # visitors' presence is not announced (yet): the
        await presence.start(on_gone=participants_gone)  # inbox shows who wrote
        address = counted_address(self.scope)
        if address is not None:
            self.address = address
        arrival = await presence.arrive(self.key, list(self.delivery.memberships), address)
        self.connected = True
        if over_cap(arrival):
            self.refused = True
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        get_online_counts().changed(self.delivery.memberships)

    async def disconnect(self, code: int) -> None:
        self._gone()
        if not getattr(self, "connected", False):
            return
        self.connected = False
        self.delivery.closed = True
        await self.hub.unsubscribe(self, self._groups())
        cids = list(self.delivery.memberships)
        await get_presence().disconnect(self.key, cids, address=self.address)
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

    async def on_message_delete(self, command: p.DeleteMessage) -> None:
        raise chat_errors.NotAllowed("Visitors cannot delete messages.")

    async def on_history_clear(self, command: p.ClearHistory) -> None:
        raise chat_errors.NotAllowed("Visitors cannot clear the history.")
