"""Sending and deleting messages, receipts, clearing history."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import DataError, connection, transaction
from django.utils import timezone

from parley.chat import errors
from parley.chat import events as ev
from parley.chat.models import (
    Conversation,
    ConversationEvent,
    HiddenMessage,
    Membership,
    Message,
    MessageEdit,
    Reaction,
)
from parley.chat.observers import messages_deleted, messages_stored
from parley.chat.services._streams import (
    TAKE_MESSAGE_SEQS,
    record_conversation_event,
    record_user_event,
    take_message_seqs,
)
from parley.chat.text import clean_text
from parley.common.errors import DomainError
from parley.common.outage import refusal
from parley.events import protocol as p
from parley.events.outgoing import conversation_group, outgoing, user_group
from parley.events.sink import publish_on_commit

_MESSAGE = Message._meta.db_table
_MEMBERSHIP = Membership._meta.db_table
# What both INSERTs of a send add to their rows `v` (conversation, seq, sender, client_id,
# body, created_at): the sender is still an active member, and a client_id already used
# by this sender inserts nothing.
_SENDER_ACTIVE = (
    f"EXISTS (SELECT 1 FROM {_MEMBERSHIP} AS m WHERE m.id = v.column3 "
    "AND m.conversation_id = v.column1 AND m.left_at IS NULL)"
)
_SKIP_RETRIES = "ON CONFLICT (sender_id, client_id) DO NOTHING RETURNING id, conversation_id, seq"
_CONVERSATION = Conversation._meta.db_table


def _active(membership: Membership) -> None:
    if membership.left_at is not None:
        raise errors.ConversationNotFound()


@dataclass(frozen=True, slots=True)
class SendRequest:
    membership: Membership
    body: str
    client_id: str
    # Who the message.created event names: by default the membership's user or visitor
    # (read from the membership). A send written for another process carries it, since
    # the membership it builds has no user attached (parley/realtime/writer.py).
    sender: p.Sender | None = None
    # The files it carries, as `Message.attachments` keeps them (parley/files checks and
    # links them: files.services.message_send_with_files); with files, the body may be empty.
    attachments: list[dict[str, object]] | None = None


SendResult = tuple[Message, bool] | DomainError


def message_send(
    *,
    membership: Membership,
    body: str,
    client_id: str,
    attachments: list[dict[str, object]] | None = None,
) -> tuple[Message, bool]:
    """Store a message once per (sender, client_id); announce it after commit.

    Returns (message, created). A retry with a client_id already used by this sender
    returns the original message and announces nothing. Raises ConversationNotFound (not
    a member any more), EmptyMessage, MessageTooLong. Locks the conversation row to take
    the next seq. Publishes message.created.
    """
    (result,) = message_send_many(
        [SendRequest(membership, body, client_id, attachments=attachments)]
    )
    if isinstance(result, DomainError):
        raise result
    return result


def message_send_many(requests: Sequence[SendRequest]) -> list[SendResult]:
    """`message_send` for many sends at once, in one transaction (group commit).

    Each request gets its own result, in order: (message, created) or the DomainError
    that `message_send` would have raised; one refused send does not fail the others.
    Seqs of one conversation follow the order of `requests`. Conversations are locked in
    the order of their ids. Publishes one message.created per new message, after commit.

    Common case, per transaction: one UPDATE per conversation (lock and a block of seqs)
    and one INSERT for every message, which re-checks the memberships and skips a
    client_id already used. Anything unusual (a retry, a sender removed meanwhile) shows
    as fewer rows inserted than seqs taken: the transaction rolls back and each send of
    that batch is done alone, which sorts out what happened to which.
    """
    results: list[SendResult | None] = [None] * len(requests)
    texts: dict[int, str] = {}  # index of each valid request, first use of a key only
    first: dict[tuple[int, str], int] = {}
    copies: dict[int, int] = {}  # a repeated (sender, client_id) in this batch: its first
    for i, request in enumerate(requests):
        try:
            text = _checked_text(request.membership, request.body, bool(request.attachments))
        except DomainError as exc:
            results[i] = exc
            continue
        key = (request.membership.pk, request.client_id)
        if key in first:
            copies[i] = first[key]
        else:
            first[key] = i
            texts[i] = text
    if texts:
        try:
            if _one_trip_possible() and not any(requests[i].attachments for i in texts):
                written = _insert_in_one_trip(requests, texts)
            else:
                with transaction.atomic():
                    written = _insert(requests, texts)
            for i, message in written.items():
                results[i] = (message, True)
        except _Unusual:
            for i, text in texts.items():
                results[i] = _send_alone(requests[i], text)
    for i, original in copies.items():
        done = results[original]
        results[i] = (done[0], False) if isinstance(done, tuple) else done
    return results  # type: ignore[return-value]


class _Unusual(Exception):
    """Fewer messages inserted than seqs taken: roll back (see message_send_many)."""


def _checked_text(membership: Membership, body: str, has_files: bool = False) -> str:
    _active(membership)
    text = clean_text(body)
    limit = settings.PARLEY["MESSAGE_MAX_LENGTH"]
    if len(text) > limit:
        raise errors.MessageTooLong(
            f"A message may be at most {limit} characters.", limit=limit, length=len(text)
        )
    if not text.strip() and not has_files:
        raise errors.EmptyMessage()
    return text


def _send_alone(request: SendRequest, text: str) -> SendResult:
    """One send in its own transaction. A database outage is this send's own refusal
    (`unavailable`): the sends before it in the batch are committed and get their acks."""
    try:
        return _insert_alone(request, text)
    except Exception as exc:
        error = refusal(exc)
        if error is None:
            raise
        return error


def _insert_alone(request: SendRequest, text: str) -> tuple[Message, bool] | DomainError:
    try:
        with transaction.atomic():
            (message,) = _insert([request], {0: text}).values()
        return message, True
    except _Unusual:
        pass
    original = Message.objects.filter(
        sender=request.membership, client_id=request.client_id
    ).first()
    if original is None:  # the conversation is gone or the sender is no member any more
        return errors.ConversationNotFound()
    original.sender = request.membership
    return original, False


def _by_conversation(
    requests: Sequence[SendRequest], texts: dict[int, str]
) -> dict[int, list[int]]:
    by_conversation: dict[int, list[int]] = {}
    for i in texts:
        by_conversation.setdefault(requests[i].membership.conversation_id, []).append(i)
    return by_conversation


def _insert(requests: Sequence[SendRequest], texts: dict[int, str]) -> dict[int, Message]:
    """Take the seqs and insert the messages of `texts` (index → clean body); raise
    _Unusual unless every one of them was inserted. Call inside a transaction."""
    now = timezone.now()
    by_conversation = _by_conversation(requests, texts)
    lasts: dict[int, int] = {}
    for cid in sorted(by_conversation):
        last = take_message_seqs(cid, len(by_conversation[cid]), now)
        if last is None:
            raise _Unusual()
        lasts[cid] = last
    messages = _messages(requests, texts, by_conversation, lasts, now)
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(messages))
    stamp = connection.ops.adapt_datetimefield_value(now)
    params: list[object] = []
    for m in messages.values():
        params += [m.conversation_id, m.seq, m.sender_id, m.client_id, m.body, stamp]
    # The membership re-check must be a statement of its own after the lock (see
    # take_message_seqs); ON CONFLICT skips a client_id already used instead of failing.
    sql = (
        f"INSERT INTO {_MESSAGE} (conversation_id, seq, sender_id, client_id, body, created_at) "
        "SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6 "
        f"FROM (VALUES {rows}) AS v WHERE {_SENDER_ACTIVE} {_SKIP_RETRIES}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = {(cid, seq): pk for pk, cid, seq in cursor.fetchall()}
    if len(ids) != len(messages):
        raise _Unusual()
    for m in messages.values():
        if m.attachments:  # rare: one more statement for a message with files
            Message.objects.filter(pk=ids[(m.conversation_id, m.seq)]).update(
                attachments=m.attachments
            )
    _stored(requests, messages, ids)
    return messages


def _messages(
    requests: Sequence[SendRequest],
    texts: dict[int, str],
    by_conversation: dict[int, list[int]],
    lasts: dict[int, int],
    now: datetime.datetime,
) -> dict[int, Message]:
    """The messages of `texts` (index → message), each conversation's seqs ending at its
    entry in `lasts`, in the order of the requests."""
    messages: dict[int, Message] = {}
    for cid in sorted(by_conversation):
        indexes = by_conversation[cid]
        for seq, i in enumerate(indexes, start=lasts[cid] - len(indexes) + 1):
            request = requests[i]
            messages[i] = Message(
                conversation_id=cid,
                seq=seq,
                sender=request.membership,
                client_id=request.client_id,
                body=texts[i],
                created_at=now,
                attachments=request.attachments or None,
            )
    return messages


def _stored(
    requests: Sequence[SendRequest], messages: dict[int, Message], ids: dict[tuple[int, int], int]
) -> None:
    """Mark `messages` as the rows stored under `ids` ((conversation, seq) → id) and
    announce each on commit (at once outside a transaction)."""
    for i, m in messages.items():
        m.pk = ids[(m.conversation_id, m.seq)]
        m._state.adding = False
        m._state.db = connection.alias
        publish_on_commit(ev.message_created(m, requests[i].sender))
    messages_stored(list(messages.values()))


def _one_trip_possible() -> bool:
    """PostgreSQL with client-side parameter binding (Django's default), in autocommit
    mode and outside any atomic block: `_insert_in_one_trip` may be its own transaction."""
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and connection.get_autocommit()
        and connection.settings_dict.get("OPTIONS", {}).get("server_side_binding") is not True
    )


# What the INSERT raises when it wrote fewer messages than seqs were taken; PostgreSQL
# rolls the whole query text back. Not a constant, so it is cast only when it happens.
_SHORT = "parley: fewer messages than seqs"


def _insert_in_one_trip(
    requests: Sequence[SendRequest], texts: dict[int, str]
) -> dict[int, Message]:
    """`_insert` and its transaction in one round trip to PostgreSQL instead of four.

    Through `transaction.atomic()` a send costs BEGIN, the UPDATE, the INSERT and COMMIT,
    a round trip each, and on a quiet server each trip wakes two sleeping processes
    (docs/performance.md, "Optimisations"). Here they are one query text, `UPDATE ...;
    INSERT ...`. PostgreSQL runs the statements of such a text one after the other, each
    with a snapshot of its own, as one transaction that commits after the last statement
    and rolls back entirely if any fails. So the INSERT re-checks the memberships after the
    UPDATE holds the conversation's lock, exactly as `_insert` does (take_message_seqs),
    and takes each message's seq from the row the UPDATE just wrote. When it inserted
    fewer messages than seqs were taken (a retry, a member removed meanwhile, the
    conversation gone), it raises and the seqs are given back: _Unusual, as in `_insert`.
    Events are published once the transaction has committed.
    """
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    by_conversation = _by_conversation(requests, texts)
    statements = []
    params: list[object] = []
    for cid in sorted(by_conversation):
        statements.append(TAKE_MESSAGE_SEQS)
        params += [len(by_conversation[cid]), stamp, cid]
    rows = []
    for cid in sorted(by_conversation):
        indexes = by_conversation[cid]
        for k, i in enumerate(indexes):
            request = requests[i]
            back = len(indexes) - 1 - k  # seq = the conversation's new last_seq - back
            rows.append("(%s, %s, %s, %s, %s, %s)")
            params += [cid, back, request.membership.pk, request.client_id, texts[i], stamp]
    statements.append(
        f"WITH ins AS (INSERT INTO {_MESSAGE} "
        "(conversation_id, seq, sender_id, client_id, body, created_at) "
        "SELECT v.column1, c.last_seq - v.column2, v.column3, v.column4, v.column5, v.column6 "
        f"FROM (VALUES {', '.join(rows)}) AS v JOIN {_CONVERSATION} AS c ON c.id = v.column1 "
        f"WHERE {_SENDER_ACTIVE} {_SKIP_RETRIES}) "
        "SELECT id, conversation_id, seq FROM ins UNION ALL "
        "SELECT NULL, NULL, CAST(%s || k.n AS bigint) FROM (SELECT count(*) AS n FROM ins) AS k "
        "WHERE k.n <> %s"
    )
    params += [f"{_SHORT}: ", len(texts)]
    lasts: dict[int, int] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("; ".join(statements), params)
            for cid in sorted(by_conversation):
                lasts[cid] = int(cursor.fetchone()[0])
                cursor.nextset()
            ids = {(cid, seq): pk for pk, cid, seq in cursor.fetchall()}
    except DataError as exc:
        if _SHORT in str(exc):
            raise _Unusual() from None
        raise
    messages = _messages(requests, texts, by_conversation, lasts, now)
    _stored(requests, messages, ids)
    return messages


def _message(membership: Membership, seq: int) -> Message:
    """A message this member can see, by seq: one below their history floor (cleared, or
    from before they joined) is not found, as in every read."""
    message = (
        Message.objects.filter(
            conversation_id=membership.conversation_id,
            seq=seq,
            seq__gt=membership.cleared_through_seq,
        )
        .select_related("sender")
        .first()
    )
    if message is None:
        raise errors.MessageNotFound()
    return message


def message_delete_for_everyone(*, membership: Membership, seq: int) -> int:
    """Replace a message by a tombstone for everyone; its text is erased.

    The sender may do it, and in groups and public rooms an owner or admin too. Returns the
    seq of the message.deleted event. Raises MessageNotFound, NotAllowed, AlreadyDeleted.
    """
    _active(membership)
    message = _message(membership, seq)
    own = message.sender_id == membership.pk
    moderator = membership.is_admin and membership.conversation.kind in (
        Conversation.Kind.GROUP,
        Conversation.Kind.PUBLIC,
        Conversation.Kind.SUPPORT,
    )
    if not (own or moderator):
        raise errors.NotAllowed("Only the sender or an admin may delete this for everyone.")
    with transaction.atomic():
        event = record_conversation_event(
            membership.conversation_id, "message.deleted", {"message_seq": seq}
        )
        changed = Message.objects.filter(pk=message.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now(), deleted_seq=event.seq, body="", attachments=None
        )
        if not changed:
            raise errors.AlreadyDeleted()  # rolls the event and its seq back
        _forget_content(message)
        if message.attachments:
            messages_deleted([message.pk])  # the files leave the storage later
        publish_on_commit(ev.conversation_event_out(event))
    return event.seq


def _forget_content(message: Message) -> None:
    """What a deletion for everyone erases besides the text: its earlier texts (edits.py),
    their copies in the message.edited events that resume replays, and its reactions."""
    MessageEdit.objects.filter(message_id=message.pk).delete()
    Reaction.objects.filter(message_id=message.pk).delete()
    Message.objects.filter(pk=message.pk).update(edited_at=None)
    edited = ConversationEvent.objects.filter(
        conversation_id=message.conversation_id,
        type="message.edited",
        seq__gt=message.seq,
        payload__message_seq=message.seq,
    )
    for event in edited:
        event.payload = {**event.payload, "body": ""}
        event.save(update_fields=["payload"])


def message_delete_for_me(*, membership: Membership, seq: int) -> None:
    """Hide a message for this member only, on all their devices. Idempotent."""
    _active(membership)
    message = _message(membership, seq)
    with transaction.atomic():
        _, created = HiddenMessage.objects.get_or_create(membership=membership, message=message)
        if created and membership.user_id is not None:
            payload = {"conversation": membership.conversation_id, "message_seq": seq}
            user_event = record_user_event(membership.user_id, "message.hidden", payload)
            publish_on_commit(
                ev.user_event_out(
                    membership.user_id,
                    "message.hidden",
                    user_event.seq,
                    payload,
                    conversation=membership.conversation_id,
                )
            )


def history_clear(*, membership: Membership) -> int:
    """Hide everything up to now for this member only. Returns the seq cleared through."""
    _active(membership)
    with transaction.atomic():
        through = (
            Conversation.objects.filter(pk=membership.conversation_id)
            .values_list("last_seq", flat=True)
            .get()
        )
        membership.cleared_through_seq = max(membership.cleared_through_seq, through)
        membership.last_read_seq = max(membership.last_read_seq, through)
        membership.last_delivered_seq = max(membership.last_delivered_seq, through)
        membership.save(
            update_fields=["cleared_through_seq", "last_read_seq", "last_delivered_seq"]
        )
        if membership.user_id is not None:
            payload = {"conversation": membership.conversation_id, "through_seq": through}
            user_event = record_user_event(membership.user_id, "history.cleared", payload)
            publish_on_commit(
                ev.user_event_out(
                    membership.user_id,
                    "history.cleared",
                    user_event.seq,
                    payload,
                    conversation=membership.conversation_id,
                ),
                _unread_out(membership, 0),
            )
    return through


def _unread_out(membership: Membership, count: int):  # type: ignore[no-untyped-def]
    return outgoing(
        user_group(membership.user_id),
        p.UnreadEvent(conversation=membership.conversation_id, count=count),
    )


def receipt_mark(*, membership: Membership, kind: str, seq: int) -> bool:
    """Move the delivered or read cursor forward to `seq` (never back; read implies
    delivered). Returns whether anything moved. Publishes `receipt` to the conversation
    (not in public rooms: too many readers to be useful) and `unread` to my other devices.
    """
    from parley.chat.selectors import unread_count

    _active(membership)
    last = (
        Conversation.objects.filter(pk=membership.conversation_id)
        .values_list("last_seq", flat=True)
        .get()
    )
    seq = min(seq, last)
    with connection.cursor() as cursor:
        if kind == "read":
            cursor.execute(
                f"UPDATE {_MEMBERSHIP} SET last_read_seq = %s, "  # noqa: S608
                "last_delivered_seq = CASE WHEN last_delivered_seq < %s THEN %s "
                "ELSE last_delivered_seq END WHERE id = %s AND last_read_seq < %s "
                "RETURNING last_delivered_seq, last_read_seq",
                [seq, seq, seq, membership.pk, seq],
            )
        else:
            cursor.execute(
                f"UPDATE {_MEMBERSHIP} SET last_delivered_seq = %s "  # noqa: S608
                "WHERE id = %s AND last_delivered_seq < %s "
                "RETURNING last_delivered_seq, last_read_seq",
                [seq, membership.pk, seq],
            )
        row = cursor.fetchone()
    if row is None:
        return False
    membership.last_delivered_seq, membership.last_read_seq = int(row[0]), int(row[1])
    outs = []
    if membership.conversation.kind != Conversation.Kind.PUBLIC:
        outs.append(
            outgoing(
                conversation_group(membership.conversation_id),
                p.ReceiptEvent(
                    conversation=membership.conversation_id,
                    who=ev.member_sender(membership),
                    delivered_seq=membership.last_delivered_seq,
                    read_seq=membership.last_read_seq,
                ),
            )
        )
    if kind == "read" and membership.user_id is not None:
        outs.append(_unread_out(membership, unread_count(membership)))
    publish_on_commit(*outs)
    return True
