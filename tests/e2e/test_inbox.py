"""The support inbox and the widgets screen in the browser: an owner sets up a widget, a
visitor writes (driven over the visitor's own HTTP endpoints and websocket, as the widget's
frame does), and the team sees and answers them live."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from websockets.sync.client import connect

from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.e2e


class Visitor:
    """A visitor of a widget, as its frame talks to Parley: the frame is served from
    Parley's own origin, so that is the Origin of each request."""

    def __init__(self, server: Any, key: str) -> None:
        self.base = server.url
        self.key = key
        self.token = self._call("POST", "session", {})["token"]
        self.sent = 0

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"Origin": self.base, "Content-Type": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Visitor {self.token}"
        request = urllib.request.Request(
            f"{self.base}/widget/{self.key}/{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers,
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def say(self, body: str, **details: Any) -> None:
        self.sent += 1
        self._call("POST", "messages", {"client_id": f"v{self.sent}", "body": body, **details})

    def bodies(self) -> list[str]:
        """What the visitor's widget shows, oldest first."""
        page = self._call("GET", "messages")["results"]
        return [m["body"] for m in sorted(page, key=lambda m: m["seq"])]

    def socket(self) -> Any:
        """The widget's websocket: while it is open, the visitor is online."""
        ws_url = self.base.replace("http://", "ws://") + f"/ws/widget/{self.key}/"
        return connect(
            ws_url,
            origin=self.base,  # type: ignore[arg-type]
            subprotocols=["parley.visitor", "t." + self.token.replace(":", ".")],  # type: ignore[list-item]
        )


def inbox_item(page: Page, name: str) -> Any:
    return page.locator("#inbox-list li").filter(has=page.locator(".conv-title", has_text=name))


def create_widget(owner: Any, name: str, site: str = "http://shop.example.com:8080") -> str:
    """The owner makes a widget for `site` on the widgets screen; returns its public key."""
    page = owner.page
    page.get_by_role("button", name="Menu", exact=True).click()
    page.get_by_role("menuitem", name="Support widgets").click()
    expect(page.get_by_role("heading", name="Support widgets")).to_be_visible()
    page.get_by_role("button", name="New widget").click()
    editor = page.locator("#widget-editor")
    editor.get_by_label("Name (for your team only)").fill(name)
    editor.get_by_label("Allowed sites").fill(site)
    editor.get_by_label("Greeting").fill("We answer within minutes")
    editor.get_by_label("Ask for a name").select_option("optional")
    editor.get_by_role("button", name="Create widget").click()
    snippet = editor.get_by_label("Embed snippet")
    expect(snippet).to_have_value(re.compile(r'data-widget="pw_[^"]+"'))
    value = snippet.input_value()
    assert value.startswith(f'<script src="{owner.server.url}/widget.js" data-widget="pw_')
    return re.search(r'data-widget="([^"]+)"', value).group(1)  # type: ignore[union-attr]


def test_widgets_screen_makes_changes_and_refuses_bad_values(people):
    (olive,) = people("olive")
    (adam,) = people("adam")
    page = olive.page

    key = create_widget(olive, "Shop")
    editor = page.locator("#widget-editor")

    # a bad origin is refused, named, and nothing is saved
    editor.get_by_label("Allowed sites").fill("not a site")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#widget-error")).to_contain_text("Allowed sites")
    expect(editor.get_by_label("Allowed sites")).to_have_attribute("aria-invalid", "true")

    # a good change is saved, and stays after a reload
    editor.get_by_label("Allowed sites").fill("https://shop.example.com")
    editor.get_by_label("Title").fill("Talk to Olive")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#widget-error")).to_be_hidden()
    page.get_by_label("Address or username of the agent to add").fill(adam.email)
    page.get_by_role("button", name="Add agent").click()
    expect(page.locator("#widget-agents")).to_contain_text("Adam")
    secret = page.get_by_role("textbox", name="Identity secret").input_value()
    page.get_by_role("button", name="Rotate…").click()
    page.locator("#confirm-ok").click()
    expect(page.get_by_role("textbox", name="Identity secret")).not_to_have_value(secret)

    page.goto(olive.server.url + "/widgets/")
    page.get_by_role("button", name="Edit Shop").click()
    expect(editor.get_by_label("Title")).to_have_value("Talk to Olive")
    expect(editor.get_by_label("Allowed sites")).to_have_value("https://shop.example.com")
    expect(page.get_by_label("Embed snippet")).to_have_value(re.compile(key))

    # the agent sees it, without its secret, and cannot change it
    adam.page.goto(adam.server.url + "/widgets/")
    adam.page.get_by_role("button", name="View Shop").click()
    expect(adam.page.get_by_text("Only the widget's owner changes it.")).to_be_visible()
    adams_editor = adam.page.locator("#widget-editor")
    expect(adams_editor.get_by_label("Name (for your team only)")).to_be_disabled()
    expect(adam.page.get_by_role("textbox", name="Identity secret")).to_be_hidden()

    # the owner removes Adam, then deletes the widget
    page.get_by_role("button", name="Remove Adam").click()
    expect(page.locator("#widget-agents")).not_to_contain_text("Adam")
    page.get_by_role("button", name="Delete widget…").click()
    page.locator("#confirm-ok").click()
    expect(page.locator("#widget-list li")).to_have_count(0)
    expect(page.locator("#tab-inbox")).to_be_hidden()
    assert olive.errors == []


def test_a_visitor_arrives_live_and_the_team_answers_resolves_assigns_and_notes(people, server):
    olive, adam = people("olive", "adam")
    page = olive.page
    key = create_widget(olive, "Shop")
    page.get_by_label("Address or username of the agent to add").fill(adam.email)
    page.get_by_role("button", name="Add agent").click()
    expect(page.locator("#widget-agents")).to_contain_text("Adam")
    page.get_by_role("tab", name="Inbox").click()
    expect(page.locator("#inbox-empty")).to_be_visible()

    # when: a visitor writes twice
    kari = Visitor(server, key)
    kari.say(
        "Do you ship to Norway?",
        name="Kari",
        email="kari@example.no",
        page_url="https://shop.example.com/boots",
        referrer="https://search.example/?q=boots",
        attributes={"plan": "pro"},
    )
    kari.say("And how long does it take?")

    # then: she is in the owner's inbox without a reload, with her unread count
    item = inbox_item(page, "Kari")
    expect(item.locator(".badge")).to_have_text("2")
    expect(item.locator(".conv-preview")).to_have_text("And how long does it take?")
    expect(page.locator("#inbox-badge")).to_have_text("2")
    expect(olive.item("Kari")).to_have_count(0)  # not among the chats
    # and in the agent's, whose page was open before he joined the team
    adam.page.get_by_role("tab", name="Inbox").click()
    expect(inbox_item(adam.page, "Kari").locator(".badge")).to_have_text("2")
    expect(inbox_item(adam.page, "Kari")).to_be_visible()

    # when: the owner opens it
    item.locator("a").click()
    expect(page.locator("#conv-title")).to_have_text("Kari")
    panel = page.locator("#support-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("kari@example.no")
    expect(panel).to_contain_text("https://shop.example.com/boots")
    expect(panel).to_contain_text("https://search.example/?q=boots")
    expect(panel).to_contain_text("Not verified")
    expect(panel).to_contain_text("plan")
    expect(page.locator("#visitor-presence")).to_have_text("Offline")
    expect(item.locator(".badge")).to_have_count(0)

    # the visitor's widget connects: the team sees her online, then gone
    with kari.socket():
        expect(page.locator("#visitor-presence")).to_have_text("Online now")
        expect(page.locator("#conv-status")).to_have_text("online · Shop")
    expect(page.locator("#visitor-presence")).to_have_text("Offline")

    # the owner answers like in any chat, and the visitor gets it
    olive.send("Yes, in 3 days")
    expect(olive.message("Yes, in 3 days")).to_have_attribute(
        "data-status", re.compile("sent|delivered|read")
    )
    assert kari.bodies()[-1] == "Yes, in 3 days"
    assert len(kari.bodies()) == 3

    # resolve: it leaves the Open filter; the Resolved filter shows it; reopen
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#support-status")).to_have_text("Resolved")
    expect(inbox_item(page, "Kari")).to_have_count(0)
    expect(inbox_item(adam.page, "Kari")).to_have_count(0)  # live for the team too
    page.get_by_role("combobox", name="Status").select_option("resolved")
    expect(inbox_item(page, "Kari")).to_be_visible()
    page.get_by_role("button", name="Reopen").click()
    expect(page.locator("#support-status")).to_have_text("Open")
    expect(inbox_item(page, "Kari")).to_have_count(0)
    page.get_by_role("combobox", name="Status").select_option("open")
    expect(inbox_item(page, "Kari")).to_be_visible()

    # snoozed until she writes: her next message opens it again
    page.get_by_role("button", name="Snooze…").click()
    page.get_by_role("menuitem", name="Until the visitor writes").click()
    expect(page.locator("#support-status")).to_have_text("Snoozed until they write")
    kari.say("Thanks!")
    expect(page.locator("#support-status")).to_have_text("Open")
    expect(olive.bodies.last).to_have_text("Thanks!")

    # assign to Adam: his "Me" filter has it, the owner's "Unassigned" does not
    page.get_by_role("combobox", name="Assigned to").select_option(label="Adam")
    expect(inbox_item(page, "Kari").locator(".inbox-tags")).to_contain_text("Assigned to Adam")
    adam.page.get_by_role("combobox", name="Assignee").select_option("me")
    expect(inbox_item(adam.page, "Kari")).to_be_visible()
    page.get_by_role("combobox", name="Assignee").select_option("none")
    expect(inbox_item(page, "Kari")).to_have_count(0)
    page.get_by_role("combobox", name="Assignee").select_option("")

    # a private note: the team sees it, the visitor never does
    page.get_by_label("New private note").fill("Wants express delivery")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#support-notes")).to_contain_text("Wants express delivery")
    adam.page.locator("#inbox-list a").first.click()
    expect(adam.page.locator("#support-notes")).to_contain_text("Wants express delivery")
    assert "Wants express delivery" not in kari.bodies()

    # filter by widget: another widget's filter shows nothing of Shop's
    create_widget(olive, "Blog")
    page.get_by_role("tab", name="Inbox").click()
    page.get_by_role("combobox", name="Widget").select_option(label="Blog")
    expect(inbox_item(page, "Kari")).to_have_count(0)
    page.get_by_role("combobox", name="Widget").select_option(label="Shop")
    expect(inbox_item(page, "Kari")).to_be_visible()
    assert olive.errors == [] and adam.errors == []


def test_the_inbox_on_a_phone(people, server):
    (olive,) = people("olive", viewport={"width": 390, "height": 760})
    page = olive.page
    key = create_widget(olive, "Shop")
    Visitor(server, key).say("Hello from my phone", name="Ola")

    page.goto(server.url + "/inbox/")
    item = inbox_item(page, "Ola")
    expect(item.locator(".badge")).to_have_text("1")
    item.locator("a").click()

    # one pane at a time: the conversation, then the visitor's details over it
    expect(page.locator(".sidebar")).to_be_hidden()
    expect(olive.bodies).to_have_text(["Hello from my phone"])
    expect(page.locator("#support-panel")).to_be_hidden()
    page.get_by_role("button", name="Visitor details").click()
    expect(page.locator("#support-panel")).to_be_visible()
    expect(page.get_by_role("button", name="Resolve")).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(page.locator("#support-panel")).to_be_hidden()
    expect(page.get_by_role("button", name="Visitor details")).to_be_focused()
    page.get_by_role("button", name="Back to conversations").click()
    expect(inbox_item(page, "Ola")).to_be_visible()
    assert olive.errors == []


def widget_config(server: Any, key: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.url}/widget/{key}/config", timeout=10) as response:
        return json.loads(response.read())


def test_a_team_member_sets_themself_away_and_chooses_their_emails(people, server):
    (olive,) = people("olive")
    page = olive.page
    key = create_widget(olive, "Shop")
    page.get_by_role("tab", name="Inbox").click()

    # given: Olive is available with the app open, so the widget is online
    switch = page.get_by_role("switch", name="Available")
    expect(switch).to_be_checked()
    assert widget_config(server, key)["online"] is True

    # when: she sets herself away
    switch.uncheck()

    # then: the switch says so, and her widget is offline for visitors
    expect(page.get_by_role("switch", name="Away")).not_to_be_checked()
    deadline = time.monotonic() + 5
    while widget_config(server, key)["online"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert widget_config(server, key)["offline_reason"] == "no_agent"

    # when: she turns off the emails about a visitor's new messages
    page.get_by_text("Emails", exact=True).click()
    page.get_by_label("a visitor's new message").uncheck()
    expect(page.get_by_label("a visitor's new message")).not_to_be_checked()

    # then: both stay after a reload; and back available, the widget is online again
    page.reload()
    olive.wait_ready()
    page.get_by_role("tab", name="Inbox").click()
    expect(page.get_by_role("switch", name="Away")).not_to_be_checked()
    page.get_by_text("Emails", exact=True).click()
    expect(page.get_by_label("a visitor's new message")).not_to_be_checked()
    expect(page.get_by_label("a new conversation")).to_be_checked()
    page.get_by_role("switch", name="Away").check()
    expect(page.get_by_role("switch", name="Available")).to_be_checked()
    deadline = time.monotonic() + 5
    while not widget_config(server, key)["online"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert widget_config(server, key)["online"] is True
    assert olive.errors == []


def test_an_owner_manages_a_widgets_webhooks_and_reads_their_deliveries(people, server):
    (olive,) = people("olive")
    page = olive.page
    create_widget(olive, "Shop")
    box = page.locator("#widget-webhooks-box")
    expect(box.get_by_text("No webhooks yet.")).to_be_visible()
    receiver = Receiver()
    try:
        # a URL that is not one is refused, and nothing is added
        box.get_by_label("Webhook URL").fill("ftp://example.com/x")
        box.get_by_role("button", name="Add webhook").click()
        expect(page.locator("#webhook-error")).to_be_visible()
        expect(box.locator(".webhook")).to_have_count(0)

        # when: she adds her server's address, for two of the events
        box.get_by_label("Webhook URL").fill(receiver.url)
        box.get_by_label("conversation.assigned").uncheck()
        box.get_by_label("conversation.resolved").uncheck()
        box.get_by_role("button", name="Add webhook").click()

        # then: it is listed with its events and its secret
        hook = box.locator(".webhook")
        expect(hook).to_have_count(1)
        expect(hook).to_contain_text(receiver.url)
        expect(hook).to_contain_text("conversation.created, message.created")
        secret_box = page.get_by_label(f"Signing secret of {receiver.url}")
        secret = secret_box.input_value()
        assert secret.startswith("whsec_")

        # when: she sends a test event, and the job worker posts it
        page.get_by_role("button", name=f"Send a test event to {receiver.url}").click()
        expect(hook.locator(".delivery")).to_have_count(1)
        expect(hook.locator(".delivery")).to_contain_text("webhook.test")

        # then: her server got it (from the worker beside the server), and the delivery
        # shows its attempt's outcome
        deadline = time.monotonic() + 20
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [path for path, _, _ in receiver.received] == ["/hooks/parley?x=1"]
        page.get_by_role("button", name=f"Refresh the deliveries to {receiver.url}").click()
        expect(hook.locator(".delivery")).to_contain_text("delivered")
        expect(hook.locator(".attempt")).to_contain_text(re.compile(r"#1 · .* · 200 in \d+ ms"))

        # a new secret replaces the old one; the list stays after a reload
        page.get_by_role("button", name=f"New secret for {receiver.url}").click()
        page.locator("#confirm-ok").click()
        expect(secret_box).not_to_have_value(secret)
        page.goto(server.url + "/widgets/")
        page.get_by_role("button", name="Edit Shop").click()
        expect(box.locator(".webhook")).to_contain_text(receiver.url)

        # when: she deletes it, it is gone
        page.get_by_role("button", name=f"Delete the webhook to {receiver.url}").click()
        page.locator("#confirm-ok").click()
        expect(box.locator(".webhook")).to_have_count(0)
        expect(box.get_by_text("No webhooks yet.")).to_be_visible()
    finally:
        receiver.stop()
    assert olive.errors == []


def test_an_owner_adds_a_webhook_for_all_her_widgets(people, server):
    (olive,) = people("olive")
    page = olive.page
    create_widget(olive, "Shop")
    create_widget(olive, "Blog")
    box = page.locator("#widget-webhooks-box")
    url = "https://hooks.example.com/parley"

    # when: in the Blog's editor she chooses all her widgets, and adds a webhook
    box.get_by_label("All my widgets', present and future").check()
    expect(box.get_by_text("No webhooks yet.")).to_be_visible()
    box.get_by_label("Webhook URL").fill(url)
    box.get_by_role("button", name="Add webhook").click()

    # then: it is listed, and it is hers for every widget, not the Blog's
    expect(box.locator(".webhook")).to_contain_text(url)
    answer = page.request.get(server.url + "/api/v1/webhooks")
    assert [(e["url"], e["widget"]) for e in answer.json()] == [(url, None)]

    # the Blog's own webhooks are none
    box.get_by_label("This widget's").check()
    expect(box.get_by_text("No webhooks yet.")).to_be_visible()
    expect(box.locator(".webhook")).to_have_count(0)

    # and the Shop's editor shows it among all her widgets' too
    page.get_by_role("button", name="Edit Shop").click()
    box.get_by_label("All my widgets', present and future").check()
    expect(box.locator(".webhook")).to_contain_text(url)
    assert olive.errors == []
