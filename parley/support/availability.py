"""Whether a widget's team can answer now, and each team member's own availability.

"Online" for a widget: inside its business hours (parley/support/hours.py), and someone of
its team (owner or agent) is available (not away) with a socket open on any server
process (parley/common/connected.py, answered by the gateway from presence). The public
config tells the visitor's frame, with the offline message and when the team is back.
docs/widget.md, "Availability"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from parley.accounts.models import User
from parley.common import connected
from parley.support import hours
from parley.support.models import AgentPreferences, Widget, WidgetAgent

PREFERENCES = ("available", "email_new_conversation", "email_assigned", "email_visitor_message")


@dataclass(frozen=True)
class Availability:
    online: bool
    reason: str | None  # "closed" (outside hours), "no_agent" (nobody available online)
    back_at: datetime | None  # when the hours open again; None when unknown

    def as_dict(self) -> dict[str, Any]:
        return {
            "online": self.online,
            "offline_reason": self.reason,
            "back_at": self.back_at.isoformat().replace("+00:00", "Z") if self.back_at else None,
        }


def widget_availability(*, widget: Widget, now: datetime | None = None) -> Availability:
    now = now or timezone.now()
    schedule = {
        "hours": widget.hours,
        "closed_dates": widget.closed_dates,
        "time_zone": widget.time_zone,
    }
    if not hours.is_open(**schedule, now=now):
        return Availability(False, "closed", hours.next_opening(**schedule, now=now))
    if not available_team_online(widget):
        return Availability(False, "no_agent", None)
    return Availability(True, None, None)


def available_team_online(widget: Widget) -> set[int]:
    """The ids of the widget's owner and agents who are available and connected."""
    team = {
        widget.owner_id,
        *WidgetAgent.objects.filter(widget=widget).values_list("user", flat=True),
    }
    away = set(
        AgentPreferences.objects.filter(user__in=team, available=False).values_list(
            "user", flat=True
        )
    )
    return connected.users_connected(sorted(team - away))


def preferences_of(user: User) -> AgentPreferences:
    """The user's support settings (the defaults, unsaved, until they change one)."""
    found = AgentPreferences.objects.filter(user=user).first()
    return found or AgentPreferences(user=user)


def is_team_member(user: User) -> bool:
    return Widget.objects.filter(Q(owner=user) | Q(agent_rows__user=user)).exists()
