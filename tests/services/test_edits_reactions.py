"""Edits and reactions on PostgreSQL and Redis: concurrent reactions are counted exactly
(the conversation's row lock orders them), and a replay after a deletion reveals no text."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from parley.chat import selectors, services
from parley.chat.models import Reaction
from tests.ws import Client

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
]


async def test_ten_people_reacting_at_once_are_counted_once_each_in_order(make_user):
    people = [await database_sync_to_async(make_user)(f"p{i}") for i in range(10)]
    team = await database_sync_to_async(services.conversation_create_group)(
        creator=people[0], title="T", members=people[1:]
    )
    sockets = [await Client(p).connect(resume={}) for p in people]
    ack = await sockets[0].request(
        {"type": "message.send", "conversation": team.pk, "client_id": "m1", "body": "vote"}
    )
    seq = ack["message"]["seq"]
    frame = {"type": "reaction.add", "conversation": team.pk, "seq": seq, "emoji": "👍"}

    async def add_twice(socket):
        """Two adds in a row on one socket, their answers (events stay in its backlog)."""
        ids = [await socket.send(frame) for _ in range(2)]
        answers, kept = {}, []
        while len(answers) < 2:
            got = await socket.next(10)
            if got.get("re") in ids:
                answers[got["re"]] = got
            else:
                kept.append(got)
        socket.backlog = kept + socket.backlog
        return list(answers.values())

    # each twice, all at once: ten changes, ten no-ops
    answers = [a for pair in await asyncio.gather(*map(add_twice, sockets)) for a in pair]
    events = []
    while len(events) < 10:
        events.append(await sockets[0].expect("reaction.added"))

    changed = [a["result"]["seq"] for a in answers if a["result"]["seq"] is not None]
    assert len(changed) == 10 and sorted(changed) == [e["seq"] for e in events]
    assert [e["count"] for e in events] == list(range(1, 11))  # totals, in seq order
    assert all(len(e["users"]) == 3 for e in events[2:])
    assert await database_sync_to_async(Reaction.objects.count)() == 10
    for s in sockets:
        await s.close()


async def test_a_resume_after_a_deletion_replays_no_edited_text(alice, bob):
    team = await database_sync_to_async(services.conversation_create_group)(
        creator=alice, title="T", members=[bob]
    )
    a = await Client(alice).connect(resume={})
    ack = await a.request(
        {"type": "message.send", "conversation": team.pk, "client_id": "m1", "body": "secret 1"}
    )
    seq = ack["message"]["seq"]
    await a.request(
        {"type": "message.edit", "conversation": team.pk, "seq": seq, "body": "secret 2"}
    )
    await a.request(
        {"type": "message.delete", "conversation": team.pk, "seq": seq, "scope": "everyone"}
    )
    await a.close()

    b = await Client(bob).connect()
    frames = await b.resume(conversations={str(team.pk): seq - 1})
    await b.close()

    assert [f["type"] for f in frames] == [
        "message.created",
        "message.edited",
        "message.deleted",
        "resumed",
    ]
    assert "secret" not in str(frames)
    membership = await database_sync_to_async(selectors.membership_for)(bob, team.pk)
    assert membership is not None
