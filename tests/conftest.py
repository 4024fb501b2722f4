"""Fixtures shared by every suite: users, conversations, websocket clients."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from parley.accounts.models import User

_n = itertools.count(1)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's test databases, and before they are dropped, the connections that
    async tests opened on asgiref's database thread are closed.

    `database_sync_to_async` (and `sync_to_async`) called from a pytest-asyncio test runs
    on asgiref's one shared thread, whose persistent connections (CONN_MAX_AGE) outlive the
    test; pytest-django closes only the main thread's. On PostgreSQL the DROP DATABASE at
    the end then failed ("being accessed by other users") and the test database stayed on
    the server, reported by one warning, which pyproject.toml now makes an error.
    """
    yield
    from asgiref.sync import sync_to_async
    from django.db import connections

    asyncio.run(sync_to_async(connections.close_all)())


@pytest.fixture
def make_user(db):
    def make(name: str | None = None, **extra) -> User:
        name = name or f"user{next(_n)}"
        return User.objects.create_user(
            email=f"{name}@example.com", username=name, password="pw-correct-horse", **extra
        )

    return make


@pytest.fixture
def alice(make_user) -> User:
    return make_user("alice", display_name="Alice")


@pytest.fixture
def bob(make_user) -> User:
    return make_user("bob", display_name="Bob")


@pytest.fixture
def carol(make_user) -> User:
    return make_user("carol", display_name="Carol")


@pytest.fixture
def unread_cap(settings):
    """`unread_cap(n)`: unread counts stop at `n` for this test (PARLEY["UNREAD_CAP"])."""

    def cap(n: int) -> int:
        settings.PARLEY = {**settings.PARLEY, "UNREAD_CAP": n}
        return n

    return cap


@pytest.fixture(autouse=True)
def _fresh_realtime_state():
    """Each test gets its own channel layer, hub and presence: no state leaks between loops."""
    from channels.layers import channel_layers

    from parley.realtime.loops import reset_all
    from parley.realtime.presence import reset_presence

    channel_layers.backends.clear()
    reset_all()
    reset_presence()
    yield
    channel_layers.backends.clear()
    reset_all()
    reset_presence()
