"""What every v1 view shares: the base view, the error and message shapes, documented error
responses, the one way a view finds the caller's membership (404 for strangers), and
messages as JSON-ready dicts."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from parley.api.renderers import RENDERER_CLASSES
from parley.chat import errors, selectors
from parley.chat import events as ev
from parley.chat.models import Membership
from parley.chat.reaction_reads import page_reactions, summaries_by_seq
from parley.chat.selectors import MessageRow

# Ids and seqs beyond this are refused before they reach the database (SQLite and
# PostgreSQL both fail on integers past 64 bits); the websocket protocol uses the same bound.
MAX_ID = 2**62

UNREAD_HELP = (
    "Messages of others after my read cursor (not deleted, not deleted for me), counted up "
    'to the server\'s unread cap: PARLEY["UNREAD_CAP"], 1,000 by default, named '
    "`unread_cap` in the websocket's `hello` limits. A value equal to the cap means that "
    'many or more (show it as, say, "999+").'
)


UNAVAILABLE = (
    "unavailable: the server cannot reach its database (an outage, a restart); nothing was "
    "done. Send the same request again after `Retry-After` seconds (also "
    "`details.retry_after`); a message send with the same `client_id` is always safe to "
    "retry (stored once)"
)


class ApiView(APIView):
    """Every v1 view: DRF's APIView rendering JSON with orjson (parley/api/renderers.py)."""

    renderer_classes = RENDERER_CLASSES


class ErrorSerializer(serializers.Serializer):
    """Every error body: a stable `code` to branch on, a human `message`, maybe `details`."""

    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField(required=False)


class SenderSerializer(serializers.Serializer):
    """`parley.events.protocol.Sender`: a registered user, a support visitor or a bot."""

    kind = serializers.ChoiceField(
        choices=["user", "visitor", "bot"],
        help_text="`bot`: an automated participant (a widget's bot), never a person.",
    )
    id = serializers.CharField(help_text="The user id, or the visitor's UUID.")
    name = serializers.CharField()
    username = serializers.CharField(allow_null=True)
    avatar = serializers.CharField(allow_null=True)


class ReactorSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["user", "visitor", "bot"])
    id = serializers.CharField()
    name = serializers.CharField()
    username = serializers.CharField(allow_null=True, help_text="Always null here.")
    avatar = serializers.CharField(allow_null=True, help_text="Always null here.")


class ReactionSerializer(serializers.Serializer):
    """`parley.events.protocol.ReactionSummary`: one emoji on one message."""

    emoji = serializers.CharField()
    count = serializers.IntegerField(help_text="How many people added it.")
    users = ReactorSerializer(
        many=True, help_text='The first who added it, at most PARLEY["REACTION_NAMES"] (3).'
    )
    mine = serializers.BooleanField(help_text="Whether I added it.")


class AttachmentSerializer(serializers.Serializer):
    """`parley.events.protocol.Attachment`: a file a message carries."""

    id = serializers.UUIDField(help_text="The upload's id.")
    name = serializers.CharField(help_text="The sender's name for it, cleaned.")
    content_type = serializers.CharField(help_text="Found from the content, not the name.")
    kind = serializers.ChoiceField(
        choices=["image", "file"],
        help_text="`image`: re-encoded, shown inline, with a thumbnail; `file`: a download.",
    )
    size = serializers.IntegerField(help_text="Bytes.")
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    url = serializers.CharField(help_text="Opens it (members who see the message only).")
    thumbnail_url = serializers.CharField(allow_null=True, help_text="A small WebP of an image.")


class MessageSerializer(serializers.Serializer):
    """Exactly the websocket `MessageOut` (parley/events/protocol.py)."""

    conversation = serializers.IntegerField()
    seq = serializers.IntegerField()
    client_id = serializers.CharField()
    sender = SenderSerializer()
    body = serializers.CharField(help_text="Empty when the message was deleted for everyone.")
    created_at = serializers.DateTimeField()
    deleted = serializers.BooleanField(help_text="Deleted for everyone: a tombstone.")
    edited_at = serializers.DateTimeField(
        allow_null=True, help_text="When its sender last edited it; null if never."
    )
    reactions = ReactionSerializer(
        many=True,
        allow_null=True,
        help_text="Most added first. On history pages; null where a message is shown alone "
        "(a conversation's last message, a send's answer).",
    )
    attachments = AttachmentSerializer(
        many=True,
        allow_null=True,
        help_text="The files it carries (docs/files.md); null without any, and in a tombstone.",
    )


def error_responses(**by_status: str) -> dict[int, OpenApiResponse]:
    """Documented error responses: `error_responses(e404="conversation_not_found")`.

    Every authenticated endpoint also answers 401 `not_authenticated`, and every endpoint
    503 `unavailable` while the database cannot be reached (parley/common/outage.py)."""
    documented = {"e401": "not_authenticated", "e503": UNAVAILABLE, **by_status}
    return {
        int(key[1:]): OpenApiResponse(ErrorSerializer, description=f"`code`: {codes}")
        for key, codes in sorted(documented.items())
    }


def my_membership(request: Request, conversation_id: int) -> Membership:
    """The caller's active membership, or 404 `conversation_not_found`, whether the
    conversation exists or not."""
    if not 0 < conversation_id <= MAX_ID:
        raise errors.ConversationNotFound()
    return selectors.membership_for(request.user, conversation_id)  # type: ignore[arg-type]


def message_dicts(
    conversation_id: int, rows: Iterable[MessageRow], reader_id: int | None = None
) -> list[dict[str, Any]]:
    """Messages of a conversation (`selectors.message_rows_window`) as JSON-ready dicts,
    each exactly `events.message_out(message, reactions=…).model_dump(mode="json")`, the
    websocket's MessageOut (tests/api/test_fast_paths.py holds them equal), built without a
    model or a pydantic instance per message: each sender is built once, by the
    websocket's code. With their reactions, `mine` for member `reader_id`: one query for
    all of them, and the reactors are read with the senders (parley/chat/reaction_reads.py)."""
    rows = list(rows)
    page = page_reactions(conversation_id, (row[0] for row in rows), reader_id)
    reactors = (m for reactions in page.values() for r in reactions for m in r.reactors)
    senders = {
        pk: ev.member_sender(m).model_dump(mode="json")
        for pk, m in selectors.senders_by_id(
            itertools.chain((row[5] for row in rows), reactors)
        ).items()
    }
    reactions = summaries_by_seq(page, senders)
    return [
        {
            "conversation": conversation_id,
            "seq": seq,
            "client_id": client_id,
            "sender": senders[sender_id],
            # Deleted for everyone: the content is gone (as in events.message_out).
            "body": "" if deleted_at else body,
            "created_at": created_at.isoformat(),
            "deleted": deleted_at is not None,
            "edited_at": edited_at.isoformat() if edited_at and not deleted_at else None,
            "reactions": reactions.get(seq, []),
            "attachments": None if deleted_at else _attachment_dicts(files),
        }
        for seq, client_id, body, created_at, deleted_at, sender_id, edited_at, files in rows
    ]


def _attachment_dicts(stored: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    out = ev.attachments_out(stored)
    return None if out is None else [a.model_dump(mode="json") for a in out]
