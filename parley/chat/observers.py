"""Who else wants to know that messages were stored, after commit.

The sockets learn it from the events (parley/realtime); other domains that react to
messages (the support widget's follow-up emails and webhooks, parley/support/reactions.py)
register here when their app is ready, so the chat domain imports none of them. An
observer gets every batch of new messages once its transaction has committed, on the
thread that sent them: it must be quick and must not raise (it is called robustly: an
error is logged and the send stands)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from django.db import transaction

if TYPE_CHECKING:
    from parley.chat.models import Message

MessagesStored = Callable[[Sequence["Message"]], None]
_observers: list[MessagesStored] = []


def observe_messages(observer: MessagesStored) -> None:
    if observer not in _observers:
        _observers.append(observer)


def messages_stored(messages: Sequence[Message]) -> None:
    """Tell the observers about `messages` once the current transaction commits (at once
    outside one)."""
    if not _observers or not messages:
        return
    batch = list(messages)
    for observer in _observers:
        transaction.on_commit(lambda observer=observer: observer(batch), robust=True)


MessagesDeleted = Callable[[Sequence[int]], None]
_deletion_observers: list[MessagesDeleted] = []


def observe_deletions(observer: MessagesDeleted) -> None:
    """`observer(message_ids)` after commit, for messages deleted for everyone (their
    attachments go from the storage: parley/files/jobs.py)."""
    if observer not in _deletion_observers:
        _deletion_observers.append(observer)


def messages_deleted(message_ids: Sequence[int]) -> None:
    """Tell the deletion observers about `message_ids` once the current transaction
    commits."""
    ids = list(message_ids)
    for observer in _deletion_observers:
        transaction.on_commit(lambda observer=observer: observer(ids), robust=True)
