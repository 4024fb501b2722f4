"""A team member changes their own support settings: available or away, and which
notification emails they want (docs/widget.md, "Availability and business hours")."""

from __future__ import annotations

from typing import Any

from parley.accounts.models import User
from parley.common.errors import InvalidInput
from parley.support.availability import PREFERENCES
from parley.support.models import AgentPreferences
from parley.support.services.assignment import assignment_run_for_user


def preferences_update(*, user: User, **fields: Any) -> AgentPreferences:
    """Set any of PREFERENCES (booleans); InvalidInput naming each bad field."""
    problems = {
        f: ["true or false."] for f, v in fields.items() if f in PREFERENCES and type(v) is not bool
    }
    problems.update({f: ["Unknown field."] for f in fields if f not in PREFERENCES})
    if problems:
        raise InvalidInput("The settings were not saved.", **problems)
    preferences, _ = AgentPreferences.objects.update_or_create(user=user, defaults=fields)
    if fields.get("available") is True:
        assignment_run_for_user(user_id=user.pk)  # the queues of their widgets may move
    return preferences
