"""Routes of /api/v1/ (the contract: every path here is checked against /api/schema/)."""

from django.urls import path, re_path

from parley.accounts.api import MeApi, TokenListCreateApi, TokenRevokeApi
from parley.api import views
from parley.api.v1 import (
    availability,
    bot,
    canned,
    conversations,
    edits,
    exports,
    files,
    inbox,
    messages,
    pins,
    reactions,
    rooms,
    search,
    unread,
    webhooks,
    widgets,
)

app_name = "api"

urlpatterns = [
    path("auth/token", views.TokenObtainApi.as_view(), name="token"),
    path("me", MeApi.as_view(), name="me"),
    path("me/tokens", TokenListCreateApi.as_view(), name="tokens"),
    path("me/tokens/<int:token_id>", TokenRevokeApi.as_view(), name="token-revoke"),
    path("me/support", availability.SupportPreferencesApi.as_view(), name="support-preferences"),
    # Conversations
    path("conversations", conversations.ConversationListApi.as_view(), name="conversations"),
    path("conversations/direct", conversations.DirectCreateApi.as_view(), name="direct-create"),
    path("conversations/groups", conversations.GroupCreateApi.as_view(), name="group-create"),
    path("groups/join", conversations.GroupJoinApi.as_view(), name="group-join"),
    path(
        "conversations/<int:conversation_id>",
        conversations.ConversationDetailApi.as_view(),
        name="conversation",
    ),
    path(
        "conversations/<int:conversation_id>/invite",
        conversations.GroupInviteApi.as_view(),
        name="group-invite",
    ),
    path(
        "conversations/<int:conversation_id>/members",
        conversations.MemberAddApi.as_view(),
        name="member-add",
    ),
    path(
        "conversations/<int:conversation_id>/members/<int:user_id>",
        conversations.MemberUpdateRemoveApi.as_view(),
        name="member",
    ),
    path(
        "conversations/<int:conversation_id>/leave",
        conversations.ConversationLeaveApi.as_view(),
        name="conversation-leave",
    ),
    # Messages
    path(
        "conversations/<int:conversation_id>/messages",
        messages.MessageListCreateApi.as_view(),
        name="messages",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:seq>",
        edits.MessageApi.as_view(),
        name="message",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:seq>/edits",
        edits.MessageEditsApi.as_view(),
        name="message-edits",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:seq>/reactions/<str:emoji>",
        reactions.ReactionApi.as_view(),
        name="reaction",
    ),
    path(
        "conversations/<int:conversation_id>/clear",
        messages.HistoryClearApi.as_view(),
        name="history-clear",
    ),
    path(
        "conversations/<int:conversation_id>/read",
        messages.ReadMarkApi.as_view(),
        name="read-mark",
    ),
    path(
        "conversations/<int:conversation_id>/unread",
        unread.MarkUnreadApi.as_view(),
        name="unread-mark",
    ),
    path(
        "conversations/<int:conversation_id>/pins",
        pins.PinListCreateApi.as_view(),
        name="pins",
    ),
    path(
        "conversations/<int:conversation_id>/pins/<int:seq>",
        pins.PinDeleteApi.as_view(),
        name="pin",
    ),
    # Search
    path("search", search.SearchApi.as_view(), name="search"),
    path("uploads", files.UploadCreateApi.as_view(), name="uploads"),
    path("uploads/<uuid:upload_id>", files.UploadDiscardApi.as_view(), name="upload"),
    path("files/<uuid:upload_id>", files.FileContentApi.as_view(), name="file-content"),
    path(
        "files/<uuid:upload_id>/thumbnail",
        files.FileThumbnailApi.as_view(),
        name="file-thumbnail",
    ),
    # Exports
    path(
        "conversations/<int:conversation_id>/exports",
        exports.ConversationExportApi.as_view(),
        name="conversation-export",
    ),
    path("exports", exports.ExportListApi.as_view(), name="exports"),
    path("exports/<str:export_id>", exports.ExportDetailApi.as_view(), name="export"),
    path(
        "exports/<str:export_id>/download",
        exports.ExportDownloadApi.as_view(),
        name="export-download",
    ),
    # Public rooms
    path("rooms", rooms.RoomListApi.as_view(), name="rooms"),
    path("rooms/<slug:slug>/open", rooms.RoomOpenApi.as_view(), name="room-open"),
    # Support widgets
    path("widgets", widgets.WidgetListCreateApi.as_view(), name="widgets"),
    path("widgets/<int:widget_id>", widgets.WidgetDetailApi.as_view(), name="widget"),
    path("widgets/<int:widget_id>/secret", widgets.WidgetSecretApi.as_view(), name="widget-secret"),
    path("widgets/<int:widget_id>/bot", bot.WidgetBotApi.as_view(), name="widget-bot"),
    path("widgets/<int:widget_id>/canned", canned.CannedListCreateApi.as_view(), name="canned"),
    path(
        "widgets/<int:widget_id>/canned/<int:reply_id>",
        canned.CannedDetailApi.as_view(),
        name="canned-reply",
    ),
    path("widgets/<int:widget_id>/agents", widgets.AgentAddApi.as_view(), name="widget-agents"),
    path(
        "widgets/<int:widget_id>/agents/<int:user_id>",
        widgets.AgentRemoveApi.as_view(),
        name="widget-agent",
    ),
    # Outgoing webhooks of widgets and their owners
    path(
        "widgets/<int:widget_id>/webhooks",
        webhooks.WidgetWebhookListCreateApi.as_view(),
        name="widget-webhooks",
    ),
    path("webhooks", webhooks.OwnerWebhookListCreateApi.as_view(), name="webhooks"),
    path("webhooks/<int:endpoint_id>", webhooks.WebhookDetailApi.as_view(), name="webhook"),
    path(
        "webhooks/<int:endpoint_id>/secret",
        webhooks.WebhookSecretApi.as_view(),
        name="webhook-secret",
    ),
    path("webhooks/<int:endpoint_id>/test", webhooks.WebhookTestApi.as_view(), name="webhook-test"),
    path(
        "webhooks/<int:endpoint_id>/deliveries",
        webhooks.WebhookDeliveriesApi.as_view(),
        name="webhook-deliveries",
    ),
    # The team's inbox of visitors' conversations
    path("inbox", inbox.InboxApi.as_view(), name="inbox"),
    path("inbox/<int:conversation_id>", inbox.InboxItemApi.as_view(), name="inbox-item"),
    path("inbox/<int:conversation_id>/notes", inbox.NotesApi.as_view(), name="inbox-notes"),
    path(
        "inbox/<int:conversation_id>/canned",
        canned.CannedForConversationApi.as_view(),
        name="inbox-canned",
    ),
    # Anything else under /api/v1/ is a JSON 404 with a code, like every other API error.
    re_path(r"^.*$", views.not_found, name="not-found"),
]
