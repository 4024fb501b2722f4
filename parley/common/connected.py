"""Which users have a socket open, for the domain, on any server process.

The gateway (parley/realtime) knows, the domain must not import it (arrows point down):
the gateway registers its answer here when it starts. Without it, nobody is connected."""

from __future__ import annotations

from collections.abc import Callable, Iterable

Lookup = Callable[[list[int]], set[int]]
_lookup: Lookup | None = None


def register(lookup: Lookup) -> None:
    global _lookup
    _lookup = lookup


def users_connected(user_ids: Iterable[int]) -> set[int]:
    """Those of `user_ids` with at least one socket open now (nobody when unknown)."""
    ids = list(user_ids)
    if not ids or _lookup is None:
        return set()
    return _lookup(ids)
