"""Messages over REST: send, history by seq, delete for me / for everyone, clear, read."""

from __future__ import annotations

import pytest

from parley.chat.models import Message

pytestmark = pytest.mark.django_db


def test_sending_stores_the_message_and_answers_it(api, alice, bob, direct):
    chat = direct(alice, bob)

    status, message = api(alice).post(
        f"conversations/{chat.pk}/messages", {"client_id": "c-1", "body": "hello\r\nbob"}
    )

    assert status == 201
    assert message["seq"] == 1 and message["body"] == "hello\nbob"
    assert message["sender"] | {"avatar": None} == {
        "kind": "user",
        "id": str(alice.pk),
        "name": "Alice",
        "username": "alice",
        "avatar": None,
    }
    assert message["conversation"] == chat.pk and message["deleted"] is False
    _, page = api(bob).get(f"conversations/{chat.pk}/messages")
    # a page lists reactions; a message answered alone does not (null)
    assert message["reactions"] is None
    assert page["results"] == [message | {"reactions": []}]


def test_a_retry_with_the_same_client_id_returns_the_original_once(api, alice, bob, direct):
    chat = direct(alice, bob)
    url = f"conversations/{chat.pk}/messages"

    first_status, first = api(alice).post(url, {"client_id": "same", "body": "once"})
    again_status, again = api(alice).post(url, {"client_id": "same", "body": "once more"})

    assert (first_status, again_status) == (201, 200)
    assert again == first
    assert Message.objects.filter(conversation=chat).count() == 1


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"client_id": "a", "body": " \n\t "}, "message_empty"),
        ({"client_id": "a", "body": "\x00\x01"}, "invalid"),  # DRF refuses NUL outright
        ({"client_id": "a", "body": "\x01\x02"}, "message_empty"),
        ({"client_id": "a", "body": "x" * 4001}, "message_too_long"),
        ({"client_id": "has space", "body": "hi"}, "invalid"),
        ({"client_id": "x" * 65, "body": "hi"}, "invalid"),
        ({"body": "hi"}, "invalid"),
        ({"client_id": "a"}, "invalid"),
    ],
)
def test_a_bad_message_is_refused_with_its_code(api, alice, bob, direct, payload, code):
    chat = direct(alice, bob)

    status, body = api(alice).post(f"conversations/{chat.pk}/messages", payload)

    assert (status, body["code"]) == (400, code)
    assert not Message.objects.exists()


def test_the_length_limit_is_4000_characters(api, alice, bob, direct):
    chat = direct(alice, bob)

    status, body = api(alice).post(
        f"conversations/{chat.pk}/messages", {"client_id": "long", "body": "é" * 4000}
    )
    _, refused = api(alice).post(
        f"conversations/{chat.pk}/messages", {"client_id": "longer", "body": "é" * 4001}
    )

    assert status == 201 and len(body["body"]) == 4000
    assert refused["details"] == {"limit": 4000, "length": 4001}


def test_history_pages_backwards_by_seq_and_catches_up_forwards(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    for i in range(1, 8):
        say(alice if i % 2 else bob, chat, f"m{i}")
    url = f"conversations/{chat.pk}/messages"
    client = api(bob)

    _, newest = client.get(url, {"limit": 3})
    _, older = client.get(url, {"limit": 3, "before": newest["results"][-1]["seq"]})
    _, oldest = client.get(url, {"limit": 3, "before": older["results"][-1]["seq"]})
    _, after = client.get(url, {"after": 2, "limit": 4})
    _, rest = client.get(url, {"after": 6})

    seqs = [[m["seq"] for m in page["results"]] for page in (newest, older, oldest, after, rest)]
    assert seqs == [[7, 6, 5], [4, 3, 2], [1], [3, 4, 5, 6], [7]]
    assert [p["has_more"] for p in (newest, older, oldest, after, rest)] == [
        True,
        True,
        False,
        True,
        False,
    ]
    assert [m["body"] for m in oldest["results"]] == ["m1"]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 201},
        {"limit": 0},
        {"before": 5, "after": 1},
        {"before": -1},
        {"after": "x"},
        {"before": 2**63},
    ],
)
def test_history_refuses_bad_windows(api, alice, bob, direct, query):
    chat = direct(alice, bob)

    status, body = api(alice).get(f"conversations/{chat.pk}/messages", query)

    assert (status, body["code"]) == (400, "invalid")


def test_the_default_page_is_50_and_at_most_200(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    membership_messages = [
        Message(
            conversation=chat,
            seq=seq,
            sender=chat.members.get(user=alice),
            client_id=f"bulk{seq}",
            body=f"b{seq}",
            created_at=chat.created_at,
        )
        for seq in range(1, 251)
    ]
    Message.objects.bulk_create(membership_messages)
    chat.last_seq = 250
    chat.save(update_fields=["last_seq"])

    _, default = api(bob).get(f"conversations/{chat.pk}/messages")
    _, most = api(bob).get(f"conversations/{chat.pk}/messages", {"limit": 200})

    assert len(default["results"]) == 50 and default["results"][0]["seq"] == 250
    assert len(most["results"]) == 200 and most["has_more"] is True


def test_delete_for_everyone_leaves_a_tombstone_in_everyones_history(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    say(alice, chat, "keep")
    secret = say(alice, chat, "oops, my password")

    status, body = api(alice).delete(
        f"conversations/{chat.pk}/messages/{secret.seq}?scope=everyone"
    )
    as_bob_client = api(bob)
    _, as_bob = as_bob_client.get(f"conversations/{chat.pk}/messages")
    history_bytes = as_bob_client.last.content
    _, listed = as_bob_client.get("conversations")
    again_status, again = api(alice).delete(
        f"conversations/{chat.pk}/messages/{secret.seq}?scope=everyone"
    )

    assert status == 200 and body == {"seq": 3}
    tombstone, kept = as_bob["results"]
    assert tombstone["seq"] == secret.seq and tombstone["deleted"] is True
    assert tombstone["body"] == "" and kept["body"] == "keep"
    assert b"password" not in history_bytes
    assert b"password" not in as_bob_client.last.content
    assert listed[0]["last_message"]["deleted"] is True
    assert (again_status, again["code"]) == (409, "already_deleted")


def test_only_the_sender_or_a_group_admin_deletes_for_everyone(api, alice, bob, direct, group, say):
    chat = direct(alice, bob)
    mine = say(alice, chat, "alice's")
    team = group(alice, bob)
    bobs = say(bob, team, "bob's")

    refused_status, refused = api(bob).delete(
        f"conversations/{chat.pk}/messages/{mine.seq}?scope=everyone"
    )
    admin_status, _ = api(alice).delete(
        f"conversations/{team.pk}/messages/{bobs.seq}?scope=everyone"
    )

    assert (refused_status, refused["code"]) == (403, "not_allowed")
    assert admin_status == 200


def test_delete_for_me_hides_only_for_me(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    say(alice, chat, "first")
    last = say(bob, chat, "second")

    status, body = api(alice).delete(f"conversations/{chat.pk}/messages/{last.seq}?scope=me")
    _, mine = api(alice).get(f"conversations/{chat.pk}/messages")
    _, bobs = api(bob).get(f"conversations/{chat.pk}/messages")
    _, my_list = api(alice).get("conversations")
    _, my_detail = api(alice).get(f"conversations/{chat.pk}")
    again_status, _ = api(alice).delete(f"conversations/{chat.pk}/messages/{last.seq}?scope=me")

    assert status == 200 and body == {}
    assert [m["body"] for m in mine["results"]] == ["first"]
    assert [m["body"] for m in bobs["results"]] == ["second", "first"]
    assert my_list[0]["last_message"]["body"] == "first"
    assert my_detail["last_message"]["body"] == "first"
    assert again_status == 200  # idempotent


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("messages/99?scope=everyone", 404, "message_not_found"),
        ("messages/1?scope=all", 400, "invalid"),
        ("messages/1", 400, "invalid"),
        (f"messages/{2**64}?scope=me", 404, "message_not_found"),
    ],
)
def test_deleting_needs_a_message_and_a_scope(api, alice, bob, direct, say, url, status, code):
    chat = direct(alice, bob)
    say(alice, chat, "there")

    got_status, body = api(alice).delete(f"conversations/{chat.pk}/{url}")

    assert (got_status, body["code"]) == (status, code)


def test_clearing_history_hides_everything_so_far_for_me_only(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    say(alice, chat, "one")
    say(bob, chat, "two")

    status, body = api(alice).post(f"conversations/{chat.pk}/clear")
    say(bob, chat, "three")
    _, mine = api(alice).get(f"conversations/{chat.pk}/messages")
    _, bobs = api(bob).get(f"conversations/{chat.pk}/messages")
    _, listed = api(alice).get("conversations")

    assert (status, body) == (200, {"through_seq": 2})
    assert [m["body"] for m in mine["results"]] == ["three"]
    assert [m["body"] for m in bobs["results"]] == ["three", "two", "one"]
    assert listed[0]["cleared_through_seq"] == 2 and listed[0]["unread"] == 1


def test_clearing_everything_leaves_no_last_message(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    say(bob, chat, "gone for me")

    api(alice).post(f"conversations/{chat.pk}/clear")
    _, listed = api(alice).get("conversations")
    _, detail = api(alice).get(f"conversations/{chat.pk}")

    assert listed[0]["last_message"] is None and detail["last_message"] is None
    assert listed[0]["unread"] == detail["unread"] == 0


def test_read_marks_move_forward_and_set_the_unread_count(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    for i in range(4):
        say(bob, chat, f"b{i}")
    say(alice, chat, "mine do not count")
    url = f"conversations/{chat.pk}/read"

    _, before = api(alice).get("conversations")
    status, first = api(alice).post(url, {"seq": 2})
    _, back = api(alice).post(url, {"seq": 1})
    _, beyond = api(alice).post(url, {"seq": 999})
    _, after = api(alice).get(f"conversations/{chat.pk}")
    _, as_bob = api(bob).get(f"conversations/{chat.pk}")

    assert before[0]["unread"] == 4
    assert (status, first) == (200, {"read_seq": 2, "unread": 2})
    assert back == {"read_seq": 2, "unread": 2}  # a cursor never moves back
    assert beyond == {"read_seq": 5, "unread": 0}  # capped at the last seq
    assert after["unread"] == 0 and after["read_seq"] == after["delivered_seq"] == 5
    alice_seen = next(m for m in as_bob["members"] if m["username"] == "alice")
    assert alice_seen["read_seq"] == 5


def test_unread_over_the_cap_is_the_cap_in_the_list_the_detail_and_a_read_mark(
    api, alice, bob, direct, say, unread_cap
):
    unread_cap(3)
    chat = direct(alice, bob)
    sent = [say(bob, chat, f"b{i}") for i in range(6)]
    client = api(alice)

    _, listed = client.get("conversations")
    _, detail = client.get(f"conversations/{chat.pk}")
    _, four_left = client.post(f"conversations/{chat.pk}/read", {"seq": sent[1].seq})
    _, two_left = client.post(f"conversations/{chat.pk}/read", {"seq": sent[3].seq})

    assert listed[0]["unread"] == detail["unread"] == 3
    assert four_left == {"read_seq": sent[1].seq, "unread": 3}
    assert two_left == {"read_seq": sent[3].seq, "unread": 2}


@pytest.mark.parametrize("payload", [{}, {"seq": -1}, {"seq": "two"}, {"seq": 2**63}])
def test_a_read_mark_needs_a_seq(api, alice, bob, direct, payload):
    chat = direct(alice, bob)

    status, body = api(alice).post(f"conversations/{chat.pk}/read", payload)

    assert (status, body["code"]) == (400, "invalid")


def test_sending_too_fast_is_rate_limited_with_a_retry_time(api, alice, bob, direct, settings):
    settings.PARLEY = {
        **settings.PARLEY,
        "RATE_LIMITS": {**settings.PARLEY["RATE_LIMITS"], "rest_messages": "3/m"},
    }
    chat = direct(alice, bob)
    client = api(alice)
    url = f"conversations/{chat.pk}/messages"

    statuses = [client.post(url, {"client_id": f"r{i}", "body": "hi"})[0] for i in range(4)]
    body = client.last.json()
    reading, _ = client.get(url)

    assert statuses == [201, 201, 201, 429]
    assert body["code"] == "rate_limited" and body["details"]["retry_after"] > 0
    assert client.last.status_code == 200 and reading == 200
    assert Message.objects.count() == 3
