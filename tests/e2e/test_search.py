"""Searching messages in the web client: the results with their highlights, and a click
that opens the conversation at the message, loading the history back to it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

# 80 messages after the one searched for: it lies beyond the first history page (50).
SEND_MANY = """async ([conversation, count]) => {
  const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`/api/v1/conversations/${conversation}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ client_id: `filler-${i}`, body: `filler number ${i}` }),
    });
    if (!response.ok) throw new Error(`send ${i}: ${response.status}`);
  }
}"""


def test_search_finds_a_message_and_jumps_to_it_in_its_history(people):
    alice, bob = people("alice", "bob")
    alice.start_chat(bob.email)
    expect(alice.page.locator("#conv-title")).to_have_text("Bob")
    alice.send("The hangar door code is zebra crossing")
    expect(alice.message("zebra crossing")).to_have_attribute("data-status", "delivered")
    conversation = int(alice.page.url.rstrip("/").rsplit("/", 1)[1])
    alice.page.evaluate(SEND_MANY, [conversation, 80])

    # when: Bob searches for a word of the old message
    bob.reload()
    bob.page.locator("#filter").fill("hangar")
    bob.page.locator("#filter").press("Enter")

    # then: one result, from Alice's chat, the word highlighted
    hits = bob.page.locator("#search-list .search-hit")
    expect(hits).to_have_count(1)
    expect(hits.locator(".search-where")).to_have_text("Alice")
    expect(hits.locator("mark")).to_have_text(["hangar"])
    expect(hits.locator(".search-snippet")).to_have_text(re.compile(r"^The hangar door code"))
    expect(bob.page.locator("#search-more")).to_be_hidden()

    # when: he clicks it
    hits.click()

    # then: the chat opens with the history loaded back to that message, shown and marked
    expect(bob.page.locator("#conv-title")).to_have_text("Alice")
    target = bob.message("zebra crossing")
    expect(target).to_be_in_viewport()
    expect(target).to_have_class(re.compile(r"\bjumped\b"))
    assert bob.messages.count() == 81
    # A search that matches nothing says so.
    bob.page.locator("#filter").fill("unicorns")
    bob.page.locator("#filter").press("Enter")
    expect(bob.page.locator("#search-status")).to_have_text("No messages match.")
    assert bob.errors == []
