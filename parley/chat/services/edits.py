"""Editing a message: its sender replaces the text; the texts it replaced are kept.

An edit is a durable conversation event (`message.edited`, a `ConversationEvent`), so a
client that was away replays it in order; it is not a message, so it changes neither
unread counts nor the order of the conversation list (`last_message_at` stays).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from parley.chat import errors
from parley.chat import events as ev
from parley.chat.models import Conversation, ConversationEvent, Membership, Message, MessageEdit
from parley.chat.services._streams import take_conversation_seq
from parley.chat.services.messages import _active, _checked_text, _message
from parley.events.sink import publish_on_commit


class _Unchanged(Exception):
    """The new text is the text it has: roll the seq back, announce nothing."""


def edit_time_limit() -> float | None:
    """Seconds after sending during which a message may be edited (None: no limit)."""
    limit = settings.PARLEY.get("EDIT_TIME_LIMIT")
    return None if limit is None else float(limit)


def message_edit(*, membership: Membership, seq: int, body: str) -> int | None:
    """Replace the text of the member's own message `seq` with `body`, keeping the text
    it replaced (`MessageEdit`). Returns the seq of the message.edited event, or None when
    the text is unchanged (nothing is stored or announced).

    Raises ConversationNotFound (not a member), MessageNotFound, NotAllowed (someone
    else's message), AlreadyDeleted, EditsDisabled (the group forbids edits),
    EditWindowClosed (older than PARLEY["EDIT_TIME_LIMIT"]), EmptyMessage, MessageTooLong.
    Locks the conversation row (its next seq) before reading what the checks depend on,
    so a removal, a deletion or a change of the group's setting that committed first is
    seen. Publishes message.edited.
    """
    text = _checked_text(membership, body)
    message = _message(membership, seq)
    if message.sender_id != membership.pk:
        raise errors.NotAllowed("Only its sender may edit a message.")
    try:
        with transaction.atomic():
            event_seq = take_conversation_seq(membership.conversation_id)
            now = timezone.now()
            current = _check(membership, message.pk, now)
            if current == text:
                raise _Unchanged()
            MessageEdit.objects.create(
                message_id=message.pk, seq=event_seq, previous_body=current, edited_at=now
            )
            Message.objects.filter(pk=message.pk).update(body=text, edited_at=now)
            event = ConversationEvent.objects.create(
                conversation_id=membership.conversation_id,
                seq=event_seq,
                type="message.edited",
                payload={"message_seq": seq, "body": text, "edited_at": now.isoformat()},
            )
            publish_on_commit(ev.conversation_event_out(event))
    except _Unchanged:
        return None
    return event_seq


def _check(membership: Membership, message_id: int, now: datetime.datetime) -> str:
    """What an edit depends on, read under the conversation's lock in one query: the
    member is still one, the message is not deleted, the group allows edits, the time
    limit. Returns the message's current text."""
    row = (
        Message.objects.filter(pk=message_id)
        .annotate(
            active=Exists(Membership.objects.filter(pk=membership.pk, left_at__isnull=True)),
            allowed=Subquery(
                Conversation.objects.filter(pk=OuterRef("conversation_id")).values("edits_allowed")
            ),
        )
        .values("body", "created_at", "deleted_at", "active", "allowed")
        .get()
    )
    if not row["active"]:
        raise errors.ConversationNotFound()
    if row["deleted_at"] is not None:
        raise errors.AlreadyDeleted()
    if not row["allowed"]:
        raise errors.EditsDisabled()
    limit = edit_time_limit()
    if limit is not None and (now - row["created_at"]).total_seconds() > limit:
        raise errors.EditWindowClosed(
            f"A message can be edited for {limit:g} seconds after it was sent.", limit=limit
        )
    return row["body"]  # type: ignore[no-any-return]


def message_edits(*, membership: Membership, seq: int) -> tuple[Message, list[MessageEdit]]:
    """A message this member can see and its edits, oldest first: each holds the text it
    replaced and when. Raises ConversationNotFound, MessageNotFound."""
    _active(membership)
    message = _message(membership, seq)
    return message, list(MessageEdit.objects.filter(message_id=message.pk).order_by("seq"))
