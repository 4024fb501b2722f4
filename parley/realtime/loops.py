"""One instance per event loop: the one way the gateway keeps state of a loop.

A server process runs one event loop, so in production each of these is one object per
process: the hub, the batchers of the database hop (sends, connects, last-seen stamps,
token uses), the online-count flusher, the writer. Tests run an event loop per test:
each gets fresh ones, and nothing a loop made outlives it (weak keys). `reset_all()` is
the public way for a test to start from nothing; presence, which is per process
(parley/realtime/presence.py), has its own `reset_presence()`.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_registry: list[PerLoop[object]] = []


class PerLoop(Generic[T]):
    """`factory()` once per event loop. Calling it gives the running loop's instance
    (made on first use); `current()` gives it only if it was made."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self.factory = factory
        self.made: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
            weakref.WeakKeyDictionary()
        )
        _registry.append(self)  # type: ignore[arg-type]

    def __call__(self) -> T:
        loop = asyncio.get_running_loop()
        instance = self.made.get(loop)
        if instance is None:
            instance = self.made[loop] = self.factory()
        return instance

    def current(self) -> T | None:
        """The running loop's instance if it was made; None outside a loop too."""
        try:
            return self.made.get(asyncio.get_running_loop())
        except RuntimeError:
            return None

    def items(self) -> Iterator[tuple[asyncio.AbstractEventLoop, T]]:
        """Every live loop's instance."""
        return iter(list(self.made.items()))

    def reset(self) -> None:
        self.made.clear()


def per_loop(factory: Callable[[], T]) -> PerLoop[T]:
    return PerLoop(factory)


def reset_all() -> None:
    """Forget every loop's instances (tests: each starts from nothing)."""
    for per in _registry:
        per.reset()
