"""A database outage: a typed, retryable refusal, and a log that says so once per interval.

When the database does not answer (PostgreSQL stopped or restarting, out of connections,
the network to it gone; SQLite locked past its timeout), every request that needs it
fails. That is not a bug of the server, and the client can do something about it: it gets
`unavailable` with `retry_after` (a websocket `error` frame, the socket stays open; a REST
503 with Retry-After) and sends the same request again later. A send retried with the same
client_id is always safe: stored once, whatever happened to the first try (even a commit
whose outcome the server never learned, the connection having dropped during it).

The log says it once: one WARNING when a process first meets the outage, then at most one
WARNING per LOG_INTERVAL seconds with the number of requests refused meanwhile, and one
INFO when the database answers again, instead of an ERROR with a traceback per request
(an outage of 20 s used to write ~11,000 of them). A genuine bug is not classified here
and stays `internal_error`, logged with its traceback.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from django import db
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin

from parley.common.errors import Unavailable

log = logging.getLogger(__name__)

RETRY_AFTER = 2  # seconds a refused client waits before it retries (docs/protocol.md)
LOG_INTERVAL = 10.0  # seconds between two WARNINGs of one process about one outage

# SQLite's OperationalError is also a syntax error or a missing table (bugs); these are
# the ones that say the file cannot be used right now.
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "unable to open database file",
    "disk i/o error",
)


def _driver_errors() -> tuple[type[BaseException], ...]:
    """The connection-level errors of the PostgreSQL driver: its OperationalError (the
    server refused, closed or dropped the connection, is starting up or shutting down,
    has no connection slot left, cancelled a statement) and InterfaceError (a connection
    already closed)."""
    try:
        import psycopg
    except ImportError:  # SQLite only
        return ()
    return (psycopg.OperationalError, psycopg.InterfaceError)


_DRIVER_ERRORS = _driver_errors()


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached or used right now, as opposed to
    a bug (a wrong statement, a broken constraint)."""
    driver = exc.__cause__ if isinstance(exc, db.Error) and exc.__cause__ is not None else exc
    if isinstance(driver, sqlite3.Error):
        return isinstance(driver, sqlite3.OperationalError) and any(
            text in str(driver).lower() for text in _SQLITE_UNAVAILABLE
        )
    return isinstance(driver, (db.OperationalError, db.InterfaceError, *_DRIVER_ERRORS))


def _summary(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"


class OutageLog:
    """What one process tells the log about a database outage. Thread-safe: the gateway's
    database thread and the HTTP threads (parley/asgi.py) report to the same one."""

    def __init__(
        self, interval: float = LOG_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self.since: float | None = None  # when this outage was first met; None: no outage
        self.refused = 0  # requests refused since the last WARNING
        self.total = 0  # requests refused in this outage
        self.warned = False  # a WARNING was written about this outage
        self.logged_at: float | None = None  # when the last WARNING was written

    def failed(self, exc: BaseException, *, refused: bool = True) -> bool:
        """Note a failure if it is an outage (`refused`: a client's request was turned
        away, rather than background work) and log it if the interval allows. Returns
        whether it was one; anything else is for the caller to handle."""
        if not is_database_unavailable(exc):
            return False
        with self._lock:
            now = self.clock()
            if self.since is None:
                self.since = now
                self.total = 0
            if refused:
                self.refused += 1
                self.total += 1
            if self.logged_at is not None and now - self.logged_at < self.interval:
                return True
            if not self.warned:
                log.warning(
                    "database unavailable: %s; requests are refused with `unavailable` "
                    "(retry_after %d s) until it answers; %d refused so far",
                    _summary(exc),
                    RETRY_AFTER,
                    self.refused,
                )
            else:
                log.warning(
                    "database still unavailable after %.0f s: %d requests refused in the "
                    "last %.0f s (%s)",
                    now - self.since,
                    self.refused,
                    now - self.logged_at if self.logged_at is not None else 0,
                    _summary(exc),
                )
            self.logged_at = now
            self.refused = 0
            self.warned = True
        return True

    def answered(self) -> None:
        """The database answered: the outage, if there was one, is over."""
        if self.since is None:  # the common case, without the lock
            return
        with self._lock:
            if self.since is None:
                return
            if self.warned:
                log.info(
                    "database available again after %.1f s; %d requests were refused",
                    self.clock() - self.since,
                    self.total,
                )
                self.refused = 0
            self.since = None
            self.warned = False


outage = OutageLog()


def refusal(exc: BaseException, *, refused: bool = True) -> Unavailable | None:
    """The `unavailable` error to answer with if `exc` is a database outage (noted in the
    log), else None: `exc` is a bug, for the caller to log and report as such."""
    if outage.failed(exc, refused=refused):
        return Unavailable(RETRY_AFTER)
    return None


def answered() -> None:
    outage.answered()


def _connected(sender: Any, connection: Any, **kwargs: Any) -> None:
    # A new connection is the first sign of recovery for the HTTP threads: theirs were
    # closed as unusable during the outage.
    outage.answered()


connection_created.connect(_connected, dispatch_uid="parley.common.outage")


def unavailable_response(error: Unavailable, request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the API's error body for API paths, a line of text for pages.
    Not logged again as a server error by Django (the outage log has it)."""
    response: HttpResponse
    if request.path.startswith(("/api/", "/_allauth/")):
        response = JsonResponse(error.as_dict(), status=error.status)
    else:
        response = HttpResponse(
            error.message, status=error.status, content_type="text/plain; charset=utf-8"
        )
    response["Retry-After"] = str(error.retry_after)
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """A page or API call that fails because the database is unreachable answers 503
    `unavailable` with Retry-After, not 500 with a traceback in the log. (The REST API's
    own views answer the same through parley/api/errors.py.)"""

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        error = refusal(exception)
        return None if error is None else unavailable_response(error, request)
