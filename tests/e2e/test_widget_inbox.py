"""The two halves of support together, each in its own browser: a visitor chats in the
widget embedded in a page of another site (a second loopback origin), and the widget's
owner answers in Parley's Inbox. Everything the test checks is what one of them sees."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_inbox import create_widget, inbox_item
from tests.e2e.widget_host import Visitor, embed

pytestmark = pytest.mark.e2e

RESOLVED_IN_FRAME = "This conversation is resolved. Write to open it again."


def test_a_visitor_on_another_site_and_the_owner_in_the_inbox_chat_live(
    people, server, host_site, visitor_page
):
    # given: the owner made a widget for the shop's site and watches her Inbox
    (olive,) = people("olive")
    inbox = olive.page
    key = create_widget(olive, "Shop", site=host_site.url)
    inbox.get_by_role("tab", name="Inbox").click()
    expect(inbox.locator("#inbox-empty")).to_be_visible()
    # and the shop's page has the one tag, under a stylesheet that hides every iframe
    embed(host_site, "/boots", server, key)
    visitor = Visitor(page := visitor_page())
    page.goto(host_site.url + "/boots")

    # when: a visitor opens the chat
    visitor.launcher.click()

    # then: the panel shows in the site's own fonts, not the host page's
    expect(visitor.iframe).to_be_visible()
    expect(visitor.frame.locator("h1")).not_to_have_css("font-family", re.compile("Comic"))

    # when: she gives her name and writes twice
    visitor.frame.locator("#prechat-name").fill("Vera")
    visitor.write("Do you have these boots in size 39?")
    expect(visitor.frame.locator(".msg.mine")).not_to_have_attribute("data-state", "sending")
    visitor.write("The brown ones")

    # then: the owner sees the conversation arrive without a reload, with its unread count
    item = inbox_item(inbox, "Vera")
    expect(item.locator(".badge")).to_have_text("2")
    expect(item.locator(".conv-preview")).to_have_text("The brown ones")
    expect(inbox.locator("#inbox-badge")).to_have_text("2")

    # when: she opens it
    item.locator("a").click()

    # then: she reads both messages, and they are no longer unread
    expect(inbox.locator("#conv-title")).to_have_text("Vera")
    expect(olive.bodies).to_have_text(["Do you have these boots in size 39?", "The brown ones"])
    expect(item.locator(".badge")).to_have_count(0)

    # when: the visitor types, the owner sees it in the conversation
    expect(visitor.frame.locator("body")).to_have_attribute("data-link", "ready")
    visitor.composer.fill("And in 40")
    expect(inbox.locator("#typing")).to_have_text("Vera is typing…")
    visitor.composer.fill("")
    expect(inbox.locator("#typing")).to_have_text("")

    # when: the owner types, the visitor sees it in the frame
    inbox.locator("#composer-input").fill("Let me look")
    expect(visitor.frame.locator("#typing")).to_have_text("Olive is typing…")

    # when: she answers
    olive.send("Yes, we have both sizes")

    # then: the answer is in the visitor's frame, and the typing is gone
    expect(visitor.bodies).to_have_text(
        ["Do you have these boots in size 39?", "The brown ones", "Yes, we have both sizes"]
    )
    expect(visitor.frame.locator("#typing")).to_have_text("")

    # when: the visitor reloads the shop's page and opens the chat again
    page.reload()
    visitor.launcher.click()

    # then: the same conversation, each message once, on both sides
    expect(visitor.bodies).to_have_text(
        ["Do you have these boots in size 39?", "The brown ones", "Yes, we have both sizes"]
    )
    expect(visitor.frame.locator("#prechat")).to_be_hidden()
    expect(inbox.locator("#inbox-list li")).to_have_count(1)
    expect(olive.bodies).to_have_count(3)

    # when: the owner resolves it
    inbox.get_by_role("button", name="Resolve").click()

    # then: it leaves her open conversations, and the visitor's frame says so
    expect(inbox.locator("#support-status")).to_have_text("Resolved")
    expect(item).to_have_count(0)
    expect(visitor.frame.locator("#status")).to_have_text(RESOLVED_IN_FRAME)

    # when: the visitor writes again
    visitor.write("One more question")

    # then: it is open again, back in the owner's inbox without a reload
    expect(item).to_be_visible()
    expect(inbox.locator("#support-status")).to_have_text("Open")
    expect(olive.bodies.last).to_have_text("One more question")
    expect(inbox.locator("#inbox-list li")).to_have_count(1)
    expect(visitor.frame.locator("#status")).to_be_hidden()
    assert olive.errors == []
    assert page.errors == []  # type: ignore[attr-defined]
