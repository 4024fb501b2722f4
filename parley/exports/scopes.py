"""What each kind of export holds, built from the chat's own reads (docs/export.md, "What
an export holds").

* `member_archive`: a conversation as one member sees it. The messages are
  `selectors.visible_messages(membership)`, the rule every read of theirs goes through
  (history, search, resume): nothing at or below their history floor (cleared, or joined
  a conversation that hides its past), nothing they deleted for themselves, tombstones
  without their text. Only an active member gets one (`selectors.membership_for`).
* `conversation_archive`: for staff, a whole conversation: every message, every member
  that ever was, its other events.
* `user_archive`: for staff, one person's data (a data-protection request): their account,
  their memberships, every message they sent.
"""

from __future__ import annotations

from typing import Any

from parley.accounts.models import ApiToken, User
from parley.chat import selectors
from parley.chat.models import Conversation, ConversationEvent, Membership, Message
from parley.chat.services.conversations import title_for
from parley.exports.archive import Archive, MessageSet


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _conversation(conversation: Conversation, title: str) -> dict[str, Any]:
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "title": title,
        "about": conversation.about,
        "created_at": _iso(conversation.created_at),
    }


def _member(membership: Membership, *, with_history: bool) -> dict[str, Any]:
    if membership.user_id is not None:
        who = {"kind": "user", "id": str(membership.user_id), "name": membership.user.name}
        who["username"] = membership.user.username
    elif membership.visitor_id is not None:
        who = {"kind": "visitor", "id": str(membership.visitor_id)}
        who["name"] = membership.visitor.display_name
    else:
        who = {"kind": "bot", "id": f"bot-{membership.bot_id}", "name": membership.bot.name}
    row = {**who, "role": membership.role}
    if with_history:
        row.update(joined_at=_iso(membership.joined_at), left_at=_iso(membership.left_at))
    return row


def _who(user: User) -> dict[str, Any]:
    return {"id": str(user.pk), "username": user.username, "name": user.name}


def member_archive(membership: Membership) -> Archive:
    """One conversation as `membership`'s member sees it (an active membership)."""
    conversation = membership.conversation
    title = title_for(conversation, membership.user)
    members = (
        Membership.objects.filter(conversation=conversation, left_at__isnull=True)
        .select_related("user", "visitor", "bot")
        .order_by("joined_at", "pk")
    )
    return Archive(
        title=title,
        description=f"The conversation as {membership.user.name} sees it.",
        about={"kind": "conversation", "exported_for": _who(membership.user)},
        documents={"conversation.json": {"conversation": _conversation(conversation, title)}},
        members=(_member(m, with_history=False) for m in members.iterator(2000)),
        messages=MessageSet(selectors.visible_messages(membership)),
    )


def conversation_archive(conversation: Conversation) -> Archive:
    """A whole conversation, for staff: every message and member, and its other events."""
    members = (
        Membership.objects.filter(conversation=conversation)
        .select_related("user", "visitor", "bot")
        .order_by("joined_at", "pk")
    )
    title = str(conversation)
    return Archive(
        title=title,
        description="The whole conversation, exported by staff.",
        about={"kind": "conversation_admin"},
        documents={
            "conversation.json": {"conversation": _conversation(conversation, conversation.title)}
        },
        members=(_member(m, with_history=True) for m in members.iterator(2000)),
        messages=MessageSet(Message.objects.filter(conversation=conversation)),
        events=ConversationEvent.objects.filter(conversation=conversation),
    )


def user_archive(user: User) -> Archive:
    """Everything Parley holds about one person that is theirs, for staff: the account, its
    tokens (names and dates, never secrets), memberships, and every message they sent."""
    from allauth.account.models import EmailAddress

    account = {
        **_who(user),
        "email": user.email,
        "display_name": user.display_name,
        "about": user.about,
        "has_avatar": bool(user.avatar),
        "show_last_seen": user.show_last_seen,
        "last_seen": _iso(user.last_seen),
        "last_login": _iso(user.last_login),
        "date_joined": _iso(user.date_joined),
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "email_addresses": [
            {"email": e.email, "verified": e.verified, "primary": e.primary}
            for e in EmailAddress.objects.filter(user=user).order_by("pk")
        ],
        "api_tokens": [
            {
                "name": t.name,
                "created_at": _iso(t.created_at),
                "expires_at": _iso(t.expires_at),
                "last_used_at": _iso(t.last_used_at),
            }
            for t in ApiToken.objects.filter(user=user).order_by("pk")
        ],
    }
    memberships = [
        {
            "conversation": _conversation(m.conversation, title_for(m.conversation, user)),
            "role": m.role,
            "joined_at": _iso(m.joined_at),
            "left_at": _iso(m.left_at),
            "muted": m.muted,
        }
        for m in Membership.objects.filter(user=user)
        .select_related("conversation")
        .order_by("pk")
        .iterator(2000)
    ]
    return Archive(
        title=f"Data of {user.name}",
        description=f"The account, conversations and messages of {user.name} "
        f"(@{user.username}), exported by staff.",
        about={"kind": "user", "subject": _who(user)},
        documents={"account.json": account, "memberships.json": memberships},
        messages=MessageSet(Message.objects.filter(sender__user=user), key="pk"),
        many_conversations=True,
    )
