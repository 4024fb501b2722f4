"""A client that keeps a ledger of every (conversation, seq) it receives, and the counts
the reliability cases assert: lost, duplicated, out of order.

A Recorder is a Peer that behaves as docs/protocol.md asks of a client: when its socket
drops it reconnects (to any process, here through nginx) and resumes from the last seq it
saw of each conversation; a conversation the server lists in `resumed.reset` is reloaded
over REST (`GET .../messages?after=`) up to the position `resumed.conversations` gives,
and followed live from there. An unanswered send is retried with the same client_id.

The ledger is what the client shows, in the order it got it: `message.created` frames,
and the messages a reload brought, in the place of the `resumed` that asked for it.
Nothing is deduplicated on the way in: a seq received twice counts as duplicated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import websockets

from tests.services.peers import Peer

# A socket that fails to open, or a reply that does not come, is one of these.
DROPS = (ConnectionError, TimeoutError, OSError, websockets.WebSocketException)


@dataclass
class Tally:
    expected: int
    received: int
    lost: int
    duplicated: int
    out_of_order: int
    unexpected: int

    @property
    def exact(self) -> bool:
        return self.lost == self.duplicated == self.out_of_order == self.unexpected == 0


def tally(received: list[int], expected: list[int]) -> Tally:
    """Compare the seqs a client got, in arrival order, with the ones stored."""
    got = set(received)
    return Tally(
        expected=len(expected),
        received=len(received),
        lost=len(set(expected) - got),
        duplicated=len(received) - len(got),
        out_of_order=sum(1 for x, y in zip(received, received[1:], strict=False) if y <= x),
        unexpected=len(got - set(expected)),
    )


class Recorder(Peer):
    def __init__(self, token: str, name: str, url: str, http: str) -> None:
        super().__init__(token, name)
        self.url = url  # where to (re)connect: nginx
        self.http = http  # the REST API, for reloads
        self.room = 0  # the conversation it chats in, when it has one
        self.up = asyncio.Event()  # connected and resumed
        self.reconnects = 0
        self.resets: list[int] = []  # conversations reloaded over REST
        self.reloaded = 0  # messages those reloads brought
        self.gaps: list[float] = []  # seconds from a socket lost to the next one resumed
        self.close_codes: list[int | None] = []  # of the sockets lost (1006: no close frame)
        self.refused = 0  # handshakes turned away: an HTTP error (nginx's 502) or refused
        self.patience = 60.0  # seconds of failed handshakes before giving up
        self._lost_at: float | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._stopping = False
        self._discard = False  # an aborted socket's unread frames are never seen

    def _take(self, frame: dict[str, Any]) -> None:
        if self._discard:
            return
        super()._take(frame)
        frame["received_at"] = time.monotonic()

    async def connect(self, url: str, *, resume: bool = False) -> dict[str, Any] | None:
        if self._reader is not None:
            await self._reader
        self._discard = False
        return await super().connect(url, resume=resume)

    # -- the ledger ------------------------------------------------------------------------

    def ledger(self, conversation: int) -> list[int]:
        return [
            f["seq"]
            for f in self.frames
            if f["type"] == "message.created" and f["conversation"] == conversation
        ]

    def tally(self, conversation: int, expected: list[int]) -> Tally:
        return tally(self.ledger(conversation), expected)

    # -- connecting as a client should ------------------------------------------------------

    async def start(self, conversations: list[int]) -> None:
        """Connect, resume from seq 0 of these conversations, and keep the socket up:
        whenever it drops, reconnect and resume."""
        for cid in conversations:
            self.positions.setdefault(cid, 0)
        await self.open()
        self._keeper = asyncio.get_running_loop().create_task(self._keep())

    async def open(self) -> None:
        """Connect and resume, retrying until it works (or `patience` runs out)."""
        deadline = time.monotonic() + self.patience
        while True:
            if self._reader is not None and not self._reader.done():
                self.abort()
            stood = dict(self.positions)  # what the resume will say
            try:
                resumed = await self.connect(self.url, resume=True)
                break
            except DROPS as exc:
                # A socket that opened and then closed (its process stopping) is not a
                # refusal: nginx had sent it to a process that was still up.
                if isinstance(exc, (websockets.InvalidStatus, ConnectionRefusedError)):
                    self.refused += 1
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        assert resumed is not None
        if resumed["reset"]:
            await self._reload(resumed, stood)
        if self._lost_at is not None:
            self.gaps.append(time.monotonic() - self._lost_at)
            self._lost_at = None
        self.up.set()

    async def _reload(self, resumed: dict[str, Any], stood: dict[int, int]) -> None:
        """docs/protocol.md, resume: reload a reset conversation over REST up to the
        position `resumed` gives; the socket carries on from there."""
        at = next(i for i, f in enumerate(self.frames) if f is resumed)
        loaded: list[dict[str, Any]] = []
        for key in resumed["reset"]:
            cid, upto = int(key), resumed["conversations"][str(key)]
            after = stood.get(cid, 0)
            while after < upto:
                page = await asyncio.to_thread(self._history, cid, after)
                for message in page["results"]:
                    if message["seq"] > upto:
                        break
                    loaded.append(
                        {
                            "type": "message.created",
                            "conversation": cid,
                            "seq": message["seq"],
                            "message": message,
                            "via": "rest",
                        }
                    )
                    after = message["seq"]
                if not page["has_more"]:
                    break
            self.positions[cid] = max(self.positions.get(cid, 0), upto)
            self.resets.append(cid)
        self.frames[at + 1 : at + 1] = loaded
        self.reloaded += len(loaded)

    def _history(self, cid: int, after: int) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.http}/api/v1/conversations/{cid}/messages?after={after}&limit=200",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    async def _keep(self) -> None:
        while not self._stopping:
            await self.closed.wait()
            if self._stopping:
                return
            self.up.clear()
            self._lost_at = time.monotonic()
            self.reconnects += 1
            self.close_codes.append(self.ws.close_code if self.ws is not None else None)
            await self.open()

    async def wait_up(self) -> None:
        """Until the socket is up again; raises what made the keeper give up."""
        if self.up.is_set():
            return
        up = asyncio.ensure_future(self.up.wait())
        waiting: set[asyncio.Future[Any]] = {up}
        if self._keeper is not None:
            waiting.add(self._keeper)
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if not up.done():
            up.cancel()
            assert self._keeper is not None
            self._keeper.result()  # the keeper gave up: its error is the client's

    def abort(self) -> None:
        """Drop the connection the way a crash or a cut cable does: no close frame."""
        if self.ws is not None:
            self._discard = True
            self.ws.transport.abort()
            self.reading.set()

    async def send_reliably(self, conversation: int, client_id: str, body: str) -> dict[str, Any]:
        """Send until acked, over whatever socket is up, with the same client_id."""
        while True:
            await self.wait_up()
            try:
                answer = await self.send_message(conversation, client_id, body, timeout=20)
            except DROPS:
                await asyncio.sleep(0.05)  # the keeper reconnects
                continue
            assert answer["type"] == "ack", (self.name, answer)
            return answer

    async def catch_up(self, heads: dict[int, int], timeout: float = 60) -> None:
        """Wait until every conversation's head has been received (or reloaded)."""
        deadline = time.monotonic() + timeout
        while any(self.positions.get(c, 0) < h for c, h in heads.items()):
            if time.monotonic() > deadline:
                behind = {c: (self.positions.get(c, 0), h) for c, h in heads.items()}
                raise TimeoutError(f"{self.name} still behind: {behind}")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        self._stopping = True
        self.closed.set()
        if self._keeper is not None:
            with contextlib.suppress(*DROPS):  # a keeper that gave up failed the case already
                await self._keeper
        await self.close()


def report(case: str, **figures: Any) -> None:
    """Add this case's figures to the JSON file PARLEY_RELIABILITY_REPORT names (if any),
    from which docs/reliability.md's tables are refreshed."""
    figures = {k: asdict(v) if isinstance(v, Tally) else v for k, v in figures.items()}
    print(f"{case}: {json.dumps(figures)}")
    path = os.environ.get("PARLEY_RELIABILITY_REPORT")
    if not path:
        return
    target = Path(path)
    data = json.loads(target.read_text()) if target.exists() and target.stat().st_size else {}
    data[case] = figures
    target.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
