"""A profile change reaches each socket once, however many conversations it shares."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from parley.accounts.services import profile_update
from parley.chat import services
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


def profile_frames(frames: list[dict]) -> list[dict]:
    return [f for f in frames if f["type"] == "profile.updated"]


async def test_thirty_shared_groups_and_one_edit_give_one_frame_per_socket(alice, bob, carol):
    def setup() -> None:
        services.conversation_get_or_create_direct(user=alice, other="bob")
        for i in range(30):
            services.conversation_create_group(creator=alice, title=f"G{i}", members=[bob])
        public = services.public_room_create(title="Lobby", slug="lobby")
        services.public_room_join(user=alice, conversation=public)
        services.public_room_join(user=carol, conversation=public)

    await database_sync_to_async(setup)()
    b = await Client(bob).connect(resume={})
    c = await Client(carol).connect(resume={})
    other_tab = await Client(alice).connect(resume={})

    await database_sync_to_async(profile_update)(user=alice, display_name="Ada L.")

    seen_by_bob = profile_frames(await b.drain())
    assert len(seen_by_bob) == 1
    assert seen_by_bob[0]["user"]["name"] == "Ada L."
    assert len(profile_frames(await other_tab.drain())) == 1
    assert profile_frames(await c.drain()) == []  # a public room does not carry it

    # Rapid edits: one frame each, the last one last.
    for i in range(5):
        await database_sync_to_async(profile_update)(user=alice, about=f"edit {i}")
    seen_by_bob = profile_frames(await b.drain())
    assert [f["about"] for f in seen_by_bob] == [f"edit {i}" for i in range(5)]
    for ws in (b, c, other_tab):
        await ws.close()
