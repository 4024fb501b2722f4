"""Every change to a support widget: create, change, delete, its agents, its secret.

The API and the admin call these and nothing else. Who may do what: the owner changes
everything; agents only see the widget (parley/support/selectors.py) and answer its
visitors.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import transaction

from parley.accounts.models import User
from parley.chat import services as chat
from parley.chat.models import Bot, Conversation
from parley.chat.text import clean_line, clean_text
from parley.common.errors import InvalidInput
from parley.common.origins import InvalidOrigin, normalize_origin
from parley.support import errors, hours
from parley.support.models import (
    SupportBot,
    SupportConversation,
    Widget,
    WidgetAgent,
    new_widget_secret,
)
from parley.support.services.conversations import conversations_delete, unassign

# Limits (docs/widget.md, "Limits").
WIDGETS_PER_OWNER = 20
AGENTS_PER_WIDGET = 50
ORIGINS_PER_WIDGET = 20
ASSIGN_LIMIT_MAX = 100  # open conversations per agent, for auto-assignment

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_TEXT_FIELDS = {
    "name": 80,
    "title": 80,
    "greeting": 280,
    "welcome_message": 1000,
    "offline_message": 500,
}
_CHOICES = {
    "position": Widget.Position.values,
    "ask_name": Widget.Field.values,
    "ask_email": Widget.Field.values,
}
EDITABLE = (
    *_TEXT_FIELDS,
    *_CHOICES,
    "allowed_origins",
    "accent_color",
    "require_identity",
    "ratings",
    "auto_assign",
    "assign_limit",
    "time_zone",
    "hours",
    "closed_dates",
)


def _clean_origins(value: Any, problems: dict[str, list[str]]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems["allowed_origins"] = ['A list of origins, e.g. ["https://www.example.com"].']
        return []
    if len(value) > ORIGINS_PER_WIDGET:
        problems["allowed_origins"] = [f"At most {ORIGINS_PER_WIDGET} origins."]
        return []
    cleaned: list[str] = []
    reasons = []
    for text in value:
        try:
            origin = normalize_origin(text, https_only=not settings.DEBUG)
        except InvalidOrigin as exc:
            reasons.append(str(exc))
            continue
        if origin not in cleaned:
            cleaned.append(origin)
    if reasons:
        problems["allowed_origins"] = reasons
    return cleaned


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Validated, normalised values of the given fields; InvalidInput naming each bad one."""
    cleaned: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for field, value in fields.items():
        if field in _TEXT_FIELDS:
            limit = _TEXT_FIELDS[field]
            text = (
                clean_text(str(value)).strip()
                if field in ("welcome_message", "offline_message")
                else clean_line(str(value))
            )
            if len(text) > limit:
                problems[field] = [f"At most {limit} characters."]
            elif field in ("name", "title") and not text:
                problems[field] = ["Required."]
            cleaned[field] = text
        elif field in _CHOICES:
            if value not in _CHOICES[field]:
                problems[field] = [f"One of {', '.join(_CHOICES[field])}."]
            cleaned[field] = value
        elif field == "accent_color":
            if not isinstance(value, str) or not _COLOR.match(value):
                problems[field] = ["A colour as #rrggbb."]
            cleaned[field] = str(value).lower()
        elif field in ("require_identity", "ratings", "auto_assign"):
            cleaned[field] = bool(value)
        elif field == "assign_limit":
            if type(value) is not int or not 1 <= value <= ASSIGN_LIMIT_MAX:
                problems[field] = [f"A whole number from 1 to {ASSIGN_LIMIT_MAX}."]
            cleaned[field] = value
        elif field == "allowed_origins":
            cleaned[field] = _clean_origins(value, problems)
        elif field == "time_zone":
            cleaned[field], problem = hours.clean_time_zone(value)
            if problem:
                problems[field] = [problem]
        elif field == "hours":
            cleaned[field], reasons = hours.clean_hours(value)
            if reasons:
                problems[field] = reasons
        elif field == "closed_dates":
            cleaned[field], reasons = hours.clean_closed_dates(value)
            if reasons:
                problems[field] = reasons
        else:
            raise AssertionError(field)
    if problems:
        raise InvalidInput("The widget was not saved.", **problems)
    return cleaned


def widget_create(*, owner: User, **fields: Any) -> Widget:
    """A new widget owned by `owner`, with a fresh public key and secret."""
    cleaned = _clean({"name": fields.pop("name", ""), **fields})
    with transaction.atomic():
        # The owner's row orders concurrent creates, so the limit holds.
        User.objects.select_for_update().filter(pk=owner.pk).first()
        if Widget.objects.filter(owner=owner).count() >= WIDGETS_PER_OWNER:
            raise errors.TooMany(f"You have {WIDGETS_PER_OWNER} widgets, the most one may own.")
        return Widget.objects.create(owner=owner, **cleaned)


def owner_check(*, actor: User, widget: Widget) -> Widget:
    """The widget, when `actor` owns it; OwnerOnly otherwise. The API checks this before
    it looks anyone up for the owner, so an agent cannot probe addresses either."""
    if widget.owner_id != actor.pk:
        raise errors.OwnerOnly()
    return widget


def widget_update(*, actor: User, widget: Widget, **fields: Any) -> Widget:
    owner_check(actor=actor, widget=widget)
    cleaned = _clean(fields)
    for field, value in cleaned.items():
        setattr(widget, field, value)
    if cleaned:
        widget.save(update_fields=[*cleaned, "updated_at"])
    if widget.auto_assign and {"auto_assign", "assign_limit"} & set(cleaned):
        from parley.support.services.assignment import assignment_run

        assignment_run(widget_id=widget.pk)  # the queue may move now
    return widget


def widget_delete(*, actor: User, widget: Widget) -> None:
    """Delete the widget and its visitors' conversations: the team is told they left
    each one (so it leaves their lists at once), then every row goes."""
    owner_check(actor=actor, widget=widget)
    with transaction.atomic():
        conversations_delete(SupportConversation.objects.filter(widget=widget))
        bot_ids = list(SupportBot.objects.filter(widget=widget).values_list("bot_id", flat=True))
        widget.delete()
        Bot.objects.filter(pk__in=bot_ids).delete()


def widget_rotate_secret(*, actor: User, widget: Widget) -> str:
    """A new identity secret: hashes made with the old one stop verifying at once."""
    owner_check(actor=actor, widget=widget)
    widget.secret = new_widget_secret()
    widget.save(update_fields=["secret", "updated_at"])
    return widget.secret


def agent_add(*, actor: User, widget: Widget, user: User) -> bool:
    """Make `user` an agent of the widget. False when they already were (or own it)."""
    owner_check(actor=actor, widget=widget)
    if user.pk == widget.owner_id:
        return False
    with transaction.atomic():
        Widget.objects.select_for_update().filter(pk=widget.pk).first()
        if WidgetAgent.objects.filter(widget=widget, user=user).exists():
            return False
        if WidgetAgent.objects.filter(widget=widget).count() >= AGENTS_PER_WIDGET:
            raise errors.TooMany(f"A widget has at most {AGENTS_PER_WIDGET} agents.")
        WidgetAgent.objects.create(widget=widget, user=user)
        # The widget's conversations that are not resolved: the new agent can answer them
        # (resolved ones come back to them when they reopen).
        for conversation in _live_conversations(widget):
            chat.support_team_join(conversation=conversation, user=user)
    return True


def agent_remove(*, actor: User, widget: Widget, user: User) -> None:
    """Take `user` off the team: they leave every conversation of the widget, and its
    conversations assigned to them are unassigned."""
    owner_check(actor=actor, widget=widget)
    with transaction.atomic():
        if not WidgetAgent.objects.filter(widget=widget, user=user).delete()[0]:
            return
        for support in SupportConversation.objects.filter(widget=widget, assignee=user):
            unassign(support)
        for conversation in Conversation.objects.filter(support__widget=widget):
            chat.support_team_leave(conversation=conversation, user=user)


def _live_conversations(widget: Widget) -> list[Conversation]:
    return list(
        Conversation.objects.filter(support__widget=widget).exclude(
            support__status=SupportConversation.Status.RESOLVED
        )
    )
