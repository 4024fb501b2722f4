"""The Conversation, Member and Room shapes of the API, and how they are filled in.

The serializers below document the shapes (drf-spectacular reads them for the schema); the
answers are built as plain dicts holding exactly what those serializers would render
(datetimes formatted by DRF's DateTimeField), without running a serializer field per value
of every conversation: tests/api/test_fast_paths.py holds the two equal.

Who is online comes from presence (parley/realtime/presence.py), asked once per request
for every participant the answer mentions; an online count is what presence counts for
the conversation (its members with a socket open), the same number the websocket's
`online` frame gives, read without listing the members.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.urls import reverse
from rest_framework import serializers
from rest_framework.request import Request

from parley.accounts.models import User
from parley.api.v1.common import UNREAD_HELP, MessageSerializer
from parley.api.v1.timeline import PinSerializer
from parley.chat import events as ev
from parley.chat import selectors, timeline
from parley.chat.models import Conversation, Membership
from parley.chat.selectors import ConversationRow
from parley.realtime.presence import get_presence, user_key, visitor_key

# --- Serializers (they render the answers, so the schema is what is sent) ----------------


class OtherUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    avatar = serializers.CharField(allow_null=True)
    online = serializers.BooleanField()
    last_seen = serializers.DateTimeField(
        allow_null=True, help_text="Null when that person hides it."
    )


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Conversation.Kind.choices)
    title = serializers.CharField(help_text="For a direct chat, the other person's name.")
    slug = serializers.CharField(allow_null=True, help_text="Public rooms only.")
    about = serializers.CharField(allow_blank=True)
    last_seq = serializers.IntegerField(help_text="The conversation's last durable event seq.")
    role = serializers.ChoiceField(choices=Membership.Role.choices, help_text="Mine.")
    unread = serializers.IntegerField(help_text=UNREAD_HELP)
    read_seq = serializers.IntegerField()
    delivered_seq = serializers.IntegerField()
    cleared_through_seq = serializers.IntegerField(
        help_text="My history floor: I see no message at or below this seq (I cleared my "
        "history, or joined a conversation that hides its earlier history from new members)."
    )
    history_visible_to_new_members = serializers.BooleanField(
        help_text="Whether people who join (or rejoin) see the messages from before they "
        "joined. Read at each join. Owner and admins change it (PATCH)."
    )
    edits_allowed = serializers.BooleanField(
        help_text="Whether members may edit the messages they sent (groups: owner and "
        "admins change it, PATCH)."
    )
    last_message = MessageSerializer(allow_null=True)
    last_message_at = serializers.DateTimeField(allow_null=True)
    other_user = OtherUserSerializer(allow_null=True, help_text="Direct chats only.")
    online_count = serializers.IntegerField(help_text="Active members online now.")
    invite_url = serializers.CharField(
        allow_null=True, help_text="Groups, for their owner and admins only."
    )


class MemberSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The user id, the visitor's UUID, or the bot's `bot-<n>`.")
    kind = serializers.ChoiceField(
        choices=["user", "visitor", "bot"],
        help_text="`bot`: an automated participant (a widget's bot), never a person.",
    )
    username = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    avatar = serializers.CharField(allow_null=True)
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    online = serializers.BooleanField()
    read_seq = serializers.IntegerField()
    delivered_seq = serializers.IntegerField()


class ConversationDetailSerializer(ConversationSerializer):
    members = MemberSerializer(many=True, help_text="Active members.")
    pins = PinSerializer(
        many=True, help_text="Pinned messages I see, the newest pin first (also GET .../pins)."
    )


class RoomSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    title = serializers.CharField()
    about = serializers.CharField(allow_blank=True)
    member_count = serializers.IntegerField()
    online_count = serializers.IntegerField()
    joined = serializers.BooleanField(help_text="Whether I am a member.")


# --- Online state --------------------------------------------------------------------------


def _key(user_id: int | None, visitor_id: object) -> str:
    return user_key(user_id) if user_id is not None else visitor_key(visitor_id)


class OnlineState:
    """Who is online among some participants, and how many members of some conversations
    are: one presence lookup for each, whatever an answer mentions."""

    def __init__(
        self,
        members: dict[int, set[str]] | None = None,
        extra_keys: Iterable[str] = (),
        counts: dict[int, int] | None = None,
    ) -> None:
        self.members = members or {}
        wanted = set(extra_keys).union(*self.members.values())
        self.online = get_presence().online_sync(wanted) if wanted else set()
        self.counts = counts

    @classmethod
    def of(cls, conversation_ids: list[int], extra_keys: Iterable[str] = ()) -> OnlineState:
        """Online counts of these conversations as presence keeps them (the number the
        websocket's `online` frames give), without reading who their members are: a
        public room of thousands costs what a chat of two does."""
        return cls(extra_keys=extra_keys, counts=get_presence().counts_sync(conversation_ids))

    def count(self, conversation_id: int) -> int:
        if self.counts is not None:
            return self.counts.get(conversation_id, 0)
        return len(self.members.get(conversation_id, set()) & self.online)

    def is_online(self, key: str) -> bool:
        return key in self.online


# --- Filling in the shapes -----------------------------------------------------------------


def _avatar(user: User) -> str:
    """The same URL the websocket events carry: the upload, or the generated initials."""
    return user.avatar_url


_datetime_field = serializers.DateTimeField()


def _datetime(value: datetime | None) -> str | None:
    """A datetime as the serializers' DateTimeField renders it (ISO 8601, UTC as "Z")."""
    return _datetime_field.to_representation(value) if value is not None else None  # type: ignore[no-any-return]


def invite_url(request: Request, secret: str) -> str:
    """The browser link of an invite: the web page that shows the group and joins it."""
    return request.build_absolute_uri(reverse("join", kwargs={"secret": secret}))


def _other_user(user: User, online: OnlineState) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.name,
        "avatar": _avatar(user),
        "online": online.is_online(user_key(user.pk)),
        "last_seen": _datetime(user.last_seen) if user.show_last_seen else None,
    }


def conversation_data(
    row: ConversationRow, online: OnlineState, request: Request
) -> dict[str, Any]:
    m, c = row.membership, row.conversation
    show_invite = c.kind == Conversation.Kind.GROUP and m.is_admin and c.invite_secret
    return {
        "id": c.pk,
        "kind": c.kind,
        "title": row.title,
        "slug": c.slug,
        "about": c.about,
        "last_seq": c.last_seq,
        "role": m.role,
        "unread": row.unread,
        "read_seq": m.last_read_seq,
        "delivered_seq": m.last_delivered_seq,
        "cleared_through_seq": m.cleared_through_seq,
        "history_visible_to_new_members": c.history_visible_to_new_members,
        "edits_allowed": c.edits_allowed,
        "last_message": (
            ev.message_out(row.last_message).model_dump(mode="json") if row.last_message else None
        ),
        "last_message_at": _datetime(c.last_message_at),
        "other_user": _other_user(row.other_user, online) if row.other_user else None,
        "online_count": online.count(c.pk),
        "invite_url": invite_url(request, c.invite_secret) if show_invite else None,
    }


def member_data(m: Membership, online: OnlineState) -> dict[str, Any]:
    sender = ev.member_sender(m)
    return {
        "id": sender.id,
        "kind": sender.kind,
        "username": sender.username,
        "name": sender.name,
        "avatar": sender.avatar,
        "role": m.role,
        "online": online.is_online(_key(m.user_id, m.visitor_id)),
        # What the others were told: marking unread moves the cursor back privately.
        "read_seq": max(m.last_read_seq, m.shown_read_seq),
        "delivered_seq": m.last_delivered_seq,
    }


def render_conversations(rows: list[ConversationRow], request: Request) -> list[dict[str, Any]]:
    extra = [user_key(r.other_user.pk) for r in rows if r.other_user is not None]
    online = OnlineState.of([r.conversation.pk for r in rows], extra)
    return [conversation_data(row, online, request) for row in rows]


def render_conversation(membership: Membership, request: Request) -> dict[str, Any]:
    """One conversation with its members, as its member `membership` sees it."""
    row = selectors.conversation_row(membership)
    members = selectors.active_members(membership.conversation_id)
    keys = {_key(m.user_id, m.visitor_id) for m in members}
    online = OnlineState(
        {membership.conversation_id: keys},
        counts=get_presence().counts_sync([membership.conversation_id]),
    )
    data = conversation_data(row, online, request)
    data["members"] = [member_data(m, online) for m in members]
    data["pins"] = [timeline.pin_data(pin) for pin in timeline.pins(membership)]
    return data


def render_member(membership: Membership) -> dict[str, Any]:
    online = OnlineState(extra_keys=[_key(membership.user_id, membership.visitor_id)])
    return member_data(membership, online)


def render_rooms(rooms: list[Conversation]) -> list[dict[str, Any]]:
    online = OnlineState.of([r.pk for r in rooms])
    return [
        {
            "id": r.pk,
            "slug": r.slug,
            "title": r.title,
            "about": r.about,
            "member_count": r.member_count,  # type: ignore[attr-defined]
            "online_count": online.count(r.pk),
            "joined": r.joined,  # type: ignore[attr-defined]
        }
        for r in rooms
    ]
