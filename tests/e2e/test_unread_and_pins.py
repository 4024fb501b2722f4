"""The unread divider, marking unread and pinned messages, with two people."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def write(server, sender, other, bodies: range, prefix: str = "msg") -> None:
    """`sender` writes to their direct chat with `other` through the service, in a process
    of its own: with the in-memory layer of the browser tests' server its events reach the
    server's sockets at the hub's head check (docs/architecture.md, "Dropped last events":
    up to two rounds of PARLEY_GAP_CHECK_SECONDS), hence LIVE_TIMEOUT below."""
    server.shell(
        "from parley.accounts.models import User\n"
        "from parley.chat import selectors, services\n"
        f"a = User.objects.get(username={sender.username!r})\n"
        f"conv, _ = services.conversation_get_or_create_direct(user=a, other={other.username!r})\n"
        "m = selectors.membership_for(a, conv.pk)\n"
        f"for i in range({bodies.start}, {bodies.stop}):\n"
        f"    body = f'{prefix} {{i}}'\n"
        "    services.message_send(membership=m, body=body, client_id=body.replace(' ', ''))\n"
    )


LIVE_TIMEOUT = 10_000  # ms: two head checks of 3 s, on a busy machine


def home(person) -> None:
    """The chat page with no conversation open (a reload would open the one shown)."""
    person.page.goto(person.server.url + "/")
    person.wait_ready()


def in_view(person, locator) -> bool:
    return bool(
        locator.evaluate(
            "el => { const box = document.getElementById('messages').getBoundingClientRect();"
            " const r = el.getBoundingClientRect();"
            " return r.top >= box.top - 1 && r.bottom <= box.bottom + 1; }"
        )
    )


def test_opening_a_chat_with_unread_messages_starts_at_the_new_messages_divider(people, server):
    alice, bob = people("alice", "bob")
    write(server, alice, bob, range(1, 11))
    bob.reload()
    bob.open("Alice")
    expect(bob.bodies.last).to_have_text("msg 10")
    home(bob)  # Bob read up to msg 10 and went away

    # 70 more: the first unread lies beyond the first page of history
    write(server, alice, bob, range(11, 81))
    home(bob)
    expect(bob.badge("Alice")).to_have_text("70", timeout=LIVE_TIMEOUT)
    bob.open("Alice")

    divider = bob.page.get_by_role("separator", name="New messages")
    expect(divider).to_be_visible()
    following = bob.page.locator("#unread-divider ~ li.msg .body").first
    expect(following).to_have_text("msg 11")
    assert in_view(bob, divider)
    expect(bob.badge("Alice")).to_have_count(0)  # opened: read

    # away from the newest: "Jump to latest" brings it, "Jump to first unread" goes back
    bob.page.get_by_role("button", name="Jump to latest").click()
    expect(bob.message("msg 80")).to_be_in_viewport()
    expect(bob.page.get_by_role("button", name="Jump to latest")).to_be_hidden()
    bob.page.get_by_role("button", name="Jump to first unread").click()
    expect(divider).to_be_in_viewport()

    # a new message while Bob is there goes below, without a second divider
    write(server, alice, bob, range(81, 82))
    expect(bob.bodies.last).to_have_text("msg 81", timeout=LIVE_TIMEOUT)
    expect(bob.page.locator("li.unread-divider")).to_have_count(1)
    assert not bob.errors


def test_marking_unread_shows_on_my_other_device_and_where_i_open_it(people, server, browser):
    alice, bob = people("alice", "bob")
    write(server, alice, bob, range(1, 6))
    bob.reload()
    bob.open("Alice")
    expect(bob.bodies.last).to_have_text("msg 5")
    # Bob's second tab, on the list
    other = bob.context.new_page()
    other.goto(server.url + "/")
    expect(other.locator("#conversation-list")).to_have_attribute("aria-busy", "false")

    bob.message_action("msg 3", "Mark unread from here")

    item = other.locator("#conversation-list li", has_text="Alice")
    expect(item.locator(".badge")).to_have_text("3")
    expect(bob.badge("Alice")).to_have_text("3")
    # it stays unread while Bob still looks at it, with the divider where he marked it
    expect(bob.page.locator("#unread-divider ~ li.msg .body").first).to_have_text("msg 3")
    bob.page.wait_for_timeout(500)
    expect(bob.badge("Alice")).to_have_text("3")

    # Alice still sees that Bob read her messages
    alice.open("Bob")
    expect(alice.message("msg 5")).to_have_attribute("data-status", "read")

    # opening it on the other tab starts at the divider and reads it again
    other.locator("#conversation-list li a", has_text="Alice").click()
    expect(other.locator("#unread-divider ~ li.msg .body").first).to_have_text("msg 3")
    expect(bob.badge("Alice")).to_have_count(0)


def test_pins_in_a_direct_chat_and_in_a_group(people, server):
    alice, bob = people("alice", "bob")
    write(server, alice, bob, range(1, 4), prefix="note")
    for person in (alice, bob):
        person.reload()
    alice.open("Bob")
    bob.open("Alice")

    # both people of a direct chat pin: Bob pins Alice's message, both see the bar
    bob.message_action("note 2", "Pin")
    for person in (alice, bob):
        bar = person.page.get_by_role("region", name="Pinned messages")
        expect(bar).to_contain_text("note 2")
    expect(alice.page.locator("li.timeline-line")).to_have_text(["Bob pinned a message"])

    # a click on the bar shows the message in the history
    alice.page.get_by_role("button", name=re.compile("^Pinned message: Alice: note 2")).click()
    expect(alice.message("note 2")).to_have_class(re.compile("jumped"))

    # Alice pins another; the bar shows the newest, the list both; she unpins from it
    alice.message_action("note 3", "Pin")
    expect(bob.page.get_by_role("region", name="Pinned messages")).to_contain_text(
        "Pinned message 1 of 2"
    )
    alice.page.get_by_role("button", name="All pinned messages (2)").click()
    pins = alice.page.get_by_role("dialog", name="Pinned messages (2)")
    expect(pins.locator("li.pin-item")).to_have_count(2)
    pins.get_by_role("button", name="Unpin the message of Alice").first.click()
    expect(alice.page.get_by_role("dialog", name="Pinned messages (1)")).to_be_visible()
    alice.page.keyboard.press("Escape")
    expect(bob.page.get_by_role("region", name="Pinned messages")).to_contain_text("note 2")
    expect(bob.page.get_by_role("region", name="Pinned messages")).not_to_contain_text("of 2")

    # after a reload the pin is still there
    bob.reload()
    bob.open("Alice")
    expect(bob.page.get_by_role("region", name="Pinned messages")).to_contain_text("note 2")


def test_in_a_group_a_member_cannot_pin(people):
    alice, bob = people("alice", "bob")
    page = alice.page
    page.get_by_role("button", name="New group").click()
    page.get_by_label("Group name").fill("Quiz")
    page.get_by_role("textbox", name="Members").fill(bob.username)
    page.get_by_role("button", name="Create group").click()
    page.get_by_role("dialog", name="Invite link").get_by_role("button", name="Done").click()
    alice.send("Rules: no phones")
    bob.open("Quiz")

    row = bob.message("Rules: no phones")
    row.hover()
    row.get_by_role("button", name="Message actions").click()
    expect(bob.page.get_by_role("menuitem", name="Mark unread from here")).to_be_visible()
    expect(bob.page.get_by_role("menuitem", name="Pin")).to_have_count(0)
    bob.page.keyboard.press("Escape")

    alice.message_action("Rules: no phones", "Pin")
    expect(bob.page.get_by_role("region", name="Pinned messages")).to_contain_text(
        "Rules: no phones"
    )
    bob.page.get_by_role("button", name="All pinned messages (1)").click()
    dialog = bob.page.get_by_role("dialog", name="Pinned messages (1)")
    expect(
        dialog.get_by_role("button", name="Show the message of Alice in the conversation")
    ).to_be_visible()
    expect(dialog.get_by_role("button", name=re.compile("^Unpin"))).to_have_count(0)
