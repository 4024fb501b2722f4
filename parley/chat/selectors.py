"""Every read of the chat domain, with the permission filter built in.

Nothing here returns a conversation's content to someone who is not an active member:
callers get memberships through `membership_for`, which raises ConversationNotFound for
strangers and for conversations that do not exist alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Greatest

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
from parley.events.protocol import encode


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
        .select_related("sender__user", "sender__visitor", "sender__bot")
    )


def visible_messages_of_user(user: User) -> QuerySet[Message]:
    """`visible_messages` over every conversation `user` is an active member of: the same
    rule (above their history floor, not hidden by them), as one query whatever the number
    of conversations (search across all of mine, parley/chat/search.py). A conversation
    they left or were removed from shows nothing."""
    mine = Membership.objects.filter(
        user=user,
        left_at__isnull=True,
        conversation_id=OuterRef("conversation_id"),
        cleared_through_seq__lt=OuterRef("seq"),
    )
    hidden = HiddenMessage.objects.filter(membership__user=user, message=OuterRef("pk"))
    return Message.objects.filter(Exists(mine)).exclude(Exists(hidden))


def unread_cap() -> int:
    """The most unread messages counted per conversation: a count equal to it means that
    many or more (PARLEY["UNREAD_CAP"])."""
    return max(1, int(settings.PARLEY["UNREAD_CAP"]))


class _CountOf(Subquery):
    """COUNT(*) of a queryset's rows as a (correlated) scalar subquery. Sliced, the rows are
    read only up to its LIMIT: the count of a LIMIT n subquery costs at most n rows."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"

    def __init__(self, queryset: QuerySet[Message]) -> None:
        super().__init__(queryset, output_field=IntegerField())


def unread_count(membership: Membership) -> int:
    """Other people's messages above my read cursor, not deleted, not hidden for me: at most
    `unread_cap()` of them (reading a million unread rows to show "999+" is not worth it)."""
    floor = max(membership.last_read_seq, membership.cleared_through_seq)
    return (
        Message.objects.filter(
            conversation_id=membership.conversation_id, seq__gt=floor, deleted_at__isnull=True
        )
        .exclude(sender=membership)
        .exclude(pk__in=HiddenMessage.objects.filter(membership=membership).values("message_id"))
        .order_by("seq")
        .values("pk")[: unread_cap()]
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
    # The last message this member may see: not cleared, not deleted for them only.
    last_message = (
        Message.objects.filter(
            conversation=OuterRef("conversation_id"), seq__gt=OuterRef("cleared_through_seq")
        )
        .filter(
            ~Exists(
                HiddenMessage.objects.filter(
                    membership=OuterRef(OuterRef("pk")), message=OuterRef("pk")
                )
            )
        )
        .order_by("-seq")
    )
    # What `unread_count` counts, up to the cap: a LIMIT subquery, counted. Ordered by seq
    # so that PostgreSQL walks the (conversation_id, seq) index from the read floor up,
    # not every message of the conversation (without it, it read all 200,000 of a room
    # to count 5 unread: the floor is a per-row parameter it cannot estimate).
    unread = (
        Message.objects.filter(
            conversation=OuterRef("conversation_id"),
            seq__gt=OuterRef("read_floor"),
            deleted_at__isnull=True,
        )
        .exclude(sender=OuterRef("pk"))
        .exclude(
            pk__in=HiddenMessage.objects.filter(membership=OuterRef(OuterRef("pk"))).values(
                "message_id"
            )
        )
        .order_by("seq")
        .values("pk")[: unread_cap()]
    )
    memberships = list(
        active_memberships(user)
        .select_related("conversation")
        .annotate(
            read_floor=Greatest("last_read_seq", "cleared_through_seq"),
            last_message_id=Subquery(last_message.values("pk")[:1]),
            unread=_CountOf(unread),
        )
        .order_by("-conversation__last_message_at", "-conversation__created_at")
    )
    message_ids = [m.last_message_id for m in memberships if m.last_message_id]  # type: ignore[attr-defined]
    messages = Message.objects.select_related(
        "sender__user", "sender__visitor", "sender__bot"
    ).in_bulk(message_ids)
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


def events_after(membership: Membership, after: int, limit: int) -> list[tuple[int, str]]:
    """The durable events of a conversation after `after`, in order, as encoded frames,
    as this member may see them: messages above their history floor, other events since
    they joined. At most `limit` of them."""
    messages = list(visible_messages(membership).filter(seq__gt=after).order_by("seq")[:limit])
    # Events from before their latest join happened while they were not a member (for a
    # rejoin: while they were out). Nobody needs them: what they changed is in the
    # conversation's current state. The same subquery reads the join for every caller,
    # also for a socket's partial membership, which does not carry `joined_seq`.
    joined = Membership.objects.filter(pk=membership.pk).values("joined_seq")
    events = list(
        ConversationEvent.objects.filter(conversation_id=membership.conversation_id, seq__gt=after)
        .filter(seq__gt=Subquery(joined))
        .order_by("seq")[:limit]
    )
    out: list[tuple[int, str]] = [(m.seq, ev.message_created(m).text) for m in messages] + [
        (e.seq, encode(ev.conversation_event(e))) for e in events
    ]
    out.sort(key=lambda pair: pair[0])
    return out[:limit]


def user_events_after(user_id: int, after: int, limit: int) -> list[UserEvent]:
    return list(UserEvent.objects.filter(user_id=user_id, seq__gt=after).order_by("seq")[:limit])


# --- Reads for the REST API (parley/api/v1/) ----------------------------------------------


def user_by_id(user_id: int) -> User:
    """An active user with a confirmed address by primary key, or UserNotFound."""
    user = User.objects.verified().filter(pk=user_id).first() if 0 < user_id < 2**62 else None
    if user is None:
        raise errors.UserNotFound("No such user.")
    return user


def users_by_logins(logins: list[str]) -> list[User]:
    """The active users with a confirmed address and these emails or usernames
    (case-insensitive), in one query.

    Raises UserNotFound naming the first login that matches nobody."""
    wanted = [login.strip() for login in logins if login.strip()]
    if not wanted:
        return []
    match = Q()
    for login in wanted:
        match |= Q(email__iexact=login) | Q(username__iexact=login)
    found = list(User.objects.verified().filter(match).order_by("pk"))
    by_login: dict[str, User] = {}
    for user in reversed(found):  # the lowest pk wins, as in the services
        by_login[user.email.lower()] = user
        by_login[user.username.lower()] = user
    users: dict[int, User] = {}
    for login in wanted:
        user = by_login.get(login.lower())
        if user is None:
            raise errors.UserNotFound(login=login[:254])
        users[user.pk] = user
    return list(users.values())


def last_visible_message(membership: Membership) -> Message | None:
    return visible_messages(membership).order_by("-seq").first()


def conversation_row(membership: Membership) -> ConversationRow:
    """One conversation as `conversation_list` shows it to this member."""
    conversation = membership.conversation
    other = None
    if conversation.is_direct:
        other = (
            User.objects.filter(memberships__conversation_id=conversation.pk)
            .exclude(pk=membership.user_id)
            .first()
        )
    title = other.name if other is not None else conversation.title
    return ConversationRow(
        membership,
        conversation,
        title,
        unread_count(membership),
        last_visible_message(membership),
        other,
    )


def active_members(conversation_id: int) -> list[Membership]:
    """The active members of a conversation with their user or visitor, oldest first.

    Callers check that the reader is a member (`membership_for`) first."""
    return list(
        Membership.objects.filter(conversation_id=conversation_id, left_at__isnull=True)
        .select_related("user", "visitor", "bot")
        .order_by("joined_at", "pk")
    )


def active_member(conversation_id: int, user_id: int) -> Membership:
    """The active membership of user `user_id`, or UserNotFound."""
    membership = (
        Membership.objects.filter(
            conversation_id=conversation_id, user_id=user_id, left_at__isnull=True
        )
        .select_related("user", "visitor", "bot")
        .first()
    )
    if membership is None:
        raise errors.UserNotFound("That person is not a member of this conversation.")
    return membership


def public_room(slug: str) -> Conversation:
    """A public room by slug, or ConversationNotFound."""
    room = Conversation.objects.filter(kind=Conversation.Kind.PUBLIC, slug=slug).first()
    if room is None:
        raise errors.ConversationNotFound()
    return room


def public_room_directory(user: User) -> list[Conversation]:
    """Every public room, by title, with `member_count` (active members) and whether `user`
    is in it (`joined`), in one query."""
    mine = Membership.objects.filter(conversation=OuterRef("pk"), user=user, left_at__isnull=True)
    return list(
        Conversation.objects.filter(kind=Conversation.Kind.PUBLIC)
        .annotate(
            member_count=Count("members", filter=Q(members__left_at__isnull=True)),
            joined=Exists(mine),
        )
        .order_by("title", "pk")
    )


# (seq, client_id, body, created_at, deleted_at, sender_id, edited_at, attachments): a
# message as a page row.
MessageRow = tuple[
    int, str, str, datetime, datetime | None, int, datetime | None, list[dict[str, Any]] | None
]


def message_rows_window(
    membership: Membership,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> tuple[list[MessageRow], bool]:
    """A page of history by seq (keyset: no OFFSET) and whether more lie beyond it (one
    extra row is read, never a COUNT). With `after`, the oldest first after that seq;
    otherwise the newest first, before `before` if given. Plain rows (seq, client_id,
    body, created_at, deleted_at, sender membership id, edited_at, attachments), without a
    model instance per message and sender: what a REST history page is built from (its
    senders come from `senders_by_id`)."""
    limit = max(1, min(limit, 200))
    qs = visible_messages(membership)
    if after is not None:
        qs = qs.filter(seq__gt=after).order_by("seq")
    else:
        if before is not None:
            qs = qs.filter(seq__lt=before)
        qs = qs.order_by("-seq")
    rows = list(
        qs.values_list(
            "seq",
            "client_id",
            "body",
            "created_at",
            "deleted_at",
            "sender_id",
            "edited_at",
            "attachments",
        )[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


def senders_by_id(membership_ids: Iterable[int]) -> dict[int, Membership]:
    """Memberships with their user or visitor, by id, in one query (the senders of a page
    of messages, each read once however many messages it sent)."""
    ids = set(membership_ids)
    if not ids:
        return {}
    return Membership.objects.select_related("user", "visitor", "bot").in_bulk(ids)
