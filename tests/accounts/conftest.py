"""Fixtures for the account flows: a clean cache (allauth keeps rate limits there) and
helpers to read one-time codes from the in-memory outbox."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache

CODE = re.compile(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", re.M)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def code_from(message: mail.EmailMessage) -> str:
    found = CODE.search(message.body)
    assert found, message.body
    return found.group(1)


def last_code(to: str) -> str:
    """The code in the newest mail sent to `to`."""
    for message in reversed(mail.outbox):
        if to in message.to:
            return code_from(message)
    raise AssertionError(f"no mail to {to}: {[m.to for m in mail.outbox]}")
