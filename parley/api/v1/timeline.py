"""The shapes of a conversation's timeline events and pins in the API (the answers are
built by parley/chat/timeline.py; these serializers document them for the schema)."""

from __future__ import annotations

from rest_framework import serializers

from parley.api.v1.common import MessageSerializer, SenderSerializer
from parley.chat.timeline import TIMELINE_TYPES


class TimelineEventSerializer(serializers.Serializer):
    """A durable event shown as a line between the messages: exactly its websocket frame
    (docs/protocol.md), so a client applies one from a history page as it would live."""

    type = serializers.ChoiceField(choices=TIMELINE_TYPES)
    conversation = serializers.IntegerField()
    seq = serializers.IntegerField()
    member = SenderSerializer(required=False, help_text="member.*: who joined, left, changed role.")
    role = serializers.CharField(required=False, help_text="member.joined, member.updated.")
    removed_by = SenderSerializer(required=False, help_text="member.left: who removed them.")
    title = serializers.CharField(required=False, help_text="conversation.updated.")
    about = serializers.CharField(required=False, help_text="conversation.updated.")
    history_visible_to_new_members = serializers.BooleanField(required=False)
    changed = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="conversation.updated."
    )
    by = SenderSerializer(
        required=False, help_text="conversation.updated, message.(un)pinned: who did it."
    )
    message_seq = serializers.IntegerField(required=False, help_text="message.(un)pinned.")


class PinSerializer(serializers.Serializer):
    message_seq = serializers.IntegerField(help_text="The pinned message's seq.")
    seq = serializers.IntegerField(help_text="The seq of the `message.pinned` event.")
    by = SenderSerializer(help_text="Who pinned it.")
    pinned_at = serializers.DateTimeField()
    message = MessageSerializer()
