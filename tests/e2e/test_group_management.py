"""Managing a group from the web UI, with the other members watching: rename, description,
invite link, adding, promoting, removing, leaving; the lines these leave in the timeline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def create_group(person, title: str, *members) -> None:
    page = person.page
    page.get_by_role("button", name="New group").click()
    page.get_by_label("Group name").fill(title)
    page.get_by_role("textbox", name="Members").fill(", ".join(m.username for m in members))
    page.get_by_role("button", name="Create group").click()
    page.get_by_role("dialog", name="Invite link").get_by_role("button", name="Done").click()
    expect(page.locator("#conv-title")).to_have_text(title)


def timeline(person):
    return person.page.locator("#message-list li.timeline-line")


def test_an_owner_manages_the_group_and_the_members_see_it_live(people, server):
    alice, carol = people("alice", "carol")
    (bob,) = people("bob", viewport={"width": 390, "height": 844})  # bob is on a phone
    alice.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    create_group(alice, "Book club", bob)
    alice.send("Welcome!")
    bob.open("Book club")
    expect(bob.message("Welcome!")).to_be_visible()

    # Alice renames it and gives it a description, from the Group info dialog
    alice.conversation_action("Group info")
    dialog = alice.page.get_by_role("dialog", name="Book club")
    dialog.get_by_label("Name", exact=True).fill("Readers")
    dialog.get_by_label("Description").fill("One book a month")
    dialog.get_by_role("button", name="Save").click()
    expect(alice.page.locator("#conv-title")).to_have_text("Readers")
    expect(bob.page.locator("#conv-title")).to_have_text("Readers")
    expect(timeline(bob)).to_have_text(
        ["Alice renamed the group to “Readers” and changed the description"]
    )

    # the invite link is a full URL, copied as one; resetting it makes the old one fail
    dialog = alice.page.get_by_role("dialog", name="Readers")
    old_url = dialog.get_by_role("textbox", name="Invite link").input_value()
    assert old_url.startswith(server.url + "/join/"), old_url
    dialog.get_by_role("button", name="Copy link").click()
    expect(dialog.get_by_role("status")).to_have_text("Link copied.")
    assert alice.page.evaluate("navigator.clipboard.readText()") == old_url
    dialog.get_by_role("button", name="Reset link").click()
    alice.page.get_by_role("dialog", name="Reset the invite link?").get_by_role(
        "button", name="Reset link"
    ).click()
    expect(dialog.get_by_role("textbox", name="Invite link")).not_to_have_value(old_url)
    new_url = dialog.get_by_role("textbox", name="Invite link").input_value()
    assert new_url.startswith(server.url + "/join/"), new_url
    carol.page.goto(old_url)
    expect(carol.page.get_by_role("heading")).to_have_text("This invite link does not work")
    carol.page.goto(server.url + "/")
    carol.wait_ready()

    # she adds Carol by username: Carol gets the group, Bob sees her join
    dialog.get_by_label("New member's address or username").fill(carol.username)
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog.locator("#group-member-list li")).to_have_count(3)
    expect(carol.item("Readers")).to_be_visible()
    expect(timeline(bob).last).to_have_text("Carol joined")

    # she makes Bob an admin with the keyboard: the member's menu, Enter, Enter
    actions = dialog.get_by_role("button", name="Actions for Bob")
    actions.focus()
    alice.page.keyboard.press("Enter")
    expect(alice.page.get_by_role("menuitem", name="Make admin")).to_be_focused()
    alice.page.keyboard.press("Enter")
    expect(dialog.locator("li.member", has_text="Bob")).to_contain_text("Admin")
    expect(timeline(bob).last).to_have_text("You are now an admin")

    # and removes Carol, who loses the group
    dialog.get_by_role("button", name="Actions for Carol").click()
    alice.page.get_by_role("menuitem", name="Remove from group").click()
    alice.page.get_by_role("dialog", name="Remove Carol?").get_by_role(
        "button", name="Remove"
    ).click()
    expect(dialog.locator("#group-member-list li")).to_have_count(2)
    expect(carol.item("Readers")).to_have_count(0)
    expect(timeline(bob).last).to_have_text("Alice removed Carol")
    dialog.get_by_role("button", name="Close").click()

    # Bob, an admin now, sees the group's settings on his phone, and leaves
    bob.conversation_action("Group info")
    bobs = bob.page.get_by_role("dialog", name="Readers")
    expect(bobs.get_by_label("Description")).to_have_value("One book a month")
    expect(bobs.get_by_role("textbox", name="Invite link")).to_have_value(new_url)
    box = bobs.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    bobs.get_by_role("button", name="Leave group…").click()
    bob.page.get_by_role("dialog", name="Leave group?").get_by_role(
        "button", name="Leave group"
    ).click()
    expect(bob.page.locator("#conversation-list")).to_be_visible()
    expect(bob.item("Readers")).to_have_count(0)
    expect(timeline(alice).last).to_have_text("Bob left")

    # the lines are there after a reload too: they come with the history
    alice.reload()
    alice.open("Readers")
    expect(timeline(alice)).to_have_text(
        [
            "You renamed the group to “Readers” and changed the description",
            "Carol joined",
            "Bob is now an admin",
            "You removed Carol",
            "Bob left",
        ]
    )
    assert not alice.errors and not bob.errors


def test_a_member_sees_the_group_but_cannot_manage_it(people):
    alice, bob = people("alice", "bob")
    create_group(alice, "Choir", bob)
    bob.open("Choir")

    bob.conversation_action("Group info")
    dialog = bob.page.get_by_role("dialog", name="Choir")
    expect(dialog.get_by_text("No description.")).to_be_visible()
    expect(dialog.get_by_label("Name", exact=True)).to_be_hidden()
    expect(dialog.get_by_role("textbox", name="Invite link")).to_be_hidden()
    expect(dialog.get_by_role("button", name=re.compile("Actions for"))).to_have_count(0)
    expect(dialog.locator("li.member", has_text="Alice")).to_contain_text("Owner")
