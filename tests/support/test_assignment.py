"""Auto-assignment: round robin among the available team members who are online, at most
`assign_limit` open conversations each; what finds nobody waits in order."""

from __future__ import annotations

import uuid

import pytest

from parley.common import connected
from parley.common.errors import InvalidInput
from parley.support import services
from parley.support.models import SupportConversation
from parley.support.services.preferences import preferences_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def online(monkeypatch):
    """Who has a socket open (the gateway answers this in production)."""
    people: set[int] = set()
    monkeypatch.setattr(connected, "_lookup", lambda ids: people & set(ids))
    return people


@pytest.fixture
def widget(alice, bob, carol):
    made = services.widget_create(owner=alice, name="Shop")
    services.agent_add(actor=alice, widget=made, user=bob)
    services.agent_add(actor=alice, widget=made, user=carol)
    return made


def new_conversation(widget) -> int:
    message, _ = services.visitor_message_send(
        widget=widget, visitor_id=uuid.uuid4(), body="Hello?", client_id="c1"
    )
    return message.conversation_id


def assignees(ids) -> list[str | None]:
    rows = SupportConversation.objects.select_related("assignee").in_bulk(ids)
    return [rows[i].assignee.username if rows[i].assignee else None for i in ids]


def test_round_robin_with_a_limit_and_a_queue_in_order(widget, alice, bob, carol, online):
    online.update({alice.pk, bob.pk, carol.pk})
    services.widget_update(actor=alice, widget=widget, auto_assign=True, assign_limit=2)

    ids = [new_conversation(widget) for _ in range(8)]

    assert assignees(ids) == ["alice", "bob", "carol"] * 2 + [None, None]
    # A conversation of bob's is resolved: the oldest waiting one goes to him.
    services.conversation_set_status(
        support=SupportConversation.objects.get(pk=ids[1]), status="resolved"
    )
    assert assignees(ids[6:]) == ["bob", None]
    # The owner raises the limit: the queue moves on, in turn.
    services.widget_update(actor=alice, widget=widget, assign_limit=3)
    assert assignees(ids[7:]) == ["carol"]


def test_only_available_people_with_a_socket_open_get_conversations(widget, alice, bob, online):
    online.update({alice.pk, bob.pk})  # carol is not connected
    preferences_update(user=alice, available=False)
    services.widget_update(actor=alice, widget=widget, auto_assign=True)

    ids = [new_conversation(widget) for _ in range(3)]
    assert assignees(ids) == ["bob", "bob", "bob"]

    preferences_update(user=alice, available=True)  # back: nothing moves (none waits)
    assert assignees([new_conversation(widget)]) == ["alice"]


def test_a_queue_waits_for_someone_and_moves_when_they_become_available(widget, alice, online):
    online.add(alice.pk)
    preferences_update(user=alice, available=False)
    services.widget_update(actor=alice, widget=widget, auto_assign=True)
    ids = [new_conversation(widget) for _ in range(2)]
    assert assignees(ids) == [None, None]

    preferences_update(user=alice, available=True)

    assert assignees(ids) == ["alice", "alice"]


def test_nothing_is_assigned_with_auto_assignment_off(widget, alice, online):
    online.add(alice.pk)
    assert assignees([new_conversation(widget)]) == [None]


def test_the_limit_is_validated(widget, alice):
    for bad in (0, 101, "3", 2.5):
        with pytest.raises(InvalidInput) as refused:
            services.widget_update(actor=alice, widget=widget, assign_limit=bad)
        assert "assign_limit" in refused.value.details


@pytest.mark.django_db(transaction=True)
async def test_a_queue_moves_when_an_agent_opens_their_first_socket(widget, alice):
    from asgiref.sync import sync_to_async

    from tests.ws import Client

    await sync_to_async(services.widget_update)(actor=alice, widget=widget, auto_assign=True)
    cid = await sync_to_async(new_conversation)(widget)  # nobody is online: it waits
    assert await sync_to_async(assignees)([cid]) == [None]

    socket = await Client(alice).connect(resume={})
    update = await socket.expect("support.updated", conversation=cid, timeout=5)

    assert update["assignee"]["username"] == "alice"
    await socket.close()
