"""Two people: an edit shown live with "(edited)" and its history; reactions counted on
both sides, toggled by keyboard, on a phone too."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_an_edit_is_shown_live_with_edited_and_its_history(people):
    alice, bob = people("alice", "bob")
    alice.start_chat(bob.email)
    expect(alice.page.locator("#conv-title")).to_have_text("Bob")
    alice.send("See you at 5")
    alice.send("bring snacks")
    bob.open("Alice")
    expect(bob.bodies).to_have_text(["See you at 5", "bring snacks"])

    # Bob's menu on Alice's message has React but no Edit
    row = bob.message("See you at 5")
    row.hover()
    row.get_by_role("button", name="Message actions").click()
    expect(bob.page.get_by_role("menuitem", name="React…")).to_be_visible()
    expect(bob.page.get_by_role("menuitem", name="Edit")).to_have_count(0)
    bob.page.keyboard.press("Escape")

    # Alice edits hers
    alice.message_action("See you at 5", "Edit")
    box = alice.page.get_by_label("Message text")
    expect(box).to_have_value("See you at 5")
    box.fill("See you at 6")
    box.press("Control+Enter")
    expect(alice.page.locator("#edit-dialog")).to_be_hidden()

    # both see the new text in place, marked (edited); the order and unread stay
    for person in (alice, bob):
        expect(person.bodies).to_have_text(["See you at 6", "bring snacks"])
        expect(person.message("See you at 6").locator(".edited-mark")).to_have_text("(edited)")
    expect(bob.badge("Alice")).to_have_count(0)
    expect(alice.item("Bob").locator(".conv-preview")).to_have_text("You: bring snacks")

    # Bob reads the earlier text
    bob.message("See you at 6").get_by_role("button", name=re.compile("show earlier")).click()
    versions = bob.page.locator("#edit-versions li .body")
    expect(versions).to_have_text(["See you at 5", "See you at 6"])
    bob.page.get_by_role("button", name="Close").click()

    # after a reload, still edited
    bob.reload()
    bob.open("Alice")
    expect(bob.message("See you at 6").locator(".edited-mark")).to_be_visible()


def test_a_reaction_is_counted_on_both_sides_and_toggled_from_the_keyboard(people):
    alice, bob = people("alice", "bob")
    alice.start_chat(bob.email)
    alice.send("Lunch?")
    bob.open("Alice")
    expect(bob.bodies).to_have_text(["Lunch?"])

    # Bob reacts 👍 from the menu
    bob.message_action("Lunch?", "React…")
    bob.page.get_by_role("menuitemcheckbox", name="👍").click()

    for person in (alice, bob):
        chip = person.message("Lunch?").get_by_role("button", name=re.compile("^👍 1 reaction"))
        expect(chip).to_have_text("👍1")
        expect(chip).to_have_attribute("title", "You" if person is bob else "Bob")
    bob_chip = bob.message("Lunch?").locator(".reaction")
    expect(bob_chip).to_have_attribute("aria-pressed", "true")

    # Alice adds hers with the keyboard: the chip, then Enter
    alice_chip = alice.message("Lunch?").locator(".reaction")
    expect(alice_chip).to_have_attribute("aria-pressed", "false")
    alice_chip.focus()
    alice.page.keyboard.press("Enter")
    for person in (alice, bob):
        expect(person.message("Lunch?").locator(".reaction-count")).to_have_text("2")
    expect(alice.message("Lunch?").locator(".reaction")).to_have_attribute("aria-pressed", "true")
    expect(bob.message("Lunch?").locator(".reaction")).to_have_attribute("title", "You and Alice")

    # any other single emoji; text is refused in the dialog
    alice.message_action("Lunch?", "React…")
    alice.page.get_by_role("menuitem", name="Other emoji…").click()
    field = alice.page.get_by_label("One emoji")
    field.fill("yes")
    field.press("Enter")
    expect(alice.page.locator("#emoji-error")).to_contain_text("not one emoji")
    field.fill("🦄")
    field.press("Enter")
    expect(bob.message("Lunch?").get_by_role("button", name=re.compile("^🦄 1"))).to_be_visible()

    # Bob takes his 👍 back
    bob.message("Lunch?").get_by_role("button", name=re.compile("^👍")).click()
    expect(alice.message("Lunch?").get_by_role("button", name=re.compile("^👍"))).to_have_text(
        "👍1"
    )

    # the counts survive a reload (the history page carries them)
    alice.reload()
    alice.open("Bob")
    chips = alice.message("Lunch?").locator(".reaction")
    expect(chips).to_have_text(["👍1", "🦄1"])
    expect(chips.first).to_have_attribute("aria-pressed", "true")
    assert alice.dialogs == [] and bob.dialogs == []


def test_reactions_and_edits_on_a_phone(people):
    alice, bob = people("alice", "bob", viewport={"width": 390, "height": 844})
    alice.start_chat(bob.username)
    alice.send("from my phone")
    bob.open("Alice")
    expect(bob.bodies).to_have_text(["from my phone"])

    # a tap shows the message's menu button
    bob.message("from my phone").locator(".bubble").click()
    bob.message("from my phone").get_by_role("button", name="Message actions").click()
    bob.page.get_by_role("menuitem", name="React…").click()
    bob.page.get_by_role("menuitemcheckbox", name="🎉").click()

    chip = alice.message("from my phone").locator(".reaction")
    expect(chip).to_have_text("🎉1")
    box = chip.bounding_box()
    assert box is not None and box["height"] >= 32  # a finger's target
    alice.message("from my phone").locator(".bubble").click()
    alice.message("from my phone").get_by_role("button", name="Message actions").click()
    alice.page.get_by_role("menuitem", name="Edit").click()
    alice.page.get_by_label("Message text").fill("from my phone, edited")
    alice.page.get_by_role("button", name="Save").click()
    expect(bob.message("from my phone, edited").locator(".edited-mark")).to_be_visible()
    expect(bob.message("from my phone, edited").locator(".reaction")).to_have_text("🎉1")


def test_a_group_admin_turns_edits_off_and_on_for_everyone(people):
    alice, bob = people("alice", "bob")
    page = alice.page
    page.get_by_role("button", name="New group").click()
    page.get_by_label("Group name").fill("Hikers")
    page.locator("#new-group-members").fill(bob.username)
    page.get_by_role("button", name="Create group").click()
    page.get_by_role("dialog", name="Invite link").get_by_role("button", name="Done").click()
    bob.open("Hikers")
    bob.send("typo hree")
    expect(alice.bodies).to_have_text(["typo hree"])

    # Alice, the owner, forbids edits: Bob's menu loses Edit at once
    page.get_by_role("button", name="Conversation menu").click()
    item = page.get_by_role("menuitemcheckbox", name="Members may edit messages")
    expect(item).to_have_attribute("aria-checked", "true")
    item.click()
    expect(page.get_by_role("status").filter(has_text="can no longer be edited")).to_be_visible()
    row = bob.message("typo hree")
    row.hover()
    row.get_by_role("button", name="Message actions").click()
    expect(bob.page.get_by_role("menuitem", name="React…")).to_be_visible()
    expect(bob.page.get_by_role("menuitem", name="Edit")).to_have_count(0)
    bob.page.keyboard.press("Escape")

    # and allows them again
    page.get_by_role("button", name="Conversation menu").click()
    item = page.get_by_role("menuitemcheckbox", name="Members may edit messages")
    expect(item).to_have_attribute("aria-checked", "false")
    item.click()
    bob.message_action("typo hree", "Edit")
    bob.page.get_by_label("Message text").fill("typo here")
    bob.page.get_by_role("button", name="Save").click()
    expect(alice.message("typo here").locator(".edited-mark")).to_be_visible()


def test_a_visitor_sees_the_teams_edit_live_in_the_widget(people, server, host_site, visitor_page):
    from tests.e2e.test_inbox import create_widget, inbox_item
    from tests.e2e.widget_host import Visitor, embed

    (olive,) = people("olive")
    key = create_widget(olive, "Shop", site=host_site.url)
    olive.page.get_by_role("tab", name="Inbox").click()
    embed(host_site, "/boots", server, key)
    visitor = Visitor(page := visitor_page())
    page.goto(host_site.url + "/boots")
    visitor.launcher.click()
    visitor.frame.locator("#prechat-name").fill("Vera")
    visitor.write("Do you ship to Oslo?")
    inbox_item(olive.page, "Vera").locator("a").click()
    olive.send("Yes, in 2 days")
    expect(visitor.bodies).to_have_text(["Do you ship to Oslo?", "Yes, in 2 days"])

    olive.message_action("Yes, in 2 days", "Edit")
    olive.page.get_by_label("Message text").fill("Yes, in 3 days")
    olive.page.get_by_role("button", name="Save").click()

    expect(visitor.bodies).to_have_text(["Do you ship to Oslo?", "Yes, in 3 days"])
    expect(visitor.frame.locator(".msg").last).to_contain_text("edited")
