"""Reads of what a conversation's view shows besides its messages: the lines of its
timeline ("Carol joined", "Alice renamed the group") and its pinned messages, each with
the permission filter of `selectors` built in (callers pass a membership from
`selectors.membership_for`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

from parley.chat import events as ev
from parley.chat.models import ConversationEvent, HiddenMessage, Membership, PinnedMessage

# The durable events shown as lines between the messages.
TIMELINE_TYPES = (
    "member.joined",
    "member.left",
    "member.updated",
    "conversation.updated",
    "message.pinned",
    "message.unpinned",
)


def timeline_events(
    membership: Membership, *, above: int, below: int | None = None
) -> list[dict[str, Any]]:
    """The timeline events with `above < seq < below`, oldest first, as their frames: those
    this member may see (after their latest join and their history floor, as a resume
    replays them)."""
    joined = Membership.objects.filter(pk=membership.pk).values("joined_seq")
    floor = max(above, membership.cleared_through_seq)
    events = ConversationEvent.objects.filter(
        conversation_id=membership.conversation_id, type__in=TIMELINE_TYPES, seq__gt=floor
    ).filter(seq__gt=joined)
    if below is not None:
        events = events.filter(seq__lt=below)
    return [
        ev.conversation_event(e).model_dump(mode="json", exclude_none=True)
        for e in events.order_by("seq")[:1000]
    ]


def page_bounds(
    *, before: int | None, after: int | None, seqs: list[int], has_more: bool
) -> tuple[int, int | None]:
    """The seq range (exclusive) whose timeline events go with a page of history: the
    pages of a conversation split its events between them, none twice, none left out.
    Newest first (`before`): from the page's oldest message (from the start when nothing
    lies beyond) up to `before`. Oldest first (`after`): from `after` up to the page's
    newest message (to the end when nothing lies beyond)."""
    if after is not None:
        return after, (max(seqs) + 1 if has_more and seqs else None)
    return (min(seqs) if has_more and seqs else 0), before


def page_events(
    membership: Membership,
    *,
    before: int | None,
    after: int | None,
    seqs: list[int],
    has_more: bool,
) -> list[dict[str, Any]]:
    """The timeline events that go with a page of history (`page_bounds`). Every durable
    event takes a seq of the conversation's one counter, so a range whose every seq is a
    message of the page holds no event: then nothing is read (the common page of a busy
    chat costs no query more)."""
    above, below = page_bounds(before=before, after=after, seqs=seqs, has_more=has_more)
    floor = max(above, membership.cleared_through_seq, membership.joined_seq)
    top = below if below is not None else max([membership.conversation.last_seq, *seqs]) + 1
    inside = sum(1 for seq in seqs if floor < seq < top)
    if inside >= top - floor - 1:
        return []
    return timeline_events(membership, above=above, below=below)


_PIN_RELATED = (
    "message__sender__user",
    "message__sender__visitor",
    "message__sender__bot",
    "pinned_by__user",
    "pinned_by__visitor",
    "pinned_by__bot",
)


def pin_of(membership: Membership, seq: int) -> PinnedMessage | None:
    """The pin of message `seq` (one this member just pinned: they see it, even if they
    deleted it for themselves), or None."""
    return (
        PinnedMessage.objects.filter(conversation_id=membership.conversation_id, message__seq=seq)
        .select_related(*_PIN_RELATED)
        .first()
    )


def pins(membership: Membership) -> list[PinnedMessage]:
    """The conversation's pins whose message this member sees (above their history floor,
    not deleted for everyone, not deleted for them), the newest pin first, each with its
    message and who pinned it."""
    hidden = HiddenMessage.objects.filter(membership=membership, message=OuterRef("message_id"))
    return list(
        PinnedMessage.objects.filter(conversation_id=membership.conversation_id)
        .filter(
            Q(message__seq__gt=membership.cleared_through_seq), message__deleted_at__isnull=True
        )
        .exclude(Exists(hidden))
        .select_related(*_PIN_RELATED)
        .order_by("-seq")
    )


def pin_data(pin: PinnedMessage) -> dict[str, Any]:
    """A pin as the API shows it (`PinSerializer`)."""
    return {
        "message_seq": pin.message.seq,
        "seq": pin.seq,
        "by": ev.member_sender(pin.pinned_by).model_dump(mode="json"),
        "pinned_at": pin.created_at.isoformat(),
        "message": ev.message_out(pin.message).model_dump(mode="json"),
    }
