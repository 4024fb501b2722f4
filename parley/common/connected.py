"""Which users have a socket open, for the domain, on any server process.

The gateway (parley/realtime) knows, the domain must not import it (arrows point down):
the gateway registers its answer here when it starts. Without it, nobody is connected.
The other way, the domain registers what to do when someone comes online (their first
socket on any process), and the gateway calls `came_online` then."""

from __future__ import annotations

from collections.abc import Callable, Iterable

Lookup = Callable[[list[int]], set[int]]
_lookup: Lookup | None = None


def register(lookup: Lookup) -> None:
    global _lookup
    _lookup = lookup


Arrival = Callable[[int], None]
_arrivals: list[Arrival] = []


def on_came_online(callback: Arrival) -> None:
    """Call `callback(user_id)` (in a database thread) when someone who is in a support
    conversation comes online (the only arrivals the domain needs so far)."""
    if callback not in _arrivals:
        _arrivals.append(callback)


def watches_arrivals() -> bool:
    return bool(_arrivals)


def came_online(*, user_id: int) -> None:
    for callback in _arrivals:
        callback(user_id)


def users_connected(user_ids: Iterable[int]) -> set[int]:
    """Those of `user_ids` with at least one socket open now (nobody when unknown)."""
    ids = list(user_ids)
    if not ids or _lookup is None:
        return set()
    return _lookup(ids)
