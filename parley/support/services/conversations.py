"""Visitors' conversations with a widget's team: the visitor's messages, status,
assignment and the team's private notes. The messages themselves go through the chat
services like every other message (parley/chat/services/messages.py)."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from parley.accounts.models import User
from parley.chat import services as chat
from parley.chat.models import Conversation, Membership, Message, Visitor
from parley.chat.text import clean_line, clean_text
from parley.common.errors import InvalidInput
from parley.support import errors, reactions
from parley.support.models import SupportConversation, SupportNote, Widget
from parley.support.selectors import team_of
from parley.support.services import waking
from parley.support.services.changes import change, last_seq

# --- visitors' conversations ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisitorContext:
    """What the widget tells the team about a visitor when they first write."""

    name: str = ""
    email: str = ""
    page_url: str = ""
    referrer: str = ""
    user_agent: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


def _start(
    widget: Widget, visitor: Visitor, context: VisitorContext, verified_id: str
) -> SupportConversation:
    conversation, _ = chat.support_conversation_create(
        title=visitor.display_name,
        visitor=visitor,
        owner=widget.owner,
        agents=list(widget.agents.all()),
    )
    support = SupportConversation.objects.create(
        conversation=conversation,
        widget=widget,
        visitor=visitor,
        email=context.email[:254],
        verified_id=verified_id[:128],
        page_url=context.page_url[:500],
        referrer=context.referrer[:500],
        user_agent=context.user_agent[:300],
        attributes=dict(context.attributes),
    )
    reactions.conversation_started(support)
    return support


def visitor_message_send(
    *,
    widget: Widget,
    visitor_id: uuid.UUID,
    body: str,
    client_id: str,
    context: VisitorContext | None = None,
    verified_id: str = "",
) -> tuple[Message, bool]:
    """A visitor's message to the widget's team: (the stored message, created?).

    The first one makes the visitor's conversation, in the same transaction: a visitor
    who never writes costs no row, and a first message that is refused (empty, too long)
    leaves none behind. A retry with the same `client_id` returns the stored message, as
    every send does. A resolved conversation, or one snoozed until the visitor writes,
    opens again once it is stored (waking.conversations_wake_on_visitor)."""
    context = context or VisitorContext()
    with transaction.atomic():
        visitor, _ = Visitor.objects.get_or_create(
            pk=visitor_id, defaults={"display_name": clean_line(context.name)[:80] or "Visitor"}
        )
        support = SupportConversation.objects.filter(widget=widget, visitor=visitor).first()
        if support is None:
            try:
                with transaction.atomic():
                    support = _start(widget, visitor, context, verified_id)
            except IntegrityError:  # the same visitor's first message from another tab
                support = SupportConversation.objects.get(widget=widget, visitor=visitor)
        membership = Membership.objects.select_related("visitor").get(
            conversation_id=support.pk, visitor=visitor, left_at__isnull=True
        )
        # A resolved or snoozed conversation opens again in waking.py, told of every
        # visitor message however it was sent (parley/support/reactions.py).
        message, created = chat.message_send(membership=membership, body=body, client_id=client_id)
    if created and support.assignee_id is None:
        _queue_moves(widget)  # a new or reopened conversation waits in the queue
    return message, created


ATTRIBUTES_MAX = 20  # custom key/values a site may attach to a visitor, all told


def visitor_details_update(
    *, widget: Widget, visitor_id: uuid.UUID, context: VisitorContext
) -> bool:
    """What the site or the pre-chat form says about a visitor after they wrote (the
    embed's `identify` and `setAttributes`): a name and an email replace the old ones when
    given, attributes are merged into theirs (a key with an empty value removes it).
    Returns whether there was a conversation to update: before the first message nothing
    is stored (the frame sends the details with that message). A new name retitles the
    conversation for the team (conversation.updated, a durable event).

    Raises InvalidInput when the merged attributes would exceed ATTRIBUTES_MAX keys."""
    with transaction.atomic():
        support = (
            SupportConversation.objects.select_for_update()
            .filter(widget=widget, visitor_id=visitor_id)
            .first()
        )
        if support is None:
            return False
        changed = []
        if context.email and context.email != support.email:
            support.email = context.email[:254]
            changed.append("email")
        if context.attributes:
            merged = {**support.attributes, **context.attributes}
            merged = {k: v for k, v in merged.items() if v != ""}
            if len(merged) > ATTRIBUTES_MAX:
                raise InvalidInput(
                    f"A visitor has at most {ATTRIBUTES_MAX} attributes.",
                    attributes=[f"At most {ATTRIBUTES_MAX} keys."],
                )
            if merged != support.attributes:
                support.attributes = merged
                changed.append("attributes")
        if changed:
            support.save(update_fields=changed)
        name = clean_line(context.name)[:80]
        if name:
            Visitor.objects.filter(pk=visitor_id).exclude(display_name=name).update(
                display_name=name
            )
            # The team knows the conversation by the visitor's name: it follows, live.
            chat.support_conversation_retitle(conversation_id=support.pk, title=name)
    return True


# --- what the team does ----------------------------------------------------------------------


def set_handoff(support: SupportConversation, seq: int) -> SupportConversation:
    """The visitor asked for a person at `seq` (the caller holds the row's lock)."""
    return change(support, handoff_seq=max(seq, support.bot_since_seq + 1))


def conversation_set_status(
    *,
    support: SupportConversation,
    status: str,
    snoozed_until: datetime.datetime | None = None,
) -> SupportConversation:
    """Open, resolve or snooze (until a time, or until the visitor writes when no time is
    given). The caller is on the widget's team (selectors.support_for)."""
    Status = SupportConversation.Status
    if status not in Status.values:
        raise InvalidInput("The status is open, resolved or snoozed.", status=[status])
    if status != Status.SNOOZED:
        snoozed_until = None
    elif snoozed_until is not None and snoozed_until <= timezone.now():
        raise InvalidInput("Snooze until a time in the future.", snoozed_until=["In the past."])
    with transaction.atomic():
        locked = SupportConversation.objects.select_for_update().get(pk=support.pk)
        was = locked.status
        if status == Status.RESOLVED and was != Status.RESOLVED:
            # What the visitor writes next is a new matter: the bot greets and answers
            # again until a team member writes, and nobody is waiting for a person.
            locked.bot_since_seq = (
                Conversation.objects.filter(pk=locked.pk).values_list("last_seq", flat=True).get()
            )
            locked.save(update_fields=["bot_since_seq"])
        changed = change(locked, status=status, snoozed_until=snoozed_until)
        waking.snooze_schedule(changed)
        if status == Status.RESOLVED and was != Status.RESOLVED:
            reactions.conversation_resolved(changed)
    _queue_moves(support.widget)
    return changed


def conversation_assign(
    *, support: SupportConversation, assignee: User | None, actor: User | None = None
) -> SupportConversation:
    """Give the conversation to one of the widget's team, or to nobody (then the
    widget's auto-assignment, when on, may give it to someone else at once). `actor`: who
    did it (none: Parley itself); someone who assigns it to themselves gets no email."""
    if assignee is not None and assignee not in team_of(support.widget):
        raise errors.NotOnTeam()
    with transaction.atomic():
        locked = SupportConversation.objects.select_for_update().get(pk=support.pk)
        if assignee is not None:
            # They answer it now: in it even if they joined the team after it was resolved.
            chat.support_team_join(conversation=locked.conversation, user=assignee)
        was = locked.assignee_id
        changed = change(locked, assignee=assignee)
        if assignee is not None and was != assignee.pk:
            by_self = actor is not None and actor.pk == assignee.pk
            reactions.conversation_assigned(changed, seq=last_seq(changed), by_self=by_self)
    _queue_moves(support.widget)
    return changed


def _queue_moves(widget: Widget) -> None:
    """Something that frees an agent or fills the queue happened: auto-assign."""
    if widget.auto_assign:
        from parley.support.services.assignment import assignment_run_or_log

        assignment_run_or_log(widget_id=widget.pk)


NOTE_MAX_LENGTH = 4000


def note_add(*, actor: User, support: SupportConversation, body: str) -> SupportNote:
    """A private note for the team; the visitor never sees it."""
    text = clean_text(body).strip()
    if not text:
        raise InvalidInput("A note needs some text.", body=["Required."])
    if len(text) > NOTE_MAX_LENGTH:
        raise InvalidInput(f"A note has at most {NOTE_MAX_LENGTH} characters.", body=["Too long."])
    return SupportNote.objects.create(support=support, author=actor, body=text)


def unassign(support: SupportConversation) -> SupportConversation:
    return change(support, assignee=None)


def conversations_delete(supports: QuerySet[SupportConversation]) -> int:
    """Delete these visitors' conversations with everything in them: the messages, the
    notes, the visitors. Each team member is told they left each one first (it leaves
    their lists at once). Returns how many went. A widget's deletion and the retention
    purge (`manage.py parley_support_purge`) both come here."""
    with transaction.atomic():
        ids = list(supports.values_list("pk", flat=True))
        conversations = list(Conversation.objects.filter(pk__in=ids).select_for_update())
        for conversation in conversations:
            for membership in Membership.objects.filter(
                conversation=conversation, user__isnull=False, left_at__isnull=True
            ).select_related("user"):
                chat.support_team_leave(conversation=conversation, user=membership.user)
        visitor_ids = list(
            SupportConversation.objects.filter(pk__in=ids).values_list("visitor_id", flat=True)
        )
        # Messages first: they hold on to their senders' memberships (PROTECT).
        Message.objects.filter(conversation_id__in=ids).delete()
        Conversation.objects.filter(pk__in=ids).delete()
        Visitor.objects.filter(pk__in=visitor_ids).delete()
    return len(ids)


def conversations_expired(days: int) -> QuerySet[SupportConversation]:
    """Visitors' conversations with no message for `days` days (none at all: since they
    began): what the retention period lets go."""
    cutoff = timezone.now() - datetime.timedelta(days=days)
    return SupportConversation.objects.annotate(
        last_activity=Coalesce("conversation__last_message_at", "created_at")
    ).filter(last_activity__lt=cutoff)
