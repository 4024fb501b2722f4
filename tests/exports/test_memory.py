"""An export holds a page of messages at a time, however long the history: its peak memory
does not grow with the number of messages (docs/export.md, "Memory"; the figures at
1,000,000 messages come from `python -m bench.export`)."""

from __future__ import annotations

import tempfile
import tracemalloc
from datetime import UTC, datetime

import pytest

from parley.chat import selectors
from parley.chat.models import Conversation, Message
from parley.exports import archive, scopes

pytestmark = pytest.mark.django_db

BODY = "The quick brown fox jumps over the lazy dog, again and again. " * 3  # ~190 bytes


def grow(conversation: Conversation, sender_id: int, first: int, last: int) -> None:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    Message.objects.bulk_create(
        (
            Message(
                conversation=conversation,
                seq=seq,
                sender_id=sender_id,
                client_id=f"m{seq}",
                body=f"{BODY}{seq}",
                created_at=stamp,
            )
            for seq in range(first, last + 1)
        ),
        batch_size=2000,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=last)


def peak_of_export(membership) -> tuple[int, int]:
    """(peak bytes Python allocated while writing the export, messages written)."""
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        try:
            stats = archive.write(scopes.member_archive(membership), out)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak, stats.messages


def test_the_peak_memory_of_an_export_does_not_grow_with_the_history(alice, bob, direct):
    chat = direct(alice, bob)
    membership = selectors.membership_for(alice, chat.pk)
    sender = membership.pk
    grow(chat, sender, 1, 3_000)
    small, written = peak_of_export(membership)
    assert written == 3_000

    grow(chat, sender, 3_001, 15_000)
    large, written = peak_of_export(membership)

    assert written == 15_000
    # Five times the messages, about the same peak (a few pages of them): the 12,000
    # messages added (~2.2 MB of text) add less than a twentieth of their size.
    assert large < small * 1.5, (small, large)
    assert large - small < 12_000 * len(BODY) / 20, (small, large)
