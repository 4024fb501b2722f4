"""The HTML of an export is text, never markup: hostile messages, names and titles come out
escaped, and the page has no script (docs/export.md, "The HTML page")."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from parley.chat import selectors, services
from parley.exports import scopes
from tests.e2e.xss_corpus import payloads

pytestmark = pytest.mark.django_db

# Every element the page is built of; a message can add none.
PAGE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "p", "main", "h2",
    "article", "span", "time",
}  # fmt: skip


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.bodies: list[str] = []
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)
        self._in_body = ("class", "body") in attrs

    def handle_endtag(self, tag):
        self._in_body = False

    def handle_data(self, data):
        if self._in_body:
            self.bodies.append(data)


def test_hostile_messages_names_and_titles_are_escaped(make_user, written):
    corpus = payloads(300)
    mallory = make_user("mallory", display_name=corpus[1][:80])
    alice = make_user("alice")
    team = services.conversation_create_group(
        creator=mallory, title=corpus[0][:120], members=[alice]
    )
    membership = selectors.membership_for(mallory, team.pk)
    for i, payload in enumerate(corpus):
        services.message_send(membership=membership, body=payload, client_id=f"p{i}")

    out = written(scopes.member_archive(selectors.membership_for(alice, team.pk)))

    page = Page()
    page.feed(out.html)
    assert page.tags <= PAGE_TAGS
    assert not any(name.startswith("on") for name in page.attributes)
    assert "<script" not in out.html.lower()
    assert page.bodies == [p.replace("\r", "") for p in corpus]  # each one, as text
    assert out.bodies == corpus  # and the JSON holds them as they were written


def test_the_page_forbids_scripts_and_outside_loads(alice, bob, written):
    chat = services.conversation_get_or_create_direct(user=alice, other="bob")[0]

    out = written(scopes.member_archive(selectors.membership_for(alice, chat.pk)))

    assert "Content-Security-Policy" in out.html
    assert "default-src 'none'" in out.html
    assert "script-src" not in out.html  # default-src 'none' covers scripts
    assert "http://" not in out.html and "https://" not in out.html
