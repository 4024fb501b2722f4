from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tests.webhooks.receiver import Receiver


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()
