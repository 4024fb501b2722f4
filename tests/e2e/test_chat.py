"""Two people chatting in two browsers: live messages, typing, unread, receipts, deletes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_sign_up_with_the_emailed_code_then_chat_live_both_ways(people):
    (bob,) = people("bob")
    (dora,) = people("dora", signed_up=False)

    # when: Dora signs up and types the code she was emailed
    dora.sign_up()

    # then: she is in, with no chats yet, and can start one with Bob by his email
    expect(dora.page.locator("#list-empty")).to_be_visible()
    dora.start_chat(bob.email)
    expect(dora.page.locator("#conv-title")).to_have_text("Bob")
    dora.send("Hello, I just signed up")
    expect(bob.item(dora.username)).to_be_visible()
    bob.open(dora.username)
    expect(bob.bodies).to_have_text(["Hello, I just signed up"])
    bob.send("Welcome to Parley")
    expect(dora.bodies).to_have_text(["Hello, I just signed up", "Welcome to Parley"])


def test_direct_chat_live_both_ways_with_typing_unread_and_receipts(people):
    alice, bob = people("alice", "bob")

    # given: Alice looks for someone who does not exist, then for Bob by email
    alice.start_chat("nobody-here@example.com")
    expect(alice.page.get_by_role("alert")).to_contain_text("Nobody on Parley has")
    alice.page.get_by_label("Email or username").fill(bob.email)
    alice.page.get_by_role("button", name="Start chat").click()
    expect(alice.page.locator("#conv-title")).to_have_text("Bob")
    expect(alice.page.locator("#conv-status")).to_have_text("online")

    # when: Alice writes while Bob, who allowed notifications, is looking at his list
    bob.record_notifications()
    alice.send("Hi Bob!")
    alice.send("Are you there?")

    # then: Bob's list shows the chat with an unread badge that counts, and the tab says so
    expect(bob.badge("Alice")).to_have_text("2")
    expect(bob.page).to_have_title("(2) Parley")
    expect(bob.item("Alice").locator(".conv-preview")).to_have_text("Are you there?")
    expect(bob.item("Alice").locator(".conv-title")).to_have_class(re.compile(r"\bonline\b"))
    # Bob's browser got them: Alice's ticks say delivered, not read
    expect(alice.message("Are you there?")).to_have_attribute("data-status", "delivered")
    assert bob.notifications() == [
        {"title": "Alice", "body": "Hi Bob!"},
        {"title": "Alice", "body": "Are you there?"},
    ]

    # when: Bob opens the chat
    bob.open("Alice")

    # then: the badge is gone, both messages are there, and Alice sees them read
    expect(bob.badge("Alice")).to_have_count(0)
    expect(bob.page).to_have_title("Parley")
    expect(bob.bodies).to_have_text(["Hi Bob!", "Are you there?"])
    expect(alice.message("Hi Bob!")).to_have_attribute("data-status", "read")
    expect(alice.message("Are you there?")).to_have_attribute("data-status", "read")

    # typing shows on the other side, and stops when the box is emptied
    bob.page.locator("#composer-input").press_sequentially("Yes, I am", delay=15)
    expect(alice.page.locator("#typing")).to_have_text("Bob is typing…")
    expect(alice.item("Bob").locator(".conv-preview")).to_have_text("typing…")
    bob.page.locator("#composer-input").fill("")
    expect(alice.page.locator("#typing")).to_have_text("")

    # Bob answers live; typing ends with the message
    bob.page.locator("#composer-input").press_sequentially("Yes, I am here", delay=10)
    expect(alice.page.locator("#typing")).to_have_text("Bob is typing…")
    bob.page.locator("#composer-input").press("Enter")
    expect(alice.bodies).to_have_text(["Hi Bob!", "Are you there?", "Yes, I am here"])
    expect(alice.page.locator("#typing")).to_have_text("")
    # Alice has the chat open: no badge for her, and Bob's message is read at once
    expect(alice.badge("Bob")).to_have_count(0)
    expect(bob.message("Yes, I am here")).to_have_attribute("data-status", "read")
    # the day separator heads today's messages
    expect(alice.page.locator("#message-list .day-sep")).to_have_text(["Today"])
    assert not alice.errors and not bob.errors


def test_html_in_a_message_is_shown_as_text_and_links_are_safe(people):
    alice, bob = people("alice", "bob")
    alice.start_chat(bob.username)
    expect(alice.page.locator("#conv-title")).to_have_text("Bob")
    bob.open("Alice")

    attack = "<img src=x onerror=alert(1)>"
    alice.send(attack)
    alice.send("look: https://example.com/a?b=1. and javascript:alert(2)")

    for person in (alice, bob):
        expect(person.bodies.first).to_have_text(attack)
        expect(person.page.locator("#message-list img")).to_have_count(0)
        link = person.bodies.nth(1).locator("a")
        expect(link).to_have_count(1)
        expect(link).to_have_attribute("href", "https://example.com/a?b=1")
        expect(link).to_have_attribute("rel", re.compile("noopener"))
    bob.reload()
    bob.open("Alice")
    expect(bob.bodies.first).to_have_text(attack)
    bob.page.wait_for_timeout(300)
    assert alice.dialogs == [] and bob.dialogs == []


def test_delete_for_everyone_and_for_me_survive_a_reload(people):
    alice, bob = people("alice", "bob")
    alice.start_chat(bob.email)
    expect(alice.page.locator("#conv-title")).to_have_text("Bob")
    for text in ("one", "two", "three"):
        alice.send(text)
    bob.open("Alice")
    expect(bob.bodies).to_have_text(["one", "two", "three"])

    # Alice deletes "two" for everyone: a tombstone on both sides
    alice.message_action("two", "Delete for everyone")
    expect(bob.bodies).to_have_text(["one", "Message deleted", "three"])
    expect(alice.bodies).to_have_text(["one", "Message deleted", "three"])
    expect(bob.page.locator("#message-list")).not_to_contain_text("two")

    # Bob deletes "three" for himself only, with the keyboard alone
    bob.message("three").get_by_role("button", name="Message actions").focus()
    bob.page.keyboard.press("Enter")
    expect(bob.page.get_by_role("menuitem", name="Copy text")).to_be_focused()
    bob.page.keyboard.press("ArrowDown")
    expect(bob.page.get_by_role("menuitem", name="React…")).to_be_focused()
    bob.page.keyboard.press("ArrowDown")
    expect(bob.page.get_by_role("menuitem", name="Delete for me")).to_be_focused()
    bob.page.keyboard.press("Enter")
    expect(bob.bodies).to_have_text(["one", "Message deleted"])
    alice.page.wait_for_timeout(300)
    expect(alice.bodies).to_have_text(["one", "Message deleted", "three"])

    # a reload keeps the history as each of them left it
    bob.reload()
    bob.open("Alice")
    expect(bob.bodies).to_have_text(["one", "Message deleted"])
    alice.reload()
    alice.open("Bob")
    expect(alice.bodies).to_have_text(["one", "Message deleted", "three"])

    # clearing the history asks first, then empties it for Alice only
    alice.conversation_action("Clear history…")
    dialog = alice.page.get_by_role("dialog", name="Clear history?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Clear history").click()
    expect(alice.messages).to_have_count(0)
    alice.reload()
    alice.open("Bob")
    expect(alice.page.locator("#history-status")).to_have_text("No messages yet. Say hello!")
    expect(alice.messages).to_have_count(0)
    expect(bob.bodies).to_have_text(["one", "Message deleted"])


def test_offline_person_gets_every_message_once_and_in_order(people):
    alice, bob = people("alice", "bob")
    alice.start_chat(bob.email)
    expect(alice.page.locator("#conv-title")).to_have_text("Bob")
    alice.send("before")
    bob.open("Alice")
    expect(bob.bodies).to_have_text(["before"])

    expect(alice.page.locator("#conv-status")).to_have_text("online")

    # when: Bob's network goes away
    bob.context.set_offline(True)
    expect(bob.page.locator("#banner")).to_contain_text("Connection lost")
    expect(alice.page.locator("#conv-status")).to_have_text(re.compile("^last seen"))
    sent = [f"while away {i}" for i in range(1, 6)]
    for text in sent:
        alice.send(text)
    expect(alice.bodies).to_have_text(["before", *sent])
    # Bob writes too: it waits as pending
    bob.send("written offline")
    expect(bob.message("written offline")).to_have_attribute("data-status", "pending")
    expect(bob.bodies).to_have_text(["before", "written offline"])

    # then: back online, everything arrives once, in order, and his message goes out
    bob.context.set_offline(False)
    expect(bob.page.locator("#banner")).to_be_hidden(timeout=20000)
    expect(alice.page.locator("#conv-status")).to_have_text("online")
    expect(bob.bodies).to_have_text(["before", *sent, "written offline"])
    expect(bob.message("written offline")).not_to_have_attribute("data-status", "pending")
    expect(alice.bodies).to_have_text(["before", *sent, "written offline"])
    # and once more after a reload: the server has exactly that
    bob.reload()
    bob.open("Alice")
    expect(bob.bodies).to_have_text(["before", *sent, "written offline"])


def test_past_the_unread_cap_the_list_and_the_tab_say_more_than_not_a_count(people, server):
    alice, bob = people("alice", "bob")
    # given: Alice wrote 1,005 messages Bob has not read (the server counts up to 1,000)
    server.shell(
        "from parley.accounts.models import User\n"
        "from parley.chat import selectors, services\n"
        "from parley.chat.services.messages import SendRequest, message_send_many\n"
        f"a = User.objects.get(username={alice.username!r})\n"
        f"conv, _ = services.conversation_get_or_create_direct(user=a, other={bob.username!r})\n"
        "m = selectors.membership_for(a, conv.pk)\n"
        "message_send_many([SendRequest(m, f'unread {i}', f'u{i}') for i in range(1, 1006)])\n"
    )

    # when: Bob looks at his list
    bob.reload()

    # then: the badge, the tab and what a screen reader hears say "more than 999"
    expect(bob.badge("Alice")).to_have_text("99+")
    expect(bob.page).to_have_title("(999+) Parley")
    label = bob.item("Alice").locator(".visually-hidden")
    expect(label).to_contain_text("more than 999 unread")

    # a live message on top is still "more than 999", then opening the chat reads it all
    alice.reload()
    alice.open("Bob")
    alice.send("one more")
    expect(bob.item("Alice").locator(".conv-preview")).to_have_text("one more")
    expect(bob.page).to_have_title("(999+) Parley")
    bob.open("Alice")
    expect(bob.badge("Alice")).to_have_count(0)
    expect(bob.page).to_have_title("Parley")
    assert not alice.errors and not bob.errors
