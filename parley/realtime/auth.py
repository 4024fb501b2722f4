"""Who is on a socket: a browser's session (origin checked) or a bearer token.

A browser sends its cookies with a websocket handshake to any site, so a session-
authenticated socket must come from a page of ours: its Origin must be the handshake's own
scheme, host and port, or one of CSRF_TRUSTED_ORIGINS, and https with DEBUG off
(origins.py). A script or bot sends
`Authorization: Bearer <token>` (a browser cannot set that header on a websocket, so
token sockets need no origin check). Tokens never travel in the URL, where proxies log
them: a `?token=` is not read (and parley/common/logs.py blanks it in the logs). An
expired or revoked token opens nothing; a token's socket closes when it expires.

Nothing is looked up before the consumer runs: it resolves the handshake's credentials
with `connect_state` inside its one database call at connect, together with the
memberships and stream positions (docs/performance.md, "Optimisations"). `GatewayAuth`
only turns away cookie handshakes from foreign origins early, and keeps no state (and
no coroutine frame) per socket.
"""

from __future__ import annotations

import functools
from typing import Any

from asgiref.sync import markcoroutinefunction
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.http.cookie import parse_cookie

from parley.realtime.origins import handshake_origin_allowed

# What a socket needs of its user (the sender it shows, presence, its stream position).
# The other fields stay deferred: a socket keeps ~0.5 KB less per connection, and one
# that reads them anyway gets them from the database, never a stale or empty value.
USER_FIELDS = (
    "id",
    "username",
    "display_name",
    "avatar",
    "show_last_seen",
    "is_active",
    "last_event_seq",
)


def _bearer(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def _session_cookie(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return parse_cookie(value.decode("latin-1")).get(settings.SESSION_COOKIE_NAME)
    return None


def _user_model() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model()


def _user_attnames(model: Any) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.name in USER_FIELDS]


_statements: dict[tuple[str, bool, str], str] = {}


def _statement(where: str, password: bool, lead: str = "", join: str = "") -> str:
    """One SELECT for a whole connect: the user (USER_FIELDS, and the password hash when
    a session must be checked against it) and each active membership with what the socket
    keeps of it (delivery.SocketMembership) and its conversation's seq. One row per membership, one
    row with NULLs for someone in no conversation. One statement is one snapshot: the user
    stream's seq and the memberships are read at the same instant. `lead` and `join` put
    a column before the user's (which connect a row is for) and a table after it."""
    key = (where, password, lead)
    sql = _statements.get(key)
    if sql is None:
        from parley.chat.models import Conversation, Membership

        user = _user_model()
        columns = [f"u.{f.column}" for f in user._meta.concrete_fields if f.name in USER_FIELDS]
        if password:
            columns.append(f"u.{user._meta.get_field('password').column}")
        if lead:
            columns.insert(0, lead)
        sql = _statements[key] = (
            f"SELECT {', '.join(columns)}, m.id, m.conversation_id, c.kind, m.role, "  # noqa: S608
            f"m.cleared_through_seq, c.last_seq FROM {user._meta.db_table} u {join}"
            f"LEFT JOIN {Membership._meta.db_table} m "
            "ON m.user_id = u.id AND m.left_at IS NULL "
            f"LEFT JOIN {Conversation._meta.db_table} c ON c.id = m.conversation_id "
            f"WHERE {where} AND u.is_active"
        )
    return sql


@functools.cache
def _confirmed() -> str:
    """A token opens a socket only for an account whose address is confirmed, as
    `User.objects.verified()` and the REST API's token check say (an account still
    waiting for its signup code is nobody yet)."""
    from allauth.account.models import EmailAddress
    from django.db import connection

    meta, q = EmailAddress._meta, connection.ops.quote_name
    user, email = q(meta.get_field("user").column), q(meta.get_field("email").column)
    verified = q(meta.get_field("verified").column)
    email_of_user = q(_user_model()._meta.get_field("email").column)
    return (
        f"EXISTS (SELECT 1 FROM {meta.db_table} e WHERE e.{user} = u.id "  # noqa: S608
        f"AND e.{verified} AND LOWER(e.{email}) = LOWER(u.{email_of_user}))"
    )


@functools.cache
def _token_sql() -> tuple[str, str, str]:
    """What the connect statement for token handshakes adds: the token table joined to
    the user; before the user's columns, the token's key hash (which handshake a row
    answers), its id, whether its `last_used_at` is due (older than the `%s` cutoff) and
    its expiry; and the condition on the hashes (`{}` for their placeholders) and the
    expiry (`%s`: now)."""
    from django.db import connection

    from parley.accounts.models import ApiToken

    meta, q = ApiToken._meta, connection.ops.quote_name
    user, key = q(meta.get_field("user").column), q(meta.get_field("key_hash").column)
    used, expires = q(meta.get_field("last_used_at").column), q(meta.get_field("expires_at").column)
    join = f"JOIN {meta.db_table} t ON t.{user} = u.id "
    lead = (
        f"t.{key}, t.id, CASE WHEN t.{used} IS NULL OR t.{used} <= %s THEN 1 ELSE 0 END, "
        f"t.{expires}"
    )
    where = f"t.{key} IN ({{}}) AND (t.{expires} IS NULL OR t.{expires} > %s) AND {_confirmed()}"
    return join, lead, where


def _aware(value: Any) -> Any:
    """A datetime column read by a raw cursor: aware on PostgreSQL, naive UTC (or text)
    on SQLite."""
    from datetime import UTC

    from django.utils.dateparse import parse_datetime

    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _state_of(rows: list[Any], password: bool) -> Any:
    """(user, password hash or None, [(SocketMembership, seq), ...]) from one user's rows."""
    from parley.realtime.delivery import SocketMembership

    model = _user_model()
    names = _user_attnames(model)
    n = len(names)
    first = rows[0]
    user = model.from_db(DEFAULT_DB_ALIAS, names, list(first[:n]))
    if password:
        n += 1
    members = [
        (SocketMembership(*row[n : n + 5]), row[n + 5]) for row in rows if row[n] is not None
    ]
    return user, (first[n - 1] if password else None), members


def socket_state(where: str, param: Any, *, password: bool = False) -> Any:
    """Run the connect statement: (user, password hash or None, [(SocketMembership, seq), ...]) or
    None when no active user matches."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_statement(where, password), [param])
        rows = cursor.fetchall()
    return _state_of(rows, password) if rows else None


def token_states(tokens: list[str], used: list[int] | None = None) -> dict[str, Any]:
    """The connect statement for many bearer tokens at once: by token, what makes its
    connect state (`_token_state`). A revoked, expired or unknown token, or one of an
    inactive or unconfirmed user, has nothing. Still one snapshot, one statement. The ids
    of tokens whose `last_used_at` is due go to `used` (written later, together:
    connecting.py)."""
    from django.db import connection
    from django.utils import timezone

    from parley.accounts.tokens import LAST_USED_EVERY, hash_key

    join, lead, where = _token_sql()
    by_hash = {hash_key(token): token for token in tokens}
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    sql = _statement(where.format(", ".join(["%s"] * len(by_hash))), False, lead=lead, join=join)
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(now - LAST_USED_EVERY), *by_hash, adapt(now)])
        rows = cursor.fetchall()
    found: dict[str, list[Any]] = {}
    for row in rows:
        found.setdefault(by_hash[row[0]], []).append(row[1:])
    if used is not None:
        used.extend(token_rows[0][0] for token_rows in found.values() if token_rows[0][1])
    return found


def _token_state(rows: list[Any]) -> Any:
    """(user, socket credential, [(SocketMembership, seq), ...], expiry) from a token's rows; each
    call makes its own objects (a socket changes its Members)."""
    from parley.accounts.services import socket_credential

    token_id, _, expires_at = rows[0][:3]
    user, _, members = _state_of([row[3:] for row in rows], False)
    return user, socket_credential(token_id), members, _aware(expires_at)


def connect_states(scopes: list[dict[str, Any]], used: list[int] | None = None) -> list[Any]:
    """`connect_state` for many handshakes in one database call: the token handshakes in
    one statement, the others one by one. Each gets its state, None, or the exception its
    own lookup raised (nobody else's connect fails with it). The tokens whose use is due
    to be written go to `used`."""
    results: list[Any] = [None] * len(scopes)
    tokens: dict[int, str] = {}
    for i, scope in enumerate(scopes):
        token = _bearer(scope) if scope.get("user") is None else None
        if token is not None:
            tokens[i] = token
            continue
        try:
            results[i] = connect_state(scope)
        except Exception as exc:
            results[i] = exc
    if tokens:
        try:
            found = token_states(list(tokens.values()), used)
        except Exception as exc:
            found = None
            for i in tokens:
                results[i] = exc
        if found is not None:
            for i, token in tokens.items():
                rows = found.get(token)
                if rows:
                    results[i] = _token_state(rows)
    return results


def _session_state(session_key: str) -> Any:
    """The connect state of a session's user, checked as Django checks a session on each
    request (a configured backend, an active user, the session's hash of the password
    still matching: a password change signs every session out). A session that fails the
    hash check is flushed, as Channels' AuthMiddleware does."""
    from importlib import import_module

    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        load_backend,
    )
    from django.contrib.auth.backends import ModelBackend
    from django.utils.crypto import constant_time_compare

    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        user_id = _user_model()._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    backend = load_backend(backend_path)
    if not isinstance(backend, ModelBackend):  # its own idea of users: ask it
        found = backend.get_user(user_id)
        user_id = found.pk if found is not None else None
    if user_id is None:
        return None
    state = socket_state("u.id = %s", user_id, password=True)
    if state is None:
        return None
    user, password, members = state
    expected = type(user)(pk=user.pk, password=password).get_session_auth_hash()
    session_hash = session.get(HASH_SESSION_KEY)
    if not (session_hash and constant_time_compare(session_hash, expected)):
        session.flush()
        return None
    return user, session_key, members, None


def connect_state(scope: dict[str, Any]) -> Any:
    """Who is on this socket, what it is known by, what they follow and until when:
    (user, credential, [(SocketMembership, conversation seq), ...], expiry or None) or None.
    The credential is the session key or the API token's `services.socket_credential`
    (what `services.sockets_close` closes by); the expiry is the token's. Synchronous:
    the consumer's one database call at connect, one statement (two for a session: the
    session's row).

    The user has USER_FIELDS only (the others deferred); its `last_event_seq` is where
    the socket's user stream starts. A user already in the scope (set by a test or
    another middleware) is read the same way.
    """
    present = scope.get("user")
    if present is not None:
        if not present.is_authenticated:
            return None
        state = socket_state("u.id = %s", present.pk)
        session = getattr(scope.get("session"), "session_key", None)
        return (state[0], session, state[2], None) if state is not None else None
    token = _bearer(scope)
    if token is not None:
        rows = token_states([token]).get(token)
        return _token_state(rows) if rows else None
    session_key = _session_cookie(scope)
    if session_key and handshake_origin_allowed(scope):
        return _session_state(session_key)
    return None


class GatewayAuth:
    """Turns away a handshake without a bearer token whose Origin is not ours (a cookie
    would authenticate it: cross-site websocket hijacking); `connect_state` checks again.

    Not a coroutine function: it returns the inner application's coroutine, so no frame
    of its own and no copy of the scope stays alive for each socket.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    @markcoroutinefunction  # returns a coroutine: an ASGI 3 application to any server
    def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if _bearer(scope) is None and not handshake_origin_allowed(scope):
            return WebsocketDenier.as_asgi()(scope, receive, send)
        return self.app(scope, receive, send)
