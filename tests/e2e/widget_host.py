"""A website on another origin that embeds the support widget, and the visitor who uses
it: shared by the browser tests of the widget (tests/e2e/test_widget.py) and of the
widget with the team's inbox (tests/e2e/test_widget_inbox.py)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from playwright.sync_api import Page

# What a careless (or hostile) site puts in its stylesheet: none of it reaches the chat.
HOST_CSS = """
* { font-family: "Comic Sans MS", cursive !important; color: #ff0000 !important; }
iframe, div { display: none !important; opacity: 0 !important; }
button { background: #ff00ff !important; width: 4px !important; }
p, li { visibility: hidden !important; }
"""


class HostSite:
    """A website on another loopback port: pages by path, set by the test."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"  # an allowed origin
        self.foreign_url = f"http://localhost:{self.port}"  # the same site, another origin
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def embed(site: HostSite, path: str, server: Any, key: str, extra: str = "") -> None:
    """A page of the site at `path` with the one tag, under the site's hostile CSS."""
    site.pages[path] = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>A shop</title><style>{HOST_CSS}</style></head><body>"
        "<h1>Welcome to the shop</h1>"
        "<script>window.readyEvents = 0;"
        " addEventListener('parley:ready', () => window.readyEvents++);</script>"
        f"<script src='{server.url}/widget.js' data-widget='{key}' async></script>"
        f"{extra}</body></html>"
    )


class Visitor:
    """A visitor on a host page: the launcher the widget adds, and the chat in its frame."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.launcher = page.locator("[data-parley-widget] button")
        self.iframe = page.locator("[data-parley-widget] iframe")
        self.frame = page.frame_locator("[data-parley-widget] iframe")
        self.bodies = self.frame.locator("#message-list .msg:not(.welcome) .body")
        self.composer = self.frame.locator("#composer-input")

    def write(self, text: str) -> None:
        self.composer.fill(text)
        self.composer.press("Enter")
