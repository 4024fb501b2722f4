"""The browser suite: a real Parley server and headless Chromium driven by Playwright.

One server per session (parley/web/liveserver.py: uvicorn, its own SQLite file, the
in-memory layer); each test makes its own users so tests never see each other's chats.
Chromium is Debian's package (`PARLEY_CHROMIUM`, default /usr/bin/chromium): without it
the suite is skipped with the reason, and under CI=true it fails instead.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator

import pytest

from tests.e2e.people import PASSWORD, Person

CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set PARLEY_CHROMIUM)"
        if CI:
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server(browser: object) -> Iterator[object]:
    from parley.web.liveserver import LiveServer

    live = LiveServer().start()
    try:
        yield live
    finally:
        live.stop()


_n = itertools.count(1)


@pytest.fixture
def people(browser, server) -> Iterator[object]:
    """`people("alice", "bob")` makes fresh users, each in their own browser context,
    logged in with the chat page open. With `signed_up=False` they have no account yet."""
    contexts = []

    def make(
        *names: str, viewport: dict[str, int] | None = None, signed_up: bool = True
    ) -> list[Person]:
        run = next(_n)
        users = [(f"{name}{run}", name.capitalize()) for name in names]
        if signed_up:
            server.create_users(*users, password=PASSWORD)
        out = []
        for username, display in users:
            context = browser.new_context(viewport=viewport or {"width": 1200, "height": 800})
            contexts.append(context)
            person = Person(server, context, username, display)
            if signed_up:
                person.log_in()
            out.append(person)
        return out

    yield make
    for context in contexts:
        context.close()


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """On a failure, show the end of the server log: most browser failures start there."""
    if call.when == "call" and call.excinfo is not None:
        live = item.funcargs.get("server") if hasattr(item, "funcargs") else None
        if live is not None:
            tail = "\n".join(live.log().splitlines()[-40:])
            item.add_report_section("call", "server log", re.sub(r"\x1b\[[0-9;]*m", "", tail))


@pytest.fixture(scope="module")
def host_site() -> Iterator[object]:
    """A website on a second loopback origin, to embed the support widget in."""
    from tests.e2e.widget_host import HostSite

    site = HostSite()
    yield site
    site.stop()


@pytest.fixture
def visitor_page(browser) -> Iterator[object]:
    """`visitor_page()` opens a page in a browser context of its own (a visitor who is not
    logged in to Parley); its script errors are kept in `page.errors`."""
    contexts = []

    def make(viewport: dict[str, int] | None = None) -> object:
        context = browser.new_context(viewport=viewport or {"width": 1200, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        return page

    yield make
    for context in contexts:
        context.close()
