"""Auto-assignment: a widget's unassigned open conversations go, oldest first, to its
available team members in turn, each up to a limit of open conversations (docs/widget.md,
"Auto-assignment").

"Available" is what the widget's online state counts (parley/support/availability.py):
a team member (owner or agent) who has not set themselves away and has a socket open on
any server process. A conversation that finds nobody with room waits, unassigned, in the
queue; the queue moves when something can change it: a new conversation, a conversation
resolved, snoozed or unassigned, a team member setting themselves available, the owner
turning auto-assignment on or raising the limit.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Count, Q

from parley.accounts.models import User
from parley.chat import services as chat
from parley.common.outage import refusal
from parley.support import reactions
from parley.support.availability import available_team_online
from parley.support.models import SupportConversation, Widget
from parley.support.services.changes import change, last_seq

log = logging.getLogger(__name__)

QUEUE_BATCH = 200  # conversations assigned per run at most; the next trigger goes on


def _next(agents: list[int], after: int, load: dict[int, int], limit: int) -> int | None:
    """The first of `agents` (ids in order) after `after`, round the circle, with room."""
    ordered = [a for a in agents if a > after] + [a for a in agents if a <= after]
    return next((a for a in ordered if load.get(a, 0) < limit), None)


def assignment_run(*, widget_id: int) -> list[tuple[int, int]]:
    """Assign what waits in the widget's queue; returns (conversation, user id) pairs.

    Locks the widget's row (one run per widget at a time, so two processes never give
    one agent more than the limit), then each assigned conversation's support row and
    conversation. Publishes support.updated (and member.joined for a team member who was
    not in the conversation) for each assignment."""
    done: list[tuple[int, int]] = []
    with transaction.atomic():
        widget = Widget.objects.select_for_update().filter(pk=widget_id).first()
        if widget is None or not widget.auto_assign:
            return done
        agents = sorted(available_team_online(widget))
        if not agents:
            return done
        Status = SupportConversation.Status
        load = dict(
            SupportConversation.objects.filter(
                widget=widget, status=Status.OPEN, assignee_id__in=agents
            )
            .values_list("assignee_id")
            .annotate(n=Count("pk"))
        )
        queue = (
            SupportConversation.objects.filter(
                widget=widget, status=Status.OPEN, assignee__isnull=True
            )
            .select_related("conversation", "widget")
            .order_by("created_at", "pk")[:QUEUE_BATCH]
        )
        cursor = widget.assign_cursor
        people = {u.pk: u for u in _users(agents)}
        for support in queue:
            agent = _next(agents, cursor, load, widget.assign_limit)
            if agent is None:
                break
            locked = (
                SupportConversation.objects.select_for_update()
                .filter(Q(pk=support.pk), assignee__isnull=True, status=Status.OPEN)
                .first()
            )
            if locked is None:  # assigned or resolved meanwhile
                continue
            chat.support_team_join(conversation=support.conversation, user=people[agent])
            _assign_locked(locked, people[agent])
            load[agent] = load.get(agent, 0) + 1
            cursor = agent
            done.append((support.pk, agent))
        if cursor != widget.assign_cursor:
            widget.assign_cursor = cursor
            widget.save(update_fields=["assign_cursor"])
    return done


def _users(ids: list[int]):  # type: ignore[no-untyped-def]
    from parley.accounts.models import User

    return User.objects.filter(pk__in=ids)


def assignment_run_or_log(*, widget_id: int) -> None:
    """`assignment_run` after another change has been made: a failure is logged and the
    conversations wait for the next trigger; it never undoes or refuses that change."""
    try:
        assignment_run(widget_id=widget_id)
    except Exception as exc:
        if refusal(exc) is None:
            log.exception("auto-assignment failed for widget %s", widget_id)


def assignment_run_for_user(*, user_id: int) -> None:
    """A team member became available: the queues of their auto-assigning widgets."""
    ids = (
        Widget.objects.filter(
            Q(owner_id=user_id) | Q(agent_rows__user_id=user_id), auto_assign=True
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    for widget_id in ids:
        assignment_run_or_log(widget_id=widget_id)


def _assign_locked(support: SupportConversation, assignee: User) -> SupportConversation:
    """Assign a conversation whose row the caller has locked, and tell the assignee (by
    email if they do not see it) and the webhooks."""
    was = support.assignee_id
    changed = change(support, assignee=assignee)
    if was != assignee.pk:
        reactions.conversation_assigned(changed, seq=last_seq(changed), by_self=False)
    return changed
