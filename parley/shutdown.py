"""SIGTERM drains a server process before the server stops it (docs/deployment.md,
"Restarts and the drain").

Left to itself, uvicorn answers SIGTERM by closing its listening socket and then every
open websocket in the same instant (code 1012), before the application hears of it: all
the clients of a stopping process reconnect to the others at once, a send being written
loses its ack, and the process's writer leases are released only after that. So the ASGI
lifespan's start-up (parley/asgi.py) puts this module's handler in front of the server's
(`install`). On SIGTERM it:

1. stops listening (uvicorn's listening sockets, found through its own SIGTERM handler,
   `Server.servers`): the load balancer's new connections are refused and go to the
   other processes (nginx's `proxy_next_upstream error`); `/readyz` answers 503
   ("draining") for load balancers that probe;
2. drains the gateway (parley/realtime/drain.py): writer leases given up, every socket
   asked to reconnect elsewhere at its own random moment within PARLEY_DRAIN_SECONDS,
   each once its command in hand is answered; it waits for them at most
   PARLEY_DRAIN_TIMEOUT seconds;
3. hands the signal to the server's own handler, which shuts down as before: closes what
   is left (1012), waits for running HTTP requests up to `--timeout-graceful-shutdown`,
   and runs the lifespan shutdown.

A second SIGTERM hands over at once. SIGINT (Ctrl-C) is left to the server: immediate.
A process that did not start through the lifespan (daphne, a test harness) keeps its
server's behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings

from parley.common import processes
from parley.realtime.drain import get_drain

log = logging.getLogger("parley.shutdown")

_tasks: set[asyncio.Task[None]] = set()


class Shutdown:
    """The SIGTERM handler of one process, in front of the server's (`previous`)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, previous: Any) -> None:
        self.loop = loop
        self.previous = previous
        self.started = False
        self.handed_over = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        """The signal handler: runs between two bytecodes of the loop's thread, so it
        only schedules the drain."""
        if self.started:
            self.hand_over(signum, frame)  # asked twice: stop now
            return
        self.started = True
        self.loop.call_soon_threadsafe(self._start, signum)

    def _start(self, signum: int) -> None:
        task = self.loop.create_task(self.drain(signum))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)

    async def drain(self, signum: int) -> None:
        try:
            window = float(settings.PARLEY["DRAIN_SECONDS"])
            timeout = max(window, float(settings.PARLEY["DRAIN_TIMEOUT"]))
            log.info("SIGTERM: draining; sockets move to other processes within %.1f s", window)
            self.stop_listening()
            drain = get_drain()
            drain.draining = True
            # reported at once, beside the drain: the others stop moving sockets here
            reported = asyncio.ensure_future(
                asyncio.wait_for(asyncio.to_thread(processes.report), 2)
            )
            await drain.run(window, timeout)
            with contextlib.suppress(Exception):
                await reported
        except Exception:
            log.exception("the drain failed; stopping without it")
        finally:
            self.hand_over(signum, None)

    def stop_listening(self) -> None:
        """Close the server's listening sockets, if the server is uvicorn (its SIGTERM
        handler is the bound method `Server.handle_exit`, `Server.servers` are the asyncio
        servers it listens with, and `Server.config.fd` the descriptor `--fd` handed it,
        of which uvicorn listens on a copy; tests/realtime/test_private_internals.py).
        Once no descriptor of this process listens, the kernel refuses new connections
        (a socket shared with other processes, such as uvicorn's `--workers` or systemd's
        socket activation, goes on listening for them)."""
        server = getattr(self.previous, "__self__", None)
        for listening in getattr(server, "servers", None) or ():
            with contextlib.suppress(Exception):
                listening.close()
        fd = getattr(getattr(server, "config", None), "fd", None)
        if isinstance(fd, int):
            with contextlib.suppress(OSError):
                os.close(fd)

    def hand_over(self, signum: int, frame: FrameType | None) -> None:
        """Let the server stop: its own handler from now on, called for this signal."""
        if self.handed_over:
            return
        self.handed_over = True
        with contextlib.suppress(ValueError):  # not the main thread: nothing to restore
            signal.signal(signal.SIGTERM, self.previous)
        if callable(self.previous):
            self.previous(signum, frame)
        elif self.previous == signal.SIG_DFL:
            signal.raise_signal(signum)


def install() -> Shutdown | None:
    """Put the drain in front of the server's SIGTERM handler (from the running loop, in
    the main thread, as uvicorn runs its lifespan). None where that cannot be done, or
    where the server ignores SIGTERM."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_IGN, None):
        return None
    handler = Shutdown(asyncio.get_running_loop(), previous)
    signal.signal(signal.SIGTERM, handler.handle)
    return handler
