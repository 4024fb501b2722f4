"""GET /api/v1/search: what a person finds, and never finds, in their conversations.

The same cases run on PostgreSQL (tests/services/test_search.py imports them): each engine
must find, highlight, order and hide alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.chat import selectors, services
from parley.chat.models import Message

pytestmark = pytest.mark.django_db


def found(api_client, q: str, **params) -> list[tuple[int, int]]:
    """(conversation, seq) of every result of a search, all pages, asserting 200."""
    out: list[tuple[int, int]] = []
    cursor = None
    while True:
        query = {"q": q, **params, **({"cursor": cursor} if cursor else {})}
        status, page = api_client.get("search", query)
        assert status == 200, page
        out += [(hit["conversation"], hit["seq"]) for hit in page["results"]]
        cursor = page["next_cursor"]
        if not cursor:
            return out


def marked(hit: dict) -> list[str]:
    return [part["text"] for part in hit["snippet"] if part["match"]]


def test_words_are_found_across_my_conversations_newest_first_and_highlighted(
    api, alice, bob, carol, direct, group, say
):
    chat = direct(alice, bob)
    team = group(alice, carol, title="Launch team")
    first = say(bob, chat, "Shall we meet for the quarterly planning tomorrow?")
    say(alice, chat, "Nothing to see here")
    second = say(carol, team, "The planning doc is ready, planning starts at nine")

    status, page = api(alice).get("search", {"q": "planning"})

    assert status == 200
    assert [(h["conversation"], h["seq"]) for h in page["results"]] == [
        (team.pk, second.seq),
        (chat.pk, first.seq),
    ]
    newest, older = page["results"]
    assert newest["conversation_title"] == "Launch team"
    assert older["conversation_title"] == bob.name  # a direct chat: the other person
    assert older["sender"]["name"] == bob.name
    assert marked(newest) == ["planning", "planning"]
    assert "".join(p["text"] for p in older["snippet"]).startswith("Shall we meet")
    assert page["next_cursor"] is None


def test_words_match_their_other_forms_and_all_must_occur(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    both = say(bob, chat, "The meetings were long but the coffee was good")
    say(bob, chat, "Only a meeting today")

    assert found(api(alice), "meeting coffee") == [(chat.pk, both.seq)]
    assert len(found(api(alice), "meeting")) == 2


def test_a_quoted_phrase_needs_its_words_in_order(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    say(bob, chat, "green tea is lovely")
    tea = say(bob, chat, "I like tea green")

    assert found(api(alice), '"tea green"') == [(chat.pk, tea.seq)]
    assert len(found(api(alice), "tea green")) == 2


def test_from_finds_what_one_person_said(api, alice, bob, carol, group, say):
    team = group(alice, bob, carol)
    by_bob = say(bob, team, "deploy on friday")
    mine = say(alice, team, "no deploy on friday")
    say(carol, team, "deploy whenever")

    assert found(api(alice), "deploy from:bob".replace("bob", bob.username)) == [
        (team.pk, by_bob.seq)
    ]
    assert found(api(alice), f"deploy from:@{bob.username.upper()}") == [(team.pk, by_bob.seq)]
    assert found(api(alice), "deploy from:me") == [(team.pk, mine.seq)]
    assert found(api(alice), "from:nobody-of-that-name deploy") == []


def test_a_search_by_filters_only_lists_the_messages_with_their_beginning(
    api, alice, bob, direct, say
):
    chat = direct(alice, bob)
    long = say(bob, chat, "x" * 300)

    status, page = api(alice).get("search", {"q": f"from:{bob.username}"})

    assert status == 200
    (hit,) = page["results"]
    assert hit["seq"] == long.seq
    assert hit["snippet"] == [{"text": "x" * 160 + "…", "match": False}]


def test_in_and_the_conversation_parameter_narrow_to_one_conversation(
    api, alice, bob, carol, direct, group, say
):
    chat = direct(alice, bob)
    team = group(alice, carol, title="Launch team")
    in_chat = say(bob, chat, "budget numbers")
    in_team = say(carol, team, "budget approved")
    me = api(alice)

    assert found(me, f"budget in:{team.pk}") == [(team.pk, in_team.seq)]
    assert found(me, "budget in:launch") == [(team.pk, in_team.seq)]
    assert found(me, f'budget in:"{bob.username}"') == [(chat.pk, in_chat.seq)]
    assert found(me, "budget", conversation=chat.pk) == [(chat.pk, in_chat.seq)]
    assert found(me, "budget in:no-such-conversation") == []


def test_has_file_finds_the_messages_that_carry_files(api, alice, bob, direct, say, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from parley.files import services as files

    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    chat = direct(alice, bob)
    say(bob, chat, "the file comes next")
    upload = files.upload_create(
        user=bob, file=SimpleUploadedFile("r.txt", b"the report\n"), name="r.txt"
    )
    with_file = files.message_send_with_files(
        membership=selectors.membership_for(bob, chat.pk),
        body="here is the file",
        client_id="f1",
        upload_ids=[upload.pk],
    )[0]
    files_only = files.upload_create(
        user=bob, file=SimpleUploadedFile("s.txt", b"notes\n"), name="s.txt"
    )
    caption_less = files.message_send_with_files(
        membership=selectors.membership_for(bob, chat.pk),
        body="",
        client_id="f2",
        upload_ids=[files_only.pk],
    )[0]

    assert found(api(alice), "file has:file") == [(chat.pk, with_file.seq)]
    assert found(api(alice), "has:file") == [(chat.pk, caption_less.seq), (chat.pk, with_file.seq)]


def test_after_and_before_take_days(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    old = say(bob, chat, "report one")
    new = say(bob, chat, "report two")
    Message.objects.filter(pk=old.pk).update(created_at=datetime(2026, 1, 10, 12, tzinfo=UTC))
    Message.objects.filter(pk=new.pk).update(created_at=datetime(2026, 3, 1, 8, tzinfo=UTC))
    me = api(alice)

    assert found(me, "report after:2026-03-01") == [(chat.pk, new.seq)]
    assert found(me, "report before:2026-03-01") == [(chat.pk, old.seq)]
    assert found(me, "report after:2026-01-10 before:2026-01-11") == [(chat.pk, old.seq)]
    assert found(me, "report after:2026-03-02") == []


@pytest.mark.parametrize("order", ["newest", "best"])
def test_pages_follow_each_other_by_keyset_without_gaps_or_repeats(
    api, alice, bob, direct, say, order
):
    chat = direct(alice, bob)
    sent = [say(bob, chat, "ticket " + "ticket " * (i % 3) + f"number {i}") for i in range(7)]
    me = api(alice)

    pages = []
    cursor = None
    while True:
        status, page = me.get(
            "search",
            {"q": "ticket", "limit": 3, "order": order, **({"cursor": cursor} if cursor else {})},
        )
        assert status == 200
        pages.append([hit["seq"] for hit in page["results"]])
        cursor = page["next_cursor"]
        if not cursor:
            break

    assert [len(p) for p in pages] == [3, 3, 1]
    seqs = [seq for p in pages for seq in p]
    assert sorted(seqs) == sorted(m.seq for m in sent)
    if order == "newest":
        assert seqs == sorted(seqs, reverse=True)


def test_best_first_puts_the_closer_match_first(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    dense = say(bob, chat, "invoice invoice invoice")
    say(bob, chat, "about the invoice, and many other words that are not about it at all")

    results = found(api(alice), "invoice", order="best")

    assert results[0] == (chat.pk, dense.seq)


def test_never_a_message_i_may_not_see(api, alice, bob, carol, make_user, direct, group, say):
    chat = direct(alice, bob)
    team = group(bob, alice, carol, title="Team")
    everyone = say(bob, chat, "zebra deleted for everyone")
    services.message_delete_for_everyone(
        membership=selectors.membership_for(bob, chat.pk), seq=everyone.seq
    )
    for_me = say(bob, chat, "zebra deleted for me")
    services.message_delete_for_me(
        membership=selectors.membership_for(alice, chat.pk), seq=for_me.seq
    )
    say(carol, team, "zebra before I cleared")
    services.history_clear(membership=selectors.membership_for(alice, team.pk))
    kept = say(carol, team, "zebra after I cleared")
    left = group(bob, alice, title="Left")
    say(bob, left, "zebra in a group I left")
    services.conversation_leave(user=alice, conversation=left)
    removed = group(bob, alice, title="Removed")
    say(bob, removed, "zebra in a group I was removed from")
    services.group_remove_member(actor=bob, conversation=removed, user=alice)
    hiding = group(bob, carol, title="Hiding")
    say(bob, hiding, "zebra before I joined")
    services.group_add_members(actor=bob, conversation=hiding, users=[alice])
    joined = say(bob, hiding, "zebra after I joined")
    stranger = make_user()
    say(stranger, direct(stranger, bob), "zebra between other people")

    mine = found(api(alice), "zebra")

    assert mine == [(hiding.pk, joined.seq), (team.pk, kept.seq)]
    # Deleting or clearing for me hides it from me only.
    bobs = found(api(bob), "zebra")
    assert (chat.pk, for_me.seq) in bobs
    assert (chat.pk, everyone.seq) not in bobs
    # A conversation I left: 404, like any other that is not mine.
    status, body = api(alice).get("search", {"q": "zebra", "conversation": left.pk})
    assert (status, body["code"]) == (404, "conversation_not_found")
    assert found(api(alice), f"zebra in:{left.pk}") == []


@pytest.mark.parametrize(
    ("q", "code"),
    [
        ("x" * 201, "search_query_too_long"),
        (" ".join(f"w{i}" for i in range(11)), "search_too_many_terms"),
        ("", "invalid"),
        ('"" ', "search_query_invalid"),
        ("!!! ???", "search_query_invalid"),
        ("report after:yesterday", "search_query_invalid"),
        ("report before:2026-02-30", "search_query_invalid"),
        ("report has:picture", "search_query_invalid"),
    ],
)
def test_a_query_out_of_bounds_is_refused_with_its_code(api, alice, q, code):
    status, body = api(alice).get("search", {"q": q})

    assert (status, body["code"]) == (400, code)


@pytest.mark.parametrize("cursor", ["garbage!", "W10", "WyJiZXN0IiwxLDJd"])
def test_a_cursor_that_is_not_one_is_refused(api, alice, cursor):
    status, body = api(alice).get("search", {"q": "hello", "cursor": cursor})

    assert (status, body["code"]) == (400, "invalid_cursor")


def test_searches_are_rate_limited_per_user(api, alice, bob, settings):
    settings.PARLEY = {
        **settings.PARLEY,
        "RATE_LIMITS": {**settings.PARLEY["RATE_LIMITS"], "searches": "2/m"},
    }
    me = api(alice)

    answers = [me.get("search", {"q": "hello"})[0] for _ in range(3)]
    status, body = me.get("search", {"q": "hello"})

    assert answers == [200, 200, 429]
    assert body["code"] == "rate_limited"
    assert api(bob).get("search", {"q": "hello"})[0] == 200


def test_searching_needs_a_signed_in_user(api):
    status, body = api().get("search", {"q": "hello"})

    assert (status, body["code"]) == (401, "not_authenticated")


@pytest.mark.parametrize(
    "q",
    [
        'budget "unclosed',
        "budget OR review",
        "NEAR(budget review)",
        "budget*",
        "-budget",
        "^budget",
        "body:budget",
        "budget AND",
        "it's",
        "back\\slash",
        "ünïcödé 会议",
        "from: in: after:",
    ],
)
def test_what_the_engines_treat_as_operators_is_searched_as_text_never_an_error(
    api, alice, bob, direct, say, q
):
    say(bob, direct(alice, bob), "budget review at 10:30, see https://example.com/budget")

    status, page = api(alice).get("search", {"q": q})

    assert status == 200, page


def test_a_word_with_a_colon_is_text_not_a_filter(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    said = say(bob, chat, "budget review at 10:30")

    assert found(api(alice), "10:30") == [(chat.pk, said.seq)]
