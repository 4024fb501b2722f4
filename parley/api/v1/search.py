"""Message search over my conversations, or one of them (docs/search.md)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import ApiView, SenderSerializer, error_responses, my_membership
from parley.chat import events as ev
from parley.chat import search
from parley.common import ratelimit

TAG = ["search"]

SYNTAX = (
    'Words (every one must occur, stemmed: `meeting` finds `meetings`), `"exact phrases"`, '
    "and filters: `from:username` (`from:me`), `in:<conversation id or name>`, "
    "`after:YYYY-MM-DD` (from that day on), `before:YYYY-MM-DD` (before that day), "
    "`has:file` (matches nothing until messages carry files). At most "
    f"{search.MAX_QUERY_LENGTH} characters and {search.MAX_TERMS} words, phrases and filters."
)


class SearchQuerySerializer(serializers.Serializer):
    # Longer queries reach the parser, which refuses them with `search_query_too_long`;
    # this bound only keeps absurd ones out.
    q = serializers.CharField(max_length=4096, trim_whitespace=False, help_text=SYNTAX)
    # Unbounded here: an id that is not mine, whatever it is, answers 404 alike.
    conversation = serializers.IntegerField(
        required=False, help_text="Search only this conversation."
    )
    order = serializers.ChoiceField(
        choices=list(search.ORDERS),
        default="newest",
        help_text="`newest` first, or `best` first (then newest).",
    )
    cursor = serializers.CharField(
        required=False, max_length=512, help_text="`next_cursor` of the previous page."
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=search.MAX_PAGE, default=20
    )


class SnippetPartSerializer(serializers.Serializer):
    text = serializers.CharField()
    match = serializers.BooleanField(help_text="A word the search matched: show it highlighted.")


class SearchHitSerializer(serializers.Serializer):
    conversation = serializers.IntegerField()
    conversation_title = serializers.CharField(
        help_text="As the conversation list shows it (a direct chat: the other person's name)."
    )
    seq = serializers.IntegerField(help_text="Open the conversation's history around this seq.")
    sender = SenderSerializer()
    created_at = serializers.DateTimeField()
    snippet = SnippetPartSerializer(
        many=True, help_text="The matching part of the message, as plain text parts in order."
    )


class SearchPageSerializer(serializers.Serializer):
    results = SearchHitSerializer(many=True)
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as `cursor` for the next page; null on the last."
    )


def render_hit(hit: search.Hit) -> dict[str, Any]:
    return {
        "conversation": hit.conversation_id,
        "conversation_title": hit.conversation_title,
        "seq": hit.seq,
        "sender": ev.member_sender(hit.sender).model_dump(mode="json"),
        "created_at": hit.created_at.isoformat(),
        "snippet": [{"text": text, "match": match} for text, match in hit.snippet],
    }


class SearchApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="message_search",
        summary="Search the messages of my conversations",
        description="Full-text search over every conversation I am a member of, or one. "
        "Never a message I may not see: deleted for everyone or for me, cleared, before I "
        "joined a conversation that hides its history, or of a conversation I left. "
        "Paginated by keyset (`next_cursor`). Rate limited per user "
        '(PARLEY["RATE_LIMITS"]["searches"]). ' + SYNTAX,
        parameters=[SearchQuerySerializer],
        responses={
            200: SearchPageSerializer,
            **error_responses(
                e400="invalid, search_query_invalid, search_query_too_long, "
                "search_too_many_terms, invalid_cursor",
                e404="conversation_not_found",
                e429="rate_limited",
            ),
        },
    )
    def get(self, request: Request) -> Response:
        ratelimit.take(request.user.pk, what="searches", searches=1)
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        membership = (
            my_membership(request, data["conversation"]) if "conversation" in data else None
        )
        page = search.search(
            request.user,  # type: ignore[arg-type]
            data["q"],
            membership=membership,
            order=data["order"],
            cursor=data.get("cursor"),
            limit=data["limit"],
        )
        return Response(
            {"results": [render_hit(h) for h in page.results], "next_cursor": page.next_cursor}
        )
