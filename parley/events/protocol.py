"""The websocket wire format: the single source of truth for every frame.

Client commands are parsed with `parse_command`; server events are built from the event
models below and encoded with `encode`. docs/protocol.md documents each one and a test
checks that every model here is documented there.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

ConversationId = Annotated[int, Field(strict=True, ge=1, le=2**62)]
Seq = Annotated[int, Field(strict=True, ge=0, le=2**62)]
RequestId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ClientId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
]
# An upload's id (POST /api/v1/uploads): a UUID.
UploadId = Annotated[
    str, StringConstraints(min_length=32, max_length=36, pattern=r"^[0-9a-fA-F-]{32,36}$")
]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- Client commands ----------------------------------------------------------------------


class Command(Frame):
    id: RequestId | None = None


class SendMessage(Command):
    """Send a message. Answered by `ack` carrying the stored message (idempotent by client_id)."""

    type: Literal["message.send"]
    conversation: ConversationId
    client_id: ClientId
    body: Annotated[str, StringConstraints(max_length=20000)]
    # Uploads of mine to attach (at most `max_files_per_message`, in `hello`'s limits);
    # with any, the body is an optional caption.
    attachments: Annotated[list[UploadId], Field(max_length=100)] | None = None


class Typing(Command):
    """I started (`active: true`) or stopped typing. Not acknowledged unless it has an id."""

    type: Literal["typing"]
    conversation: ConversationId
    active: bool = True


class MarkReceipt(Command):
    """Move my delivered or read cursor forward to `seq` (a cursor never moves back)."""

    type: Literal["receipt"]
    conversation: ConversationId
    kind: Literal["delivered", "read"]
    seq: Seq


class DeleteMessage(Command):
    """Delete the message with `seq`, for me only or for everyone."""

    type: Literal["message.delete"]
    conversation: ConversationId
    seq: Seq
    scope: Literal["me", "everyone"]


class EditMessage(Command):
    """Replace the text of my message `seq`. Answered by `ack` with the seq of the
    `message.edited` event (absent when the text did not change)."""

    type: Literal["message.edit"]
    conversation: ConversationId
    seq: Seq
    body: Annotated[str, StringConstraints(max_length=20000)]


Emoji = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class AddReaction(Command):
    """Add my reaction `emoji` (one emoji) to message `seq`; adding it again does nothing."""

    type: Literal["reaction.add"]
    conversation: ConversationId
    seq: Seq
    emoji: Emoji


class RemoveReaction(Command):
    """Take my reaction `emoji` off message `seq`; removing one I did not add does nothing."""

    type: Literal["reaction.remove"]
    conversation: ConversationId
    seq: Seq
    emoji: Emoji


class ClearHistory(Command):
    """Hide everything in the conversation up to now, for me only."""

    type: Literal["history.clear"]
    conversation: ConversationId


class OpenConversation(Command):
    """I am looking at this conversation: send me its online count while it is open."""

    type: Literal["conversation.open"]
    conversation: ConversationId


class CloseConversation(Command):
    type: Literal["conversation.close"]
    conversation: ConversationId


class Resume(Command):
    """Where this client stood: the last seq seen per conversation and on my user stream.

    Answered by every durable event after those positions, in order, then `resumed`.
    Conversations not named are replayed from the start if they are younger than the
    replay limit; a client that knows nothing sends `{}` and fetches state over REST.
    """

    type: Literal["resume"]
    conversations: dict[Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,17}$")], Seq] = (
        Field(default_factory=dict, max_length=2000)
    )
    user_seq: Seq | None = None


class Ping(Command):
    type: Literal["ping"]


class SupportHandoff(Command):
    """A support visitor asks for a person ("talk to a human"): the conversation waits
    for an agent and the widget's bot stops answering its rules. Visitors only."""

    type: Literal["support.handoff"]
    conversation: ConversationId


class SupportRate(Command):
    """A support visitor rates their resolved conversation (widgets that ask for it).
    Visitors only."""

    type: Literal["support.rate"]
    conversation: ConversationId
    score: Annotated[int, Field(strict=True, ge=1, le=5)]
    comment: Annotated[str, StringConstraints(max_length=1000)] = ""


class PinMessage(Command):
    """Pin the message with `seq` in the conversation's header (who may: docs/protocol.md)."""

    type: Literal["message.pin"]
    conversation: ConversationId
    seq: Seq


class UnpinMessage(Command):
    """Take the message with `seq` out of the conversation's pins."""

    type: Literal["message.unpin"]
    conversation: ConversationId
    seq: Seq


class MarkUnread(Command):
    """Show the conversation as unread to me from the message with `seq` on (on all my
    devices). My read cursor moves back privately: the others' read receipts stay."""

    type: Literal["unread.mark"]
    conversation: ConversationId
    seq: Seq


CLIENT_COMMANDS: tuple[type[Command], ...] = (
    SendMessage,
    Typing,
    MarkReceipt,
    DeleteMessage,
    EditMessage,
    AddReaction,
    RemoveReaction,
    ClearHistory,
    OpenConversation,
    CloseConversation,
    Resume,
    Ping,
    SupportHandoff,
    SupportRate,
    PinMessage,
    UnpinMessage,
    MarkUnread,
)


def frame_type(model: type[Frame]) -> str:
    """The literal `type` of a frame model."""
    return model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr,no-any-return]


def _discriminated(models: tuple[type[Frame], ...]) -> TypeAdapter[Any]:
    return TypeAdapter(Annotated[Union[models], Field(discriminator="type")])  # noqa: UP007


COMMAND_TYPES = frozenset(frame_type(m) for m in CLIENT_COMMANDS)
_command_adapter = _discriminated(CLIENT_COMMANDS)


class ProtocolError(Exception):
    """A frame that cannot be accepted. `code` goes out in the `error` frame."""

    def __init__(self, code: str, message: str, request_id: str | None = None, **details: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id
        self.details = details


def request_id_of(raw: str | bytes | None, *, max_bytes: int) -> str | None:
    """The `id` of a frame that is refused unread (rate limited), so the answer can name
    it; None when there is none to find. Reading JSON is cheap next to running a command."""
    if not isinstance(raw, str) or len(raw) > max_bytes:
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    rid = data.get("id") if isinstance(data, dict) else None
    return rid if isinstance(rid, str) and 0 < len(rid) <= 64 else None


def parse_command(raw: str | bytes, *, max_bytes: int) -> Command:
    """Parse one client frame or raise ProtocolError with a stable code."""
    size = len(raw)
    if isinstance(raw, str) and size * 4 > max_bytes:  # a character is up to 4 bytes
        size = len(raw.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ProtocolError("frame_too_large", f"A frame may be at most {max_bytes} bytes.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProtocolError("invalid_json", "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ProtocolError("invalid_frame", "A frame is a JSON object.")
    request_id = data.get("id") if isinstance(data.get("id"), str) else None
    if request_id is not None and len(request_id) > 64:
        request_id = None
    frame_type = data.get("type")
    if not isinstance(frame_type, str) or frame_type not in COMMAND_TYPES:
        raise ProtocolError(
            "unknown_type",
            "Unknown or missing frame type.",
            request_id,
            allowed=sorted(COMMAND_TYPES),
        )
    try:
        return _command_adapter.validate_python(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        fields = [
            {"field": ".".join(str(p) for p in err["loc"][1:]), "problem": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)[:10]
        ]
        raise ProtocolError(
            "invalid_frame", "The frame does not match its schema.", request_id, fields=fields
        ) from None


# --- Server events ------------------------------------------------------------------------


class Sender(Frame):
    """Who did something. `kind` says what they are: a person with an account (`user`), a
    support visitor (`visitor`), or an automated participant (`bot`, a support widget's
    bot: clients show it as a bot, never as a person)."""

    kind: Literal["user", "visitor", "bot"]
    id: str
    name: str
    username: str | None = None
    avatar: str | None = None


class ReactionSummary(Frame):
    """One emoji on one message: how many people added it and the first of them (in the
    order they reacted, at most PARLEY["REACTION_NAMES"]). `mine` (REST only): whether I
    am one of them."""

    emoji: str
    count: int
    users: list[Sender]
    mine: bool | None = None


class Attachment(Frame):
    """A file a message carries (docs/files.md). `url` opens it for members who may see
    the message (an image inline, anything else as a download); `thumbnail_url` is a
    small WebP of an image."""

    id: str
    name: str
    content_type: str
    kind: Literal["image", "file"]
    size: int
    width: int | None = None
    height: int | None = None
    url: str
    thumbnail_url: str | None = None


class MessageOut(Frame):
    conversation: int
    seq: int
    client_id: str
    sender: Sender
    body: str
    created_at: str
    deleted: bool = False
    # When the sender last edited it; absent (null over REST) if never.
    edited_at: str | None = None
    # Its reactions, most added first: on history pages only (events say what changed).
    reactions: list[ReactionSummary] | None = None
    # Absent (null over REST) for a message without files and for a tombstone.
    attachments: list[Attachment] | None = None


class Ack(Frame):
    type: Literal["ack"] = "ack"
    re: str | None = None  # absent when the command had no id
    message: MessageOut | None = None
    result: dict[str, Any] | None = None


class Error(Frame):
    type: Literal["error"] = "error"
    re: str | None = None
    code: str
    message: str
    details: dict[str, Any] | None = None


class Hello(Frame):
    """First frame on a new socket: who I am and the server's limits."""

    type: Literal["hello"] = "hello"
    user: Sender
    user_seq: int
    limits: dict[str, int | float]


class MessageCreated(Frame):
    type: Literal["message.created"] = "message.created"
    conversation: int
    seq: int
    message: MessageOut


class MessageDeleted(Frame):
    type: Literal["message.deleted"] = "message.deleted"
    conversation: int
    seq: int
    message_seq: int


class MessageEdited(Frame):
    """The sender edited message `message_seq`: its text is now `body`."""

    type: Literal["message.edited"] = "message.edited"
    conversation: int
    seq: int
    message_seq: int
    body: str
    edited_at: str


class ReactionAdded(Frame):
    """`who` added `emoji` to message `message_seq`; `count` and `users` are that emoji's
    totals on the message afterwards (as in ReactionSummary)."""

    type: Literal["reaction.added"] = "reaction.added"
    conversation: int
    seq: int
    message_seq: int
    emoji: str
    who: Sender
    count: int
    users: list[Sender]


class ReactionRemoved(Frame):
    """`who` took `emoji` off message `message_seq`; the totals afterwards (count 0: the
    emoji is gone from the message)."""

    type: Literal["reaction.removed"] = "reaction.removed"
    conversation: int
    seq: int
    message_seq: int
    emoji: str
    who: Sender
    count: int
    users: list[Sender]


class MemberJoined(Frame):
    type: Literal["member.joined"] = "member.joined"
    conversation: int
    seq: int
    member: Sender
    role: str


class MemberLeft(Frame):
    type: Literal["member.left"] = "member.left"
    conversation: int
    seq: int
    member: Sender
    removed_by: Sender | None = None


class MemberUpdated(Frame):
    """A member's role changed (made admin, back to member, or owner after the owner left)."""

    type: Literal["member.updated"] = "member.updated"
    conversation: int
    seq: int
    member: Sender
    role: str


class ConversationUpdated(Frame):
    type: Literal["conversation.updated"] = "conversation.updated"
    conversation: int
    seq: int
    title: str
    # The setting as it is from this event on; absent from events recorded before it existed.
    history_visible_to_new_members: bool | None = None
    # Whether members may edit their messages; absent from events recorded before it existed.
    edits_allowed: bool | None = None
    # The description from this event on, and who changed the settings (absent from
    # events recorded before they were carried, and from support conversations' retitles).
    about: str | None = None
    by: Sender | None = None
    # Which settings this change touched (a timeline line says "renamed the group").
    changed: (
        list[Literal["title", "about", "history_visible_to_new_members", "edits_allowed"]] | None
    ) = None


class MessagePinned(Frame):
    """A message was pinned to the conversation's header."""

    type: Literal["message.pinned"] = "message.pinned"
    conversation: int
    seq: int
    message_seq: int
    by: Sender


class MessageUnpinned(Frame):
    type: Literal["message.unpinned"] = "message.unpinned"
    conversation: int
    seq: int
    message_seq: int
    by: Sender


class SupportUpdated(Frame):
    """A support conversation's status or assignee changed (docs/widget.md)."""

    type: Literal["support.updated"] = "support.updated"
    conversation: int
    seq: int
    status: Literal["open", "resolved", "snoozed"]
    snoozed_until: str | None = None
    assignee: Sender | None = None
    # The visitor asked for a person and no one of the team has written since (the next
    # team message ends it; absent from events recorded before handoffs existed).
    waiting: bool = False


class SupportRated(Frame):
    """The visitor rated their resolved support conversation, or rated it again."""

    type: Literal["support.rated"] = "support.rated"
    conversation: int
    seq: int
    score: int
    comment: str = ""
    rated_at: str


class ConversationSummary(Frame):
    id: int
    kind: str
    title: str
    last_seq: int
    role: str
    # My history floor: I see no message or event at or below this seq (0: none).
    cleared_through_seq: int = 0


class ConversationJoined(Frame):
    """User stream: I am now a member of a conversation (new direct chat, added to a group)."""

    type: Literal["conversation.joined"] = "conversation.joined"
    user_seq: int
    conversation: ConversationSummary


class ConversationLeft(Frame):
    type: Literal["conversation.left"] = "conversation.left"
    user_seq: int
    conversation: int


class MessageHidden(Frame):
    """User stream: I deleted a message for me (on another device too)."""

    type: Literal["message.hidden"] = "message.hidden"
    user_seq: int
    conversation: int
    message_seq: int


class HistoryCleared(Frame):
    type: Literal["history.cleared"] = "history.cleared"
    user_seq: int
    conversation: int
    through_seq: int


class UnreadMarked(Frame):
    """User stream: I marked a conversation unread (maybe on another device): my read
    cursor is now `read_seq` and `unread` messages of others are unread."""

    type: Literal["unread.marked"] = "unread.marked"
    user_seq: int
    conversation: int
    read_seq: int
    unread: int


class TypingEvent(Frame):
    type: Literal["typing"] = "typing"
    conversation: int
    who: Sender
    active: bool


class ReceiptEvent(Frame):
    type: Literal["receipt"] = "receipt"
    conversation: int
    who: Sender
    delivered_seq: int
    read_seq: int


class UnreadEvent(Frame):
    type: Literal["unread"] = "unread"
    conversation: int
    count: int


class PresenceEvent(Frame):
    type: Literal["presence"] = "presence"
    user: str
    online: bool
    last_seen: str | None = None


class ProfileUpdated(Frame):
    """Someone I chat with (or I, on another tab) changed their name, handle, avatar or about.

    `show_last_seen` false: forget their last-seen time. Not replayed (REST has the state).
    """

    type: Literal["profile.updated"] = "profile.updated"
    user: Sender
    about: str = ""
    show_last_seen: bool = True


class OnlineCount(Frame):
    type: Literal["online"] = "online"
    conversation: int
    count: int


class Resumed(Frame):
    """End of a resume: everything missed was sent before this frame."""

    type: Literal["resumed"] = "resumed"
    re: str | None = None
    conversations: dict[str, int]
    user_seq: int
    reset: list[int] = Field(default_factory=list)
    user_reset: bool = False
    # Conversations named in the resume that are not mine (any more): nothing is sent
    # about them, and the client forgets them.
    not_found: list[int] = Field(default_factory=list)


class Pong(Frame):
    type: Literal["pong"] = "pong"
    re: str | None = None


SERVER_EVENTS: tuple[type[Frame], ...] = (
    Hello,
    Ack,
    Error,
    MessageCreated,
    MessageDeleted,
    MessageEdited,
    ReactionAdded,
    ReactionRemoved,
    MemberJoined,
    MemberLeft,
    MemberUpdated,
    ConversationUpdated,
    MessagePinned,
    MessageUnpinned,
    SupportUpdated,
    SupportRated,
    ConversationJoined,
    ConversationLeft,
    MessageHidden,
    HistoryCleared,
    UnreadMarked,
    TypingEvent,
    ReceiptEvent,
    UnreadEvent,
    PresenceEvent,
    ProfileUpdated,
    OnlineCount,
    Resumed,
    Pong,
)
server_event_adapter = _discriminated(SERVER_EVENTS)


def encode(event: Frame) -> str:
    """One event as the text of a websocket frame."""
    return orjson.dumps(event.model_dump(mode="json", exclude_none=True)).decode()
