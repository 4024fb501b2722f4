"""Every kind of page works under the Content-Security-Policy, with no violation and
nothing loaded from another origin: signup and its code, the chat (a message sent over the
websocket), the account pages, login, the API docs and the admin."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

# Chromium reports a violation on the console ("Refused to ... because it violates the
# following Content Security Policy directive"); the event is logged as well, with the
# directive and what was blocked, in case a future version words the console differently.
REPORT_VIOLATIONS = (
    "document.addEventListener('securitypolicyviolation', e => console.error("
    "'securitypolicyviolation: ' + e.violatedDirective + ' ' + e.blockedURI));"
)


class Watch:
    """What a page did that the policy would forbid: violations, and requests that leave
    the server's origin (the test machine has no internet: a CDN would fail quietly)."""

    def __init__(self, person: Any, origin: str) -> None:
        self.violations: list[str] = []
        self.foreign: list[str] = []
        person.context.add_init_script(REPORT_VIOLATIONS)
        person.page.on("console", self._console)
        person.page.on("request", lambda r: self._request(r.url, origin))

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or text.startswith("securitypolicyviolation"):
            self.violations.append(f"{message.page.url if message.page else ''}: {text}")

    def _request(self, url: str, origin: str) -> None:
        if not url.startswith((origin, "data:", "blob:")):
            self.foreign.append(url)


def test_every_page_works_under_the_policy_without_a_violation(people, server):
    bob, carol = people("bob", "carol")
    (alice,) = people("alice", signed_up=False)
    watch = Watch(alice, server.url)
    page = alice.page

    # signup, the emailed code, then the chat: a message goes out and is stored
    alice.sign_up()
    alice.start_chat(bob.username)
    expect(page.locator("#conv-title")).to_have_text("Bob")
    alice.send("hello under a strict policy")
    stored = re.compile(r"^(sent|delivered|read)$")  # acknowledged over the websocket
    expect(alice.message("hello under a strict policy")).to_have_attribute("data-status", stored)
    bob.open(alice.username)  # signed up without a display name
    expect(bob.message("hello under a strict policy")).to_be_visible()

    # the account pages, logging out and in again
    for path, heading in [
        ("/accounts/profile/", "Profile"),
        ("/accounts/email/", "Email"),
        ("/accounts/password/change/", "Password"),
    ]:
        page.goto(server.url + path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    page.locator("#logout-button").click()
    page.wait_for_url("**/accounts/login/**")
    alice.log_in()

    # the support widgets screen (a widget's colour swatch) and the inbox
    page.goto(server.url + "/widgets/")
    page.get_by_role("button", name="New widget").click()
    page.locator("#widget-editor").get_by_label("Name (for your team only)").fill("Shop")
    page.get_by_role("button", name="Create widget").click()
    expect(page.get_by_role("textbox", name="Embed snippet")).to_have_value(re.compile("pw_"))
    page.get_by_role("tab", name="Inbox").click()
    expect(page.locator("#inbox-empty")).to_be_visible()

    # the API docs, from the vendored Swagger UI, with its operations listed
    page.goto(server.url + "/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    paths = page.locator(".opblock-summary-path", has_text="/api/v1/conversations")
    expect(paths).not_to_have_count(0)
    page.goto(server.url + "/_allauth/openapi.html")
    expect(page.locator(".opblock").first).to_be_visible()

    # the admin: its index, a list with filters and actions, a change page
    server.shell(
        "from parley.accounts.models import User\n"
        f"User.objects.filter(username={alice.username!r})"
        ".update(is_staff=True, is_superuser=True)\n"
    )
    page.goto(server.url + "/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(server.url + "/admin/chat/conversation/")
    page.locator("#result_list tbody tr a").first.click()
    expect(page.locator("#conversation_form")).to_be_visible()
    page.goto(server.url + "/admin/accounts/user/?q=alice")
    expect(page.locator("#result_list")).to_be_visible()

    assert watch.violations == []
    assert watch.foreign == []
    assert alice.errors == []
