"""What opens a visitor's conversation again without the team: the visitor writing to a
resolved one, or to one snoozed until they write; the time of a timed snooze passing.

Both go through `change` (parley/support/services/changes.py), so each reopening is
a `support.updated` event of the conversation, live for the team and replayed on resume.
docs/widget.md, "Visitors' conversations"."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from parley.jobs.runner import job
from parley.support.models import SupportConversation
from parley.support.services.changes import change, wakes_on_visitor_message

Status = SupportConversation.Status


# --- the visitor writes -----------------------------------------------------------------------


def conversations_wake_on_visitor(*, conversation_ids: Iterable[int]) -> list[int]:
    """Visitors wrote in these conversations: each one resolved, or snoozed until they
    write, opens again. Returns the ids opened. Called for every visitor message stored,
    whichever way it came (HTTP, the visitors' websocket, another process's writer:
    parley/support/reactions.py); a conversation that is open costs one read."""
    asleep = SupportConversation.objects.filter(pk__in=list(conversation_ids)).filter(
        Q(status=Status.RESOLVED) | Q(status=Status.SNOOZED, snoozed_until__isnull=True)
    )
    opened = []
    for pk in asleep.values_list("pk", flat=True):
        with transaction.atomic():
            locked = SupportConversation.objects.select_for_update().filter(pk=pk).first()
            if locked is not None and wakes_on_visitor_message(locked):
                change(locked, status=Status.OPEN, snoozed_until=None)
                opened.append(pk)
    return opened


# --- a timed snooze ends ----------------------------------------------------------------------


def snooze_schedule(support: SupportConversation) -> None:
    """Snoozed until a time: a job opens it then. Call inside the transaction that
    snoozes it (the job exists exactly when the snooze does)."""
    if support.status != Status.SNOOZED or support.snoozed_until is None:
        return
    snooze_end.using(run_after=support.snoozed_until).enqueue(
        support.pk, support.snoozed_until.isoformat()
    )


@job(attempts=5)
def snooze_end(conversation_id: int, until: str) -> bool:
    return snooze_expire(
        conversation_id=conversation_id, until=datetime.datetime.fromisoformat(until)
    )


def snooze_expire(*, conversation_id: int, until: datetime.datetime) -> bool:
    """The snooze until `until` is over (the job runs then): open the conversation if it
    is still snoozed until that time. A snooze changed since (reopened, resolved, snoozed
    again: that one has its own job) or a conversation deleted leaves this one nothing to
    do, so a run twice does nothing the second time. Returns whether it opened."""
    with transaction.atomic():
        locked = (
            SupportConversation.objects.select_for_update()
            .filter(pk=conversation_id, status=Status.SNOOZED, snoozed_until=until)
            .first()
        )
        if locked is None:
            return False
        change(locked, status=Status.OPEN, snoozed_until=None)
    return True
