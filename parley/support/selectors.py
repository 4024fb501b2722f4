"""Reading support widgets, with the team filter built in: a widget is visible to its
owner and its agents, and to nobody else (not even whether it exists)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from parley.accounts.models import User
from parley.chat.models import Message
from parley.support import errors
from parley.support.models import SupportConversation, Widget

MAX_ID = 2**62


def widgets_of(user: User) -> QuerySet[Widget]:
    """The widgets `user` owns or answers for."""
    return (
        Widget.objects.filter(Q(owner=user) | Q(agent_rows__user=user))
        .distinct()
        .select_related("owner")
        .prefetch_related("agents")
    )


def widget_for(user: User, widget_id: int) -> Widget:
    """One of `user`'s widgets, or WidgetNotFound."""
    if not 0 < widget_id <= MAX_ID:
        raise errors.WidgetNotFound()
    widget = widgets_of(user).filter(pk=widget_id).first()
    if widget is None:
        raise errors.WidgetNotFound()
    return widget


def team_of(widget: Widget) -> list[User]:
    """Who answers the widget's visitors: the owner, then the agents."""
    return [widget.owner, *widget.agents.exclude(pk=widget.owner_id).order_by("pk")]


def widget_by_key(public_key: str) -> Widget | None:
    """The widget an embed tag names, for visitors: no team filter (the key is public)."""
    if not 0 < len(public_key) <= 40:
        return None
    return Widget.objects.filter(public_key=public_key).first()


# A message of the team after the visitor asked for a person: they are not waiting any more.
_team_after_handoff = Message.objects.filter(
    conversation_id=OuterRef("pk"), seq__gt=OuterRef("handoff_seq"), sender__user__isnull=False
)


def waiting_for_agent(support: SupportConversation) -> bool:
    """The visitor asked for a person and nobody of the team has written since (rows of
    `inbox` know it without a query)."""
    if support.handoff_seq <= support.bot_since_seq:
        return False
    answered = getattr(support, "team_answered_handoff", None)
    if answered is None:
        answered = Message.objects.filter(
            conversation_id=support.pk, seq__gt=support.handoff_seq, sender__user__isnull=False
        ).exists()
    return not answered


def inbox(
    user: User,
    *,
    status: str | None = None,
    widget_id: int | None = None,
    assignee: int | str | None = None,
) -> QuerySet[SupportConversation]:
    """The support conversations of `user`'s widgets, newest activity first. `assignee`
    is a user id, "me", or "none" (unassigned)."""
    rows = (
        SupportConversation.objects.filter(widget__in=widgets_of(user))
        .select_related("conversation", "visitor", "assignee", "widget", "rating")
        .annotate(team_answered_handoff=Exists(_team_after_handoff))
    )
    if status:
        rows = rows.filter(status=status)
    if widget_id is not None:
        rows = rows.filter(widget_id=widget_id)
    if assignee == "none":
        rows = rows.filter(assignee__isnull=True)
    elif assignee == "me":
        rows = rows.filter(assignee=user)
    elif assignee is not None:
        rows = rows.filter(assignee_id=assignee)
    return rows.order_by("-conversation__last_message_at", "-pk")


def support_for(user: User, conversation_id: int) -> SupportConversation:
    """A support conversation of one of `user`'s widgets, or SupportConversationNotFound."""
    if not 0 < conversation_id <= MAX_ID:
        raise errors.SupportConversationNotFound()
    found = inbox(user).filter(pk=conversation_id).first()
    if found is None:
        raise errors.SupportConversationNotFound()
    return found
