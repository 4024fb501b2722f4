"""Fixtures of the support widget tests: rate-limit counts live in the cache, and each
test starts with none."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()
