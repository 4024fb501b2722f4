"""Fixtures for the account flows: a clean cache (allauth keeps rate limits there) and
helpers to read the mail sent, one-time codes first. Mail is sent by the job worker
(docs/jobs.md): each helper runs the jobs that are due, then reads the in-memory outbox."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache

from tests.jobs.helpers import run_jobs

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


def sent() -> list[mail.EmailMessage]:
    """Every mail sent so far, once the worker has sent what was waiting."""
    run_jobs()
    return mail.outbox


def last_code(to: str) -> str:
    """The code in the newest mail sent to `to`."""
    for message in reversed(sent()):
        if to in message.to:
            return code_from(message)
    raise AssertionError(f"no mail to {to}: {[m.to for m in mail.outbox]}")
