"""How the domain announces: `publish_on_commit`, and where committed events go.

A service registers its events with `publish_on_commit`; once its transaction commits,
they go to the *sink* of the context that committed, never before (a rolled-back write
announces nothing). That is the one path every event takes:

- The sink of a process is installed once at startup by whoever delivers events: the
  websocket gateway (`parley.realtime`, its AppConfig.ready) installs one that hands
  them to this process's sockets and to the channel layer for the other processes.
- `capture()` makes a list the sink of one block of code, in one context: what commits
  inside it is collected there, and the caller decides what becomes of it. The gateway
  runs each service it calls on its database thread inside `capture()` and publishes
  the collected events from its event loop (one thread hop less per message than
  publishing from the thread); a test or a benchmark's fixture uses it to look at what a
  service published, or to drop it.

A context variable, not a thread-local, holds the captured sink: it is what asgiref
copies into the thread that runs a `sync_to_async` call, and it is undone on exit.
Before anyone installs a sink (a script that never loaded the gateway) committed events
are dropped: the database has them, and every reader catches up by seq.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator

from django.db import transaction

from parley.events.outgoing import Outgoing

log = logging.getLogger(__name__)

Sink = Callable[[list[Outgoing]], None]


def _dropped(events: list[Outgoing]) -> None:
    log.debug("no event sink installed; %d events left to the database", len(events))


_installed: Sink = _dropped
_captured: contextvars.ContextVar[Sink | None] = contextvars.ContextVar(
    "parley_event_sink", default=None
)


def install_sink(sink: Sink) -> None:
    """Make `sink` where committed events go in this process (outside `capture()`)."""
    global _installed
    _installed = sink


def installed_sink() -> Sink:
    return _installed


@contextlib.contextmanager
def capture() -> Iterator[list[Outgoing]]:
    """Collect what commits inside this block, in this context, instead of sending it."""
    events: list[Outgoing] = []
    token = _captured.set(events.extend)
    try:
        yield events
    finally:
        _captured.reset(token)


def publish_on_commit(*events: Outgoing) -> None:
    """Hand `events` to the sink once the current transaction commits (at once outside
    one)."""

    def committed() -> None:
        (_captured.get() or _installed)(list(events))

    transaction.on_commit(committed, robust=True)
