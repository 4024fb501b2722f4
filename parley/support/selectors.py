"""Reading support widgets, with the team filter built in: a widget is visible to its
owner and its agents, and to nobody else (not even whether it exists)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from parley.accounts.models import User
from parley.support import errors
from parley.support.models import Widget

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


def widget_by_key(public_key: str) -> Widget | None:
    """The widget an embed tag names, for visitors: no team filter (the key is public)."""
    if not 0 < len(public_key) <= 40:
        return None
    return Widget.objects.filter(public_key=public_key).first()
