"""Prometheus metrics of two real server processes, scraped while people chat and parsed
with prometheus_client's own text parser (docs/operations.md, "Metrics")."""

from __future__ import annotations

import asyncio
import itertools
import urllib.error
import urllib.request

import pytest

from parley.accounts.tokens import token_create
from parley.chat import services
from tests.services.peers import Peer

prometheus = pytest.importorskip("prometheus_client.parser", reason="prometheus-client")

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
]

TOKEN = "metrics-token-of-the-test"
_n = itertools.count(1)


def get(url: str, token: str | None = TOKEN) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read().decode()


def scrape(server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the process's /metrics: (name, sorted labels) -> value."""
    status, text = get(server.http + "/metrics")
    assert status == 200, text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in prometheus.text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_counted_during_load_and_parsed(servers, make_user):
    a, b = servers(2, PARLEY_METRICS_TOKEN=TOKEN, PARLEY_FRAME_BURST="30")

    def make():
        users = [make_user(f"m{next(_n)}") for _ in range(6)]
        cid = services.conversation_create_group(creator=users[0], title="M", members=users).pk
        return cid, [Peer(token_create(user=u)[1], u.username) for u in users]

    from channels.db import database_sync_to_async

    cid, peers = await database_sync_to_async(make)()
    for i, peer in enumerate(peers):
        await peer.connect((a if i < 3 else b).ws, resume=True)

    async def chat(peer: Peer) -> None:
        for k in range(20):
            answer = await peer.send_message(cid, f"{peer.name}-{k}", "hello")
            assert answer["type"] == "ack", answer

    scrapes: list[int] = []

    async def scrape_during_load(done: asyncio.Event) -> None:
        while not done.is_set():
            for server in (a, b):
                samples = await asyncio.to_thread(scrape, server)
                scrapes.append(len(samples))
            await asyncio.sleep(0.1)

    # when: six people chat across both processes while both are scraped
    done = asyncio.Event()
    scraper = asyncio.create_task(scrape_during_load(done))
    await asyncio.gather(*(chat(p) for p in peers))
    for peer in peers:
        await peer.wait_for(lambda f: f.get("seq") == 120, 15)
    done.set()
    await scraper
    # a burst of pings over the frame limit, and a REST request
    for _ in range(40):
        await peers[0].send({"type": "ping"})
    await peers[0].wait_for(lambda f: f.get("code") == "rate_limited", 10)
    rest = get(a.http + "/api/v1/conversations", peers[0].token)
    refused = get(a.http + "/metrics", "not-the-token")
    await asyncio.sleep(0.3)
    on_a, on_b = scrape(a), scrape(b)

    # then
    assert scrapes and min(scrapes) > 50  # every scrape during the load parsed
    assert rest[0] == 200 and refused[0] == 401
    for samples in (on_a, on_b):
        assert value(samples, "parley_sockets_open") == 3
        assert value(samples, "parley_sends_total") == 60
        assert value(samples, "parley_ack_seconds_count") == 60
        assert value(samples, "parley_frames_out_total") >= 60 + 3 * 120  # acks, messages
        assert value(samples, "parley_resumes_total") == 3
        assert value(samples, "parley_db_hop_seconds_count") > 0
        assert value(samples, "parley_hub_outbox_events") == 0  # nothing left behind
        assert value(samples, "parley_hub_lag_seconds") == 0  # nor waiting
    # the hub's lag as time: every event this process published, timed to the layer
    for samples in (on_a, on_b):
        assert value(samples, "parley_hub_outbox_wait_seconds_count") > 0
    both = [on_a, on_b]
    # one process writes the room; the other forwarded each of its 60 sends to it
    assert sorted(value(s, "parley_writer_forwards_total") for s in both) == [0, 60]
    assert sorted(value(s, "parley_writer_served_total") for s in both) == [0, 60]
    assert sum(value(s, "parley_db_batch_requests_sum", kind="send") for s in both) == 120
    assert sum(value(s, "parley_layer_batch_events_count") for s in both) > 0
    assert sum(value(s, "parley_hub_events_total") for s in both) > 0
    assert value(on_a, "parley_frames_in_total") >= 3 * 20 + 40
    assert value(on_a, "parley_rate_limit_refusals_total", limit="frames") >= 1
    assert value(on_b, "parley_rate_limit_refusals_total", limit="frames") == 0
    ok = {"route": "api/v1/conversations", "method": "GET", "status": "200"}
    assert value(on_a, "parley_http_requests_total", **ok) == 1
    assert value(on_a, "parley_http_request_duration_seconds_count", route=ok["route"]) == 1
    for peer in peers:
        await peer.close()
    assert a.problems() == [] and b.problems() == []
