"""Conversations: the list, one conversation, creating direct chats and groups, joining by
invite, the invite link, members and roles, renaming, leaving."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import ApiView, error_responses, my_membership
from parley.api.v1.shapes import (
    ConversationDetailSerializer,
    ConversationSerializer,
    MemberSerializer,
    invite_url,
    render_conversation,
    render_conversations,
    render_member,
)
from parley.chat import selectors, services
from parley.common import ratelimit

TAG = ["conversations"]

# The most people a group create may name: each is looked up (and counted against the
# caller's `lookups` limit); more can be added afterwards or join by the invite link.
MAX_GROUP_MEMBERS = 50


def _count(request: Request, logins: list[str], **actions: int) -> None:
    """Count the caller's request against their limits before anything is looked up:
    `actions`, and each distinct email or username as one of `lookups` (an answer, found or
    `user_not_found`, tells whether an address has an account). Raises RateLimited."""
    distinct = {login.strip().lower() for login in logins if login.strip()}
    ratelimit.take(request.user.pk, lookups=len(distinct), **actions)


HISTORY_HELP = (
    "Whether people who join from now on (and members who rejoin) see the messages from "
    "before they joined. Off: they see only what is said from their joining on. It is read "
    "at each join: changing it shows or hides nothing to people already in."
)


# --- Requests ------------------------------------------------------------------------------


class DirectCreateSerializer(serializers.Serializer):
    user = serializers.CharField(
        max_length=254,
        help_text="The other person's email or username (counts against my `lookups` limit).",
    )


class GroupCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    members = serializers.ListField(
        child=serializers.CharField(max_length=254),
        max_length=MAX_GROUP_MEMBERS,
        default=list,
        help_text=(
            f"Emails or usernames of the people to add besides me (at most {MAX_GROUP_MEMBERS});"
            " each distinct one counts against my `lookups` limit."
        ),
    )
    history_visible_to_new_members = serializers.BooleanField(default=False, help_text=HISTORY_HELP)


class GroupJoinSerializer(serializers.Serializer):
    secret = serializers.CharField(
        max_length=512, help_text="The invite secret, or the whole invite link."
    )

    def validate_secret(self, value: str) -> str:
        # ".../join/<secret>" or ".../join/<secret>/": the last path segment is the secret.
        return value.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class ConversationUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    about = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        help_text="The description: at most 280 characters once cleaned; empty removes it.",
    )
    history_visible_to_new_members = serializers.BooleanField(
        required=False, help_text=HISTORY_HELP
    )
    edits_allowed = serializers.BooleanField(
        required=False, help_text="Whether members may edit the messages they sent."
    )

    def validate(self, attrs: dict) -> dict:  # type: ignore[type-arg]
        if not attrs:
            raise serializers.ValidationError(
                "Give a title, about, history_visible_to_new_members or edits_allowed."
            )
        return attrs


class MemberAddSerializer(serializers.Serializer):
    user = serializers.CharField(
        max_length=254,
        help_text="Their email or username (counts against my `lookups` limit).",
    )


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["admin", "member"])


class InviteSerializer(serializers.Serializer):
    invite_secret = serializers.CharField()
    invite_url = serializers.CharField()


def _parse(serializer_class: type[serializers.Serializer], request: Request) -> dict:  # type: ignore[type-arg]
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data  # type: ignore[return-value]


# --- Views ---------------------------------------------------------------------------------


class ConversationListApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="conversation_list",
        summary="My conversations, most recent activity first",
        responses={200: ConversationSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        return Response(render_conversations(selectors.conversation_list(request.user), request))


class ConversationDetailApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="conversation_get",
        summary="One conversation with its members",
        responses={
            200: ConversationDetailSerializer,
            **error_responses(e404="conversation_not_found"),
        },
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        membership = my_membership(request, conversation_id)
        return Response(render_conversation(membership, request))

    @extend_schema(
        tags=TAG,
        operation_id="conversation_update",
        summary="Change a group's or public room's title, description or settings (owner, admins)",
        description="Any of the fields. `history_visible_to_new_members` decides what "
        "people who join or rejoin from now on see of the earlier history; "
        "`edits_allowed` whether members may edit their messages. Members get one "
        "`conversation.updated` with the settings afterwards, who changed them and which.",
        request=ConversationUpdateSerializer,
        responses={
            200: ConversationDetailSerializer,
            **error_responses(
                e400="invalid, invalid_title, invalid_about",
                e403="not_allowed",
                e404="conversation_not_found",
            ),
        },
    )
    def patch(self, request: Request, conversation_id: int) -> Response:
        membership = my_membership(request, conversation_id)
        data = _parse(ConversationUpdateSerializer, request)
        services.conversation_update(
            actor=request.user,
            conversation=membership.conversation,
            title=data.get("title"),
            about=data.get("about"),
            history_visible_to_new_members=data.get("history_visible_to_new_members"),
            edits_allowed=data.get("edits_allowed"),
        )
        fresh = selectors.membership_for(request.user, conversation_id)
        return Response(render_conversation(fresh, request))


class DirectCreateApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="direct_get_or_create",
        summary="Get or create my direct chat with someone",
        description=(
            "Only people with a confirmed address are found. Each request counts one "
            'against my `lookups` limit (PARLEY["RATE_LIMITS"], 100 an hour by default).'
        ),
        request=DirectCreateSerializer,
        responses={
            200: OpenApiResponse(ConversationDetailSerializer, description="It existed."),
            201: OpenApiResponse(ConversationDetailSerializer, description="Created."),
            **error_responses(
                e400="invalid, cannot_chat_with_self",
                e404="user_not_found",
                e429="rate_limited (`Retry-After`, `details.retry_after`)",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = _parse(DirectCreateSerializer, request)
        _count(request, [data["user"]])
        conversation, created = services.conversation_get_or_create_direct(
            user=request.user, other=data["user"]
        )
        membership = selectors.membership_for(request.user, conversation.pk)
        return Response(
            render_conversation(membership, request),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class GroupCreateApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="group_create",
        summary="Create a group that I own",
        description=(
            "Counts one against my `groups` limit and each distinct member named against my "
            '`lookups` limit (PARLEY["RATE_LIMITS"]: 10 groups and 100 lookups an hour by '
            "default), found or not; a refused request counts nothing. Only people with a "
            "confirmed address are found; one who is not found makes nothing and is named "
            "in `details.login`."
        ),
        request=GroupCreateSerializer,
        responses={
            201: ConversationDetailSerializer,
            **error_responses(
                e400="invalid, invalid_title",
                e404="user_not_found",
                e429="rate_limited (`Retry-After`, `details.retry_after`)",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = _parse(GroupCreateSerializer, request)
        _count(request, data["members"], groups=1)
        members = selectors.users_by_logins(data["members"])
        conversation = services.conversation_create_group(
            creator=request.user,
            title=data["title"],
            members=members,
            history_visible_to_new_members=data["history_visible_to_new_members"],
        )
        membership = selectors.membership_for(request.user, conversation.pk)
        return Response(render_conversation(membership, request), status=status.HTTP_201_CREATED)


class GroupJoinApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="group_join",
        summary="Join a group by its invite secret or link",
        request=GroupJoinSerializer,
        responses={
            200: ConversationDetailSerializer,
            **error_responses(e400="invalid", e404="invalid_invite"),
        },
    )
    def post(self, request: Request) -> Response:
        data = _parse(GroupJoinSerializer, request)
        conversation, _ = services.group_join_by_secret(user=request.user, secret=data["secret"])
        membership = selectors.membership_for(request.user, conversation.pk)
        return Response(render_conversation(membership, request))


class GroupInviteApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="group_invite_rotate",
        summary="Replace the invite link of a group (owner, admins): the old one stops working",
        request=None,
        responses={
            200: InviteSerializer,
            **error_responses(e403="not_allowed", e404="conversation_not_found"),
        },
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        membership = my_membership(request, conversation_id)
        secret = services.group_rotate_secret(
            actor=request.user, conversation=membership.conversation
        )
        return Response({"invite_secret": secret, "invite_url": invite_url(request, secret)})


class MemberAddApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="member_add",
        summary="Add someone to a group (owner, admins)",
        description=(
            "Counts one against my `lookups` limit and one against my `member_adds` limit "
            '(PARLEY["RATE_LIMITS"]: 100 and 60 an hour by default). Only people with a '
            "confirmed address are found."
        ),
        request=MemberAddSerializer,
        responses={
            200: OpenApiResponse(MemberSerializer, description="Already a member."),
            201: OpenApiResponse(MemberSerializer, description="Added."),
            **error_responses(
                e400="invalid",
                e403="not_allowed",
                e404="conversation_not_found, user_not_found",
                e429="rate_limited (`Retry-After`, `details.retry_after`)",
            ),
        },
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        membership = my_membership(request, conversation_id)
        data = _parse(MemberAddSerializer, request)
        _count(request, [data["user"]], member_adds=1)
        (user,) = selectors.users_by_logins([data["user"]])
        added = services.group_add_members(
            actor=request.user, conversation=membership.conversation, users=[user]
        )
        return Response(
            render_member(selectors.active_member(conversation_id, user.pk)),
            status=status.HTTP_201_CREATED if added else status.HTTP_200_OK,
        )


class MemberUpdateRemoveApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="member_set_role",
        summary="Make a member an admin or an admin a member (owner)",
        request=MemberUpdateSerializer,
        responses={
            200: MemberSerializer,
            **error_responses(
                e400="invalid",
                e403="not_allowed",
                e404="conversation_not_found, user_not_found",
            ),
        },
    )
    def patch(self, request: Request, conversation_id: int, user_id: int) -> Response:
        membership = my_membership(request, conversation_id)
        data = _parse(MemberUpdateSerializer, request)
        target = services.group_set_role(
            actor=request.user,
            conversation=membership.conversation,
            user=selectors.user_by_id(user_id),
            role=data["role"],
        )
        return Response(render_member(target))

    @extend_schema(
        tags=TAG,
        operation_id="member_remove",
        summary="Remove someone from a group (owner, admins)",
        responses={
            204: OpenApiResponse(description="Removed."),
            **error_responses(e403="not_allowed", e404="conversation_not_found, user_not_found"),
        },
    )
    def delete(self, request: Request, conversation_id: int, user_id: int) -> Response:
        membership = my_membership(request, conversation_id)
        services.group_remove_member(
            actor=request.user,
            conversation=membership.conversation,
            user=selectors.user_by_id(user_id),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConversationLeaveApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="conversation_leave",
        summary="Leave a group or public room",
        request=None,
        responses={
            204: OpenApiResponse(description="Left."),
            **error_responses(e403="not_allowed", e404="conversation_not_found"),
        },
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        membership = my_membership(request, conversation_id)
        services.conversation_leave(user=request.user, conversation=membership.conversation)
        return Response(status=status.HTTP_204_NO_CONTENT)
