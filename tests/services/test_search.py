"""Message search on PostgreSQL: every case of tests/api/test_search.py, run against the
stored search vector and its GIN index instead of SQLite's FTS5, and what only
PostgreSQL has (the column, the index, the plan that uses it)."""

from __future__ import annotations

import pytest
from django.db import connection

# The REST fixtures of tests/api (signed-in clients, conversations made by the services).
from tests.api.conftest import api, direct, group, say  # noqa: F401
from tests.api.test_search import *  # noqa: F403

pytestmark = [pytest.mark.services, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _own_rate_limits(redis_prefix):
    """Rate-limit counts live in Redis: each test counts under a prefix of its own."""
    return redis_prefix


def test_messages_carry_a_stored_vector_with_a_gin_index(alice, bob, direct, say):  # noqa: F811
    say(bob, direct(alice, bob), "The meetings were long")

    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM chat_message")
        (vector,) = cursor.fetchone()
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'chat_message_search_vector'"
        )
        (index,) = cursor.fetchone()

    assert "'meet'" in vector  # stemmed in the configured language (english)
    assert "USING gin (search_vector)" in index


def test_a_search_uses_the_index(alice, bob, direct, say):  # noqa: F811
    chat = direct(alice, bob)
    for i in range(300):
        say(bob, chat, f"filler message number {i}")
    say(bob, chat, "the needle")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE chat_message")
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM chat_message "
            "WHERE search_vector @@ plainto_tsquery('english', 'needle')"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")

    assert "chat_message_search_vector" in plan
