"""Writes of the accounts domain that are Parley's own (allauth runs the sign-in flows).

The profile page, `PATCH /api/v1/me` and the admin change a profile through
`profile_update`; logout, password changes and a revoked API token end websockets through
`sockets_close`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from parley.accounts import avatars
from parley.accounts.models import ApiToken, User
from parley.chat import events as ev
from parley.chat.models import Conversation, Membership
from parley.chat.text import clean_line, clean_text
from parley.common import ratelimit
from parley.common.errors import InvalidInput
from parley.events import protocol as p
from parley.events.outgoing import CLOSE, Outgoing, outgoing, user_group
from parley.events.sink import publish_on_commit

if TYPE_CHECKING:
    from django.core.files import File

UNCHANGED: Any = object()


def _clean_username(user: User, value: str) -> str:
    value = value.strip()
    field = User._meta.get_field("username")
    if not value:
        raise ValidationError("A username is required.", code="required")
    if len(value) > field.max_length:  # type: ignore[operator]
        raise ValidationError(
            f"A username has at most {field.max_length} characters.", code="max_length"
        )
    field.run_validators(value)
    taken = User.objects.filter(username__iexact=value).exclude(pk=user.pk).exists()
    if taken:
        raise ValidationError("That username is taken.", code="username_taken")
    return value


def _clean(user: User, field: str, value: Any) -> Any:
    if field == "display_name":
        value = clean_line(str(value))
        if len(value) > 80:
            raise ValidationError("A display name has at most 80 characters.", code="max_length")
        return value
    if field == "about":
        value = clean_text(str(value)).strip()
        if len(value) > 280:
            raise ValidationError("“About” has at most 280 characters.", code="max_length")
        return value
    if field == "username":
        return _clean_username(user, str(value))
    if field == "show_last_seen":
        return bool(value)
    raise AssertionError(field)


def profile_update(
    *,
    user: User,
    display_name: str = UNCHANGED,
    username: str = UNCHANGED,
    about: str = UNCHANGED,
    show_last_seen: bool = UNCHANGED,
    avatar: File | None = UNCHANGED,
    limited: bool = True,
) -> User:
    """Change what others see of `user`. `avatar=None` removes the picture.

    Raises InvalidInput (code `invalid`, details by field) and changes nothing then.
    Raises RateLimited past the `profile_edits` limit (PARLEY["RATE_LIMITS"]; every call
    counts, refused ones too: an avatar costs its decoding either way), unless `limited`
    is False (the admin, where staff edit other people's profiles).
    Locks the user's row. Publishes profile.updated after commit to the user's other tabs
    and to every direct, group and support conversation they are in (not to public rooms,
    where a name is only shown next to messages).
    """
    if limited:
        ratelimit.take(user.pk, what="profile changes", profile_edits=1)
    given = {
        "display_name": display_name,
        "username": username,
        "about": about,
        "show_last_seen": show_last_seen,
    }
    cleaned: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for field, value in given.items():
        if value is UNCHANGED:
            continue
        try:
            cleaned[field] = _clean(user, field, value)
        except ValidationError as exc:
            problems[field] = exc.messages
    new_avatar = None
    if avatar is not UNCHANGED and avatar is not None:
        try:
            new_avatar = avatars.process_upload(avatar)
        except ValidationError as exc:
            problems["avatar"] = exc.messages
    if problems:
        raise InvalidInput("The profile was not saved.", **problems)

    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        changed = [f for f, v in cleaned.items() if getattr(locked, f) != v]
        for field in changed:
            setattr(locked, field, cleaned[field])
        old_file = locked.avatar.name if locked.avatar else ""
        if avatar is not UNCHANGED:
            if new_avatar is not None:
                locked.avatar.save(f"{locked.pk}-{new_avatar.name}", new_avatar, save=False)
                changed.append("avatar")
            elif old_file:
                locked.avatar = ""  # type: ignore[assignment]
                changed.append("avatar")
        if changed:
            locked.save(update_fields=changed)
            if "avatar" in changed and old_file:
                storage = locked.avatar.storage
                transaction.on_commit(lambda: storage.delete(old_file))
            publish_on_commit(*_profile_events(locked))
    for field in changed:
        setattr(user, field, getattr(locked, field))
    return user


def _profile_events(user: User) -> list[Any]:
    """One `profile.updated` for each person who shares a direct, group or support
    conversation with `user`, and for `user` (their other tabs), on each one's own stream.

    Sent to the people, not to the rooms: a socket follows each of its conversations, so an
    event published to every shared conversation would reach it once per conversation the
    two share (30 shared groups: 30 copies of every edit). Each socket follows its user's
    stream exactly once, so this is one frame per socket per change, the people found in
    one query. Public rooms are left out: there names only label messages.
    """
    text = p.encode(
        p.ProfileUpdated(
            user=ev.user_sender(user), about=user.about, show_last_seen=user.show_last_seen
        )
    )
    shared = (
        Membership.objects.filter(user=user, left_at__isnull=True)
        .exclude(conversation__kind=Conversation.Kind.PUBLIC)
        .values("conversation_id")
    )
    people = set(
        Membership.objects.filter(
            conversation_id__in=shared, left_at__isnull=True, user__isnull=False
        )
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )
    people.add(user.pk)
    return [Outgoing(user_group(pk), text) for pk in sorted(people)]


def socket_credential(token_id: int) -> str:
    """What a token's websockets are known by to `sockets_close` (a session's sockets by
    the session key, which never looks like this)."""
    return f"token:{token_id}"


def sockets_close(
    *, user_id: int, session_key: str | None = None, token_id: int | None = None
) -> None:
    """Close the user's open websockets: those of one session, those one API token opened,
    or all of them (code 4403).

    Sent after the current transaction commits, within a second on every server process.
    """
    credential = socket_credential(token_id) if token_id is not None else session_key
    frame = p.Error(code="session_ended", message="Signed out.")
    publish_on_commit(outgoing(user_group(user_id), frame, control=CLOSE, session=credential))


def password_changed(*, user: User) -> None:
    """After a password change or reset: every other session already stopped working
    (Django checks a hash of the password); also revoke API tokens and close every socket,
    whichever session or token opened it. The tab that made the change reconnects."""
    ApiToken.objects.filter(user=user).delete()
    sockets_close(user_id=user.pk)
