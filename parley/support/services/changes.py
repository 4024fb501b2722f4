"""A visitor's conversation changes status, assignee or handoff, and says so.

Every such change goes through `change`: it saves the fields that differ and records the
durable `support.updated` event of the conversation (the team and the visitor see it, a
resume replays it). The services that decide a change (conversations.py, waking.py,
assignment.py) call it; it decides nothing itself.
"""

from __future__ import annotations

import datetime

from parley.accounts.models import User
from parley.chat import events as ev
from parley.chat import services as chat
from parley.chat.models import Conversation
from parley.support.models import SupportConversation


def last_seq(support: SupportConversation) -> int:
    """The conversation's newest seq, read from the database."""
    return Conversation.objects.values_list("last_seq", flat=True).get(pk=support.pk)


def wakes_on_visitor_message(support: SupportConversation) -> bool:
    """A visitor's message opens it again: resolved, or snoozed until they write."""
    Status = SupportConversation.Status
    return support.status == Status.RESOLVED or (
        support.status == Status.SNOOZED and support.snoozed_until is None
    )


_UNSET = object()


def change(
    support: SupportConversation,
    *,
    status: str | object = _UNSET,
    snoozed_until: datetime.datetime | None | object = _UNSET,
    assignee: User | None | object = _UNSET,
    handoff_seq: int | object = _UNSET,
) -> SupportConversation:
    """Change status, assignee or handoff and announce it (support.updated, a durable
    event of the conversation: the team and the visitor see it, and a resume replays it)."""
    changed = []
    for name, value in (
        ("status", status),
        ("snoozed_until", snoozed_until),
        ("assignee", assignee),
        ("handoff_seq", handoff_seq),
    ):
        if value is not _UNSET and getattr(support, name) != value:
            setattr(support, name, value)
            changed.append(name)
    if not changed:
        return support
    support.save(update_fields=changed)
    chat.conversation_event_add(
        conversation_id=support.pk,
        type_="support.updated",
        payload={
            "status": support.status,
            "snoozed_until": support.snoozed_until.isoformat() if support.snoozed_until else None,
            "assignee": ev.user_sender(support.assignee).model_dump() if support.assignee else None,
            # Asked for a person and not answered by one yet: a team member's message after
            # this event ends the wait (docs/widget.md, "Handoff").
            "waiting": support.handoff_seq > support.bot_since_seq,
        },
    )
    return support
