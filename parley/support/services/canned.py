"""Canned replies: shared by a widget's team, inserted with `/shortcut` in the composer,
with variables filled in for the conversation at hand (docs/widget.md, "Canned replies").

Any team member (owner or agent) creates, changes and deletes them: they are the team's.
The text is rendered here, on the server, so that every client fills the variables in
the same way; the agent then sends it as their own message (a canned reply is never sent
by itself).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction

from parley.accounts.models import User
from parley.chat.text import clean_text
from parley.common.errors import InvalidInput
from parley.support import errors
from parley.support.models import CannedReply, SupportConversation, Widget

CANNED_PER_WIDGET = 200
BODY_MAX_LENGTH = 4000
SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
VARIABLES = ("visitor.name", "agent.name")
_VARIABLE = re.compile(r"\{([a-z]+\.[a-z_]+)\}")


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    if "shortcut" in fields:
        shortcut = fields["shortcut"]
        shortcut = shortcut.strip().lstrip("/").lower() if isinstance(shortcut, str) else ""
        if not SHORTCUT.match(shortcut):
            problems["shortcut"] = [
                "1 to 32 of a-z, 0-9, - and _, starting with a letter or a digit."
            ]
        cleaned["shortcut"] = shortcut
    if "body" in fields:
        body = clean_text(fields["body"]).strip() if isinstance(fields["body"], str) else ""
        if not body:
            problems["body"] = ["Required."]
        elif len(body) > BODY_MAX_LENGTH:
            problems["body"] = [f"At most {BODY_MAX_LENGTH} characters."]
        unknown = sorted({v for v in _VARIABLE.findall(body) if v not in VARIABLES})
        if unknown:
            problems["body"] = [
                f"Unknown variables: {', '.join(unknown)} (known: {', '.join(VARIABLES)})."
            ]
        cleaned["body"] = body
    unknown_fields = set(fields) - {"shortcut", "body"}
    if unknown_fields:
        problems.update({f: ["Unknown field."] for f in unknown_fields})
    if problems:
        raise InvalidInput("The canned reply was not saved.", **problems)
    return cleaned


def canned_create(*, actor: User, widget: Widget, shortcut: Any, body: Any) -> CannedReply:
    """A new canned reply of the widget (the caller is on its team: selectors.widget_for).
    Raises InvalidInput, ShortcutTaken, TooMany."""
    cleaned = _clean({"shortcut": shortcut, "body": body})
    with transaction.atomic():
        Widget.objects.select_for_update().filter(pk=widget.pk).first()  # orders the limit
        if CannedReply.objects.filter(widget=widget).count() >= CANNED_PER_WIDGET:
            raise errors.TooMany(f"A widget has at most {CANNED_PER_WIDGET} canned replies.")
        try:
            with transaction.atomic():
                return CannedReply.objects.create(widget=widget, created_by=actor, **cleaned)
        except IntegrityError:
            raise errors.ShortcutTaken(shortcut=[f"/{cleaned['shortcut']} is taken."]) from None


def canned_update(*, reply: CannedReply, **fields: Any) -> CannedReply:
    """Change a canned reply's shortcut and/or text. Raises InvalidInput, ShortcutTaken."""
    cleaned = _clean(fields)
    for field, value in cleaned.items():
        setattr(reply, field, value)
    if cleaned:
        try:
            with transaction.atomic():
                reply.save(update_fields=[*cleaned, "updated_at"])
        except IntegrityError:
            raise errors.ShortcutTaken(shortcut=[f"/{cleaned['shortcut']} is taken."]) from None
    return reply


def canned_delete(*, reply: CannedReply) -> None:
    reply.delete()


def canned_render(*, body: str, support: SupportConversation, agent: User) -> str:
    """The reply's text for this conversation and this agent: each known variable
    replaced (a visitor who gave no name is "there": "Hi {visitor.name}" reads "Hi
    there"); anything else in braces stays as it is."""
    visitor_name = support.visitor.display_name
    values = {
        "visitor.name": "there" if visitor_name == "Visitor" else visitor_name,
        "agent.name": agent.name,
    }
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), body)
