"""Faults, with real processes: no message lost, doubled or reordered (docs/reliability.md).

Every case runs PostgreSQL, Redis, two Parley server processes and nginx in front of
them, configured from docs/deployment.md (tests/services/nginx.py). Clients are
Recorders (tests/services/ledger.py): they log every (conversation, seq) they receive,
reconnect through nginx and resume as docs/protocol.md tells a client to, and each case
ends by counting, per client and conversation, what was lost, duplicated and out of
order against what PostgreSQL stored: all three must be 0.

The sizes are scaled to keep the suite short on a small CI machine; PARLEY_FAULTS_FULL=1
runs the figures of the reliability plan (10,000 messages, 200 clients, 30 s, 60 s,
2 minutes...). With PARLEY_RELIABILITY_REPORT=path each case writes its figures there.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parley.chat.models import Conversation, Membership, Message
from tests.services.ledger import Recorder, Tally, report
from tests.services.nginx import Nginx, free_port
from tests.services.nginx import available as nginx_available
from tests.services.peers import Peer
from tests.services.test_processes import db, group, people

FULL = os.environ.get("PARLEY_FAULTS_FULL", "") == "1"


def size(ci: Any, full: Any) -> Any:
    """The CI figure, or the reliability plan's under PARLEY_FAULTS_FULL=1."""
    return full if FULL else ci


pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
    pytest.mark.timeout(size(150, 900)),
]

# A client sends at most this often: under the gateway's 20 frames/s per socket.
PACE = 0.06
_ids = itertools.count(1)


# --- the fixtures: servers behind nginx, rooms of clients -------------------------------


@pytest.fixture
def fronted(servers) -> Iterator[Any]:
    """`start(n, **env)`: n server processes and nginx in front of them."""
    if not nginx_available():  # tests/run.py fails the run under CI=true instead
        pytest.skip("needs nginx (apt-get install nginx; .ci/run installs it)")
    proxies: list[Nginx] = []

    def start(n: int = 2, **env: str) -> tuple[list[Any], Nginx]:
        processes = servers(n, **env)
        proxy = Nginx([s.port for s in processes])
        proxies.append(proxy)
        return processes, proxy

    yield start
    for proxy in proxies:
        proxy.stop()


async def rooms(make_user, proxy: Nginx, n_rooms: int, per_room: int) -> list[list[Recorder]]:
    """Groups of `per_room` people each, a Recorder per person (not yet connected)."""
    out = []
    for _ in range(n_rooms):
        users, tokens = await people(make_user, per_room)
        cid = await group(users[0], users)
        out.append(make_recorders(users, tokens, cid, proxy))
    return out


def make_recorders(users: list[Any], tokens: list[str], cid: int, proxy: Nginx) -> list[Recorder]:
    out = []
    for user, token in zip(users, tokens, strict=True):
        recorder = Recorder(token, user.username, proxy.ws, proxy.http)
        recorder.room = cid
        out.append(recorder)
    return out


async def start_all(recorders: list[Recorder]) -> None:
    # a few at a time, as clients arrive; a storm of handshakes is not this suite's case
    for batch in range(0, len(recorders), 20):
        await asyncio.gather(*(r.start([r.room]) for r in recorders[batch : batch + 20]))


def established(port: int) -> int:
    """Sockets connected to this local port now (from /proc/net/tcp)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
            count += 1
    return count


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def chat(
    recorder: Recorder, count: int | None, stop: asyncio.Event | None = None, pace: float = PACE
) -> int:
    """Send `count` messages (or until `stop`) to the recorder's room, each until acked,
    one every `pace` seconds at most."""
    sent = 0
    while (count is None or sent < count) and not (stop and stop.is_set()):
        await recorder.send_reliably(recorder.room, f"{recorder.name}-{sent}", f"m{sent}")
        sent += 1
        await asyncio.sleep(pace)
    return sent


def stored(cid: int) -> tuple[list[int], list[str]]:
    rows = Message.objects.filter(conversation_id=cid).order_by("seq")
    return list(rows.values_list("seq", flat=True)), list(rows.values_list("client_id", flat=True))


async def count_everything(recorders: list[Recorder], sent: dict[str, int]) -> Tally:
    """Every client has every stored message of its room once, in order; the database
    has every message sent exactly once. Returns the sum over all clients."""
    cids = sorted({r.room for r in recorders})
    truth = {cid: await db(stored, cid) for cid in cids}
    # the database: each client_id once, exactly the ones sent, seqs 1..n
    for cid, (seqs, client_ids) in truth.items():
        assert seqs == list(range(1, len(seqs) + 1)), cid
        expected = sorted(
            f"{r.name}-{k}" for r in recorders if r.room == cid for k in range(sent.get(r.name, 0))
        )
        assert sorted(client_ids) == expected, cid
    await asyncio.gather(
        *(r.catch_up({r.room: len(truth[r.room][0])}, timeout=size(60, 300)) for r in recorders)
    )
    total = Tally(0, 0, 0, 0, 0, 0)
    for r in recorders:
        t = r.tally(r.room, truth[r.room][0])
        assert t.exact, (r.name, t)
        for field in ("expected", "received", "lost", "duplicated", "out_of_order", "unexpected"):
            setattr(total, field, getattr(total, field) + getattr(t, field))
    return total


def figures(recorders: list[Recorder]) -> dict[str, Any]:
    gaps = [g for r in recorders for g in r.gaps]
    return {
        "clients": len(recorders),
        "reconnects": sum(r.reconnects for r in recorders),
        "refused_handshakes": sum(r.refused for r in recorders),
        "max_seconds_without_socket": round(max(gaps), 2) if gaps else 0,
        "reloaded_over_rest": sum(r.reloaded for r in recorders),
    }


async def stop_all(recorders: list[Recorder]) -> None:
    await asyncio.gather(*(r.stop() for r in recorders))


# --- 1. many messages through nginx over two processes ----------------------------------


async def test_messages_through_nginx_over_two_processes_arrive_once_in_order(fronted, make_user):
    (a, b), proxy = fronted(2)
    n_rooms, per_room, each = size((4, 5, 100), (10, 10, 100))
    recorders = [r for room in await rooms(make_user, proxy, n_rooms, per_room) for r in room]
    await start_all(recorders)
    on = {"a": established(a.port), "b": established(b.port)}
    assert min(on.values()) >= len(recorders) // 4, on  # nginx spread them over both

    started = time.monotonic()
    await asyncio.gather(*(chat(r, each) for r in recorders))
    total = await count_everything(recorders, {r.name: each for r in recorders})
    elapsed = time.monotonic() - started

    assert total.expected == n_rooms * per_room * per_room * each
    report(
        "messages_through_nginx",
        messages=len(recorders) * each,
        sockets_per_process=on,
        seconds=round(elapsed, 1),
        deliveries=total,
        **figures(recorders),
    )
    await stop_all(recorders)
    assert a.problems() == [] and b.problems() == []


# --- 2. SIGKILL of a process under many clients ---------------------------------------


async def test_a_process_killed_under_many_clients_through_nginx_loses_nothing(fronted, make_user):
    (a, b), proxy = fronted(2, PARLEY_GAP_CHECK_SECONDS="1")
    n_rooms, per_room, each = size((6, 10, 20), (20, 10, 25))
    recorders = [r for room in await rooms(make_user, proxy, n_rooms, per_room) for r in room]
    await start_all(recorders)
    on_a = established(a.port)
    senders = [asyncio.create_task(chat(r, each)) for r in recorders]

    total_sends = len(recorders) * each
    while await db(Message.objects.count) < total_sends // 3:
        await asyncio.sleep(0.05)
    a.kill()
    killed_at = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*senders), size(90, 300))
    total = await count_everything(recorders, {r.name: each for r in recorders})
    recovered = time.monotonic() - killed_at

    moved = sum(1 for r in recorders if r.reconnects)
    assert moved >= on_a // 2  # a's clients came back, through nginx, on b
    assert max(g for r in recorders for g in r.gaps) < 15
    report(
        "sigkill_under_clients",
        messages=total_sends,
        clients_on_killed_process=on_a,
        clients_moved=moved,
        seconds_kill_to_all_delivered=round(recovered, 1),
        deliveries=total,
        **figures(recorders),
    )
    await stop_all(recorders)
    assert b.problems() == []


# --- 3. a rolling restart through nginx ------------------------------------------------


def poll_http(url: str, token: str, stop: threading.Event) -> tuple[int, list[str]]:
    """GET `url` with the token every 0.1 s until `stop`: how many, and the failures (an
    HTTP status other than 200, or no answer)."""
    asked, failures = 0, []
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    while not stop.is_set():
        asked += 1
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                if response.status != 200:
                    failures.append(str(response.status))
        except urllib.error.HTTPError as exc:
            failures.append(str(exc.code))
        except OSError as exc:
            failures.append(repr(exc))
        stop.wait(0.1)
    return asked, failures


async def spread_over(servers: list[Any], at_least: int, timeout: float) -> dict[str, int]:
    """Wait until each server holds `at_least` connections; the counts then (or at the
    timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        on = {s.name: established(s.port) for s in servers}
        if min(on.values()) >= at_least or time.monotonic() > deadline:
            return on
        await asyncio.sleep(0.2)


async def test_a_rolling_restart_through_nginx_locks_no_client_out(fronted, make_user):
    # The documented drain, with a shorter window and balancing round to keep the case
    # short (the defaults are 5 s and 5 s: docs/deployment.md, "Restarts and the drain").
    (a, b), proxy = fronted(2, PARLEY_DRAIN_SECONDS="2", PARLEY_BALANCE_SECONDS="2")
    # people chatting, each about a message a second: the processes are not saturated,
    # so the time a client spends without a socket is the restart's, not a backlog's
    n_rooms, per_room, pace = size((10, 10, 1.0), (20, 10, 1.0))
    recorders = [r for room in await rooms(make_user, proxy, n_rooms, per_room) for r in room]
    await start_all(recorders)
    for r in recorders:
        r.patience = 15  # a client turned away this long is locked out: fail, don't wait
    stop = asyncio.Event()
    senders = [asyncio.create_task(chat(r, None, stop, pace)) for r in recorders]
    stop_polling = threading.Event()
    polling = asyncio.create_task(
        asyncio.to_thread(
            poll_http, f"{proxy.http}/api/v1/conversations", recorders[0].token, stop_polling
        )
    )

    await asyncio.sleep(1)
    started = time.monotonic()
    for server in (a, b):  # as docs/deployment.md says: one at a time, each back first
        await asyncio.to_thread(server.restart)
    restarted = time.monotonic() - started
    # the last one restarted starts empty; the other moves its excess to it
    spread = await spread_over([a, b], len(recorders) * 2 // 5, timeout=20)
    balanced = time.monotonic() - started - restarted
    stop.set()
    stop_polling.set()
    sent = dict(zip((r.name for r in recorders), await asyncio.gather(*senders), strict=True))
    asked, http_failures = await polling
    total = await count_everything(recorders, sent)

    found = figures(recorders)
    report(
        "rolling_restart",
        messages=sum(sent.values()),
        seconds_to_restart_both=round(restarted, 1),
        seconds_to_spread_again=round(balanced, 1),
        sockets_per_process_after=spread,
        http_requests=asked,
        http_errors=len(http_failures),
        deliveries=total,
        **found,
    )
    # Every handshake during the restart reached a process that was up: none was turned
    # away (nginx's 502) while the other process served, no HTTP request failed, and
    # nobody waited long: the drained clients reconnected at once, spread over the window.
    assert found["refused_handshakes"] == 0, found
    assert http_failures == [] and asked > 50, (asked, http_failures[:10])
    assert found["max_seconds_without_socket"] < size(2, 15), found
    assert found["reconnects"] >= len(recorders)  # everyone's process was restarted once
    assert {code for r in recorders for code in r.close_codes} == {4012}, found
    # and the sockets are spread over both processes again
    assert min(spread.values()) >= len(recorders) // 3, spread
    await stop_all(recorders)
    assert a.problems() == [] and b.problems() == []


# --- 4. Redis stopped ------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test's own on a free port: stopping it disturbs no one."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="parley-redis-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port)]
            + ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    yield redis
    redis.remove()


async def test_redis_stopped_loses_nothing_and_sends_are_still_acked(
    fronted, make_user, private_redis
):
    (a, b), proxy = fronted(2, REDIS_URL=private_redis.url)
    outage = size(8, 30)
    n_rooms, per_room = size((2, 10), (5, 10))
    recorders = [r for room in await rooms(make_user, proxy, n_rooms, per_room) for r in room]
    await start_all(recorders)
    stop = asyncio.Event()
    acked_at: list[tuple[str, float]] = []

    async def chat_timed(recorder: Recorder) -> int:
        sent = 0
        while not stop.is_set():
            await recorder.send_reliably(recorder.room, f"{recorder.name}-{sent}", "x")
            acked_at.append((recorder.name, time.monotonic()))
            sent += 1
            await asyncio.sleep(0.2)
        return sent

    senders = [asyncio.create_task(chat_timed(r)) for r in recorders]
    await asyncio.sleep(1)
    private_redis.stop()
    down_at = time.monotonic()
    await asyncio.sleep(outage)
    private_redis.start()
    up_at = time.monotonic()
    await asyncio.sleep(2)
    stop.set()
    sent = dict(zip((r.name for r in recorders), await asyncio.gather(*senders), strict=True))
    total = await count_everything(recorders, sent)
    caught_up = time.monotonic() - up_at

    during = [name for name, t in acked_at if down_at + 1 < t < up_at]
    # every client's sends went on being stored and acked while Redis was away
    assert all(during.count(r.name) >= 2 for r in recorders), sorted(during)
    report(
        "redis_stopped",
        outage_seconds=outage,
        messages=sum(sent.values()),
        acked_during_outage=len(during),
        seconds_from_redis_back_to_all_delivered=round(caught_up, 1),
        server_log_errors=len(a.problems() + b.problems()),
        deliveries=total,
        **figures(recorders),
    )
    await stop_all(recorders)


# --- 5. one client_id sent five times at once ------------------------------------------


async def test_one_client_id_sent_five_times_at_once_over_two_processes_is_one_message(
    fronted, make_user
):
    (a, b), proxy = fronted(2)
    (alice, bob), (ta, tb) = await people(make_user, 2)
    cid = await group(alice, [alice, bob])
    tabs = [Peer(ta, f"alice tab {i}") for i in range(5)]
    for i, tab in enumerate(tabs):  # three tabs on one process, two on the other
        await tab.connect((a if i % 2 == 0 else b).ws, resume=True)
    listener = Recorder(tb, "bob", proxy.ws, proxy.http)
    await listener.start([cid])
    rounds = size(12, 100)

    for k in range(rounds):
        acks = await asyncio.gather(
            *(tab.send_message(cid, f"once-{k}", f"only once {k}", 20) for tab in tabs)
        )
        assert {ack["type"] for ack in acks} == {"ack"}, acks
        assert {ack["message"]["seq"] for ack in acks} == {k + 1}

    seqs, client_ids = await db(stored, cid)
    assert client_ids == [f"once-{k}" for k in range(rounds)]
    await listener.catch_up({cid: rounds})
    total = listener.tally(cid, seqs)
    assert total.exact, total
    report(
        "one_client_id_five_times",
        messages=rounds,
        clients=len(tabs) + 1,
        sends=rounds * len(tabs),
        stored=len(seqs),
        deliveries=total,
    )
    for tab in tabs:
        await tab.close()
    await listener.stop()
    assert a.problems() == [] and b.problems() == []


# --- 6. a lost ack ---------------------------------------------------------------------


async def test_a_lost_ack_and_the_resend_make_one_message_with_the_stored_seq(fronted, make_user):
    (a, b), proxy = fronted(2)
    (alice, bob), (ta, tb) = await people(make_user, 2)
    cid = await group(alice, [alice, bob])
    sender = Recorder(ta, "alice", proxy.ws, proxy.http)
    listener = Recorder(tb, "bob", proxy.ws, proxy.http)
    await sender.open()
    await listener.start([cid])
    sender.positions[cid] = 0
    rounds = size(12, 100)

    for k in range(rounds):
        client_id = f"lost-ack-{k}"
        sender.reading.clear()  # the ack will not be read
        await sender.send(
            {"type": "message.send", "conversation": cid, "client_id": client_id, "body": "hi"}
        )
        if k % 2 == 0:  # stored for sure before the drop (bob has it) ...
            seen = await listener.wait_for(
                lambda f, c=client_id: f.get("message", {}).get("client_id") == c, 20
            )
        sender.abort()  # ... or dropped at once, stored or not
        await sender.open()
        ack = await sender.send_message(cid, client_id, "hi", 20)
        seqs, client_ids = await db(stored, cid)
        assert client_ids.count(client_id) == 1
        assert ack["type"] == "ack" and ack["message"]["seq"] == seqs[client_ids.index(client_id)]
        if k % 2 == 0:
            assert ack["message"]["seq"] == seen["seq"]

    seqs, client_ids = await db(stored, cid)
    assert client_ids == [f"lost-ack-{k}" for k in range(rounds)]
    await listener.catch_up({cid: rounds})
    await sender.catch_up({cid: rounds})
    for who in (listener, sender):
        assert who.tally(cid, seqs).exact, (who.name, who.tally(cid, seqs))
    total = listener.tally(cid, seqs)
    report(
        "lost_ack",
        messages=rounds,
        clients=2,
        sends=rounds * 2,
        stored=len(seqs),
        reconnects=rounds,
        deliveries=total,
    )
    await sender.stop()
    await listener.stop()
    assert a.problems() == [] and b.problems() == []


# --- 7. a reader that reads nothing ----------------------------------------------------


async def test_a_client_that_reads_nothing_holds_up_no_one_and_then_gets_everything(
    fronted, make_user
):
    (a, b), proxy = fronted(2)
    pause, arriving, senders_n = size((8, 500, 5), (60, 500, 5))
    users, tokens = await people(make_user, senders_n + 5)
    cid = await group(users[0], users)
    everyone = make_recorders(users, tokens, cid, proxy)
    await start_all(everyone)
    slow, others, senders = everyone[0], everyone[1:5], everyone[5:]
    rss_before = {s.name: rss_mb(s.process.pid) for s in (a, b)}

    slow.reading.clear()
    sent_at: dict[str, float] = {}
    stop_sampling = asyncio.Event()
    rss_peak = dict(rss_before)

    async def sample() -> None:
        while not stop_sampling.is_set():
            for s in (a, b):
                rss_peak[s.name] = max(rss_peak[s.name], rss_mb(s.process.pid))
            await asyncio.sleep(0.2)

    async def send_spread(recorder: Recorder, count: int) -> int:
        gap = pause * 0.8 / count
        for k in range(count):
            client_id = f"{recorder.name}-{k}"
            sent_at[client_id] = time.monotonic()
            await recorder.send_reliably(cid, client_id, "x" * 200)
            await asyncio.sleep(max(gap, PACE))
        return count

    sampler = asyncio.create_task(sample())
    started = time.monotonic()
    per_sender = arriving // senders_n
    await asyncio.gather(*(send_spread(s, per_sender) for s in senders))
    await asyncio.gather(*(r.catch_up({cid: arriving}) for r in others))
    await asyncio.sleep(max(0.0, pause - (time.monotonic() - started)))
    stop_sampling.set()
    await sampler
    unread_for = time.monotonic() - started
    latencies = []
    for r in others:
        for f in r.frames:
            if f["type"] == "message.created" and "received_at" in f:
                latencies.append(f["received_at"] - sent_at[f["message"]["client_id"]])
    slow_before = len(slow.ledger(cid))

    slow.reading.set()
    await slow.catch_up({cid: arriving})
    total = await count_everything(everyone, {s.name: per_sender for s in senders})

    growth = max(rss_peak[n] - rss_before[n] for n in rss_before)
    assert growth < 50, (rss_before, rss_peak)  # MB: bounded, not a copy per event
    assert max(latencies) < 5, max(latencies)  # the others are served as usual
    report(
        "reader_reading_nothing",
        seconds_unread=round(unread_for, 1),
        messages=arriving,
        clients=len(everyone),
        received_by_slow_reader_while_paused=slow_before,
        others_latency_ms_p50=round(statistics.median(latencies) * 1000),
        others_latency_ms_max=round(max(latencies) * 1000),
        server_rss_growth_mb=round(growth, 1),
        slow_reader_reconnects=slow.reconnects,
        slow_reader_close_codes=slow.close_codes,
        deliveries=total,
    )
    await stop_all(everyone)
    assert a.problems() == [] and b.problems() == []


# --- 8. reconnect churn ----------------------------------------------------------------


async def test_reconnect_churn_while_others_chat_loses_and_doubles_nothing(fronted, make_user):
    (a, b), proxy = fronted(2)
    duration, n_rooms, per_room = size((15, 2, 10), (120, 5, 10))
    recorders = [r for room in await rooms(make_user, proxy, n_rooms, per_room) for r in room]
    chatters = [r for i, r in enumerate(recorders) if i % 2 == 0]
    churners = [r for i, r in enumerate(recorders) if i % 2 == 1]
    await start_all(chatters)
    for r in churners:
        r.positions[r.room] = 0
    stop = asyncio.Event()
    cycles = itertools.count()
    rng = random.Random(11)

    async def churn(r: Recorder) -> None:
        while not stop.is_set():
            await r.open()
            next(cycles)
            await asyncio.sleep(rng.uniform(0.1, 1.0))
            if rng.random() < 0.5:
                r.abort()  # a cut connection
            else:
                await r.ws.close()  # a tab closed
            await r._reader
            await asyncio.sleep(rng.uniform(0.0, 0.5))

    churning = [asyncio.create_task(churn(r)) for r in churners]
    senders = [asyncio.create_task(chat(r, None, stop)) for r in chatters]
    await asyncio.sleep(duration)
    stop.set()
    sent = dict(zip((r.name for r in chatters), await asyncio.gather(*senders), strict=True))
    await asyncio.gather(*churning)
    await asyncio.gather(*(r.open() for r in churners))  # back for good, resuming
    total = await count_everything(recorders, sent)

    report(
        "reconnect_churn",
        seconds=duration,
        messages=sum(sent.values()),
        churning_clients=len(churners),
        chatting_clients=len(chatters),
        connections_opened=next(cycles),
        deliveries=total,
    )
    await stop_all(recorders)
    assert a.problems() == [] and b.problems() == []


# --- 9. a resume from 12,000 behind ----------------------------------------------------


def _pile_up(cid: int, membership_id: int, start: int, count: int) -> None:
    """`count` messages stored while a client was away, as a busy room would have them
    (rows written directly: this case is about reading them back, not writing them)."""
    from django.db import transaction
    from django.utils import timezone

    now = timezone.now()
    with transaction.atomic():
        Message.objects.bulk_create(
            [
                Message(
                    conversation_id=cid,
                    seq=seq,
                    sender_id=membership_id,
                    client_id=f"pile-{seq}",
                    body=f"while you were away {seq}",
                    created_at=now,
                )
                for seq in range(start + 1, start + count + 1)
            ],
            batch_size=2000,
        )
        Conversation.objects.filter(pk=cid).update(last_seq=start + count, last_message_at=now)


async def test_a_resume_from_twelve_thousand_behind_reloads_over_rest_and_misses_nothing(
    fronted, make_user
):
    (a, b), proxy = fronted(2)
    behind, live = 12000, 30
    (alice, bob), (ta, tb) = await people(make_user, 2)
    cid = await group(alice, [alice, bob])
    reader = Recorder(tb, "bob", proxy.ws, proxy.http)
    sender = Recorder(ta, "alice", proxy.ws, proxy.http)
    await reader.start([cid])
    await sender.start([cid])
    for k in range(10):  # bob sees the first ten live ...
        await sender.send_reliably(cid, f"alice-{k}", "before")
    await reader.catch_up({cid: 10})
    await reader.stop()  # ... and goes away while 12,000 more come
    membership = await db(lambda: Membership.objects.get(conversation_id=cid, user=alice).pk)
    await db(_pile_up, cid, membership, 10, behind)

    reader = Recorder(tb, "bob", proxy.ws, proxy.http)
    reader.frames, reader.positions = [], {cid: 10}
    started = time.monotonic()
    more = asyncio.create_task(_send_more(sender, cid, live))  # live sends meanwhile
    await reader.start([cid])
    await more
    total_messages = 10 + behind + live
    await reader.catch_up({cid: total_messages}, timeout=120)
    took = time.monotonic() - started

    seqs, _ = await db(stored, cid)
    assert seqs == list(range(1, total_messages + 1))
    limit = reader.hello["limits"]["resume_max_events"]  # PARLEY["RESUME_MAX_EVENTS"]
    assert limit == 1000 and behind > limit
    assert reader.resets == [cid]  # listed in resumed.reset: reloaded over REST
    counted = reader.tally(cid, seqs[10:])  # this reader's part: all after the first ten
    assert counted.exact, counted
    report(
        "resume_from_far_behind",
        behind=behind,
        messages=total_messages,
        clients=2,
        resume_max_events=limit,
        live_during_reload=live,
        reloaded_over_rest=reader.reloaded,
        seconds_to_catch_up=round(took, 1),
        deliveries=counted,
    )
    await reader.stop()
    await sender.stop()
    assert a.problems() == [] and b.problems() == []


async def _send_more(sender: Recorder, cid: int, count: int) -> None:
    for k in range(count):
        await sender.send_reliably(cid, f"alice-live-{k}", "during the reload")
        await asyncio.sleep(PACE)
