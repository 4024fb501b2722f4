"""The private parts of Django, Channels and asyncio the gateway still relies on, each
checked for the behaviour Parley needs: an upgrade that changes one fails here, by name,
instead of quietly costing a round trip or a leak (docs/architecture.md, "Private
internals")."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer
from django.db import DatabaseError, connection, transaction

from parley.realtime.layers import InMemoryChannelLayer


@pytest.mark.django_db
def test_django_skips_the_health_check_of_a_connection_marked_checked(monkeypatch):
    """db.py marks a connection that answered within the last second as checked
    (`health_check_done`) so that Django does not ping it before the next hop."""
    connection.ensure_connection()
    monkeypatch.setattr(connection, "health_check_enabled", True)
    pinged = []
    monkeypatch.setattr(connection, "is_usable", lambda: pinged.append(1) or True)

    connection.health_check_done = True
    connection.close_if_health_check_failed()
    skipped = not pinged
    connection.health_check_done = False
    connection.close_if_health_check_failed()

    assert skipped and pinged == [1]


@pytest.mark.django_db
def test_django_flags_a_connection_whose_query_failed():
    """db.py trusts only a connection without `errors_occurred`."""
    assert connection.errors_occurred is False
    try:
        with pytest.raises(DatabaseError), transaction.atomic():
            connection.cursor().execute("SELECT * FROM no_such_table_at_all")
        assert connection.errors_occurred is True
    finally:
        connection.errors_occurred = False


def test_channels_in_memory_layer_cleans_through_one_method_parley_replaces():
    """layers.py replaces `_clean_expired` to expire on a clock; Channels must still
    call it (and nothing else that walks every group) from group_send and receive."""
    for method in ("group_send", "receive"):
        source = inspect.getsource(getattr(ChannelsInMemoryChannelLayer, method))
        assert "self._clean_expired()" in source, method
    assert InMemoryChannelLayer._clean_expired is not ChannelsInMemoryChannelLayer._clean_expired


async def test_asyncio_queue_keeps_its_items_in_a_deque_oldest_first():
    """layers.py reads the oldest message's expiry without taking it (`queue._queue`)."""
    queue: asyncio.Queue[tuple[float, str]] = asyncio.Queue()
    queue.put_nowait((1.0, "old"))
    queue.put_nowait((2.0, "new"))

    assert queue._queue[0] == (1.0, "old")  # type: ignore[attr-defined]


async def test_the_in_memory_layer_still_expires_what_nobody_read():
    layer = InMemoryChannelLayer(expiry=0, clean_interval=0)
    await layer.group_add("g", "c!one")
    await layer.send("c!one", {"type": "x"})
    await asyncio.sleep(0.01)

    await layer.group_send("g", {"type": "y"})  # cleans first: the old one expired

    assert "c!one" not in layer.groups.get("g", {})


def test_uvicorn_handles_sigterm_with_its_server_method_and_lists_its_listeners():
    """parley/shutdown.py finds uvicorn's Server through its SIGTERM handler (the bound
    `Server.handle_exit`, installed before the lifespan starts), closes `Server.servers`
    and the descriptor of `--fd` (`Server.config.fd`, of which uvicorn listens on a copy),
    and calls the handler to let uvicorn stop."""
    import signal
    import socket

    import uvicorn

    seen: dict[str, object] = {}
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    fd = listener.fileno()

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "lifespan":
            return
        await receive()
        handler = signal.getsignal(signal.SIGTERM)
        server = getattr(handler, "__self__", None)
        seen["server"] = server
        seen["config_fd"] = server.config.fd if server is not None else None
        await send({"type": "lifespan.startup.complete"})
        await receive()
        seen["servers"] = list(server.servers) if server is not None else None
        await send({"type": "lifespan.shutdown.complete"})

    config = uvicorn.Config(app, fd=fd, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.ensure_future(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        seen["listening"] = [type(s).__name__ for s in server.servers]
        handler = signal.getsignal(signal.SIGTERM)
        handler(signal.SIGTERM, None)  # what the kernel's SIGTERM would call
        server._captured_signals.clear()  # do not re-raise it at this test's process
        await task

    asyncio.run(main())
    listener.close()

    assert seen["server"] is server
    assert seen["config_fd"] == fd
    assert seen["listening"] and seen["servers"]
    assert server.should_exit
