"""A person using Parley in a browser context: the page and the steps a user takes."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import BrowserContext, Locator, Page, expect

PASSWORD = "e2e-correct-horse-battery"  # noqa: S105 - throwaway users of a throwaway server


class Person:
    def __init__(self, server: Any, context: BrowserContext, username: str, name: str) -> None:
        self.server = server
        self.context = context
        self.username = username
        self.name = name
        self.email = f"{username}@example.com"
        self.page: Page = context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    # -- getting in ----------------------------------------------------------------------

    def log_in(self) -> None:
        page = self.page
        page.goto(self.server.url + "/")
        page.locator("input[type=email]").fill(self.email)
        page.locator("input[type=password]").fill(PASSWORD)
        page.locator("input[type=password]").press("Enter")
        page.wait_for_url(self.server.url + "/")
        self.wait_ready()

    def sign_up(self) -> None:
        """Sign up on the allauth pages and confirm with the code the server emailed."""
        page = self.page
        page.goto(self.server.url + "/accounts/signup/")
        page.locator("input[name=email]").fill(self.email)
        page.locator("input[name=username]").fill(self.username)
        page.locator("input[name=password1]").fill(PASSWORD)
        page.locator("input[name=password1]").press("Enter")
        code_box = page.locator("input[name=code]")
        code_box.fill(self.emailed_code())
        code_box.press("Enter")
        page.wait_for_url(self.server.url + "/")
        self.wait_ready()

    def emailed_code(self, timeout: float = 10.0) -> str:
        """The code in the last email to this person (the console backend prints it)."""
        pattern = re.compile(
            rf"^To: {re.escape(self.email)}$.*?verification code.*?\n\n\s*(\S+)\s*\n",
            re.S | re.M,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = pattern.findall(self.server.log())
            if found:
                return str(found[-1])
            time.sleep(0.1)
        raise AssertionError(f"no code was emailed to {self.email}")

    def record_notifications(self) -> None:
        """Allow notifications and keep what the page shows (headless has no desktop)."""
        self.context.grant_permissions(["notifications"], origin=self.server.url)
        self.context.add_init_script(
            "window.__notes = [];"
            "window.Notification = class { static permission = 'granted';"
            " static requestPermission() { return Promise.resolve('granted'); }"
            " constructor(title, options) { window.__notes.push({title, body: options.body}); }"
            " close() {} };"
        )
        self.reload()

    def notifications(self) -> list[dict[str, str]]:
        return list(self.page.evaluate("window.__notes"))

    def wait_ready(self) -> None:
        expect(self.page.locator("#conversation-list")).to_have_attribute("aria-busy", "false")
        expect(self.page.locator("#banner")).to_be_hidden()

    def reload(self) -> None:
        self.page.reload()
        self.wait_ready()

    # -- the list --------------------------------------------------------------------------

    def item(self, title: str) -> Locator:
        return self.page.locator("#conversation-list li").filter(
            has=self.page.locator(".conv-title", has_text=title)
        )

    def badge(self, title: str) -> Locator:
        return self.item(title).locator(".badge")

    def open(self, title: str) -> None:
        self.item(title).locator("a").click()
        expect(self.page.locator("#conv-title")).to_have_text(title)

    def start_chat(self, who: str) -> None:
        page = self.page
        page.get_by_role("button", name="New chat").click()
        page.get_by_label("Email or username").fill(who)
        page.get_by_role("button", name="Start chat").click()

    # -- the open conversation ------------------------------------------------------------

    @property
    def messages(self) -> Locator:
        return self.page.locator("#message-list li.msg")

    @property
    def bodies(self) -> Locator:
        return self.page.locator("#message-list li.msg .body")

    def message(self, text: str) -> Locator:
        return self.messages.filter(has=self.page.locator(".body", has_text=text))

    def send(self, text: str) -> None:
        box = self.page.locator("#composer-input")
        box.fill(text)
        box.press("Enter")

    def message_action(self, text: str, action: str) -> None:
        row = self.message(text)
        row.hover()
        row.get_by_role("button", name="Message actions").click()
        self.page.get_by_role("menuitem", name=action).click()

    def conversation_action(self, action: str) -> None:
        self.page.get_by_role("button", name="Conversation menu").click()
        self.page.get_by_role("menuitem", name=action).click()
