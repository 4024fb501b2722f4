"""Follow-up emails of the support widget: a visitor's unread replies, and the team's
unread visitors (docs/widget.md, "Follow-up emails").

Each is a delayed job, enqueued when the message or the assignment is stored and run
`SUPPORT_FOLLOWUP_MINUTES` later. The job decides then, from what the database says at
that moment: the read cursors (a reply read meanwhile is no reason to write), a newer
message of the same kind (its own job tells, later and about both), the person's email
choices, and, for the team, whether they have a socket open (parley/common/connected.py).

Every job may run more than once (a retry, a killed worker's job run again,
docs/jobs.md). Each email it makes has a key of its own, the event it is about
(`support:followup:<conversation>:<seq>`, `support:notice:<conversation>:<user>:<seq>`),
and `email_enqueue` makes one email per key: a job run twice enqueues nothing the second
time, and the email itself is sent at most once (parley/jobs/mail.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone

from parley.accounts.models import User
from parley.chat.models import Membership, Message
from parley.common import connected
from parley.jobs.mail import email_enqueue
from parley.jobs.runner import job
from parley.support.models import AgentPreferences, SupportConversation

log = logging.getLogger("parley.support.followups")

QUOTED = 5  # messages quoted in one email; the rest are counted
QUOTE_LENGTH = 500  # characters of each


def _delay() -> timedelta:
    return timedelta(minutes=float(settings.PARLEY["SUPPORT_FOLLOWUP_MINUTES"]))


# --- scheduling: called when the event is stored --------------------------------------------


def followups_schedule_message(*, conversation_id: int, seq: int, from_visitor: bool) -> None:
    """A message was stored in a visitor's conversation: the team is told about a
    visitor's message, the visitor about the team's, if still unread in N minutes."""
    task = agents_notify_message if from_visitor else visitor_notify_reply
    task.using(run_after=timezone.now() + _delay()).enqueue(conversation_id, seq)


def followups_schedule_assigned(*, conversation_id: int, user_id: int, seq: int) -> None:
    """The conversation was assigned to `user_id` by its event `seq`."""
    agent_notify_assigned.using(run_after=timezone.now() + _delay()).enqueue(
        conversation_id, user_id, seq
    )


# --- the jobs -------------------------------------------------------------------------------


@job(attempts=5)
def visitor_notify_reply(conversation_id: int, seq: int) -> str:
    return visitor_reply_notice(conversation_id=conversation_id, seq=seq)


@job(attempts=5)
def agents_notify_message(conversation_id: int, seq: int) -> str:
    return agents_message_notice(conversation_id=conversation_id, seq=seq)


@job(attempts=5)
def agent_notify_assigned(conversation_id: int, user_id: int, seq: int) -> str:
    return agent_assigned_notice(conversation_id=conversation_id, user_id=user_id, seq=seq)


def _team_messages(conversation_id: int) -> Q:
    return Q(conversation_id=conversation_id, deleted_at__isnull=True, sender__visitor__isnull=True)


def _visitor_messages(conversation_id: int) -> Q:
    return Q(
        conversation_id=conversation_id, deleted_at__isnull=True, sender__visitor__isnull=False
    )


def visitor_reply_notice(*, conversation_id: int, seq: int) -> str:
    """Email the visitor the team's replies they have not read, if the reply at `seq` is
    still unread, is the team's latest, and the visitor left an address. Returns what
    was decided (for the logs and the tests)."""
    support = (
        SupportConversation.objects.select_related("widget", "visitor")
        .filter(pk=conversation_id)
        .first()
    )
    if support is None:
        return "gone"
    if not support.email:
        return "no_email"
    visitor = Membership.objects.filter(
        conversation_id=conversation_id, visitor_id=support.visitor_id
    ).first()
    if visitor is None:
        return "gone"
    if visitor.last_read_seq >= seq:
        return "read"
    replies = Message.objects.filter(_team_messages(conversation_id))
    if replies.filter(seq__gt=seq).exists():
        return "superseded"  # the newest reply's own job writes, about this one too
    unread = list(
        replies.filter(seq__gt=visitor.last_read_seq, seq__lte=seq)
        .select_related("sender__user")
        .order_by("seq")
    )
    if not unread:
        return "nothing"  # deleted meanwhile
    widget = support.widget
    lines = [f"Hello {support.visitor.display_name},", "", f"{widget.title}: you have a reply."]
    lines += _quotes(unread)
    if support.page_url:
        lines += ["", f"Continue the conversation where you left it: {support.page_url}"]
    lines += [
        "",
        "Replying to this email does not reach us: please answer in the chat on our site.",
    ]
    email_enqueue(
        message=EmailMessage(
            subject=f"{widget.title}: you have a reply",
            body="\n".join(lines),
            to=[support.email],
        ),
        key=f"support:followup:{conversation_id}:{seq}",
    )
    return "sent"


def agents_message_notice(*, conversation_id: int, seq: int) -> str:
    """Email the team about the visitor's message at `seq` (the first makes a new
    conversation) to those who have not read it and have no socket open: the assignee,
    or the whole team when nobody is assigned, each if they chose that email."""
    support = (
        SupportConversation.objects.select_related("widget").filter(pk=conversation_id).first()
    )
    if support is None:
        return "gone"
    messages = Message.objects.filter(_visitor_messages(conversation_id))
    if not messages.filter(seq=seq).exists():
        return "nothing"
    if messages.filter(seq__gt=seq).exists():
        return "superseded"
    first = not messages.filter(seq__lt=seq).exists()
    choice = "email_new_conversation" if first else "email_visitor_message"
    members = Membership.objects.filter(
        conversation_id=conversation_id, user__isnull=False, left_at__isnull=True
    ).select_related("user")
    if support.assignee_id is not None:
        members = members.filter(user_id=support.assignee_id)
    sent = 0
    for membership in _to_tell(list(members), seq=seq, choice=choice):
        unread = list(
            messages.filter(seq__gt=membership.last_read_seq, seq__lte=seq)
            .select_related("sender__visitor")
            .order_by("seq")
        )
        what = "New conversation" if first else "New message"
        lines = [f"{what} on {support.widget.name}, not read yet:"]
        lines += _quotes(unread)
        lines += ["", f"Answer it in Parley: {conversation_url(conversation_id)}"]
        _tell(membership.user, f"{what} from {_visitor_name(unread)}", lines, conversation_id, seq)
        sent += 1
    return f"sent {sent}"


def agent_assigned_notice(*, conversation_id: int, user_id: int, seq: int) -> str:
    """Email `user_id` that the conversation was assigned to them (by event `seq`), if it
    still is, they have not read the conversation since, have no socket open and chose
    that email."""
    support = (
        SupportConversation.objects.select_related("widget").filter(pk=conversation_id).first()
    )
    if support is None:
        return "gone"
    if support.assignee_id != user_id:
        return "reassigned"
    members = Membership.objects.filter(
        conversation_id=conversation_id, user_id=user_id, left_at__isnull=True
    ).select_related("user")
    told = _to_tell(list(members), seq=seq, choice="email_assigned")
    if not told:
        return "sent 0"
    lines = [
        f"A conversation on {support.widget.name} was assigned to you.",
        "",
        f"Open it in Parley: {conversation_url(conversation_id)}",
    ]
    _tell(told[0].user, "A conversation was assigned to you", lines, conversation_id, seq)
    return "sent 1"


# --- helpers --------------------------------------------------------------------------------


def _to_tell(members: list[Membership], *, seq: int, choice: str) -> list[Membership]:
    """Those of `members` who have not read up to `seq`, want `choice` and have no socket
    open now."""
    unread = [m for m in members if m.last_read_seq < seq]
    if not unread:
        return []
    declined = set(
        AgentPreferences.objects.filter(
            user__in=[m.user_id for m in unread], **{choice: False}
        ).values_list("user", flat=True)
    )
    wanting = [m for m in unread if m.user_id not in declined]
    online = connected.users_connected([m.user_id for m in wanting])
    return [m for m in wanting if m.user_id not in online]


def _tell(user: User, subject: str, lines: list[str], conversation_id: int, seq: int) -> None:
    email_enqueue(
        message=EmailMessage(subject=subject, body="\n".join(lines), to=[user.email]),
        key=f"support:notice:{conversation_id}:{user.pk}:{seq}",
    )


def _quotes(messages: list[Message]) -> list[str]:
    lines: list[str] = []
    for message in messages[-QUOTED:]:
        sender = message.sender
        name = sender.user.name if sender.user_id else sender.visitor.display_name
        body = (
            message.body if len(message.body) <= QUOTE_LENGTH else message.body[:QUOTE_LENGTH] + "…"
        )
        lines += ["", f"{name}:", *(f"> {line}" for line in body.splitlines())]
    if len(messages) > QUOTED:
        lines += ["", f"(and {len(messages) - QUOTED} earlier messages)"]
    return lines


def _visitor_name(messages: list[Message]) -> str:
    return messages[-1].sender.visitor.display_name if messages else "a visitor"


def conversation_url(conversation_id: int) -> str:
    """Where a team member opens the conversation in the web UI."""
    return f"{settings.PARLEY['SITE_URL'].rstrip('/')}/c/{conversation_id}/"
