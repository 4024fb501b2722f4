"""Fixtures of the support widget tests: rate-limit counts live in the cache, and each
test starts with none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tests.smtp import SmtpSink


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def smtp(settings) -> Iterator[SmtpSink]:
    """A real SMTP server that Django's mail goes to (the follow-up emails)."""
    sink = SmtpSink()
    sink.use_in(settings)
    yield sink
    sink.stop()
