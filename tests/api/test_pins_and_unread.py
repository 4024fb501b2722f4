"""Pins, marking unread, group settings and the timeline over REST."""

from __future__ import annotations

import pytest

from parley.api.v1.timeline import PinSerializer
from parley.chat import selectors, services

pytestmark = pytest.mark.django_db


def test_pin_list_and_unpin_over_rest(api, alice, bob, direct, say):
    conversation = direct(alice, bob)
    message = say(bob, conversation, "the plan")

    created, pin = api(alice).post(f"conversations/{conversation.pk}/pins", {"seq": message.seq})
    again, same = api(bob).post(f"conversations/{conversation.pk}/pins", {"seq": message.seq})
    _, listed = api(bob).get(f"conversations/{conversation.pk}/pins")
    _, detail = api(bob).get(f"conversations/{conversation.pk}")

    assert (created, again) == (201, 200)
    assert set(pin) == set(PinSerializer().fields)
    assert pin["message"]["body"] == "the plan" and pin["by"]["username"] == "alice"
    assert pin["message_seq"] == message.seq and same == pin
    assert listed == [pin] and detail["pins"] == [pin]

    status, body = api(bob).delete(f"conversations/{conversation.pk}/pins/{message.seq}")
    assert status == 200 and body["seq"] == pin["seq"] + 1
    assert api(alice).get(f"conversations/{conversation.pk}/pins")[1] == []
    assert api(alice).delete(f"conversations/{conversation.pk}/pins/{message.seq}") == (
        200,
        {"seq": None},
    )


def test_pinning_a_message_i_deleted_for_me_answers_its_pin(api, alice, bob, direct, say):
    conversation = direct(alice, bob)
    message = say(bob, conversation, "hidden for alice only")
    services.message_delete_for_me(
        membership=selectors.membership_for(alice, conversation.pk), seq=message.seq
    )

    status, pin = api(alice).post(f"conversations/{conversation.pk}/pins", {"seq": message.seq})

    assert status == 201 and pin["message"]["body"] == "hidden for alice only"
    assert [p["message_seq"] for p in api(bob).get(f"conversations/{conversation.pk}/pins")[1]] == [
        message.seq
    ]


def test_who_may_pin_over_rest(api, alice, bob, carol, group, say):
    team = group(alice, bob)
    message = say(bob, team, "agenda")
    url = f"conversations/{team.pk}/pins"

    member = api(bob).post(url, {"seq": message.seq})
    stranger = api(carol).post(url, {"seq": message.seq})
    missing = api(alice).post(url, {"seq": message.seq + 50})
    bad = api(alice).post(url, {"seq": "x"})
    services.message_delete_for_everyone(
        membership=selectors.membership_for(bob, team.pk), seq=message.seq
    )
    deleted = api(alice).post(url, {"seq": message.seq})

    assert member[0] == 403 and member[1]["code"] == "not_allowed"
    assert stranger[0] == 404 and stranger[1]["code"] == "conversation_not_found"
    assert missing[0] == 404 and missing[1]["code"] == "message_not_found"
    assert bad[0] == 400 and bad[1]["code"] == "invalid"
    assert deleted[0] == 409 and deleted[1]["code"] == "already_deleted"


def test_a_removed_member_cannot_pin_or_read_the_pins(api, alice, bob, group, say):
    team = group(alice, bob)
    services.group_set_role(actor=alice, conversation=team, user=bob, role="admin")
    message = say(alice, team, "pinned")
    api(bob).post(f"conversations/{team.pk}/pins", {"seq": message.seq})

    services.group_remove_member(actor=alice, conversation=team, user=bob)

    assert api(bob).get(f"conversations/{team.pk}/pins")[0] == 404
    status, body = api(bob).delete(f"conversations/{team.pk}/pins/{message.seq}")
    assert status == 404 and body["code"] == "conversation_not_found"


def test_mark_unread_over_rest_keeps_the_others_read_receipts(api, alice, bob, direct, say):
    conversation = direct(alice, bob)
    first = say(bob, conversation, "one")
    say(bob, conversation, "two")
    api(alice).post(f"conversations/{conversation.pk}/read", {"seq": 100})

    status, body = api(alice).post(f"conversations/{conversation.pk}/unread", {"seq": first.seq})
    _, mine = api(alice).get(f"conversations/{conversation.pk}")
    _, listed = api(alice).get("conversations")
    _, bobs = api(bob).get(f"conversations/{conversation.pk}")

    assert status == 200 and body == {"read_seq": first.seq - 1, "unread": 2}
    assert (mine["read_seq"], mine["unread"]) == (first.seq - 1, 2)
    assert listed[0]["unread"] == 2
    seen = next(m for m in bobs["members"] if m["username"] == "alice")
    assert seen["read_seq"] == conversation.last_seq + 2  # what bob was told stays
    missing = api(alice).post(f"conversations/{conversation.pk}/unread", {"seq": 999})
    assert missing[0] == 404 and missing[1]["code"] == "message_not_found"
    assert api(alice).post(f"conversations/{conversation.pk}/unread", {})[0] == 400


def test_an_admin_changes_the_description_and_the_event_says_who_and_what(api, alice, bob, group):
    team = group(alice, bob)

    status, body = api(alice).patch(f"conversations/{team.pk}", {"about": "  Fridays  "})
    refused = api(bob).patch(f"conversations/{team.pk}", {"about": "mine now"})
    too_long = api(alice).patch(f"conversations/{team.pk}", {"about": "x" * 281})
    api(alice).patch(f"conversations/{team.pk}", {"title": "Crew"})
    _, page = api(bob).get(f"conversations/{team.pk}/messages")

    assert status == 200 and body["about"] == "Fridays" and body["title"] == "Team"
    assert refused[0] == 403 and refused[1]["code"] == "not_allowed"
    assert too_long[0] == 400 and too_long[1]["code"] == "invalid_about"
    updates = [e for e in page["events"] if e["type"] == "conversation.updated"]
    assert [(e["changed"], e["title"], e["about"], e["by"]["username"]) for e in updates] == [
        (["about"], "Team", "Fridays", "alice"),
        (["title"], "Crew", "Fridays", "alice"),
    ]


def test_history_pages_carry_the_timeline_events_between_their_messages_once(
    api, alice, bob, carol, make_user, group, say
):
    team = group(alice, bob)
    say(alice, team, "m1")
    services.group_add_members(actor=alice, conversation=team, users=[carol])
    say(alice, team, "m2")
    services.conversation_leave(user=carol, conversation=team)
    say(alice, team, "m3")
    services.group_set_role(actor=alice, conversation=team, user=bob, role="admin")
    url = f"conversations/{team.pk}/messages"

    _, newest = api(bob).get(url, {"limit": 1})
    _, middle = api(bob).get(url, {"limit": 1, "before": newest["results"][0]["seq"]})
    _, rest = api(bob).get(url, {"before": middle["results"][0]["seq"]})
    _, whole = api(bob).get(url)
    _, caught_up = api(bob).get(url, {"after": 0, "limit": 2})

    def kinds(page):
        return [(e["type"], e.get("member", {}).get("username")) for e in page["events"]]

    assert kinds(newest) == [("member.updated", "bob")]
    assert kinds(middle) == [("member.left", "carol")]
    assert kinds(rest) == [("member.joined", "carol")]
    assert kinds(whole) == kinds(rest) + kinds(middle) + kinds(newest)
    assert kinds(caught_up) == [("member.joined", "carol")]  # up to m2, its newest
    # someone who joins later does not get the lines from before they joined
    (dave,) = [make_user("dave")]
    services.group_add_members(actor=alice, conversation=team, users=[dave])
    assert api(dave).get(url)[1]["events"] == []
