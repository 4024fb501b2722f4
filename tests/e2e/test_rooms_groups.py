"""Public rooms with online counts, groups with invite links, long histories, phones."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def online_count(person) -> int:
    text = person.page.locator("#conv-status").inner_text()
    match = re.search(r"(\d+) online", text)
    assert match, text
    return int(match.group(1))


def settled_online_count(*people, timeout: float = 5.0) -> int:
    """The room's online count once every one of `people` shows the same number and it
    counts them all (each page's first number may come before the others opened it)."""
    deadline = time.monotonic() + timeout
    while True:
        for person in people:
            expect(person.page.locator("#conv-status")).to_contain_text("online")
        counts = {online_count(person) for person in people}
        if len(counts) == 1 and min(counts) >= len(people):
            return counts.pop()
        assert time.monotonic() < deadline, f"online counts never agreed: {counts}"
        people[0].page.wait_for_timeout(100)


def join_public_room(person) -> None:
    person.page.get_by_role("button", name="Public rooms").click()
    rooms = person.page.get_by_role("dialog", name="Public rooms")
    rooms.locator("li.room", has_text="Public chat").get_by_role("button").click()
    expect(person.page.locator("#conv-title")).to_have_text(re.compile("Public chat"))


def test_someone_opening_the_public_room_changes_the_online_count_for_the_others(people):
    alice, bob = people("alice", "bob")
    join_public_room(alice)
    join_public_room(bob)
    before = settled_online_count(alice, bob)

    # when: a third person comes and opens the room
    (carol,) = people("carol")
    carol.page.get_by_role("button", name="Public rooms").click()
    room = carol.page.get_by_role("dialog", name="Public rooms").locator("li.room").first
    expect(room.locator(".online-count")).to_have_text(f"{before} online")
    room.get_by_role("button").click()

    # then: Alice and Bob see one more online, and everyone sees the room's messages
    for person in (alice, bob):
        expect(person.page.locator("#conv-status")).to_contain_text(f"{before + 1} online")
    carol.send("Hello room")
    for person in (alice, bob):
        expect(person.message("Hello room").locator(".sender")).to_have_text("Carol")

    # and when Carol leaves (closes her browser), the count goes back down
    carol.context.close()
    for person in (alice, bob):
        expect(person.page.locator("#conv-status")).to_contain_text(f"{before} online")


def test_group_invite_link_join_page_sender_names_and_read_by(people):
    alice, bob, carol = people("alice", "bob", "carol")
    page = alice.page
    page.get_by_role("button", name="New group").click()
    page.get_by_label("Group name").fill("Book club")
    page.get_by_role("textbox", name="Members").fill(bob.username)
    page.get_by_role("button", name="Create group").click()
    invite = page.get_by_role("dialog", name="Invite link")
    expect(invite).to_be_visible()
    url = invite.get_by_label("Invite link").input_value()
    assert re.search(r"/join/[\w-]+$", url), url
    invite.get_by_role("button", name="Done").click()
    expect(page.locator("#conv-title")).to_have_text("Book club")
    expect(page.locator("#conv-status")).to_contain_text("2 members")

    # Bob was added: the group appears in his list live
    expect(bob.item("Book club")).to_be_visible()

    # Carol follows the link: a page that says where it leads, then the group
    carol.page.goto(url)
    expect(carol.page.get_by_role("heading")).to_have_text("Join “Book club”")
    carol.page.get_by_role("button", name="Join group").click()
    carol.wait_ready()
    expect(carol.page.locator("#conv-title")).to_have_text("Book club")
    expect(page.locator("#conv-status")).to_contain_text("3 members")

    # a message in a group shows who wrote it, and "read by N" for the sender
    alice.send("First meeting on Monday")
    expect(carol.message("First meeting on Monday").locator(".sender")).to_have_text("Alice")
    expect(alice.message("First meeting on Monday")).to_contain_text("read by 1")
    bob.open("Book club")
    expect(alice.message("First meeting on Monday")).to_contain_text("read by 2")
    expect(alice.message("First meeting on Monday")).to_have_attribute("data-status", "read")

    # a link that is no longer valid says so
    carol.page.goto(url.rsplit("/", 1)[0] + "/not-a-secret")
    expect(carol.page.get_by_role("heading")).to_have_text("This invite link does not work")


def test_long_history_scrolls_up_page_by_page(people, server):
    alice, bob = people("alice", "bob")
    server.shell(
        "from parley.accounts.models import User\n"
        "from parley.chat import selectors, services\n"
        f"a = User.objects.get(username={alice.username!r})\n"
        f"conv, _ = services.conversation_get_or_create_direct(user=a, other={bob.username!r})\n"
        "m = selectors.membership_for(a, conv.pk)\n"
        "for i in range(1, 131):\n"
        "    services.message_send(membership=m, body=f'history {i}', client_id=f'h{i}')\n"
    )
    bob.reload()
    expect(bob.badge("Alice")).to_have_text("99+")
    bob.open("Alice")
    # all unread: it opens at the first of them, the history read back to it
    expect(bob.page.locator("#unread-divider ~ li.msg .body").first).to_have_text("history 1")
    expect(bob.bodies).to_have_count(130)
    expect(bob.badge("Alice")).to_have_count(0)

    # Alice, who wrote them, has nothing unread: she scrolls up through them page by page
    alice.reload()
    alice.open("Bob")
    expect(alice.bodies.last).to_have_text("history 130")
    expect(alice.bodies).to_have_count(50)
    box = alice.page.locator("#messages")
    for expected in (100, 130):
        box.evaluate("el => el.scrollTop = 0")
        expect(alice.bodies).to_have_count(expected)
    expect(alice.page.locator("#history-status")).to_have_text(
        "This is the beginning of the conversation."
    )
    texts = alice.bodies.all_inner_texts()
    assert texts == [f"history {i}" for i in range(1, 131)]


def test_phone_layout_shows_one_pane_at_a_time(people):
    alice, bob = people("alice", "bob", viewport={"width": 390, "height": 844})
    alice.start_chat(bob.username)
    expect(alice.page.locator("#conv-title")).to_have_text("Bob")
    expect(alice.page.locator("#conversation-list")).to_be_hidden()
    alice.send("from my phone")
    alice.page.get_by_role("button", name="Back to conversations").click()
    expect(alice.page.locator("#conversation-list")).to_be_visible()
    expect(alice.page.locator("#conversation")).to_be_hidden()
    expect(alice.item("Bob").locator(".conv-preview")).to_have_text("You: from my phone")
    # the browser's back and forward buttons move between the two panes
    alice.page.go_back()
    expect(alice.page.locator("#conv-title")).to_be_visible()
    alice.page.go_back()
    expect(alice.page.locator("#conversation-list")).to_be_visible()
