"""Exporting a conversation in the web client: "Export…" in the conversation menu
downloads a zip that holds the conversation as this member sees it."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from playwright.sync_api import expect

from tests.e2e.xss_corpus import payloads

pytestmark = pytest.mark.e2e


def test_export_downloads_a_zip_that_contains_the_conversation(people):
    alice, bob = people("alice", "bob")
    alice.start_chat(bob.email)
    expect(alice.page.locator("#conv-title")).to_have_text("Bob")
    hostile = payloads(1)[0]
    alice.send("Lunch at noon?")
    alice.send(hostile)
    expect(alice.message("Lunch at noon?")).to_have_attribute("data-status", "delivered")
    expect(alice.message(hostile)).to_have_attribute("data-status", "delivered")
    bob.reload()
    bob.open("Alice")
    bob.send("Noon works.")
    expect(alice.message("Noon works.")).to_be_visible()

    # when: Alice exports the chat from its menu
    with alice.page.expect_download(timeout=60_000) as download:
        alice.conversation_action("Export…")

    # then: her browser saved a zip with the whole conversation, in order, as JSON and HTML
    saved = download.value
    assert saved.suggested_filename.startswith("parley-conversation-")
    assert saved.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(open(saved.path(), "rb").read())) as zf:
        messages = json.loads(zf.read("messages.json"))
        page = zf.read("messages.html").decode()
    assert [m["body"] for m in messages] == ["Lunch at noon?", hostile, "Noon works."]
    who = [alice.username, alice.username, bob.username]
    assert [m["sender"]["username"] for m in messages] == who
    assert "Lunch at noon?" in page and "Noon works." in page
    assert "<script" not in page.lower()

    # and the page, opened in a browser, runs none of it
    viewer = alice.page.context.new_page()
    viewer.set_content(page)
    expect(viewer.locator("article")).to_have_count(3)
    expect(viewer.locator("article .body").nth(1)).to_have_text(hostile)
    assert viewer.evaluate("window.__xss") is None
    viewer.close()
