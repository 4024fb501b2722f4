"""Auto-assignment with several real server processes: visitors start conversations on
two processes at once, and the one available agent gets exactly their limit of them;
the rest wait in the queue."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from parley.accounts.tokens import token_create
from parley.support import services
from parley.support.models import SupportConversation
from tests.services.peers import Peer
from tests.services.test_support_availability import becomes, db
from tests.services.test_support_bot import call

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
]

VISITORS = 12
LIMIT = 4


async def test_concurrent_new_conversations_on_two_processes_respect_the_limit(servers, make_user):
    a, b = servers(2, BEHIND_PROXY="true")

    def make():
        agent = make_user("agent")
        widget = services.widget_create(owner=agent, name="Shop")
        services.widget_update(actor=agent, widget=widget, auto_assign=True, assign_limit=LIMIT)
        return agent, widget.public_key, token_create(user=agent)[1]

    agent, key, token = await db(make)
    peer = Peer(token, "agent")
    await peer.connect(a.ws)
    await becomes(b, key, True)  # the agent counts as online on both processes

    def visitor(n: int) -> int:
        server = (a, b)[n % 2]
        _, started = call(server, f"/widget/{key}/session")
        _, sent = call(
            server,
            f"/widget/{key}/messages",
            {"client_id": "c1", "body": f"Hello from {n}"},
            started["token"],
        )
        return sent["conversation"]

    with ThreadPoolExecutor(6) as pool:
        ids = list(await asyncio.to_thread(lambda: list(pool.map(visitor, range(VISITORS)))))

    def outcome():
        rows = SupportConversation.objects.filter(pk__in=ids).order_by("created_at", "pk")
        return [(r.pk, r.assignee_id) for r in rows]

    rows = await db(outcome)
    assigned = [pk for pk, who in rows if who == agent.pk]
    # Never over the limit, whichever process ran the assignment; which ones go first is
    # the queue's order among those committed when each run looked (tests/support/
    # test_assignment.py checks the order on its own).
    assert len(assigned) == LIMIT
    assert all(who in (None, agent.pk) for _, who in rows)
    await peer.close()
    for server in (a, b):
        assert not server.problems(), server.log()
