"""Agents available or away, and what a widget's public config says about the team: online
only inside business hours with an available team member connected; otherwise offline,
with the offline message and when the team is back (docs/widget.md, "Availability")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from rest_framework.test import APIClient

from parley.realtime.presence import get_presence, user_key

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def connect(user) -> None:
    """A socket of `user` open on this process (what the gateway tells presence)."""
    async_to_sync(get_presence().connect)(user_key(user.pk), [])


def config(widget: dict) -> dict:
    return api().get(f"/widget/{widget['public_key']}/config").json()


@pytest.fixture
def widget(alice, bob):
    owner = api(alice)
    created = owner.post(
        "/api/v1/widgets",
        {"name": "Shop", "offline_message": "We answer by email within a day."},
        format="json",
    ).json()
    owner.post(f"/api/v1/widgets/{created['id']}/agents", {"user": bob.username})
    return created


def test_nobody_connected_is_offline_with_the_message(widget):
    body = config(widget)

    assert body["online"] is False and body["offline_reason"] == "no_agent"
    assert body["offline_message"] == "We answer by email within a day."
    assert body["back_at"] is None


def test_an_available_agent_with_a_socket_makes_the_widget_online(widget, bob):
    connect(bob)

    assert config(widget)["online"] is True


def test_an_agent_who_is_away_does_not_count(widget, alice, bob):
    connect(bob)
    answer = api(bob).patch("/api/v1/me/support", {"available": False}, format="json")

    assert answer.status_code == 200 and answer.json()["available"] is False
    assert config(widget)["online"] is False

    connect(alice)  # the owner answers too
    assert config(widget)["online"] is True


def test_my_support_settings_start_available_with_every_email_and_keep_what_i_set(bob):
    me = api(bob)
    assert me.get("/api/v1/me/support").json() == {
        "available": True,
        "email_new_conversation": True,
        "email_assigned": True,
        "email_visitor_message": True,
    }

    me.patch("/api/v1/me/support", {"email_visitor_message": False}, format="json")

    assert me.get("/api/v1/me/support").json()["email_visitor_message"] is False
    assert me.get("/api/v1/me/support").json()["available"] is True


def test_support_settings_refuse_what_is_not_a_boolean(bob):
    answer = api(bob).patch("/api/v1/me/support", {"available": "maybe"}, format="json")

    assert answer.status_code == 400 and answer.json()["code"] == "invalid"
    assert api().get("/api/v1/me/support").status_code in (401, 403)


def test_outside_business_hours_the_widget_is_closed_and_says_when_it_is_back(
    widget, alice, bob, monkeypatch
):
    connect(bob)
    changed = api(alice).patch(
        f"/api/v1/widgets/{widget['id']}",
        {
            "time_zone": "Europe/Paris",
            "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        },
        format="json",
    )
    assert changed.status_code == 200, changed.content
    # Friday 2026-03-27, 18:00 in Paris; summer time starts on Sunday.
    friday_evening = datetime(2026, 3, 27, 17, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: friday_evening)

    body = config(widget)

    assert body["online"] is False and body["offline_reason"] == "closed"
    assert body["back_at"] == "2026-03-30T07:00:00Z"  # Monday 09:00 in Paris


def test_invalid_hours_are_refused_field_by_field_and_nothing_is_saved(widget, alice):
    answer = api(alice).patch(
        f"/api/v1/widgets/{widget['id']}",
        {
            "time_zone": "Paris",
            "hours": {"mon": [["17:00", "09:00"]]},
            "closed_dates": ["tomorrow"],
            "title": "New title",
        },
        format="json",
    )

    assert answer.status_code == 400
    assert set(answer.json()["details"]) == {"time_zone", "hours", "closed_dates"}
    assert api(alice).get(f"/api/v1/widgets/{widget['id']}").json()["title"] == "Chat with us"
