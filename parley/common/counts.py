"""What the gateway and the limits did, counted as plain numbers in this process.

The gateway's hot paths (every frame in and out, every send, every hub event) add one to
an attribute here: a few tens of nanoseconds, no lock, no import of a metrics library.
They run on the event loop's thread (or, for database hops, on the gateway's one database
thread), so nothing else writes the same number at the same time. parley/common/metrics.py
reads them when Prometheus scrapes and turns them into counters, gauges and histograms;
the admin's status page reads them too (docs/operations.md, "Metrics").

Arrows point down: the gateway and the limits import this module; it imports none of
them. What only the gateway knows at scrape time (sockets open, the hub's outbox) is
registered here as a gauge callback by the gateway (`gauge`).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable

# Upper bounds (le) of the histograms' buckets.
SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SIZES = (1, 2, 5, 10, 20, 50, 100, 200)


class Histogram:
    """Counts per bucket and a sum, observed from one thread (no lock)."""

    __slots__ = ("name", "doc", "bounds", "counts", "sum")

    def __init__(self, name: str, doc: str, bounds: tuple[float, ...]) -> None:
        self.name, self.doc, self.bounds = name, doc, bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one: above every bound (+Inf)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value


class Gateway:
    """Monotonic counts of the gateway (each a Prometheus counter `parley_<name>_total`)."""

    __slots__ = (
        "sockets_opened",
        "sockets_closed",
        "frames_in",
        "frames_out",
        "sends",
        "resumes",
        "resume_resets",
        "hub_events",
        "reorder_holds",
        "reorder_releases",
        "layer_publish_failures",
        "layer_outbox_drops",
        "writer_forwards",
        "writer_timeouts",
        "writer_served",
        "sockets_moved",
    )

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


DOCS = {
    "sockets_opened": "Websockets accepted (sockets open = opened - closed).",
    "sockets_closed": "Websockets closed after they were accepted.",
    "frames_in": "Websocket frames received from clients.",
    "frames_out": "Websocket frames sent to clients.",
    "sends": "message.send commands received.",
    "resumes": "resume commands handled.",
    "resume_resets": "Streams a resume could not replay (reset: the client reloads them).",
    "hub_events": "Events the hub received from the channel layer for its sockets.",
    "reorder_holds": "Events the hub held because one before them had not come yet.",
    "reorder_releases": "Holds that ended without the missing event (sockets filled the gap).",
    "layer_publish_failures": "Channel layer publishes that failed (readers catch up by seq).",
    "layer_outbox_drops": "Events dropped from the outbox because the layer fell behind.",
    "writer_forwards": "Sends forwarded to the process that writes their conversation.",
    "writer_timeouts": "Forwards unanswered in time, written by the forwarding process.",
    "writer_served": "Sends other processes forwarded to this one to write.",
    "sockets_moved": "Sockets asked to reconnect to another process (a drain, rebalancing).",
}

gateway = Gateway()

ack_seconds = Histogram(
    "parley_ack_seconds", "From a message.send frame received to its ack sent.", SECONDS
)
db_hop_seconds = Histogram(
    "parley_db_hop_seconds", "The gateway's hops onto the database thread: time on it.", SECONDS
)
outbox_wait_seconds = Histogram(
    "parley_hub_outbox_wait_seconds",
    "Events published here: from the oldest put in the outbox to the layer having it.",
    SECONDS,
)
reorder_wait_seconds = Histogram(
    "parley_hub_reorder_wait_seconds",
    "Events held for the ones before them: from the first held to the stream going on.",
    SECONDS,
)
layer_batch_events = Histogram(
    "parley_layer_batch_events", "Events per channel layer publish (the hub's outbox).", SIZES
)
_batches: dict[str, Histogram] = {}


def batch_sizes(kind: str) -> Histogram:
    """The histogram of the requests per database hop of one batcher (sends, connects)."""
    if kind not in _batches:
        _batches[kind] = Histogram(
            "parley_db_batch_requests", "Requests written per database hop.", SIZES
        )
    return _batches[kind]


def batches() -> dict[str, Histogram]:
    return dict(_batches)


# Refusals by limit. The REST limits count on the request threads: a lock (refusals are
# rare, and never on a hot path that succeeds).
_refusals: dict[str, int] = {}
_refusals_lock = threading.Lock()


def refused(limit: str) -> None:
    """A request, frame or socket was refused by `limit` (a 429, `rate_limited`, 4429)."""
    with _refusals_lock:
        _refusals[limit] = _refusals.get(limit, 0) + 1


def refusals() -> dict[str, int]:
    with _refusals_lock:
        return dict(_refusals)


# Values read when scraped: name -> (help, callback).
_gauges: dict[str, tuple[str, Callable[[], float]]] = {}


def gauge(name: str, doc: str, read: Callable[[], float]) -> None:
    """Register `parley_<name>`, read by calling `read` at each scrape (the last one
    registered under a name wins: the hub of the running loop)."""
    _gauges[name] = (doc, read)


def gauges() -> dict[str, float]:
    values = {}
    for name, (_, read) in list(_gauges.items()):
        try:
            values[name] = float(read())
        except Exception:  # a loop that is gone: no value rather than a failed scrape
            continue
    return values


def gauge_doc(name: str) -> str:
    return _gauges[name][0] if name in _gauges else ""
