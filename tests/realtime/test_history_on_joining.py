"""The websocket shows a rejoining member what REST shows them: a socket resuming from
where it stood before they were removed gets nothing said while they were out, unless
the group shows new members its history."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from parley.chat import selectors, services
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def removed_and_rejoined(alice, bob, *, shows_history: bool):
    """A group where bob saw "before", was removed, missed "while out" and rejoined.
    Returns the group and the seq bob's devices last saw before his removal."""
    team = services.conversation_create_group(
        creator=alice, title="Team", members=[bob], history_visible_to_new_members=shows_history
    )

    def say(body: str) -> int:
        membership = selectors.membership_for(alice, team.pk)
        return services.message_send(membership=membership, body=body, client_id=body)[0].seq

    seen = say("before")
    services.group_remove_member(actor=alice, conversation=team, user=bob)
    say("while out")
    services.conversation_update(actor=alice, conversation=team, title="Renamed while out")
    services.group_join_by_secret(user=bob, secret=team.invite_secret)
    return team, seen


def _seen(frames) -> list[tuple[str, object]]:
    return [
        (f["type"], f["message"]["body"] if f["type"] == "message.created" else f.get("seq"))
        for f in frames
        if f["type"] not in ("resumed", "online", "presence")
    ]


async def test_a_stale_resume_after_rejoining_brings_nothing_from_while_i_was_out(alice, bob):
    team, seen = await removed_and_rejoined(alice, bob, shows_history=False)

    b = await Client(bob).connect()
    frames = await b.resume(conversations={str(team.pk): seen})

    assert _seen(frames) == []
    await b.close()


async def test_a_group_that_shows_history_gives_a_stale_resume_the_messages_i_missed(alice, bob):
    team, seen = await removed_and_rejoined(alice, bob, shows_history=True)

    b = await Client(bob).connect()
    frames = await b.resume(conversations={str(team.pk): seen})

    # The messages, not the membership and title changes of a time I was no member.
    assert _seen(frames) == [("message.created", "while out")]
    await b.close()


async def test_joining_tells_my_devices_my_history_floor(alice, bob):
    team = await database_sync_to_async(services.conversation_create_group)(
        creator=alice, title="Team"
    )
    b = await Client(bob).connect(resume={})

    await database_sync_to_async(services.group_join_by_secret)(user=bob, secret=team.invite_secret)
    joined = await b.expect("conversation.joined")

    summary = joined["conversation"]
    assert summary["cleared_through_seq"] == summary["last_seq"] == 1  # member.joined
    await b.close()
