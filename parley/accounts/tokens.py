"""API tokens: the one place that makes, lists, revokes and checks them.

A user has any number of named tokens (up to MAX_TOKENS), each with an optional expiry.
The key is shown once, when it is made; the database keeps its SHA-256 and the first
characters (`prefix`) to recognise it. A token is sent only in the Authorization header
(`Bearer <key>`): nothing reads a key from a URL, and the log filter
(parley/common/logs.py) blanks one put there by mistake.

Tokens are credentials of their own: logging out of the web page leaves them working
(a script's token is not the browser's session); a password change or reset revokes all
of them (`services.password_changed`); revoking one closes the websockets it opened.
Making one needs the account's password, whoever asks (a session or another token): a
stolen session cookie or token must not be turned into a credential that outlives it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from parley.accounts.models import ApiToken, User, has_confirmed_address
from parley.accounts.services import sockets_close
from parley.chat.text import clean_line
from parley.common.errors import DomainError, InvalidInput

if TYPE_CHECKING:
    from django.http import HttpRequest

KEY_PREFIX = "prl_"
PREFIX_LENGTH = len(KEY_PREFIX) + 6  # what lists show of a key: "prl_" and 6 characters
MAX_TOKENS = 50  # per user
NAME_MAX_LENGTH = 80
DEFAULT_NAME = "API token"
MIN_LIFETIME = timedelta(minutes=1)
MAX_LIFETIME = timedelta(days=5 * 366)
OUT_OF_RANGE = "A token expires between a minute and five years from now."
# `last_used_at` is written when the stored value is older than this, so a busy token
# costs one UPDATE a minute, not one per request (a write per request would turn every
# API read into a write, and serialise a script's parallel requests on the token's row).
LAST_USED_EVERY = timedelta(minutes=1)
MAX_ID = 2**62


class TokenNotFound(DomainError):
    code = "token_not_found"
    status = 404
    default_message = "You have no API token with this id."


class TooManyTokens(DomainError):
    code = "too_many_tokens"
    status = 409
    default_message = f"You have {MAX_TOKENS} API tokens, the most there can be: revoke one first."


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def new_key() -> str:
    """A fresh key: 256 random bits after a recognisable prefix (secret scanners and
    people can tell a Parley token at a glance)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def unsaved(user: User, key: str, name: str = DEFAULT_NAME) -> ApiToken:
    """The row of a token with this key, not saved (for bulk inserts: the benchmark)."""
    return ApiToken(user=user, name=name, prefix=key[:PREFIX_LENGTH], key_hash=hash_key(key))


def expiry(*, expires_in: int | None = None, expires_at: datetime | None = None) -> datetime | None:
    """The expiry asked for (seconds from now or a time), None for a token that never
    expires. Raises InvalidInput for both at once or one outside the limits."""
    if expires_in is not None and expires_at is not None:
        raise InvalidInput(
            "Give expires_in or expires_at, not both.", expires_in=["Not with expires_at."]
        )
    now = timezone.now()
    field = "expires_at"
    if expires_in is not None:
        field = "expires_in"
        if not MIN_LIFETIME.total_seconds() <= expires_in <= MAX_LIFETIME.total_seconds():
            raise InvalidInput(
                "The expiry is out of range.",
                expires_in=[OUT_OF_RANGE],
            )
        expires_at = now + timedelta(seconds=expires_in)
    if expires_at is None:
        return None
    if timezone.is_naive(expires_at):
        raise InvalidInput(**{field: ["Give a time zone."]})
    if not now + MIN_LIFETIME <= expires_at <= now + MAX_LIFETIME:
        raise InvalidInput(
            "The expiry is out of range.",
            **{field: [OUT_OF_RANGE]},
        )
    return expires_at


def tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's tokens, newest first (expired ones too, until revoked)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def token_create(
    *, user: User, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token of `user` and its key (shown once: only its hash is kept). Raises
    InvalidInput for a name too long, TooManyTokens at MAX_TOKENS."""
    name = clean_line(name or "") or DEFAULT_NAME
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(name=[f"A token's name has at most {NAME_MAX_LENGTH} characters."])
    key = new_key()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # counts one at a time
        if ApiToken.objects.filter(user=user).count() >= MAX_TOKENS:
            raise TooManyTokens()
        token = unsaved(user, key, name)
        token.expires_at = expires_at
        token.save(force_insert=True)
    return token, key


def password_confirmed_token_create(
    request: HttpRequest,
    *,
    user: User,
    password: str,
    name: str = "",
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """`token_create` for a signed-in user who typed their password again. The password
    goes through the login page's checks (signin.py: failed guesses count against the
    account and the address, a locked account is refused)."""
    from parley.accounts.signin import password_signin

    password_signin(request, email=user.email, password=password)
    return token_create(user=user, name=name, expires_at=expires_at)


def token_revoke(*, user: User, token_id: int) -> None:
    """Delete one of `user`'s tokens and close the websockets it opened (after commit).
    Raises TokenNotFound for an id that is not one of theirs."""
    if not 0 < token_id <= MAX_ID:  # beyond what the database can compare
        raise TokenNotFound()
    with transaction.atomic():
        deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
        if not deleted:
            raise TokenNotFound()
        sockets_close(user_id=user.pk, token_id=token_id)


def token_check(key: str) -> ApiToken | None:
    """The unexpired token with this key, its user (`token.user`) active and confirmed,
    in one query; None otherwise. Stamps its use (`stamp_used`)."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            has_confirmed_address("user__"),
            key_hash=hash_key(key),
            user__is_active=True,
        )
        .first()
    )
    if token is not None:
        stamp_used(token, now)
    return token


def stamp_used(token: ApiToken, now: datetime) -> None:
    """Write `last_used_at` when the stored one is older than LAST_USED_EVERY. The UPDATE
    re-checks it, so processes racing on the same token write it once."""
    cutoff = now - LAST_USED_EVERY
    if token.last_used_at is not None and token.last_used_at > cutoff:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=cutoff), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now


def stamp_used_ids(token_ids: list[int]) -> None:
    """`last_used_at` of tokens whose websockets connected, in one UPDATE (the gateway
    collects them: parley/realtime/connecting.py)."""
    now = timezone.now()
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY),
        pk__in=token_ids,
    ).update(last_used_at=now)
