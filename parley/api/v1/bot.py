"""A widget's bot for its team: its settings and ordered rules (docs/widget.md, "The bot").

The owner and the agents read it; only the owner changes it. Everything is validated by
`parley.support.services.bot_update`; a refused value is named in the 400's `details`
(`rules.<index>.<field>` for a rule) and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import ApiView, error_responses
from parley.chat import events as ev
from parley.support import selectors, services
from parley.support.models import SupportBot

TAG = ["widgets"]


class BotRuleSerializer(serializers.Serializer):
    keywords = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Words or phrases, matched as whole words in a row, case-insensitively "
        "(at most 20, each at most 80 characters). Either this or `pattern`.",
    )
    pattern = serializers.CharField(
        required=False,
        help_text="A regular expression (Python syntax, case-insensitive, at most 200 "
        "characters) found anywhere in the message; matched with a time limit.",
    )
    answer = serializers.CharField(help_text="What the bot says (at most 1,000 characters).")


class BotSerializer(serializers.Serializer):
    id = serializers.CharField(
        allow_null=True, help_text="The bot's sender id (`kind: bot`); null until first saved."
    )
    enabled = serializers.BooleanField()
    name = serializers.CharField(help_text="Shown with a bot badge on its messages.")
    greeting = serializers.CharField(
        allow_blank=True, help_text="Sent when a visitor starts a conversation."
    )
    out_of_office = serializers.CharField(
        allow_blank=True,
        help_text="Said once when nobody answers (outside the hours, or no agent online).",
    )
    fallback = serializers.CharField(
        allow_blank=True, help_text="Said when no rule matched and nobody answers."
    )
    handoff_message = serializers.CharField(
        allow_blank=True, help_text="Said when the visitor asks for a person."
    )
    handoff_words = serializers.ListField(
        child=serializers.CharField(),
        help_text="Words with which a visitor asks for a person (matched like keywords).",
    )
    rules = BotRuleSerializer(many=True, help_text="In order: the first that matches answers.")


class BotWriteSerializer(serializers.Serializer):
    """Types only: the service validates the values."""

    enabled = serializers.BooleanField(required=False)
    name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    greeting = serializers.CharField(max_length=4000, allow_blank=True, required=False)
    out_of_office = serializers.CharField(max_length=4000, allow_blank=True, required=False)
    fallback = serializers.CharField(max_length=4000, allow_blank=True, required=False)
    handoff_message = serializers.CharField(max_length=4000, allow_blank=True, required=False)
    handoff_words = serializers.JSONField(required=False)
    rules = serializers.JSONField(required=False, help_text="The whole ordered list.")


def render_bot(config: SupportBot) -> dict[str, Any]:
    return {
        "id": ev.bot_sender(config.bot).id if config.bot.pk else None,
        "enabled": config.enabled,
        "name": config.bot.name,
        "greeting": config.greeting,
        "out_of_office": config.out_of_office,
        "fallback": config.fallback,
        "handoff_message": config.handoff_message,
        "handoff_words": list(config.handoff_words),
        "rules": list(config.rules),
    }


class WidgetBotApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="widget_bot_get",
        summary="A widget's bot: settings and rules",
        responses={200: BotSerializer, **error_responses(e404="widget_not_found")},
    )
    def get(self, request: Request, widget_id: int) -> Response:
        widget = selectors.widget_for(request.user, widget_id)  # type: ignore[arg-type]
        return Response(render_bot(services.bot_settings_of(widget)))

    @extend_schema(
        tags=TAG,
        operation_id="widget_bot_update",
        summary="Change a widget's bot (owner); `rules` replaces the whole list",
        request=BotWriteSerializer,
        responses={
            200: BotSerializer,
            **error_responses(
                e400="invalid (`details` names each refused field, `rules.<i>.<field>`)",
                e403="not_allowed",
                e404="widget_not_found",
            ),
        },
    )
    def patch(self, request: Request, widget_id: int) -> Response:
        widget = selectors.widget_for(request.user, widget_id)  # type: ignore[arg-type]
        incoming = BotWriteSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        config = services.bot_update(actor=request.user, widget=widget, **incoming.validated_data)  # type: ignore[arg-type]
        return Response(render_bot(config))
