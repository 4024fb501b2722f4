"""Parley's support automation in the browser: the widget's bot shown as a bot, canned
replies typed with `/` in the composer. The owner works in the web UI; the visitor is
driven over their own HTTP endpoints (tests/e2e/test_inbox.py's `Visitor`), and the
bot's and the canned replies' settings over the REST API with the owner's token."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.people import PASSWORD
from tests.e2e.test_inbox import Visitor, create_widget, inbox_item

pytestmark = pytest.mark.e2e


class Api:
    """The REST API as the owner, with a bearer token."""

    def __init__(self, person: Any) -> None:
        self.base = person.server.url + "/api/v1"
        self.token = self.call(
            "POST", "/auth/token", {"email": person.email, "password": PASSWORD}
        )["token"]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers,
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def widget_id(self, key: str) -> int:
        (widget,) = [w for w in self.call("GET", "/widgets") if w["public_key"] == key]
        return widget["id"]


def eventually(check: Any, timeout: float = 10) -> None:
    """Wait until `check()` is true: what the server stores after a click in the page."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


def test_the_bots_answers_are_shown_as_a_bots_never_as_a_persons(people, server):
    (olive,) = people("olive")
    page = olive.page
    key = create_widget(olive, "Shop")
    api = Api(olive)
    widget = api.widget_id(key)
    api.call(
        "PATCH",
        f"/widgets/{widget}/bot",
        {"enabled": True, "name": "Shop bot", "greeting": "Hello from the shop's bot!"},
    )

    # when: a visitor writes, and the bot greets them
    kari = Visitor(server, key)
    kari.say("Hi there", name="Kari")
    page.get_by_role("tab", name="Inbox").click()
    inbox_item(page, "Kari").locator("a").click()

    # then: the greeting carries the bot's name and a "Bot" badge, the visitor's does not
    greeting = olive.message("Hello from the shop's bot!")
    expect(greeting).to_have_class(re.compile(r"\bfrom-bot\b"))
    expect(greeting.locator(".sender")).to_have_text("Shop bot Bot")
    expect(greeting.locator(".bot-badge")).to_have_text("Bot")
    expect(greeting.locator(".visually-hidden")).to_have_text("Shop bot (bot): ")
    expect(olive.message("Hi there").locator(".bot-badge")).to_have_count(0)
    assert olive.errors == []


def test_a_canned_reply_is_inserted_with_a_slash_and_sent_after_editing(people, server):
    (olive,) = people("olive")
    page = olive.page
    key = create_widget(olive, "Shop")
    api = Api(olive)
    widget = api.widget_id(key)
    api.call(
        "POST",
        f"/widgets/{widget}/canned",
        {"shortcut": "shipping", "body": "Hi {visitor.name}, we ship in 3 days. {agent.name}"},
    )
    api.call("POST", f"/widgets/{widget}/canned", {"shortcut": "thanks", "body": "Thank you!"})
    kari = Visitor(server, key)
    kari.say("How long does shipping take?", name="Kari")
    page.get_by_role("tab", name="Inbox").click()
    inbox_item(page, "Kari").locator("a").click()
    box = page.locator("#composer-input")
    options = page.get_by_role("listbox", name="Canned replies").get_by_role("option")

    # when: the owner types "/" the team's replies are offered, "/sh" narrows them
    box.press_sequentially("/")
    expect(options).to_have_count(2)
    box.press_sequentially("sh")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("/shipping")

    # and Enter inserts the reply rendered for Kari and Olive, without sending it
    box.press("Enter")
    expect(box).to_have_value("Hi Kari, we ship in 3 days. Olive")
    expect(options).to_have_count(0)
    expect(olive.messages).to_have_count(1)

    # the owner edits it, and sends it like any message
    box.press_sequentially(" /th")
    options.filter(has_text="/thanks").click()
    expect(box).to_have_value("Hi Kari, we ship in 3 days. Olive Thank you!")
    box.press("Enter")
    expect(olive.bodies.last).to_have_text("Hi Kari, we ship in 3 days. Olive Thank you!")
    assert kari.bodies()[-1] == "Hi Kari, we ship in 3 days. Olive Thank you!"

    # Escape closes the list, and a slash inside a word offers nothing
    box.press_sequentially("/")
    expect(options).to_have_count(2)
    box.press("Escape")
    expect(options).to_have_count(0)
    box.fill("")
    box.press_sequentially("and/or")
    page.wait_for_timeout(300)
    expect(options).to_have_count(0)
    assert olive.errors == []


def test_the_team_sees_a_visitor_waiting_for_an_agent_and_their_rating(people, server):
    (olive,) = people("olive")
    page = olive.page
    key = create_widget(olive, "Shop")
    api = Api(olive)
    widget = api.widget_id(key)
    api.call("PATCH", f"/widgets/{widget}", {"ratings": True})
    kari = Visitor(server, key)
    kari.say("Where is my parcel?", name="Kari")
    page.get_by_role("tab", name="Inbox").click()
    item = inbox_item(page, "Kari")
    expect(item).to_be_visible()
    expect(item.locator(".tag.waiting")).to_have_count(0)

    # when: she asks for a person, the inbox says so live, and so does the open panel
    kari._call("POST", "handoff", {})
    expect(item.locator(".tag.waiting")).to_have_text("Waiting for an agent")
    item.locator("a").click()
    expect(page.locator("#support-waiting")).to_have_text("Waiting for an agent")

    # when: the owner answers, she no longer waits
    olive.send("Hi Kari, Olive here")
    expect(item.locator(".tag.waiting")).to_have_count(0)
    expect(page.locator("#support-waiting")).to_be_hidden()

    # when: the owner resolves it and Kari rates it, the panel shows her rating
    expect(page.locator("#support-rating-box")).to_be_hidden()
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#support-status")).to_have_text("Resolved")
    kari._call("POST", "rating", {"score": 4, "comment": "Quick, thanks"})
    olive.reload()
    rating = page.locator("#support-rating-box")
    expect(rating).to_contain_text("4 / 5")
    expect(rating).to_contain_text("Quick, thanks")
    assert olive.errors == []


def test_the_owner_sets_ratings_and_auto_assignment_on_the_widgets_screen(people):
    (olive,) = people("olive")
    page = olive.page
    key = create_widget(olive, "Shop")
    api = Api(olive)
    widget = api.widget_id(key)
    editor = page.locator("#widget-editor")

    # a limit out of range is refused and named
    editor.get_by_label("Open conversations per person, at most").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#widget-error")).to_contain_text("Open conversations per person")

    editor.get_by_label("Ask visitors to rate a resolved conversation").check()
    editor.get_by_label("Assign new conversations in turn").check()
    editor.get_by_label("Open conversations per person, at most").fill("3")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.", exact=True)).to_be_visible()
    expect(page.locator("#widget-error")).to_be_hidden()
    saved = api.call("GET", f"/widgets/{widget}")
    assert (saved["ratings"], saved["auto_assign"], saved["assign_limit"]) == (True, True, 3)

    page.goto(olive.server.url + "/widgets/")
    page.get_by_role("button", name="Edit Shop").click()
    expect(editor.get_by_label("Ask visitors to rate a resolved conversation")).to_be_checked()
    expect(editor.get_by_label("Assign new conversations in turn")).to_be_checked()
    expect(editor.get_by_label("Open conversations per person, at most")).to_have_value("3")
    assert olive.errors == []


def test_the_owner_sets_up_the_bot_and_canned_replies_on_the_widgets_screen(people, server):
    (olive,) = people("olive")
    page = olive.page
    key = create_widget(olive, "Shop")
    api = Api(olive)
    widget = api.widget_id(key)
    bot = page.locator("#widget-bot-box")

    # when: the owner turns the bot on, names it and writes two rules
    bot.get_by_label("The bot answers visitors").check()
    bot.get_by_label("Bot's name").fill("Shop bot")
    bot.get_by_label("Bot's opening message").fill("Hello! I am the shop's bot.")
    bot.get_by_label("Fallback answer").fill("Someone will answer soon.")
    bot.get_by_role("button", name="Add rule").click()
    bot.get_by_label("Rule 1: keywords (comma-separated)").fill("shipping, delivery")
    bot.get_by_label("Rule 1: answer").fill("We ship in 3 days.")
    bot.get_by_role("button", name="Add rule").click()
    bot.get_by_label("Rule 2: matches").select_option("pattern")
    bot.get_by_label("Rule 2: pattern (a regular expression)").fill("(unclosed")
    bot.get_by_label("Rule 2: answer").fill("Let me look up your order.")
    bot.get_by_role("button", name="Update the bot").click()

    # then: a bad pattern is refused and named; fixed, moved first, it is saved in order
    expect(page.locator("#bot-error")).to_contain_text("Rule 2, pattern")
    bot.get_by_label("Rule 2: pattern (a regular expression)").fill(r"order\s*#?\d+")
    bot.get_by_role("button", name="Move rule 2 up").click()
    expect(bot.get_by_label("Rule 1: answer")).to_have_value("Let me look up your order.")
    bot.get_by_role("button", name="Update the bot").click()
    expect(page.get_by_text("Bot saved.")).to_be_visible()
    expect(page.locator("#bot-error")).to_be_hidden()
    saved = api.call("GET", f"/widgets/{widget}/bot")
    assert saved["enabled"] is True and saved["name"] == "Shop bot"
    assert saved["rules"] == [
        {"pattern": r"order\s*#?\d+", "answer": "Let me look up your order."},
        {"keywords": ["shipping", "delivery"], "answer": "We ship in 3 days."},
    ]

    # and the bot answers a visitor with it
    kari = Visitor(server, key)
    kari.say("Is delivery free?", name="Kari")
    eventually(lambda: "We ship in 3 days." in kari.bodies())
    assert kari.bodies()[-2:] == ["Hello! I am the shop's bot.", "We ship in 3 days."]

    # removing a rule
    bot.get_by_role("button", name="Remove rule 1").click()
    expect(bot.get_by_label("Rule 1: answer")).to_have_value("We ship in 3 days.")
    bot.get_by_role("button", name="Update the bot").click()
    eventually(lambda: len(api.call("GET", f"/widgets/{widget}/bot")["rules"]) == 1)

    # canned replies: add, a taken shortcut refused, edit, delete
    canned = page.locator("#widget-canned-box")
    canned.get_by_label("Shortcut").fill("thanks")
    canned.get_by_label("Reply").fill("Thank you, {visitor.name}!")
    canned.get_by_role("button", name="Add reply").click()
    expect(canned.locator("#canned-manage li")).to_have_count(1)
    canned.get_by_label("Shortcut").fill("thanks")
    canned.get_by_label("Reply").fill("Again")
    canned.get_by_role("button", name="Add reply").click()
    expect(page.locator("#canned-error")).to_be_visible()
    canned.get_by_role("button", name="Edit /thanks").click()
    canned.get_by_label("Reply").fill("Many thanks, {visitor.name}!")
    canned.get_by_role("button", name="Update reply").click()
    expect(canned.locator("#canned-manage")).to_contain_text("Many thanks, {visitor.name}!")
    (reply,) = api.call("GET", f"/widgets/{widget}/canned")
    assert reply["body"] == "Many thanks, {visitor.name}!"
    canned.get_by_role("button", name="Delete /thanks").click()
    page.locator("#confirm-ok").click()
    expect(canned.locator("#canned-manage li")).to_have_count(0)
    assert api.call("GET", f"/widgets/{widget}/canned") == []
    assert olive.errors == []
