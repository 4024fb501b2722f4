"""Every read of the chat domain, with the permission filter built in.

Nothing here returns a conversation's content to someone who is not an active member:
callers get memberships through `membership_for`, which raises ConversationNotFound for
strangers and for conversations that do not exist alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from parley.accounts.models import User
from parley.chat import errors
from parley.chat import events as ev
from parley.chat.models import (
    Conversation,
    ConversationEvent,
    HiddenMessage,
    Membership,
    Message,
    UserEvent,
)
from parley.realtime.protocol import encode


def membership_for(user: User, conversation_id: int) -> Membership:
    """The active membership of `user` in a conversation, or ConversationNotFound."""
    membership = (
        Membership.objects.filter(user=user, conversation_id=conversation_id, left_at__isnull=True)
        .select_related("conversation", "user")
        .first()
    )
    if membership is None:
        raise errors.ConversationNotFound()
    return membership


def active_memberships(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, left_at__isnull=True)


def visible_messages(membership: Membership) -> QuerySet[Message]:
    """What this member may see: not hidden by them, not before their cleared history."""
    return (
        Message.objects.filter(
            conversation_id=membership.conversation_id, seq__gt=membership.cleared_through_seq
        )
        .exclude(pk__in=HiddenMessage.objects.filter(membership=membership).values("message_id"))
        .select_related("sender__user", "sender__visitor")
    )


def messages_page(
    membership: Membership,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> list[Message]:
    """A page of history by seq (keyset: no OFFSET). With `after`, the oldest first after
    that seq; otherwise the newest first, before `before` if given."""
    limit = max(1, min(limit, 200))
    qs = visible_messages(membership)
    if after is not None:
        return list(qs.filter(seq__gt=after).order_by("seq")[:limit])
    if before is not None:
        qs = qs.filter(seq__lt=before)
    return list(qs.order_by("-seq")[:limit])


def unread_count(membership: Membership) -> int:
    floor = max(membership.last_read_seq, membership.cleared_through_seq)
    return (
        Message.objects.filter(
            conversation_id=membership.conversation_id, seq__gt=floor, deleted_at__isnull=True
        )
        .exclude(sender=membership)
        .count()
    )


@dataclass(frozen=True)
class ConversationRow:
    membership: Membership
    conversation: Conversation
    title: str
    unread: int
    last_message: Message | None
    other_user: User | None  # the other person of a direct chat


def conversation_list(user: User) -> list[ConversationRow]:
    """The user's conversations, most recent activity first, in a fixed number of queries."""
    last_message = Message.objects.filter(conversation=OuterRef("conversation_id")).order_by("-seq")
    unread = (
        Message.objects.filter(
            conversation=OuterRef("conversation_id"),
            seq__gt=OuterRef("read_floor"),
            deleted_at__isnull=True,
        )
        .exclude(sender=OuterRef("pk"))
        .order_by()
        .values("conversation")
        .annotate(n=Count("*"))
        .values("n")
    )
    memberships = list(
        active_memberships(user)
        .select_related("conversation")
        .annotate(
            read_floor=Greatest("last_read_seq", "cleared_through_seq"),
            last_message_id=Subquery(last_message.values("pk")[:1]),
            unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
        )
        .order_by("-conversation__last_message_at", "-conversation__created_at")
    )
    message_ids = [m.last_message_id for m in memberships if m.last_message_id]  # type: ignore[attr-defined]
    messages = Message.objects.select_related("sender__user", "sender__visitor").in_bulk(
        message_ids
    )
    direct_ids = [m.conversation_id for m in memberships if m.conversation.is_direct]
    others = {
        m.conversation_id: m.user
        for m in Membership.objects.filter(conversation_id__in=direct_ids)
        .exclude(user=user)
        .select_related("user")
    }
    rows = []
    for m in memberships:
        message = messages.get(m.last_message_id)  # type: ignore[attr-defined]
        if message is not None and message.seq <= m.cleared_through_seq:
            message = None
        other = others.get(m.conversation_id)
        title = other.name if (m.conversation.is_direct and other) else m.conversation.title
        rows.append(
            ConversationRow(m, m.conversation, title, m.unread, message, other)  # type: ignore[attr-defined]
        )
    return rows


def public_rooms() -> QuerySet[Conversation]:
    return (
        Conversation.objects.filter(kind=Conversation.Kind.PUBLIC)
        .annotate(member_count=Count("members", distinct=True))
        .order_by("title")
    )


def events_after(membership: Membership, after: int, limit: int) -> list[tuple[int, str]]:
    """The durable events of a conversation after `after`, in order, as encoded frames,
    as this member may see them. At most `limit` of them."""
    messages = list(visible_messages(membership).filter(seq__gt=after).order_by("seq")[:limit])
    events = list(
        ConversationEvent.objects.filter(
            conversation_id=membership.conversation_id, seq__gt=after
        ).order_by("seq")[:limit]
    )
    out: list[tuple[int, str]] = [(m.seq, ev.message_created(m).text) for m in messages] + [
        (e.seq, encode(ev.conversation_event(e))) for e in events
    ]
    out.sort(key=lambda pair: pair[0])
    return out[:limit]


def user_events_after(user_id: int, after: int, limit: int) -> list[UserEvent]:
    return list(UserEvent.objects.filter(user_id=user_id, seq__gt=after).order_by("seq")[:limit])
