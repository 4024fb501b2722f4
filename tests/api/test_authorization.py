"""A user probing 100 conversation ids that are not theirs learns nothing and changes nothing.

The ids are other people's direct chats, groups and public rooms (with secret titles and
messages), a group the prober has left, and ids that do not exist: every conversation
endpoint answers each of them alike with 404 `conversation_not_found`.
"""

from __future__ import annotations

import hashlib
import itertools

import pytest
from django.core import serializers

from parley.chat import services
from parley.chat.models import (
    Conversation,
    ConversationEvent,
    HiddenMessage,
    Membership,
    Message,
    UserEvent,
)
from parley.exports.models import Export

pytestmark = pytest.mark.django_db


def _snapshot() -> str:
    """Everything a probe could change, as one digest."""
    rows = [
        serializers.serialize("json", model.objects.order_by("pk"))
        for model in (
            Conversation,
            Membership,
            Message,
            ConversationEvent,
            UserEvent,
            HiddenMessage,
            Export,
        )
    ]
    return hashlib.sha256("".join(rows).encode()).hexdigest()


@pytest.fixture
def targets(make_user, alice, bob, direct, group, say):
    """70 conversations of other people, 1 alice left, 29 ids that do not exist; the secrets
    that must never show up in an answer."""
    secrets: list[str] = []
    ids: list[int] = []
    people = [make_user() for _ in range(8)]

    def seal(conversation: Conversation, sender, name: str) -> None:
        body = f"secret-body-{name}"
        say(sender, conversation, body)
        secrets.append(body)
        ids.append(conversation.pk)

    for i, (a, b) in enumerate(list(itertools.combinations(people, 2))[:20]):
        seal(direct(a, b), a, f"d{i}")
    for i in range(25):
        a, b = people[i % 8], people[(i + 1) % 8]
        team = group(a, b, title=f"secret-title-g{i}")
        secrets += [team.title, team.invite_secret]
        seal(team, b, f"g{i}")
    for i in range(25):
        room = services.public_room_create(title=f"secret-title-r{i}", slug=f"secret-room-{i}")
        services.public_room_join(user=people[i % 8], conversation=room)
        secrets.append(room.title)
        seal(room, people[i % 8], f"r{i}")
    left = group(bob, alice, title="secret-title-left")
    say(bob, left, "secret-body-left")
    services.conversation_leave(user=alice, conversation=left)
    secrets += ["secret-title-left", "secret-body-left", left.invite_secret]
    ids.append(left.pk)
    top = Conversation.objects.order_by("-pk").values_list("pk", flat=True).first()
    ids += [0, 2**62, 2**63, 2**64] + [top + n for n in range(1, 26)]
    assert len(set(ids)) == 100
    assert not Membership.objects.filter(
        conversation_id__in=[i for i in ids if i < 2**62], user=alice, left_at__isnull=True
    ).exists()
    return ids, secrets, bob


def _probes(cid: int, bob_id: int) -> list[tuple[str, str, dict]]:
    base = f"conversations/{cid}"
    return [
        ("get", base, {}),
        ("patch", base, {"title": "mine now"}),
        ("get", f"{base}/messages", {}),
        ("get", f"{base}/messages?after=0", {}),
        ("post", f"{base}/messages", {"client_id": "probe", "body": "let me in"}),
        ("delete", f"{base}/messages/1?scope=everyone", {}),
        ("delete", f"{base}/messages/1?scope=me", {}),
        ("post", f"{base}/read", {"seq": 1}),
        ("post", f"{base}/clear", {}),
        ("post", f"{base}/leave", {}),
        ("post", f"{base}/members", {"user": "alice"}),
        ("patch", f"{base}/members/{bob_id}", {"role": "admin"}),
        ("delete", f"{base}/members/{bob_id}", {}),
        ("post", f"{base}/invite", {}),
        ("get", f"search?conversation={cid}&q=secret", {}),
        ("post", f"{base}/exports", {}),
    ]


def test_probing_100_foreign_conversation_ids_reveals_and_changes_nothing(
    api, alice, targets, settings
):
    # given: 100 searches in a minute are more than a person may make; limits are not
    # what this probe is about (tests/api/test_search.py has them).
    settings.PARLEY = {
        **settings.PARLEY,
        "RATE_LIMITS": {**settings.PARLEY["RATE_LIMITS"], "searches": "", "exports": ""},
    }
    ids, secrets, bob = targets
    client = api(alice).client
    before = _snapshot()
    answers: list[tuple[int, bytes]] = []

    # when
    for cid in ids:
        for method, url, data in _probes(cid, bob.pk):
            response = getattr(client, method)(f"/api/v1/{url}", data, format="json")
            answers.append((response.status_code, response.content))

    # then
    assert len(answers) == 100 * 16
    assert {status for status, _ in answers} == {404}
    assert {content for _, content in answers} == {
        b'{"code":"conversation_not_found",'
        b'"message":"No such conversation, or you are not a member of it."}'
    }
    everything = b"".join(content for _, content in answers)
    assert [s for s in secrets if s.encode() in everything] == []
    assert _snapshot() == before


def test_the_list_and_directory_show_only_what_is_mine_or_public(api, alice, targets):
    _, secrets, _ = targets
    client = api(alice)

    _, mine = client.get("conversations")
    listed = client.last.content
    _, rooms = client.get("rooms")
    directory = client.last.content

    assert mine == []
    assert [s for s in secrets if s.encode() in listed] == []
    # The directory names public rooms (that is what it is for), never a message or a group.
    shown = [s for s in secrets if s.encode() in directory]
    assert shown and all(s.startswith("secret-title-r") for s in shown)
    assert all(r["joined"] is False for r in rooms if r["slug"] != "public-chat")


def test_search_finds_nothing_of_theirs_nor_of_a_conversation_i_left(api, alice, targets):
    _, secrets, _ = targets
    client = api(alice)

    for q in ("secret", "secret body", '"secret-body-left"', "secret in:left"):
        status, page = client.get("search", {"q": q})
        assert (status, page) == (200, {"results": [], "next_cursor": None})
    assert [s for s in secrets if s.encode() in client.last.content] == []
