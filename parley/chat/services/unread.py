"""Marking a conversation unread from a message on, for me only, on all my devices.

My read cursor (`Membership.last_read_seq`) is what my unread count, the client's "New
messages" divider and my devices go by; it moves back. What the others were told of my
reading does not: `shown_read_seq` keeps the highest cursor they saw, and the API shows
them the greater of the two, so their "read by" never goes back (as in WhatsApp, marking
a chat unread is private). Reading it again moves the cursor forward as usual
(`receipt_mark`).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.functions import Greatest

from parley.chat import errors
from parley.chat import events as ev
from parley.chat.models import Membership, Message
from parley.chat.services._streams import record_user_event
from parley.events.sink import publish_on_commit


def conversation_mark_unread(*, membership: Membership, seq: int) -> tuple[int, int]:
    """Show the conversation as unread to me from message `seq` on: my read cursor becomes
    `seq - 1` if it was past that. Returns (read_seq, unread). Raises ConversationNotFound
    (not a member, or removed), MessageNotFound (not a message I see). Publishes
    unread.marked to my user stream (durable: every device of mine, also on resume)."""
    from parley.chat.selectors import unread_count

    if membership.user_id is None:
        raise errors.NotAllowed("Only people with an account mark conversations unread.")
    with transaction.atomic():
        current = (
            Membership.objects.select_for_update()
            .filter(pk=membership.pk, left_at__isnull=True)
            .only("pk", "last_read_seq", "shown_read_seq", "cleared_through_seq")
            .first()
        )
        if current is None:
            raise errors.ConversationNotFound()
        visible = Message.objects.filter(
            conversation_id=membership.conversation_id,
            seq=seq,
            seq__gt=current.cleared_through_seq,
        ).exists()
        if not visible:
            raise errors.MessageNotFound()
        read_seq = min(current.last_read_seq, seq - 1)
        Membership.objects.filter(pk=membership.pk).update(
            last_read_seq=read_seq,
            shown_read_seq=Greatest("shown_read_seq", "last_read_seq"),
        )
        membership.last_read_seq = read_seq
        membership.cleared_through_seq = current.cleared_through_seq
        unread = unread_count(membership)
        payload = {
            "conversation": membership.conversation_id,
            "read_seq": read_seq,
            "unread": unread,
        }
        user_event = record_user_event(membership.user_id, "unread.marked", payload)
        publish_on_commit(
            ev.user_event_out(
                membership.user_id,
                "unread.marked",
                user_event.seq,
                payload,
                conversation=membership.conversation_id,
            )
        )
    return read_seq, unread
